/**
 * A connection that sends exactly the bytes it is given, for the checks of
 * what a server does with a stream (RFC 6120 §4, §11): a wrong header, XML
 * that is not well-formed or not allowed, another encoding. What the server
 * sends back is kept both as bytes (an XML declaration, a byte order mark)
 * and as XMPP: the response header, the top-level elements, the stream error,
 * the closing tag, the end of the connection.
 *
 * It never authenticates: nothing secret goes over it.
 */
import net from "node:net";
import tls from "node:tls";
import type { Element } from "@xmpp/xml";
import { SessionError, withDeadline } from "./errors.js";
import type { TrafficMeter } from "./traffic.js";
import { REDACTED, Transcript, redactedXml } from "./transcript.js";
import { NS_TLS } from "./stream.js";
import { NS_STREAM, type TcpOptions } from "./tcp.js";
import { secureContextFor, tlsError } from "./transport.js";
import { StreamReader, xmlLimits } from "./xml-reader.js";

export const NS_STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams";

/** Where and how to connect, as for a stream; "starttls" mode stays plain until starttls(). */
export interface RawStreamOptions extends Pick<TcpOptions, "domain" | "host" | "port" | "mode" | "tls" | "timeoutMs" | "alpn"> {
  meter?: TrafficMeter;
  transcript?: Transcript;
  /** Label in the transcript. */
  label?: string;
}

/** What the server has done on the stream so far. */
export interface ServerSide {
  /** Everything received, as bytes, since the connection (or the TLS layer) started. */
  bytes: Buffer;
  /** The response stream header's attributes, once read. */
  header?: Record<string, string>;
  /** Top-level elements after the header: features, <proceed/>, errors. */
  elements: Element[];
  /** The <stream:error/>, if one came: its defined condition and <text/>. */
  streamError?: { condition: string | undefined; text: string | undefined; element: Element };
  /** The closing </stream:stream> came. */
  closedStream: boolean;
  /** The connection ended (FIN, reset, or a TLS alert). */
  closedConnection: boolean;
  /** What xepcheck could not read as XML (the server's own output was wrong). */
  unreadable?: string;
}

export class RawStream {
  readonly server: ServerSide = { bytes: Buffer.alloc(0), elements: [], closedStream: false, closedConnection: false };
  readonly transcript: Transcript;
  private socket!: net.Socket;
  private reader!: StreamReader;
  private readonly changed = new Set<() => void>();

  private constructor(readonly options: RawStreamOptions) {
    this.transcript = options.transcript ?? new Transcript();
  }

