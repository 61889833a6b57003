/**
 * One XMPP client stream (RFC 6120) over TCP, WebSocket (RFC 7395) or BOSH
 * (XEP-0206). It owns the deadlines, the waits, the transcript and the
 * meter; the transport (tcp.ts, websocket.ts, bosh.ts: a Link) moves the XML.
 * It knows nothing of SASL or checks (see login.ts for the login flow), so
 * the login and every check run unchanged on any transport.
 *
 * Why not @xmpp/client's Client: its steps have no deadlines, its TLS cannot
 * take a CA or --insecure per connection, and it cannot tell which step a
 * silent server stalled in. Here every wait names its step.
 */
import type tls from "node:tls";
import { xml, type Element } from "@xmpp/xml";
import { resolveWebUrl } from "../probe/host-meta.js";
import { BoshLink } from "./bosh.js";
import { SessionError, StanzaError, excerpt, withDeadline, type SessionStep } from "./errors.js";
import { TcpLink } from "./tcp.js";
import { TrafficMeter } from "./traffic.js";
import type { TlsInfo } from "./tls-facts.js";
import { Transcript, redactedXml } from "./transcript.js";
import { DEFAULT_MAX_STANZA_BYTES, type Link, type LinkEvents, type TlsSettings, type TransportFacts, type TransportKind } from "./transport.js";
import { WebSocketLink } from "./websocket.js";
import type { FeatureSnapshot } from "../facts.js";

export type { FeatureSnapshot };

export type { TlsInfo } from "./tls-facts.js";
export type { TlsSettings, TransportFacts, TransportKind } from "./transport.js";

export const NS_STREAM = "http://etherx.jabber.org/streams";
export const NS_CLIENT = "jabber:client";
export const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";
export const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
export const NS_PING = "urn:xmpp:ping";

export interface StreamOptions {
  domain: string;
  /** TCP endpoint; for web transports, where URLs found in host-meta are connected to when configuredHost. */
  host: string;
  port: number;
  /** "starttls" upgrades a plain connection; "direct" is XEP-0368 TLS from the first byte. */
  mode: "starttls" | "direct";
  tls: TlsSettings;
  /** Deadline for each step, in milliseconds. */
  timeoutMs: number;
  meter?: TrafficMeter;
  transcript?: Transcript;
  /** Value of the stream header's `from` (our bare JID once known). */
  from?: string;
  /** Transport (default tcp). */
  transport?: TransportKind;
  /** WebSocket (wss://) or BOSH (https://) endpoint; without it, host-meta (XEP-0156) of the domain tells. */
  url?: string;
  /** Web transports: connect here instead of the URL's host (the Host header and TLS name stay the URL's). */
  connectHost?: string;
  /** `host` came from --host: URLs discovered in host-meta are connected to it too (their names still verified). */
  configuredHost?: boolean;
  /** ALPN protocols offered on direct TLS (default xmpp-client). */
  alpn?: string[];
  /** Largest top-level element accepted from the server, in bytes (default 1 MiB, see DEFAULT_MAX_STANZA_BYTES). TCP. */
  maxStanzaBytes?: number;
  /** Deepest nesting accepted in a stanza (default DEFAULT_MAX_XML_DEPTH). */
  maxXmlDepth?: number;
}

/** What is accepted from a server (--max-stanza-size, --max-xml-depth): the same on every connection of a run. */
export type StreamLimits = Pick<StreamOptions, "maxStanzaBytes" | "maxXmlDepth">;

interface Waiter {
  match: (el: Element) => boolean;
  resolve: (el: Element) => void;
  reject: (err: Error) => void;
  step: SessionStep;
  /** The id of the iq this waits to be answered: found by id, not by asking every waiter. */
  id?: string;
}

/**
 * Elements no one waited for are kept for a later waitFor: at most
 * INBOX_LIMIT of them and INBOX_STANZAS_OF_MAX_SIZE times --max-stanza-size
 * of their bytes, the oldest dropped first.
 */
const INBOX_LIMIT = 500;
const INBOX_STANZAS_OF_MAX_SIZE = 2;

export class XmppStream {
  features!: Element;
  readonly featureLog: FeatureSnapshot[] = [];
  /** Attributes of the server's latest stream header (id, from, version, xml:lang). */
  header: Record<string, string> = {};
  /** The 'from' of the latest stream header we sent, if any. */
  headerFrom: string | undefined;
  readonly meter: TrafficMeter;
  transcript: Transcript;
  /** Label of this stream in a shared transcript. */
  actor: string | undefined;
  /** The server closed the stream with its closing element (</stream:stream>, <close/>, BOSH terminate). */
  serverClosed = false;

