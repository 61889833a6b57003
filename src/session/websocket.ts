/**
 * The WebSocket transport of RFC 7395, on the `ws` package (Node 20 has no
 * WebSocket client of its own). Subprotocol "xmpp" (§3.1); every message is
 * one complete XML element (§3.3): <open/> and <close/> of the framing
 * namespace take the place of the stream header and closing tag (§3.4, §3.6),
 * and a restart is a new <open/> (§3.7). TLS comes from wss:// (§3.9) with
 * the target's CA / --insecure on this connection only.
 *
 * Round trips: TCP connect, TLS handshake (1 for TLS 1.3, else 2) and the
 * HTTP upgrade; bytes: the XML text of the messages (frame headers and the
 * upgrade's HTTP headers are not counted).
 */
import net from "node:net";
import tls from "node:tls";
import type { Element } from "@xmpp/xml";
import WebSocket from "ws";
import { SessionError, withDeadline } from "./errors.js";
import { describeTls, type TlsInfo } from "./tls-facts.js";
import type { TrafficMeter } from "./traffic.js";
import { DEFAULT_MAX_XML_DEPTH, XmlError, parseXmlDocument, readerFailure, stanzaTooLarge } from "./xml-reader.js";
import {
  DEFAULT_MAX_STANZA_BYTES,
  NS_FRAMING,
  escapeAttr,
  secureContextFor,
  tlsError,
  webTlsNames,
  withClientNamespace,
  type Link,
  type LinkEvents,
  type OpenAttributes,
  type TlsSettings,
  type TransportFacts,
} from "./transport.js";

export const SUBPROTOCOL = "xmpp";

export interface WebSocketOptions {
  domain: string;
  /** ws:// or wss:// */
  url: string;
  /** Connect here instead of the URL's host (the Host header and certificate name stay the URL's). */
  connectHost?: string;
  tls: TlsSettings;
  timeoutMs: number;
  /** Largest message (one stanza, RFC 7395 §3.3.3) accepted from the server. */
  maxStanzaBytes?: number;
  /** Deepest nesting accepted in a stanza (default DEFAULT_MAX_XML_DEPTH). */
  maxXmlDepth?: number;
}

export class WebSocketLink implements Link {
  readonly kind = "websocket" as const;
  readonly countsRoundTrips = false;
  readonly url: string;
  tlsInfo: TlsInfo | null = null;
  tlsSocket: tls.TLSSocket | undefined;
  /** Response headers of the HTTP upgrade (for the report). */
  upgradeHeaders: Record<string, string> = {};
  private ws!: WebSocket;

  constructor(
    private readonly options: WebSocketOptions,
    private readonly meter: TrafficMeter,
    private readonly events: LinkEvents,
  ) {
    this.url = options.url;
  }

  private get maxStanzaBytes(): number {
    return this.options.maxStanzaBytes ?? DEFAULT_MAX_STANZA_BYTES;
  }

  get isSecure(): boolean {
    return new URL(this.url).protocol === "wss:";
  }

  /** The subprotocol the server chose ("xmpp", or "" if none). */
  get protocol(): string {
    return this.ws?.protocol ?? "";
  }

