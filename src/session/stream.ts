/**
 * One XMPP client stream (RFC 6120) on node:net / node:tls, parsed with
 * xmpp.js's XML parser. It owns the socket, the deadlines and the meter;
 * it knows nothing of SASL or checks (see login.ts for the login flow).
 *
 * Why not @xmpp/client's Client: its steps have no deadlines, its TLS cannot
 * take a CA or --insecure per connection, and it cannot tell which step a
 * silent server stalled in. Here every wait names its step.
 */
import net from "node:net";
import tls from "node:tls";
import { Parser, xml, type Element } from "@xmpp/xml";
import { SessionError, StanzaError, withDeadline, type SessionStep } from "./errors.js";
import { TrafficMeter } from "./traffic.js";
import { describeTls, type TlsInfo } from "./tls-facts.js";
import { Transcript, redactedXml } from "./transcript.js";

export type { TlsInfo } from "./tls-facts.js";

export const NS_STREAM = "http://etherx.jabber.org/streams";
export const NS_CLIENT = "jabber:client";
export const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";
export const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
export const NS_PING = "urn:xmpp:ping";

export interface TlsSettings {
  /** PEM of extra certificate authorities to trust (from --ca). */
  ca?: string;
  /** Skip certificate verification (from --insecure); still recorded in every report. */
  insecure?: boolean;
}

export interface StreamOptions {
  domain: string;
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
}

export interface FeatureSnapshot {
  /** "initial", "after-starttls", "after-auth", … */
  stage: string;
  xml: string;
}

interface Waiter {
  match: (el: Element) => boolean;
  resolve: (el: Element) => void;
  reject: (err: Error) => void;
  step: SessionStep;
}

const INBOX_LIMIT = 500;

export class XmppStream {
  features!: Element;
  readonly featureLog: FeatureSnapshot[] = [];
  tlsInfo: TlsInfo | null = null;
  /** Attributes of the server's latest stream header (id, from, version, xml:lang). */
  header: Record<string, string> = {};
  /** The 'from' of the latest stream header we sent, if any. */
  headerFrom: string | undefined;
  /** Our full JID once bound. */
  jid: string | undefined;
  readonly meter: TrafficMeter;
  transcript: Transcript;
  /** Label of this stream in a shared transcript. */
  actor: string | undefined;

  private socket!: net.Socket;
  private parser!: Parser;
  private waiters: Waiter[] = [];
  private inbox: Element[] = [];
  private headerWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private closed: SessionError | undefined;
  private idCounter = 0;
  private readonly idPrefix = Math.random().toString(36).slice(2, 8);
  private readonly listeners = new Set<(el: Element) => void>();
  private readonly observers = new Set<(el: Element, direction: "in" | "out") => void>();

  private constructor(readonly options: StreamOptions) {
    this.meter = new TrafficMeter(options.meter);
    this.transcript = options.transcript ?? new Transcript();
  }

  /** Connects, (for direct TLS) handshakes, opens the stream and reads its features. */
  static async open(options: StreamOptions, stage = "initial"): Promise<XmppStream> {
    const stream = new XmppStream(options);
    try {
      await stream.connectTcp();
      if (options.mode === "direct") await stream.handshakeTls(["xmpp-client"]);
      else stream.attach(stream.socket);
      await stream.openStream(stage);
      return stream;
    } catch (err) {
      stream.destroy();
      throw err;
    }
  }

