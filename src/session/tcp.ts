/**
 * The TCP transport of RFC 6120: one socket (node:net, upgraded in place by
 * STARTTLS, or node:tls from the first byte for XEP-0368 direct TLS) carrying
 * one XML stream, read with xmpp.js's streaming parser.
 */
import net from "node:net";
import tls from "node:tls";
import type { Element } from "@xmpp/xml";
import { SessionError, withDeadline } from "./errors.js";
import { StreamParser } from "./stream-parser.js";
import { describeTls, type TlsInfo } from "./tls-facts.js";
import type { TrafficMeter } from "./traffic.js";
import {
  DEFAULT_MAX_STANZA_BYTES,
  NS_CLIENT,
  escapeAttr,
  secureContextFor,
  tlsError,
  type Link,
  type LinkEvents,
  type OpenAttributes,
  type TlsSettings,
} from "./transport.js";

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
}

export class TcpLink implements Link {
  readonly kind = "tcp" as const;
  readonly countsRoundTrips = false;
  tlsInfo: TlsInfo | null = null;
  private socket!: net.Socket;
  private parser!: StreamParser;

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
    this.parser = this.makeParser();
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

  private makeParser(): StreamParser {
    const parser = new StreamParser(this.options.maxStanzaBytes ?? DEFAULT_MAX_STANZA_BYTES);
    parser.on("start", (el) => this.events.header({ ...el.attrs }, headerText(el)));
    parser.on("element", (el) => this.events.element(el));
    parser.on("end", () => {
      this.events.end("</stream:stream>");
      this.socket.end();
    });
    parser.on("error", (err) => {
      const failure = err instanceof SessionError ? err : new SessionError("protocol", "wait", `malformed XML from the server: ${err.message}`);
      this.events.note(failure.message);
      this.events.fail(failure);
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
      this.events.fail(new SessionError("protocol", "wait", `malformed XML from the server: ${(err as Error).message}`));
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
