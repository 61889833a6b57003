/**
 * What XmppStream needs of a transport: TCP (RFC 6120), WebSocket (RFC 7395)
 * or BOSH (XEP-0206). A transport moves XML between us and the server and
 * reports what arrives; the stream above it owns the waits, the transcript
 * and the stanza counts, so SASL, binding and every check run unchanged on
 * any of the three.
 *
 * Each transport meters what it carries: bytes of XML text sent and received
 * (for BOSH including the <body/> wrappers; HTTP headers and WebSocket frame
 * headers are not counted) and the round trips of connection setup (TCP
 * connect, TLS handshake, WebSocket upgrade).
 */
import net from "node:net";
import tls from "node:tls";
import { Element } from "@xmpp/xml";
import { SessionError } from "./errors.js";
import type { TlsInfo } from "./tls-facts.js";

export type TransportKind = "tcp" | "websocket" | "bosh";

export const NS_CLIENT = "jabber:client";
export const NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing";

export { DEFAULT_MAX_STANZA_BYTES } from "../limits.js";

export interface TlsSettings {
  /** PEM of extra certificate authorities to trust (from --ca). */
  ca?: string;
  /** Skip certificate verification (from --insecure); still recorded in every report. */
  insecure?: boolean;
}

/** How the transport tells the stream what happened. */
export interface LinkEvents {
  /** The server opened (or, after a restart, re-opened) the stream: its header attributes and their text. */
  header(attrs: Record<string, string>, text: string): void;
  /** One complete top-level element from the server, and its size in bytes when the transport knows it. */
  element(el: Element, bytes?: number): void;
  /** The server closed the stream politely (`text` as received, for the transcript). */
  end(text: string): void;
  /** The connection broke or the server spoke something we cannot read. */
  fail(err: SessionError): void;
  /** A remark for the transcript. */
  note(text: string): void;
  /** Text the transport sent on its own (the stream error closing a stream it cannot read), for the transcript. */
  sent(text: string): void;
  /** Is anyone waiting for input? (BOSH asks the server for more only then.) */
  waiting(): boolean;
}

/** What the stream header we send says. */
export interface OpenAttributes {
  to: string;
  /** Our bare JID, on TLS-protected streams only (RFC 6120 §4.7.1). */
  from?: string;
  lang: string;
}

/** What a report shows of a web transport's connection. */
export interface TransportFacts {
  url?: string;
  /** WebSocket subprotocol the server selected. */
  subprotocol?: string;
  /** BOSH session creation attributes (sid, wait, hold, requests, xmpp:restartlogic, …). */
  attributes?: Record<string, string>;
  /** Access-Control-* headers (BOSH session creation response, WebSocket upgrade response). */
  cors?: Record<string, string>;
  /** HTTP requests made (BOSH). */
  httpRequests?: number;
}

export interface Link {
  readonly kind: TransportKind;
  /** true when the transport meters its own round trips (BOSH: one per HTTP request). */
  readonly countsRoundTrips: boolean;
  readonly isSecure: boolean;
  /** The TLS socket, for channel binding; undefined where there is no single one (BOSH). */
  readonly tlsSocket: tls.TLSSocket | undefined;
  readonly tlsInfo: TlsInfo | null;
  /** Connects (and, where the transport is TLS from the start, handshakes). */
  connect(): Promise<void>;
  /** Sends our stream header (stream start or restart); returns its text for the transcript. */
  open(attrs: OpenAttributes): string;
  send(el: Element): void;
  /** The stream added a waiter: a transport that must ask for input (BOSH) may do so now. */
  awaiting?(): void;
  /** The stream is bound: stanzas may come at any time from now on. */
  bound?(): void;
  /**
   * Closes the stream politely: `sent` is what went out (for the transcript),
   * `done` resolves when the server has closed too or `waitMs` is over.
   */
  close(waitMs: number): { sent: string; done: Promise<void> };
  /** Drops the connection at once. */
  destroy(): void;
  /** Facts for the report (web transports). */
  describe?(): TransportFacts;
}

/** A copy of a top-level stanza with xmlns='jabber:client', as framed transports need (RFC 7395 §3.3.3, XEP-0206 §3). */
export function withClientNamespace(el: Element): Element {
  if (el.attrs.xmlns || !["message", "presence", "iq"].includes(el.name)) return el;
  // A shallow copy: serialized at once, the children need not be re-parented.
  const copy = new (el.constructor as typeof Element)(el.name, { ...el.attrs, xmlns: NS_CLIENT });
  copy.children = el.children;
  return copy;
}

const contexts = new Map<string, tls.SecureContext>();

/**
 * The system roots plus the --ca file, parsed once: parsing ~140 roots on
 * every connection costs more than the rest of a loopback login.
 */
export function secureContextFor(ca: string | undefined): tls.SecureContext | undefined {
  if (!ca) return undefined;
  let context = contexts.get(ca);
  if (!context) {
    context = tls.createSecureContext({ ca: [...tls.rootCertificates, ca] });
    contexts.set(ca, context);
  }
  return context;
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

export function isCertificateError(err: Error & { code?: string }): boolean {
  return Boolean(err.code && CERT_ERRORS.has(err.code));
}

export function tlsError(err: Error & { code?: string }, domain: string): SessionError {
  if (isCertificateError(err)) {
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

/**
 * The TLS name for a web transport's URL host, and the certificate check:
 * XEP-0156 §2.2 accepts a certificate valid for the URL's host *or* the XMPP
 * domain. An IP address in the URL (--url https://127.0.0.1:…) names no one:
 * the name sent and checked is then the XMPP domain, as on TCP with --host.
 */
export function webTlsNames(urlHost: string, domain: string): Pick<tls.ConnectionOptions, "servername" | "checkServerIdentity"> {
  const servername = net.isIP(urlHost) ? domain : urlHost;
  return {
    servername,
    checkServerIdentity: (_host, cert) => {
      const error = tls.checkServerIdentity(servername, cert);
      return error && servername !== domain && !tls.checkServerIdentity(domain, cert) ? undefined : error;
    },
  };
}

/** The text of an element's start tag, as a transcript shows a stream header. */
export function startTagText(el: Element): string {
  const attrs = Object.entries(el.attrs)
    .map(([k, v]) => `${k}='${v}'`)
    .join(" ");
  return `<${el.name}${attrs ? ` ${attrs}` : ""}>`;
}

/** XML attribute value escaping for the few headers we write by hand. */
export function escapeAttr(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/'/g, "&apos;").replace(/</g, "&lt;").replace(/"/g, "&quot;");
}