  get isSecure(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  /** The TLS socket, for channel binding (tls-exporter, tls-server-end-point). */
  get tlsSocket(): tls.TLSSocket | undefined {
    return this.socket instanceof tls.TLSSocket ? this.socket : undefined;
  }

  get isClosed(): boolean {
    return this.closed !== undefined;
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  private async connectTcp(): Promise<void> {
    const { host, port } = this.options;
    this.meter.add("roundTrips");
    const socket = net.connect({ host, port, noDelay: true });
    this.socket = socket;
    const connected = new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", (err) =>
        reject(new SessionError("network", "tcp-connect", `cannot connect to ${host}:${port}: ${err.message}`)),
      );
    });
    await withDeadline("tcp-connect", this.timeoutMs, connected, `a TCP connection to ${host}:${port}`);
  }

  /** Upgrades the current socket to TLS (direct TLS, or after <proceed/>). */
  private async handshakeTls(alpn?: string[]): Promise<void> {
    const { domain, tls: settings } = this.options;
    const plain = this.socket;
    this.detach(plain);
    const secure = tls.connect({
      socket: plain,
      servername: domain,
      secureContext: secureContextFor(settings.ca),
      rejectUnauthorized: !settings.insecure,
      ALPNProtocols: alpn,
    });
    this.socket = secure;
    const done = new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", resolve);
      secure.once("error", (err) => reject(tlsError(err, domain)));
    });
    await withDeadline("tls-handshake", this.timeoutMs, done, "the TLS handshake");
    const protocol = secure.getProtocol();
    this.meter.add("roundTrips", protocol === "TLSv1.3" ? 1 : 2);
    this.tlsInfo = describeTls(secure);
    this.attach(secure);
  }

  /** STARTTLS (RFC 6120 §5): ask, get <proceed/>, handshake, restart. */
  async startTls(): Promise<void> {
    const answer = await this.request(
      xml("starttls", { xmlns: NS_TLS }),
      (el) => el.getNS() === NS_TLS,
      "starttls",
    );
    if (!answer.is("proceed")) {
      throw new SessionError("tls", "starttls", `server answered STARTTLS with <${answer.getName()}/>`, answer.getName());
    }
    await this.handshakeTls();
    await this.openStream("after-starttls");
  }

  /** Sends a new stream header and waits for the server's header and features. */
  async openStream(stage: string): Promise<void> {
    this.parser = this.makeParser();
    const { domain } = this.options;
    // RFC 6120 §4.7.1: a client includes 'from' only on a TLS-protected stream.
    const from = this.isSecure ? this.options.from : undefined;
    this.headerFrom = from;
    const header =
      `<?xml version='1.0'?><stream:stream to='${domain}'${from ? ` from='${from}'` : ""} version='1.0' ` +
      `xml:lang='en' xmlns='${NS_CLIENT}' xmlns:stream='${NS_STREAM}'>`;
    const headerSeen = new Promise<void>((resolve, reject) => (this.headerWaiter = { resolve, reject }));
    const features = this.waitFor((el) => el.is("features", NS_STREAM), "stream-features", { silent: true });
    features.catch(() => {}); // awaited below; avoid an unhandled rejection if the header wait fails first
    this.meter.add("roundTrips");
    this.writeRaw(header);
    this.record("out", header);
    await withDeadline("stream-open", this.timeoutMs, headerSeen, "the server's stream header");
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
    const text = el.toString();
    this.writeRaw(text);
    this.meter.add("stanzasOut");
    this.record("out", redactedXml(el));
    this.observers.forEach((fn) => fn(el, "out"));
  }

  /** Sends `el` and waits for the first element that `match`es: one round trip. */
  async request(el: Element, match: (el: Element) => boolean, step: SessionStep): Promise<Element> {
    const answer = this.waitFor(match, step, { silent: true });
    answer.catch(() => {});
    this.meter.add("roundTrips");
    this.send(el);
    return answer;
  }

  /**
   * Waits, under the step deadline, for an element matching `match`; elements
   * that arrived earlier and matched nothing are looked at first.
   */
  waitFor(
    match: (el: Element) => boolean,
    step: SessionStep = "wait",
    opts: { timeoutMs?: number; silent?: boolean } = {},
  ): Promise<Element> {
    const index = this.inbox.findIndex(match);
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]!);
    if (this.closed) return Promise.reject(this.closed);
    let waiter!: Waiter;
    const promise = new Promise<Element>((resolve, reject) => {
      waiter = { match, resolve, reject, step };
      this.waiters.push(waiter);
    });
    return withDeadline(step, opts.timeoutMs ?? this.timeoutMs, promise).finally(() => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
    });
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

  /** Calls `fn` for every stanza no waiter took (messages, presences, pushes). */
  onStanza(fn: (el: Element) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Closes the stream politely, bounded by the deadline, then the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    const ended = new Promise<void>((resolve) => this.socket.once("close", () => resolve()));
    try {
      this.writeRaw("</stream:stream>");
      this.record("out", "</stream:stream>");
      await withDeadline("close", Math.min(this.timeoutMs, 2000), ended);
    } catch {
      // a server that does not close its side is not our problem at close time
    } finally {
      this.destroy();
    }
  }

  /** Drops the connection at once (also used to simulate a network loss). */
  destroy(): void {
    this.fail(new SessionError("network", "close", "stream closed by xepcheck"));
    this.socket?.destroy();
  }

  private writeRaw(text: string): void {
    this.meter.add("bytesOut", Buffer.byteLength(text));
    this.socket.write(text);
  }

  private makeParser(): Parser {
    const parser = new Parser();
    parser.on("start", (el) => {
      this.header = { ...el.attrs };
      this.record("in", headerText(el));
      this.headerWaiter?.resolve();
      this.headerWaiter = undefined;
    });
    parser.on("element", (el) => this.receive(el));
    parser.on("end", () => {
      this.record("in", "</stream:stream>");
      this.fail(new SessionError("network", "wait", "the server closed the stream"));
      this.socket.end();
    });
    parser.on("error", (err) => {
      this.record("note", `malformed XML from the server: ${err.message}`);
      this.fail(new SessionError("protocol", "wait", `malformed XML from the server: ${err.message}`));
      this.socket.destroy();
    });
    return parser;
  }

  private attach(socket: net.Socket): void {
    socket.setEncoding("utf8");
    socket.on("data", this.onData);
    socket.on("close", this.onClose);
    socket.on("error", this.onError);
  }

  private detach(socket: net.Socket): void {
    socket.off("data", this.onData);
    socket.off("close", this.onClose);
    socket.off("error", this.onError);
  }

  private readonly onData = (data: string) => {
    this.meter.add("bytesIn", Buffer.byteLength(data));
    try {
      this.parser.write(data);
    } catch (err) {
      this.fail(new SessionError("protocol", "wait", `malformed XML from the server: ${(err as Error).message}`));
      this.socket.destroy();
    }
  };

  private readonly onClose = () => this.fail(new SessionError("network", "wait", "the server closed the connection"));

  private readonly onError = (err: Error) =>
    this.fail(new SessionError("network", "wait", `connection error: ${err.message}`));

  private receive(el: Element): void {
    this.meter.add("stanzasIn");
    this.record("in", redactedXml(el));
    if (el.is("error", NS_STREAM)) {
      const condition = el.getChildElements().find((c) => c.getName() !== "text")?.getName() ?? "undefined-condition";
      const text = el.getChildText("text");
      this.fail(
        new SessionError("stream-error", "wait", `the server sent stream error ${condition}${text ? `: ${text}` : ""}`, condition),
      );
      return;
    }
    this.observers.forEach((fn) => fn(el, "in"));
    const waiter = this.waiters.find((w) => w.match(el));
    if (waiter) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(el);
      return;
    }
    if (el.is("iq") && (el.attrs.type === "get" || el.attrs.type === "set")) {
      this.answerIq(el);
      return;
    }
    this.listeners.forEach((fn) => fn(el));
    this.inbox.push(el);
    if (this.inbox.length > INBOX_LIMIT) this.inbox.shift();
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
    this.headerWaiter?.reject(new SessionError(err.kind, "stream-open", err.message, err.condition));
    for (const w of this.waiters) w.reject(new SessionError(err.kind, w.step, err.message, err.condition));
    this.waiters = [];
  }
}