  private link!: Link;
  private boundJid: string | undefined;
  private waiters: Waiter[] = [];
  private readonly iqWaiters = new Map<string, Waiter>();
  private inbox: { el: Element; bytes: number }[] = [];
  private inboxBytes = 0;
  private headerWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private closed: SessionError | undefined;
  /** bytesIn when the latest stream header arrived: a header is not what a later timeout waited for. */
  private bytesInAtHeader = 0;
  /** The <text/> of the stream error that closed the stream, if any. */
  private streamErrorText: string | undefined;
  private idCounter = 0;
  private readonly idPrefix = Math.random().toString(36).slice(2, 8);
  private readonly listeners = new Set<(el: Element) => void>();
  private readonly observers = new Set<(el: Element, direction: "in" | "out") => void>();
  /** Requests we answer ourselves (see answerRequests). */
  private readonly responders = new Set<{ match: (el: Element) => boolean; reply: (el: Element) => Element }>();

  /** performance.now() when the connection was started: the clock of a login's cost (src/probe/login-cost.ts). */
  readonly openedAt = performance.now();

  private constructor(readonly options: StreamOptions) {
    this.meter = new TrafficMeter(options.meter);
    this.transcript = options.transcript ?? new Transcript();
  }

  /**
   * Connects (TCP, direct TLS, WebSocket upgrade or nothing yet for BOSH),
   * opens the stream and reads its features.
   */
  static async open(options: StreamOptions, stage = "initial"): Promise<XmppStream> {
    const stream = new XmppStream(options);
    try {
      stream.link = await stream.makeLink();
      await stream.link.connect();
      await stream.openStream(stage);
      return stream;
    } catch (err) {
      stream.destroy();
      throw err;
    }
  }

  private async makeLink(): Promise<Link> {
    const { options } = this;
    const events: LinkEvents = {
      header: (attrs, text) => this.onHeader(attrs, text),
      element: (el, bytes) => this.receive(el, bytes),
      end: (text) => {
        this.serverClosed = true;
        this.record("in", text);
        this.fail(new SessionError("network", "wait", "the server closed the stream"));
      },
      fail: (err) => this.fail(err),
      note: (text) => this.record("note", text),
      sent: (text) => this.record("out", text),
      waiting: () => this.waiters.length > 0 || this.iqWaiters.size > 0 || this.headerWaiter !== undefined,
    };
    const transport = options.transport ?? "tcp";
    if (transport === "tcp") return new TcpLink(options, this.meter, events);
    const web = options.url
      ? { url: options.url, ...(options.connectHost ? { connectHost: options.connectHost } : {}) }
      : await resolveWebUrl(transport, { ...options, meter: this.meter });
    const webOptions = { ...options, ...web };
    return transport === "websocket"
      ? new WebSocketLink(webOptions, this.meter, events)
      : new BoshLink(webOptions, this.meter, events);
  }

  /** Our full JID once bound (set by the login flow: bind, or XEP-0198 resumption). */
  get jid(): string | undefined {
    return this.boundJid;
  }

  set jid(jid: string | undefined) {
    this.boundJid = jid;
    // From now on the server may send at any time: BOSH keeps a request pending for it.
    if (jid) this.link?.bound?.();
  }

  /** tcp, websocket or bosh. */
  get transport(): TransportKind {
    return this.link?.kind ?? this.options.transport ?? "tcp";
  }

  /** The WebSocket or BOSH URL this stream uses (undefined on TCP). */
  get url(): string | undefined {
    return this.link?.describe?.().url;
  }

  /** What the report shows of a web transport: URL, subprotocol, BOSH session attributes, CORS headers. */
  get transportFacts(): TransportFacts {
    return this.link?.describe?.() ?? {};
  }

  get isSecure(): boolean {
    return this.link?.isSecure ?? false;
  }

  /** The TLS socket, for channel binding (tls-exporter, tls-server-end-point); none on BOSH. */
  get tlsSocket(): tls.TLSSocket | undefined {
    return this.link?.tlsSocket;
  }

  /** Facts of the TLS connection (RFC 7590), once there is one. */
  get tlsInfo(): TlsInfo | null {
    return this.link?.tlsInfo ?? null;
  }

