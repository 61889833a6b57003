/**
 * The TCP transport of RFC 6120: one socket (node:net, upgraded in place by
 * STARTTLS, or node:tls from the first byte for XEP-0368 direct TLS) carrying
 * one XML stream, read by xml-reader.ts.
 */
import net from "node:net";
import tls from "node:tls";
import type { Element } from "@xmpp/xml";
import { SessionError, withDeadline } from "./errors.js";
import { describeTls, type TlsInfo } from "./tls-facts.js";
import type { TrafficMeter } from "./traffic.js";
import {
  NS_CLIENT,
  escapeAttr,
  secureContextFor,
  tlsError,
  type Link,
  type LinkEvents,
  type OpenAttributes,
  type TlsSettings,
} from "./transport.js";
import { StreamReader, closingStreamError, readerFailure, xmlLimits } from "./xml-reader.js";

export const NS_STREAM = "http://etherx.jabber.org/streams";

export interface TcpOptions {
  domain: string;
  host: string;
  port: number;
  /** "starttls" upgrades a plain connection; "direct" is XEP-0368 TLS from the first byte. */
  mode: "starttls" | "direct";
  tls: TlsSettings;
  timeoutMs: number;
  /** ALPN protocols offered on direct TLS (default xmpp-client). */
  alpn?: string[];
  /** Largest top-level element accepted from the server (default DEFAULT_MAX_STANZA_BYTES). */
  maxStanzaBytes?: number;
  /** Deepest nesting accepted in a stanza (default DEFAULT_MAX_XML_DEPTH). */
  maxXmlDepth?: number;
}

export class TcpLink implements Link {
  readonly kind = "tcp" as const;
  readonly countsRoundTrips = false;
  tlsInfo: TlsInfo | null = null;
  private socket!: net.Socket;
  private reader!: StreamReader;

  constructor(
    private readonly options: TcpOptions,
    private readonly meter: TrafficMeter,
    private readonly events: LinkEvents,
  ) {}

  get isSecure(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  get tlsSocket(): tls.TLSSocket | undefined {
    return this.socket instanceof tls.TLSSocket ? this.socket : undefined;
  }

  async connect(): Promise<void> {
    await this.connectTcp();
    // XEP-0368 §3: ALPN 'xmpp-client' on direct TLS (--alpn may offer others).
    if (this.options.mode === "direct") await this.handshakeTls(this.options.alpn ?? ["xmpp-client"]);
    else this.attach(this.socket);
  }

  private async connectTcp(): Promise<void> {
    const { host, port, timeoutMs } = this.options;
    this.meter.add("roundTrips");
    const socket = net.connect({ host, port, noDelay: true });
    this.socket = socket;
    const connected = new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", (err) =>
        reject(new SessionError("network", "tcp-connect", `cannot connect to ${host}:${port}: ${err.message}`)),
      );
    });
    await withDeadline("tcp-connect", timeoutMs, connected, `a TCP connection to ${host}:${port}`);
  }

  /** Upgrades the current socket to TLS (direct TLS, or after <proceed/>). */
  async handshakeTls(alpn?: string[]): Promise<void> {
    const { domain, tls: settings, timeoutMs } = this.options;
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
      // `on`, not `once`: a second error (a reset after a failed handshake) must not go unhandled.
      secure.on("error", (err) => reject(tlsError(err, domain)));
    });
    await withDeadline("tls-handshake", timeoutMs, done, "the TLS handshake");
    const protocol = secure.getProtocol();
    this.meter.add("roundTrips", protocol === "TLSv1.3" ? 1 : 2);
    this.tlsInfo = describeTls(secure);
    this.attach(secure);
  }

  open({ to, from, lang }: OpenAttributes): string {
    this.reader = this.makeReader();
    const header =
      `<?xml version='1.0'?><stream:stream to='${escapeAttr(to)}'${from ? ` from='${escapeAttr(from)}'` : ""} version='1.0' ` +
      `xml:lang='${lang}' xmlns='${NS_CLIENT}' xmlns:stream='${NS_STREAM}'>`;
    this.write(header);
    return header;
  }

  send(el: Element): void {
    this.write(el.toString());
  }

  /** Sends the closing tag and waits (at most `waitMs`) for the server to close the connection. */
  close(waitMs: number): { sent: string; done: Promise<void> } {
    const ended = new Promise<void>((resolve) => this.socket.once("close", () => resolve()));
    const sent = "</stream:stream>";
    this.write(sent);
    // a server that does not close its side is not our problem at close time
    return { sent, done: withDeadline("close", waitMs, ended).catch(() => {}) };
  }

  destroy(): void {
    this.socket?.destroy();
  }

  private write(text: string): void {
    this.meter.add("bytesOut", Buffer.byteLength(text));
    this.socket.write(text);
  }

  private makeReader(): StreamReader {
    return new StreamReader(xmlLimits(this.options), {
      header: (el) => this.events.header({ ...el.attrs }, headerText(el)),
      element: (el, bytes) => this.events.element(el, bytes),
      end: () => {
        this.events.end("</stream:stream>");
        this.socket.end();
      },
      error: (err) => {
        const failure = readerFailure(err);
        this.events.note(failure.message);
        if (failure.condition && !this.socket.destroyed) {
          const closing = closingStreamError(failure.condition);
          this.events.sent(closing);
          this.write(closing);
        }
        this.events.fail(failure);
        this.socket.destroy();
      },
    });
  }

  private attach(socket: net.Socket): void {
    socket.on("data", this.onData);
    socket.on("close", this.onClose);
    socket.on("error", this.onError);
  }

  private detach(socket: net.Socket): void {
    socket.off("data", this.onData);
    socket.off("close", this.onClose);
    socket.off("error", this.onError);
  }

  private readonly onData = (data: Buffer) => {
    this.meter.add("bytesIn", data.length);
    try {
      this.reader.write(data);
    } catch (err) {
      // Not the server's fault: a bug of ours in handling an element. The session ends, saying so.
      this.events.fail(new SessionError("protocol", "wait", `xepcheck failed to handle what the server sent: ${(err as Error).message}`));
      this.socket.destroy();
    }
  };

  private readonly onClose = () => this.events.fail(new SessionError("network", "wait", "the server closed the connection"));

  private readonly onError = (err: Error) =>
    this.events.fail(new SessionError("network", "wait", `connection error: ${err.message}`));
}

function headerText(el: Element): string {
  const attrs = Object.entries(el.attrs)
    .map(([k, v]) => `${k}='${v}'`)
    .join(" ");
  return `<${el.name} ${attrs}>`;
}
