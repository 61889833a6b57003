/**
 * The BOSH transport of XEP-0206 (XEP-0124 sessions) over node:https, with
 * the target's CA / --insecure on this session's own keep-alive agent.
 *
 * Session creation (XEP-0124 §7.1, XEP-0206 §3) is the stream header; a
 * restart (XEP-0206 §5) is a body with xmpp:restart='true'; every other
 * request carries what the stream sends. Until the stream is bound we ask the
 * server for more only when someone waits for input, so a login is one HTTP
 * request per exchange: a deterministic round-trip count. Once bound, stanzas
 * may come at any time, and one request is always kept pending for them (as
 * BOSH clients do; XEP-0124 §8).
 *
 * Round trips: each HTTP request/response, plus TCP connect and TLS handshake
 * of each new connection. Bytes: the XML of the <body/> wrappers sent and
 * received (HTTP headers not counted).
 */
import http from "node:http";
import https from "node:https";
import type { Element } from "@xmpp/xml";
import { SessionError } from "./errors.js";
import { corsHeaders, httpRequest, type HttpResponse } from "./http.js";
import type { TlsInfo } from "./tls-facts.js";
import type { TrafficMeter } from "./traffic.js";
import {
  DEFAULT_MAX_STANZA_BYTES,
  NS_CLIENT,
  escapeAttr,
  startTagText,
  withClientNamespace,
  type Link,
  type LinkEvents,
  type OpenAttributes,
  type TlsSettings,
  type TransportFacts,
} from "./transport.js";
import { DEFAULT_MAX_XML_DEPTH, XmlError, parseXmlDocument, readerFailure } from "./xml-reader.js";

export const NS_HTTPBIND = "http://jabber.org/protocol/httpbind";
export const NS_XBOSH = "urn:xmpp:xbosh";
/** What a browser on another site would send; CORS headers answer it. */
export const BOSH_ORIGIN = "https://xepcheck.invalid";
/** Longest time (seconds) we let the connection manager hold a request. */
export const BOSH_WAIT = 30;
/** Least time between two requests in flight at once (see BoshLink.pump). */
export const ORDER_GAP_MS = 20;

export interface BoshOptions {
  domain: string;
  /** http:// or https:// */
  url: string;
  /** Connect here instead of the URL's host (the Host header and certificate name stay the URL's). */
  connectHost?: string;
  tls: TlsSettings;
  timeoutMs: number;
  /** Largest body (and so stanza) accepted from the server. */
  maxStanzaBytes?: number;
  /** Deepest nesting accepted in a stanza (default DEFAULT_MAX_XML_DEPTH). */
  maxXmlDepth?: number;
}

export class BoshLink implements Link {
  readonly kind = "bosh" as const;
  readonly countsRoundTrips = true;
  readonly url: string;
  /** The session is spread over HTTP requests: there is no single TLS socket to bind a channel to. */
  readonly tlsSocket = undefined;
  tlsInfo: TlsInfo | null = null;
  /** Attributes of the session creation response (sid, wait, hold, requests, xmpp:restartlogic, …). */
  sessionAttributes: Record<string, string> = {};
  /** Access-Control-* headers of the session creation response. */
  cors: Record<string, string> = {};
  /** HTTP requests made in this session. */
  httpRequests = 0;

  private sid: string | undefined;
  private rid = 1_000_000_000 + Math.floor(Math.random() * 1_000_000_000);
  private readonly agent: http.Agent;
  private outstanding = 0;
  private maxRequests = 1;
  /** Stanzas waiting for the next request. */
  private queue: string[] = [];
  /** The next response answers our session creation or restart: it stands for the stream header. */
  private headerPending = false;
  /** Bound: keep a request pending at all times. */
  private live = false;
  /** The terminate request, once close() asked for it, until it is sent. */
  private terminate: { body: string; answered: () => void } | undefined;
  private terminating = false;
  private ended = false;
  private inactivityMs = 30_000;
  private pollingMs = 0;
  private lastPostAt = 0;
  /** The last empty request, for XEP-0124 §11's minimum polling interval. */
  private lastEmpty: { at: number; answeredEmpty: boolean } | undefined;
  private pumpTimer: NodeJS.Timeout | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private pumpQueued = false;
  /** The stream header as the session creation response gave it; restart responses add to it. */
  private streamHeader: Record<string, string> = {};