const contexts = new Map<string, tls.SecureContext>();

/**
 * The system roots plus the --ca file, parsed once: parsing ~140 roots on
 * every connection costs more than the rest of a loopback login.
 */
function secureContextFor(ca: string | undefined): tls.SecureContext | undefined {
  if (!ca) return undefined;
  let context = contexts.get(ca);
  if (!context) {
    context = tls.createSecureContext({ ca: [...tls.rootCertificates, ca] });
    contexts.set(ca, context);
  }
  return context;
}

function headerText(el: Element): string {
  const attrs = Object.entries(el.attrs)
    .map(([k, v]) => `${k}='${v}'`)
    .join(" ");
  return `<${el.name} ${attrs}>`;
}


export function stanzaError(el: Element): StanzaError {
  const error = el.getChild("error");
  const condition =
    error?.getChildElements().find((c) => c.getNS() === NS_STANZAS && c.getName() !== "text")?.getName() ??
    "undefined-condition";
  return new StanzaError(condition, error?.attrs.type, error?.getChildText("text") ?? undefined, el.toString());
}

const CERT_ERRORS = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

function tlsError(err: Error & { code?: string }, domain: string): SessionError {
  if (err.code && CERT_ERRORS.has(err.code)) {
    return new SessionError(
      "tls",
      "tls-handshake",
      `the TLS certificate of ${domain} is not trusted (${err.code}: ${err.message}). ` +
        `Pass --ca FILE with the CA that issued it, or --insecure to test without verifying it.`,
      err.code,
    );
  }
  return new SessionError("tls", "tls-handshake", `TLS handshake with ${domain} failed: ${err.message}`, err.code);
}