  get isClosed(): boolean {
    return this.closed !== undefined;
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  /** STARTTLS (RFC 6120 §5): ask, get <proceed/>, handshake, restart. TCP only: web transports get TLS from their URL. */
  async startTls(): Promise<void> {
    if (!(this.link instanceof TcpLink)) {
      throw new SessionError("tls", "starttls", `STARTTLS is not part of the ${this.transport} transport: TLS comes from a wss:// or https:// URL`);
    }
    const answer = await this.request(
      xml("starttls", { xmlns: NS_TLS }),
      (el) => el.getNS() === NS_TLS,
      "starttls",
    );
    if (!answer.is("proceed")) {
      throw new SessionError("tls", "starttls", `server answered STARTTLS with <${answer.getName()}/>`, answer.getName());
    }
    await this.link.handshakeTls();
    await this.openStream("after-starttls");
  }

  /** Sends a new stream header and waits for the server's header and features. */
  async openStream(stage: string): Promise<void> {
    const { domain } = this.options;
    // RFC 6120 §4.7.1: a client includes 'from' only on a TLS-protected stream.
    const from = this.isSecure ? this.options.from : undefined;
    this.headerFrom = from;
    const headerSeen = new Promise<void>((resolve, reject) => (this.headerWaiter = { resolve, reject }));
    const features = this.waitFor((el) => el.is("features", NS_STREAM), "stream-features", { silent: true, what: "the stream features" });
    features.catch(() => {}); // awaited below; avoid an unhandled rejection if the header wait fails first
    if (!this.link.countsRoundTrips) this.meter.add("roundTrips");
    this.record("out", this.link.open({ to: domain, from, lang: "en" }));
    await this.deadline("stream-open", this.timeoutMs, headerSeen, "the server's stream header");
    this.features = await features;
    this.featureLog.push({ stage, xml: this.features.toString() });
  }

  /** Restarts the stream after SASL success (RFC 6120 §6.4.6). */
  async restart(stage: string): Promise<void> {
    await this.openStream(stage);
  }

  /** From now on, records into `transcript` under the label `actor`. */
  useTranscript(transcript: Transcript, actor: string): void {
    this.transcript = transcript;
    this.actor = actor;
  }

  private record(dir: "in" | "out" | "note", xml: string): void {
    this.transcript.record(dir, xml, this.actor);
  }

  send(el: Element): void {
    if (this.closed) throw this.closed;
    this.link.send(el);
    this.meter.add("stanzasOut");
    this.record("out", redactedXml(el));
    this.observers.forEach((fn) => fn(el, "out"));
  }

  /** Sends `el` and waits for the first element that `match`es: one round trip. */
  async request(el: Element, match: (el: Element) => boolean, step: SessionStep): Promise<Element> {
    if (this.closed) throw this.closedAt(step);
    // An answer cannot come before its question: the inbox is not looked at.
    const id = el.is("iq") ? el.attrs.id : undefined;
    const answer = this.waitFor(match, step, { silent: true, what: answerTo(el), fresh: true, ...(id ? { id } : {}) });
    answer.catch(() => {});
    if (!this.link.countsRoundTrips) this.meter.add("roundTrips");
    this.send(el);
    return answer;
  }

  /**
   * An element matching `match` that has already arrived and matched no
   * waiter, taken from those kept; undefined at once if none did. After a
   * barrier (the answer to a later request, RFC 6120 §10.1) it says whether
   * the server sent one before.
   */
  takeArrived(match: (el: Element) => boolean): Element | undefined {
    const index = this.inbox.findIndex((kept) => match(kept.el));
    if (index < 0) return undefined;
    const [kept] = this.inbox.splice(index, 1);
    this.inboxBytes -= kept!.bytes;
    return kept!.el;
  }

  /**
   * Waits, under the step deadline, for an element matching `match`; elements
   * that arrived earlier and matched nothing are looked at first.
   */
  waitFor(
    match: (el: Element) => boolean,
    step: SessionStep = "wait",
    opts: { timeoutMs?: number; silent?: boolean; what?: string; id?: string; fresh?: boolean } = {},
  ): Promise<Element> {
    const kept = opts.fresh ? undefined : this.takeArrived(match);
    if (kept) return Promise.resolve(kept);
    if (this.closed) return Promise.reject(this.closedAt(step));
    let waiter!: Waiter;
    const promise = new Promise<Element>((resolve, reject) => {
      waiter = { match, resolve, reject, step, ...(opts.id ? { id: opts.id } : {}) };
      if (waiter.id && !this.iqWaiters.has(waiter.id)) this.iqWaiters.set(waiter.id, waiter);
      else this.waiters.push(waiter);
    });
    this.link.awaiting?.();
    return this.deadline(step, opts.timeoutMs ?? this.timeoutMs, promise, opts.what).finally(() => this.forget(waiter));
  }

  private forget(waiter: Waiter): void {
    if (waiter.id && this.iqWaiters.get(waiter.id) === waiter) this.iqWaiters.delete(waiter.id);
    else this.waiters = this.waiters.filter((w) => w !== waiter);
  }

  nextId(): string {
    return `xc-${this.idPrefix}-${++this.idCounter}`;
  }

  /**
   * Sends an iq get/set and returns the result; an error reply throws
   * StanzaError with its condition. Answers must come from whom we asked.
   */
  async iq(el: Element, step: SessionStep = "iq"): Promise<Element> {
    el.attrs.id ??= this.nextId();
    const { id, to } = el.attrs;
    const answer = await this.request(
      el,
      (r) => r.is("iq") && r.attrs.id === id && (r.attrs.type === "result" || r.attrs.type === "error") && this.fromMatches(r.attrs.from, to),
      step,
    );
    if (answer.attrs.type === "error") throw stanzaError(answer);
    return answer;
  }

  /** An answer to a stanza sent without `to` may come from our bare JID, the domain, or nobody. */
  private fromMatches(from: string | undefined, to: string | undefined): boolean {
    const bare = this.jid?.split("/")[0];
    const norm = (s: string | undefined) => s?.toLowerCase();
    if (!to || norm(to) === norm(bare)) {
      return !from || norm(from) === norm(this.options.domain) || norm(from) === norm(bare) || norm(from) === norm(this.jid);
    }
    return norm(from) === norm(to);
  }

  /**
   * Calls `fn` with every element sent or received, before waiters and
   * listeners see it (XEP-0198 counts the stanzas of a stream here).
   */
  observe(fn: (el: Element, direction: "in" | "out") => void): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  /**
   * Answers every incoming iq get or set matching `match` with `reply(el)`,
   * instead of service-unavailable; waiters still see the request (a push
   * service accepting each publish, whichever one a scenario waits for).
   */
  answerRequests(match: (el: Element) => boolean, reply: (el: Element) => Element): () => void {
    const responder = { match, reply };
    this.responders.add(responder);
    return () => this.responders.delete(responder);
  }

  /** Calls `fn` for every stanza no waiter took (messages, presences, pushes). */
  onStanza(fn: (el: Element) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Forgets what the session's last user left behind (waiters, listeners,
   * observers, kept stanzas, its transcript) so that another scenario can
   * take it as if it had just logged in. Pending waits end as if closed.
   */
  resetForReuse(): void {
    const handedOver = new SessionError("network", "close", "the session was handed to another scenario");
    for (const w of [...this.waiters, ...this.iqWaiters.values()]) w.reject(handedOver);
    this.waiters = [];
    this.iqWaiters.clear();
    this.listeners.clear();
    this.observers.clear();
    this.responders.clear();
    this.inbox = [];
    this.inboxBytes = 0;
    this.transcript = new Transcript();
    this.actor = undefined;
  }

  /** Closes the stream politely (</stream:stream>, <close/>, BOSH terminate), bounded by the deadline. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      const { sent, done } = this.link.close(Math.min(this.timeoutMs, 2000));
      this.record("out", sent);
      await done;
    } catch {
      // a server that does not close its side is not our problem at close time
    } finally {
      this.destroy();
    }
  }

  /** Drops the connection at once (also used to simulate a network loss). */
  destroy(): void {
    this.fail(new SessionError("network", "close", "stream closed by xepcheck"));
    this.link?.destroy();
  }

  private onHeader(attrs: Record<string, string>, text: string): void {
    this.bytesInAtHeader = this.meter.bytesIn;
    this.header = attrs;
    this.record("in", text);
    this.headerWaiter?.resolve();
    this.headerWaiter = undefined;
  }

  /** `bytes`: the element's size on the wire where the transport knows it, else its serialised length. */
  private receive(el: Element, bytes = el.toString().length): void {
    this.meter.add("stanzasIn");
    this.record("in", redactedXml(el));
    if (el.is("error", NS_STREAM)) {
      const condition = el.getChildElements().find((c) => c.getName() !== "text")?.getName() ?? "undefined-condition";
      this.streamErrorText = el.getChildText("text") ?? undefined;
      this.fail(new SessionError("stream-error", "wait", streamErrorMessage(condition, "wait", this.streamErrorText), condition));
      return;
    }
    this.observers.forEach((fn) => fn(el, "in"));
    const request = el.is("iq") && (el.attrs.type === "get" || el.attrs.type === "set");
    const responder = request ? [...this.responders].find((r) => r.match(el)) : undefined;
    if (responder) this.send(responder.reply(el));
    const byId = el.is("iq") && el.attrs.id !== undefined ? this.iqWaiters.get(el.attrs.id) : undefined;
    const waiter = byId?.match(el) ? byId : this.waiters.find((w) => w.match(el));
    if (waiter) {
      this.forget(waiter);
      waiter.resolve(el);
      return;
    }
    if (request) {
      if (!responder) this.answerIq(el);
      return;
    }
    this.listeners.forEach((fn) => fn(el));
    this.keep(el, bytes);
  }

  private keep(el: Element, bytes: number): void {
    const maxBytes = INBOX_STANZAS_OF_MAX_SIZE * (this.options.maxStanzaBytes ?? DEFAULT_MAX_STANZA_BYTES);
    this.inbox.push({ el, bytes });
    this.inboxBytes += bytes;
    while (this.inbox.length > INBOX_LIMIT || (this.inboxBytes > maxBytes && this.inbox.length > 1)) {
      this.inboxBytes -= this.inbox.shift()!.bytes;
    }
  }

  /** We answer pings; every other request gets service-unavailable (RFC 6120 §8.4). */
  private answerIq(el: Element): void {
    const reply = xml("iq", { type: "result", id: el.attrs.id, to: el.attrs.from });
    if (!el.getChild("ping", NS_PING)) {
      reply.attrs.type = "error";
      reply.append(
        xml("error", { type: "cancel" }, xml("service-unavailable", { xmlns: NS_STANZAS })),
      );
    }
    if (!this.closed) this.send(reply);
  }

  /** Rejects every pending wait with `err`, naming each waiter's own step. */
  private fail(err: SessionError): void {
    if (this.closed) return;
    this.closed = err;
    this.headerWaiter?.reject(this.closedAt("stream-open"));
    for (const w of [...this.waiters, ...this.iqWaiters.values()]) w.reject(this.closedAt(w.step));
    this.waiters = [];
    this.iqWaiters.clear();
  }

  /** Why the stream is closed, as seen by `step` (a stream error says during which step it came). */
  private closedAt(step: SessionStep): SessionError {
    const err = this.closed!;
    if (err.step === step) return err;
    const message = err.kind === "stream-error" ? streamErrorMessage(err.condition!, step, this.streamErrorText) : err.message;
    return new SessionError(err.kind, step, message, err.condition);
  }

  /**
   * withDeadline, and on a timeout on TCP or WebSocket, what arrived in the
   * meantime: a slow drip, a whitespace flood or unrelated stanzas are not
   * silence, and keep no deadline from firing (only complete, matching
   * elements end a wait).
   */
  private deadline<T>(step: SessionStep, ms: number, promise: Promise<T>, what?: string): Promise<T> {
    const bytesBefore = this.meter.bytesIn;
    const elementsBefore = this.meter.stanzasIn;
    return withDeadline(step, ms, promise, what).catch((err: unknown) => {
      const bytes = this.meter.bytesIn - Math.max(bytesBefore, this.bytesInAtHeader);
      // BOSH answers empty polls with <body/> wrappers: bytes there say nothing.
      if (!(err instanceof SessionError) || err.kind !== "timeout" || bytes === 0 || this.transport === "bosh") throw err;
      const elements = this.meter.stanzasIn - elementsBefore;
      const meanwhile = elements > 0 ? `${elements} other element${elements === 1 ? "" : "s"}` : "no complete element";
      throw new SessionError("timeout", step, `${err.message} (meanwhile ${bytes} byte${bytes === 1 ? "" : "s"} arrived: ${meanwhile})`);
    });
  }
}

/** What a timeout waited for: "the answer to <auth/>", "the answer to the bind iq". */
function answerTo(el: Element): string {
  const payload = el.is("iq") ? el.getChildElements()[0]?.getName() : undefined;
  return el.is("iq") ? `the answer to the ${payload ? `${payload} ` : ""}iq` : `the answer to <${el.getName()}/>`;
}

function streamErrorMessage(condition: string, step: SessionStep, text: string | undefined): string {
  return `stream error ${condition}${step === "wait" ? "" : ` during ${step}`}${text ? ` (the server says: ${excerpt(text)})` : ""}`;
}

export function stanzaError(el: Element): StanzaError {
  const error = el.getChild("error");
  const condition =
    error?.getChildElements().find((c) => c.getNS() === NS_STANZAS && c.getName() !== "text")?.getName() ??
    "undefined-condition";
  return new StanzaError(condition, error?.attrs.type, error?.getChildText("text") ?? undefined, el.toString());
}
