/**
 * The component side of XEP-0114 (jabber:component:accept): a plain TCP
 * stream to the server's component port, the handshake
 * (hex SHA-1 of stream id + shared secret, §3), then stanzas routed through
 * the server. Every wait under a deadline; recorded in a transcript with
 * the handshake value redacted (it is derived from the secret).
 */
import { createHash } from "node:crypto";
import net from "node:net";
import { xml, type Element } from "@xmpp/xml";
import { SessionError, excerpt, withDeadline } from "./errors.js";
import { StreamReader, readerFailure, xmlLimits } from "./xml-reader.js";
import { Transcript, redactedXml } from "./transcript.js";

export const NS_COMPONENT = "jabber:component:accept";
const NS_STREAM = "http://etherx.jabber.org/streams";
const NS_STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams";

export interface ComponentOptions {
  host: string;
  port: number;
  /** The component's name: the stream's 'to' (XEP-0114 §3). */
  domain: string;
  timeoutMs: number;
  transcript: Transcript;
  /** Label of this stream in the transcript. */
  label?: string;
  maxStanzaBytes?: number;
  /** Deepest nesting accepted in a stanza (default DEFAULT_MAX_XML_DEPTH). */
  maxXmlDepth?: number;
}

interface Waiter {
  match(el: Element): boolean;
  resolve(el: Element): void;
  reject(err: Error): void;
}

/** XEP-0114 §3: the handshake is hex(SHA-1(stream id + secret)), lower case. */
export function handshakeValue(streamId: string, secret: string): string {
  return createHash("sha1").update(streamId + secret, "utf8").digest("hex");
}

export class ComponentStream {
  /** The id of the server's stream header. */
  streamId = "";
  /** Why the stream ended, once it has (a stream error's condition, or a hang-up). */
  ended: SessionError | undefined;
  private readonly waiters = new Set<Waiter>();
  private readonly label: string;

  private constructor(
    private readonly socket: net.Socket,
    private readonly options: ComponentOptions,
  ) {
    this.label = options.label ?? "component";
  }

  /** Connects and exchanges stream headers; the server MUST answer a name it serves with its header (§3). */
  static async open(options: ComponentOptions): Promise<ComponentStream> {
    const { host, port, timeoutMs } = options;
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    await withDeadline(
      "tcp-connect",
      timeoutMs,
      new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", (err) => reject(new SessionError("network", "tcp-connect", `cannot connect to the component port ${host}:${port}: ${err.message}`)));
      }),
      `the component port ${host}:${port}`,
    );
    const stream = new ComponentStream(socket, options);
    const header = stream.start();
    stream.write(`<stream:stream xmlns='${NS_COMPONENT}' xmlns:stream='${NS_STREAM}' to='${options.domain}'>`);
    stream.streamId = await withDeadline("stream-open", timeoutMs, header, "the server's stream header on the component port");
    return stream;
  }

  private start(): Promise<string> {
    let resolveHeader!: (id: string) => void;
    const header = new Promise<string>((resolve, reject) => {
      resolveHeader = resolve;
      this.onEnd = (err) => reject(err);
    });
    const reader = new StreamReader(xmlLimits(this.options), {
      header: (el) => {
        this.options.transcript.record("in", `<stream:stream${Object.entries(el.attrs).map(([k, v]) => ` ${k}='${v}'`).join("")}>`, this.label);
        if (!el.attrs.id) this.end(new SessionError("protocol", "stream-open", "the server's stream header has no id: there is nothing to hash for the handshake"));
        else resolveHeader(el.attrs.id);
      },
      element: (el) => this.receive(el),
      end: () => this.end(new SessionError("network", "wait", "the server closed the component stream")),
      error: (err) => this.end(readerFailure(err)),
    });
    this.socket.on("data", (data: Buffer) => reader.write(data));
    this.socket.on("close", () => this.end(new SessionError("network", "wait", "the server closed the component connection")));
    this.socket.on("error", (err) => this.end(new SessionError("network", "wait", `component connection: ${err.message}`)));
    return header;
  }

  private onEnd: (err: SessionError) => void = () => {};

  private receive(el: Element): void {
    this.options.transcript.record("in", redactedXml(el), this.label);
    if (el.is("error", NS_STREAM)) {
      const condition = el.getChildElements().find((c) => c.getNS() === NS_STREAM_ERRORS && c.getName() !== "text")?.getName() ?? "undefined-condition";
      const text = el.getChildText("text", NS_STREAM_ERRORS);
      this.end(new SessionError("stream-error", "wait", `stream error ${condition} on the component stream${text ? ` (the server says: ${excerpt(text)})` : ""}`, condition));
      return;
    }
    for (const w of this.waiters) {
      if (w.match(el)) {
        this.waiters.delete(w);
        w.resolve(el);
      }
    }
  }

  private end(err: SessionError): void {
    if (this.ended) return;
    this.ended = err;
    this.onEnd(err);
    for (const w of this.waiters) w.reject(err);
    this.waiters.clear();
    this.socket.destroy();
  }

  private write(text: string): void {
    this.options.transcript.record("out", text, this.label);
    this.socket.write(text);
  }

  send(el: Element): void {
    if (this.ended) throw this.ended;
    this.options.transcript.record("out", redactedXml(el), this.label);
    this.socket.write(el.toString());
  }

  /** The next element matching `match`; `what` names it in a timeout. */
  waitFor(match: (el: Element) => boolean, what: string): Promise<Element> {
    if (this.ended) return Promise.reject(this.ended);
    let waiter!: Waiter;
    const p = new Promise<Element>((resolve, reject) => {
      waiter = { match, resolve, reject };
      this.waiters.add(waiter);
    });
    return withDeadline("wait", this.options.timeoutMs, p, what).finally(() => this.waiters.delete(waiter));
  }

  /** Sends the handshake for `secret`; resolves on the server's empty <handshake/>, rejects with why not. */
  async handshake(secret: string): Promise<void> {
    const answer = this.waitFor((el) => el.is("handshake", NS_COMPONENT), "the server's <handshake/> answer");
    this.send(xml("handshake", { xmlns: NS_COMPONENT }, handshakeValue(this.streamId, secret)));
    await answer;
  }

  /** Waits until the server ends the stream (or the deadline passes); returns why it ended. */
  async closedByServer(): Promise<SessionError> {
    if (this.ended) return this.ended;
    const ended = new Promise<SessionError>((resolve) => {
      const previous = this.onEnd;
      this.onEnd = (err) => {
        previous(err);
        resolve(err);
      };
    });
    return withDeadline("wait", this.options.timeoutMs, ended, "the server to close the component stream");
  }

  close(): void {
    if (this.ended) return;
    this.write("</stream:stream>");
    this.end(new SessionError("network", "close", "closed by xepcheck"));
  }
}