  async connect(): Promise<void> {
    const { url, timeoutMs, tls: settings, connectHost } = this.options;
    const target = new URL(url);
    const hostname = target.hostname.replace(/^\[|\]$/g, "");
    const where = `${connectHost ? `${connectHost} for ` : ""}${url}`;
    let failure: SessionError | undefined;
    const ws = new WebSocket(url, [SUBPROTOCOL], {
      perMessageDeflate: false, // byte counts of the XML as sent; RFC 7395 needs no compression
      // ws refuses a longer message before buffering it (error WS_ERR_UNSUPPORTED_MESSAGE_LENGTH).
      maxPayload: this.maxStanzaBytes,
      handshakeTimeout: timeoutMs,
      // Our own connection: the target's CA / --insecure for this socket only, --host honoured, round trips counted.
      createConnection: ((opts: { port?: number | string }) => {
        const host = connectHost ?? hostname;
        const port = Number(opts.port);
        const socket = this.isSecure
          ? tls.connect({
              host,
              port,
              ...webTlsNames(hostname, this.options.domain),
              secureContext: secureContextFor(settings.ca),
              rejectUnauthorized: !settings.insecure,
              ALPNProtocols: ["http/1.1"],
            })
          : net.connect({ host, port });
        socket.setNoDelay(true);
        let tcpConnected = false;
        socket.once("connect", () => {
          tcpConnected = true;
          this.meter.add("roundTrips");
        });
        if (socket instanceof tls.TLSSocket) {
          this.tlsSocket = socket;
          socket.once("secureConnect", () => {
            this.meter.add("roundTrips", socket.getProtocol() === "TLSv1.3" ? 1 : 2);
            this.tlsInfo = describeTls(socket);
          });
          // A failure between TCP connect and the end of the handshake is TLS's.
          socket.once("error", (err: Error & { code?: string }) => {
            if (tcpConnected && !this.tlsInfo) failure ??= tlsError(err, webTlsNames(hostname, this.options.domain).servername!);
          });
        }
        return socket;
      }) as unknown as typeof net.createConnection,
    });
    this.ws = ws;
    ws.on("upgrade", (res) => {
      this.meter.add("roundTrips");
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) this.upgradeHeaders[name] = Array.isArray(value) ? value.join(", ") : value;
      }
    });
    const opened = new Promise<void>((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", (err: Error & { code?: string }) => {
        if (failure) return reject(failure);
        if (err.code === "ECONNREFUSED" || err.code === "ENOTFOUND" || err.code === "EAI_AGAIN" || err.code === "EHOSTUNREACH") {
          return reject(new SessionError("network", "tcp-connect", `cannot connect to ${where}: ${err.message}`, err.code));
        }
        // Refused upgrade (HTTP status), no or another subprotocol, broken handshake.
        reject(new SessionError("protocol", "tcp-connect", `WebSocket handshake with ${url} failed: ${err.message}`, err.code));
      });
    });
    await withDeadline("tcp-connect", timeoutMs, opened, `the WebSocket handshake with ${where}`);
    if (ws.protocol !== SUBPROTOCOL) {
      throw new SessionError("protocol", "tcp-connect", `the server did not select the 'xmpp' WebSocket subprotocol (RFC 7395 §3.1): '${ws.protocol}'`);
    }
    ws.on("message", this.onMessage);
    ws.on("close", (code, reason) =>
      this.events.fail(new SessionError("network", "wait", `the server closed the WebSocket (${code}${reason.length ? ` ${reason.toString()}` : ""})`)),
    );
    ws.on("error", (err: Error & { code?: string }) =>
      this.events.fail(
        err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH"
          ? stanzaTooLarge(undefined, this.maxStanzaBytes)
          : new SessionError("network", "wait", `WebSocket error: ${err.message}`),
      ),
    );
  }

  open({ to, from, lang }: OpenAttributes): string {
    const text =
      `<open xmlns='${NS_FRAMING}' to='${escapeAttr(to)}'${from ? ` from='${escapeAttr(from)}'` : ""} version='1.0' xml:lang='${lang}'/>`;
    this.write(text);
    return text;
  }

  send(el: Element): void {
    this.write(withClientNamespace(el).toString());
  }

  /** <close/>, then the server's <close/> (or the WebSocket's end), then the WebSocket closing handshake (§3.6). */
  close(waitMs: number): { sent: string; done: Promise<void> } {
    const sent = `<close xmlns='${NS_FRAMING}'/>`;
    const ws = this.ws;
    const ended = new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      ws.once("close", () => resolve());
    });
    this.write(sent);
    const done = withDeadline("close", waitMs, ended)
      .catch(() => {})
      .finally(() => ws.terminate());
    return { sent, done };
  }

  destroy(): void {
    this.ws?.terminate();
  }

  describe(): TransportFacts {
    const cors = Object.fromEntries(Object.entries(this.upgradeHeaders).filter(([name]) => name.startsWith("access-control-")));
    return { url: this.url, subprotocol: this.protocol, cors };
  }

  private write(text: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.meter.add("bytesOut", Buffer.byteLength(text));
    this.ws.send(text);
  }

  private readonly onMessage = (data: WebSocket.RawData, isBinary: boolean) => {
    const text = Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data as ArrayBuffer).toString("utf8");
    this.meter.add("bytesIn", Buffer.byteLength(text));
    if (isBinary) {
      // RFC 7395 §3.2: data frame messages are of the text type.
      this.events.note(`binary WebSocket message from the server (${text.length} characters; not shown: unread text may hold secrets)`);
      this.events.fail(new SessionError("protocol", "wait", "the server sent a binary WebSocket message (RFC 7395 §3.2: text only)"));
      this.ws.terminate();
      return;
    }
    let el: Element;
    try {
      el = parseXmlDocument(text, this.options.maxXmlDepth ?? DEFAULT_MAX_XML_DEPTH);
    } catch (err) {
      if (!(err instanceof XmlError || err instanceof SessionError)) throw err;
      const failure = readerFailure(err);
      this.events.note(`${failure.message} (${text.length} characters; not shown: unread text may hold secrets)`);
      this.events.fail(failure);
      this.ws.terminate();
      return;
    }
    if (el.is("open", NS_FRAMING)) {
      this.events.header({ ...el.attrs }, el.toString());
    } else if (el.is("close", NS_FRAMING)) {
      // Our answer to the server's <close/> is the WebSocket closing handshake.
      this.events.end(el.toString());
      this.ws.close();
    } else {
      this.events.element(el, Buffer.byteLength(text));
    }
  };
}