  constructor(
    private readonly options: BoshOptions,
    private readonly meter: TrafficMeter,
    private readonly events: LinkEvents,
  ) {
    this.url = options.url;
    const secure = new URL(options.url).protocol === "https:";
    this.agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 2 }) : new http.Agent({ keepAlive: true, maxSockets: 2 });
  }

  get isSecure(): boolean {
    return new URL(this.url).protocol === "https:";
  }

  /** Nothing to connect yet: the session creation request opens the connection. */
  async connect(): Promise<void> {
    const { protocol } = new URL(this.url);
    if (protocol !== "https:" && protocol !== "http:") {
      throw new SessionError("protocol", "tcp-connect", `a BOSH URL is http:// or https://, not ${this.url}`);
    }
  }

  /** Session creation (XEP-0124 §7.1, XEP-0206 §3), or a restart request (XEP-0206 §5). */
  open({ to, from, lang }: OpenAttributes): string {
    const body = this.sid
      ? `<body rid='${this.nextRid()}' sid='${escapeAttr(this.sid)}' to='${escapeAttr(to)}' xml:lang='${lang}' ` +
        `xmpp:restart='true' xmlns='${NS_HTTPBIND}' xmlns:xmpp='${NS_XBOSH}'/>`
      : `<body content='text/xml; charset=utf-8'${from ? ` from='${escapeAttr(from)}'` : ""} hold='1' rid='${this.nextRid()}' ` +
        `to='${escapeAttr(to)}' ver='1.11' wait='${BOSH_WAIT}' xml:lang='${lang}' xmpp:version='1.0' ` +
        `xmlns='${NS_HTTPBIND}' xmlns:xmpp='${NS_XBOSH}'/>`;
    this.headerPending = true;
    this.post(body);
    return body;
  }

  send(el: Element): void {
    this.queue.push(withClientNamespace(el).toString());
    this.pump();
  }

  awaiting(): void {
    // After the current synchronous step: request() adds its waiter before it sends.
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  bound(): void {
    this.live = true;
    // After the login flow's current step, so that its last exchange is all a login's cost counts.
    setImmediate(() => this.pump());
  }

  /** A terminate request (XEP-0124 §13) with whatever is still queued, answered by the connection manager; then the agent goes. */
  close(waitMs: number): { sent: string; done: Promise<void> } {
    if (!this.sid || this.ended) return { sent: "", done: Promise.resolve() };
    const payload = [...this.queue.splice(0), `<presence type='unavailable' xmlns='${NS_CLIENT}'/>`].join("");
    let answered!: () => void;
    const done = new Promise<void>((resolve) => (answered = resolve));
    // Its rid is the next one: nothing else is sent once a terminate is pending.
    const body = `<body rid='${this.nextRid()}' sid='${escapeAttr(this.sid)}' type='terminate' xmlns='${NS_HTTPBIND}'>${payload}</body>`;
    this.terminate = { body, answered };
    this.pump();
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, waitMs).unref());
    return { sent: body, done: Promise.race([done, timeout]).then(() => this.destroy()) };
  }

  destroy(): void {
    this.ended = true;
    this.terminate?.answered();
    clearTimeout(this.keepalive);
    clearTimeout(this.pumpTimer);
    this.agent.destroy();
  }

  describe(): TransportFacts {
    return { url: this.url, attributes: this.sessionAttributes, cors: this.cors, httpRequests: this.httpRequests };
  }

  private nextRid(): number {
    return this.rid++;
  }

  /**
   * Sends what is due, one request at a time: the terminate request, else
   * the queued stanzas, else (bound, or someone waiting, and nothing
   * pending) an empty request for the server to answer when it has
   * something. Within the 'requests' the connection manager allows.
   *
   * Two requests in flight travel on two connections and may arrive out of
   * order; a connection manager then parks the later rid behind the earlier
   * one, and if the earlier is an empty request it holds, both wait for
   * 'wait' seconds (ejabberd 24.12 does exactly that). So a request never
   * follows the one in flight by less than ORDER_GAP_MS.
   */
  private pump(keepalive = false): void {
    if (!this.sid || this.ended || this.headerPending) return;
    const gap = this.outstanding > 0 ? this.lastPostAt + ORDER_GAP_MS - Date.now() : 0;
    if (this.terminate) {
      if (gap > 0) return this.pumpLater(gap);
      // A terminate may exceed 'requests': the session ends either way.
      const { body, answered } = this.terminate;
      this.terminate = undefined;
      this.terminating = true;
      this.post(body).then(answered, answered);
      return;
    }
    if (this.terminating || this.outstanding >= this.maxRequests) return; // a response calls pump again
    const wantPoll = this.outstanding === 0 && (keepalive || this.live || this.events.waiting());
    if (this.queue.length === 0 && !wantPoll) return;
    if (gap > 0) return this.pumpLater(gap);
    if (this.queue.length > 0) {
      const payload = this.queue.splice(0).join("");
      this.post(`<body rid='${this.nextRid()}' sid='${escapeAttr(this.sid)}' xmlns='${NS_HTTPBIND}'>${payload}</body>`);
      return;
    }
    // XEP-0124 §11: two empty requests within 'polling' seconds, the first answered empty, are overactivity.
    const since = this.lastEmpty ? Date.now() - this.lastEmpty.at : Infinity;
    if (this.lastEmpty?.answeredEmpty && since < this.pollingMs) return this.pumpLater(this.pollingMs - since);
    this.post(`<body rid='${this.nextRid()}' sid='${escapeAttr(this.sid)}' xmlns='${NS_HTTPBIND}'/>`, true);
  }

  private pumpLater(ms: number): void {
    if (this.pumpTimer) return;
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = undefined;
      this.pump();
    }, ms);
  }

  private post(body: string, empty = false): Promise<void> {
    this.outstanding++;
    this.httpRequests++;
    this.lastPostAt = Date.now();
    this.meter.add("roundTrips");
    this.meter.add("bytesOut", Buffer.byteLength(body));
    clearTimeout(this.keepalive);
    const emptyRecord = empty ? { at: Date.now(), answeredEmpty: false } : undefined;
    this.lastEmpty = emptyRecord;
    return httpRequest(this.url, {
      method: "POST",
      headers: { "Content-Type": "text/xml; charset=utf-8", Origin: BOSH_ORIGIN },
      body,
      connectHost: this.options.connectHost,
      domain: this.options.domain,
      tls: this.options.tls,
      // The connection manager may hold a request for 'wait' seconds.
      timeoutMs: BOSH_WAIT * 1000 + this.options.timeoutMs,
      agent: this.agent,
      meter: this.meter,
      maxBodyBytes: this.options.maxStanzaBytes ?? DEFAULT_MAX_STANZA_BYTES,
      strictUtf8: true,
      // A poll must not keep the process alive by itself (waiters have their own deadlines).
      unref: empty,
    }).then(
      (res) => this.onResponse(res, emptyRecord),
      (err: SessionError) => {
        this.outstanding--;
        if (!this.ended) this.end(err);
      },
    );
  }

  private onResponse(res: HttpResponse, emptyRequest: { answeredEmpty: boolean } | undefined): void {
    this.outstanding--;
    if (this.ended) return;
    this.meter.add("bytesIn", Buffer.byteLength(res.body));
    if (res.tlsInfo && !this.tlsInfo) this.tlsInfo = res.tlsInfo;
    if (res.status !== 200) {
      // XEP-0124 §17.2 (legacy): an HTTP error ends the session.
      this.events.note(`HTTP ${res.status} from ${this.url} (a body of ${res.body.length} characters; not shown: it may hold secrets)`);
      return this.end(new SessionError("network", "wait", `the BOSH connection manager answered HTTP ${res.status}`, `http-${res.status}`));
    }
    let body: Element;
    try {
      // The <body/> wrapper is one level more than the stanzas it carries.
      body = parseXmlDocument(res.body, (this.options.maxXmlDepth ?? DEFAULT_MAX_XML_DEPTH) + 1);
      if (!body.is("body", NS_HTTPBIND)) throw new Error(`not a BOSH <body/> (<${body?.name ?? "nothing"}/>)`);
    } catch (err) {
      this.events.note(`unreadable BOSH response (${res.body.length} characters; not shown: unread text may hold secrets)`);
      if (err instanceof XmlError || err instanceof SessionError) return this.end(readerFailure(err));
      return this.end(new SessionError("protocol", "wait", `unreadable BOSH response: ${(err as Error).message}`));
    }
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(body.attrs)) attrs[k] = String(v);
    if (!this.sid) this.created(attrs, res);

    const children = body.getChildElements();
    if (emptyRequest) emptyRequest.answeredEmpty = children.length === 0;
    if (this.headerPending) {
      this.headerPending = false;
      // A restart response carries little (ejabberd: a new authid; Prosody: nothing): the creation response's 'from' still stands.
      this.streamHeader = {
        ...this.streamHeader,
        ...attrs,
        ...(attrs.authid ? { id: attrs.authid } : {}),
        ...(attrs["xmpp:version"] ? { version: attrs["xmpp:version"] } : {}),
      };
      this.events.header({ ...this.streamHeader }, startTagText(body));
    }
    for (const child of children) this.events.element(standalone(child, body), Math.ceil(res.body.length / children.length));

    if (attrs.type === "terminate") {
      const condition = attrs.condition;
      if (this.terminating && !condition) {
        this.ended = true;
        this.events.end(startTagText(body));
        return;
      }
      return this.end(
        new SessionError("network", "wait", `the BOSH connection manager terminated the session${condition ? `: ${condition}` : ""}`, condition),
      );
    }
    // After what the stanzas just delivered make the scenario send: a request it sends makes a poll unnecessary.
    setImmediate(() => this.pump());
    if (this.outstanding === 0) {
      clearTimeout(this.keepalive);
      this.keepalive = setTimeout(() => this.pump(true), Math.max(1000, this.inactivityMs / 2));
      this.keepalive.unref();
    }
  }

  private created(attrs: Record<string, string>, res: HttpResponse): void {
    if (!attrs.sid) return;
    this.sid = attrs.sid;
    this.sessionAttributes = attrs;
    this.cors = corsHeaders(res.headers);
    this.maxRequests = Math.max(1, Number(attrs.requests) || 2);
    if (Number(attrs.inactivity) > 0) this.inactivityMs = Number(attrs.inactivity) * 1000;
    if (Number(attrs.polling) > 0) this.pollingMs = Number(attrs.polling) * 1000;
  }

  private end(err: SessionError): void {
    this.ended = true;
    this.events.fail(err);
    this.destroy();
  }
}

/**
 * A child of a BOSH <body/> as it would stand in a TCP stream: the prefixes
 * prefix it uses (stream:) declared on it, stanzas without a
 * namespace in jabber:client (XEP-0206 §3 note), detached from the body.
 */
export function standalone(child: Element, body: Element): Element {
  const prefix = child.name.includes(":") ? child.name.split(":")[0]! : undefined;
  if (prefix) {
    const declared = body.attrs[`xmlns:${prefix}`];
    if (child.attrs[`xmlns:${prefix}`] === undefined && declared !== undefined) child.attrs[`xmlns:${prefix}`] = declared;
  } else if (!child.attrs.xmlns) {
    child.attrs.xmlns = NS_CLIENT;
  }
  (child as { parent: Element | null }).parent = null;
  return child;
}