  static async connect(options: RawStreamOptions): Promise<RawStream> {
    const raw = new RawStream(options);
    const { host, port, timeoutMs } = options;
    options.meter?.add("roundTrips");
    const socket = net.connect({ host, port, noDelay: true });
    raw.socket = socket;
    await withDeadline(
      "tcp-connect",
      timeoutMs,
      new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", (err) => reject(new SessionError("network", "tcp-connect", `cannot connect to ${host}:${port}: ${err.message}`)));
      }),
      `a TCP connection to ${host}:${port}`,
    ).catch((err: unknown) => {
      socket.destroy();
      throw err;
    });
    if (options.mode === "direct") await raw.handshake(options.alpn ?? ["xmpp-client"]);
    else raw.attach();
    return raw;
  }

  get isClosed(): boolean {
    return this.server.closedConnection;
  }

  /** The opening tag of a stream as RFC 6120 §4.7 shows it, with `attrs` changed (undefined leaves an attribute out). */
  header(attrs: Record<string, string | undefined> = {}, prefix = "<?xml version='1.0'?>"): string {
    const all: Record<string, string | undefined> = {
      to: this.options.domain,
      version: "1.0",
      "xml:lang": "en",
      xmlns: "jabber:client",
      "xmlns:stream": NS_STREAM,
      ...attrs,
    };
    const text = Object.entries(all)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}='${v}'`)
      .join(" ");
    return `${prefix}<stream:stream ${text}>`;
  }

  /** Sends these bytes as they are. */
  write(data: string | Buffer): void {
    if (this.server.closedConnection) return;
    const text = typeof data === "string" ? data : `(${data.length} bytes) ${data.toString("latin1")}`;
    this.transcript.record("out", redactSasl(text), this.options.label);
    this.options.meter?.add("bytesOut", typeof data === "string" ? Buffer.byteLength(data) : data.length);
    this.socket.write(data);
  }

  /**
   * Waits until `done(server)` holds, the connection ends, or `ms` pass;
   * returns whether `done` held. Never throws: what the server did is the
   * answer, and silence is one too.
   */
  async until(done: (server: ServerSide) => boolean, ms = this.options.timeoutMs): Promise<boolean> {
    if (done(this.server)) return true;
    if (this.server.closedConnection) return false;
    this.options.meter?.add("roundTrips");
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), ms);
      const check = () => {
        if (done(this.server)) finish(true);
        else if (this.server.closedConnection) finish(false);
      };
      const finish = (held: boolean) => {
        clearTimeout(timer);
        this.changed.delete(check);
        resolve(held);
      };
      this.changed.add(check);
    });
  }

  /** Until the stream features after the response header have come. */
  async features(ms?: number): Promise<Element | undefined> {
    await this.until((s) => s.elements.some(isFeatures) || s.streamError !== undefined, ms);
    return this.server.elements.find(isFeatures);
  }

  /**
   * Sends <starttls/> and returns the server's answer (<proceed/>, <failure/>,
   * a stream error) with the bytes that came before it, or undefined when
   * none came; on <proceed/> the TLS handshake follows at once.
   */
  async starttls(): Promise<{ answer: Element | undefined; bytes: Buffer; secured: boolean }> {
    const before = this.server.elements.length;
    const from = this.server.bytes.length;
    this.write(`<starttls xmlns='${NS_TLS}'/>`);
    await this.until((s) => s.elements.length > before || s.streamError !== undefined);
    const answer = this.server.elements[before];
    const bytes = this.server.bytes.subarray(from);
    if (!answer?.is("proceed", NS_TLS)) return { answer, bytes, secured: false };
    await this.handshake(undefined);
    return { answer, bytes, secured: true };
  }

  /** The server's TLS certificate, once secured (RFC 6120 §5.4.3.1: it must present one). */
  get peerCertificate(): tls.PeerCertificate | undefined {
    return this.socket instanceof tls.TLSSocket ? this.socket.getPeerCertificate() : undefined;
  }

  /** Ends the stream as a client does (</stream:stream>) and drops the connection soon after. */
  async close(): Promise<void> {
    if (this.server.closedConnection) return;
    this.write("</stream:stream>");
    await this.until((s) => s.closedConnection, Math.min(this.options.timeoutMs, 1000));
    this.destroy();
  }

  destroy(): void {
    this.socket?.destroy();
    this.markClosed();
  }

  /** TLS on the current socket; what came before it is forgotten, as the stream restarts on it. */
  private async handshake(alpn: string[] | undefined): Promise<void> {
    const { domain, tls: settings, timeoutMs } = this.options;
    const plain = this.socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("close");
    plain.removeAllListeners("error");
    const secure = tls.connect({
      socket: plain,
      servername: domain,
      secureContext: secureContextFor(settings.ca),
      rejectUnauthorized: !settings.insecure,
      ...(alpn ? { ALPNProtocols: alpn } : {}),
    });
    this.socket = secure;
    await withDeadline(
      "tls-handshake",
      timeoutMs,
      new Promise<void>((resolve, reject) => {
        secure.once("secureConnect", resolve);
        secure.on("error", (err) => reject(tlsError(err, domain)));
      }),
      "the TLS handshake",
    ).catch((err: unknown) => {
      secure.destroy();
      throw err;
    });
    this.options.meter?.add("roundTrips", secure.getProtocol() === "TLSv1.3" ? 1 : 2);
    Object.assign(this.server, { bytes: Buffer.alloc(0), elements: [], closedStream: false });
    delete this.server.header;
    delete this.server.streamError;
    this.attach();
  }

  private attach(): void {
    this.reader = new StreamReader(xmlLimits({}), {
      header: (el) => {
        this.server.header = { ...el.attrs };
        const attrs = Object.entries(el.attrs).map(([k, v]) => ` ${k}='${v}'`).join("");
        this.transcript.record("in", `<${el.name}${attrs}>`, this.options.label);
        this.notify();
      },
      element: (el) => {
        this.server.elements.push(el);
        if (el.is("error", NS_STREAM)) {
          const condition = el.getChildElements().find((c) => c.getNS() === NS_STREAM_ERRORS && c.getName() !== "text");
          this.server.streamError = { condition: condition?.getName(), text: el.getChild("text", NS_STREAM_ERRORS)?.text(), element: el };
        }
        this.transcript.record("in", redactedXml(el), this.options.label);
        this.notify();
      },
      end: () => {
        this.server.closedStream = true;
        this.transcript.record("in", "</stream:stream>", this.options.label);
        this.notify();
      },
      error: (err) => {
        this.server.unreadable = err.message;
        this.transcript.note(`what the server sent is not XML xepcheck can read: ${err.message}`, this.options.label);
        this.notify();
      },
    });
    const socket = this.socket;
    socket.on("data", (data: Buffer) => {
      this.options.meter?.add("bytesIn", data.length);
      this.server.bytes = Buffer.concat([this.server.bytes, data]);
      this.reader.write(data);
    });
    socket.on("close", () => this.markClosed());
    socket.on("error", () => this.markClosed());
  }

  private markClosed(): void {
    if (this.server.closedConnection) return;
    this.server.closedConnection = true;
    this.notify();
  }

  private notify(): void {
    for (const check of [...this.changed]) check();
  }
}

/**
 * The character data of SASL payloads in text as sent, redacted as the
 * transcript redacts parsed ones: what goes over a raw stream is made up,
 * but a transcript never holds SASL data, whoever reads it.
 */
function redactSasl(text: string): string {
  return text.replace(/(<(?:[\w-]+:)?(?:auth|response|challenge|success|initial-response|additional-data)\b[^>]*>)[^<]+(<\/)/g, `$1${REDACTED}$2`);
}

function isFeatures(el: Element): boolean {
  return el.is("features", NS_STREAM);
}
