/**
 * One HTTP(S) request with the target's TLS settings (--ca, --insecure) set
 * on that request alone, never process-wide; for host-meta (XEP-0156) and
 * BOSH (XEP-0206). `connectHost` connects elsewhere than the URL's host
 * (--host) while the Host header, SNI and certificate check keep the URL's
 * name. New connections are metered as round trips (TCP connect, TLS
 * handshake) like the TCP transport does; the request itself is the caller's
 * to count.
 */
import http from "node:http";
import { invalidUtf8, stanzaTooLarge } from "./xml-reader.js";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { SessionError } from "./errors.js";
import { describeTls, type TlsInfo } from "./tls-facts.js";
import type { TrafficMeter } from "./traffic.js";
import { isCertificateError, secureContextFor, tlsError, webTlsNames, type TlsSettings } from "./transport.js";

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Connect here instead of the URL's host (the Host header and TLS name stay the URL's). */
  connectHost?: string;
  /** Host header to send instead of the URL's host (host-meta: the XMPP domain). */
  hostHeader?: string;
  /** The XMPP domain: the TLS name when the URL's host is an IP address, and a name the certificate may be valid for (XEP-0156 §2.2). */
  domain?: string;
  tls: TlsSettings;
  timeoutMs: number;
  /** A keep-alive agent (BOSH reuses its connection); default: a fresh connection. */
  agent?: http.Agent;
  meter?: TrafficMeter;
  /** Let the process exit while this request is pending (a BOSH poll nobody may be waiting for). */
  unref?: boolean;
  /** A larger body is refused (the request destroyed, nothing more buffered): a BOSH body carries stanzas. */
  maxBodyBytes?: number;
  /** The body must be UTF-8 (a BOSH body is XMPP's XML, RFC 6120 §11.6): otherwise the request fails naming the bytes. */
  strictUtf8?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Facts of the TLS connection, when this request opened a new one. */
  tlsInfo?: TlsInfo;
  /** The TLS socket the request went over (https only). */
  tlsSocket?: tls.TLSSocket;
}

export function httpRequest(url: string, opts: HttpRequestOptions): Promise<HttpResponse> {
  const target = new URL(url);
  const secure = target.protocol === "https:" || target.protocol === "wss:";
  const method = opts.method ?? "GET";
  const hostname = target.hostname.replace(/^\[|\]$/g, "");
  const port = Number(target.port) || (secure ? 443 : 80);
  const headers: Record<string, string> = { Host: opts.hostHeader ?? target.host, ...opts.headers };
  if (opts.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(opts.body));
  const names = webTlsNames(hostname, opts.domain ?? hostname);
  const servername = names.servername!;
  const options: https.RequestOptions = {
    method,
    host: opts.connectHost ?? hostname,
    port,
    path: target.pathname + target.search,
    headers,
    agent: opts.agent ?? false,
  };
  if (secure) {
    // The system roots plus the --ca file, for this request only.
    (options as tls.ConnectionOptions).secureContext = secureContextFor(opts.tls.ca);
    options.rejectUnauthorized = !opts.tls.insecure;
    if (!net.isIP(servername)) Object.assign(options, names);
  }
  const where = `${method} ${target.origin}${target.pathname}`;
  return new Promise((resolve, reject) => {
    let tlsInfo: TlsInfo | undefined;
    let tlsSocket: tls.TLSSocket | undefined;
    const timer = setTimeout(() => {
      req.destroy();
      reject(new SessionError("timeout", "wait", `no HTTP answer to ${where} within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    if (opts.unref) timer.unref();
    const req = (secure ? https : http).request(options, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        if (opts.maxBodyBytes !== undefined && bytes > opts.maxBodyBytes) {
          clearTimeout(timer);
          req.destroy();
          reject(stanzaTooLarge(undefined, opts.maxBodyBytes));
          return;
        }
        chunks.push(chunk);
      });
      res.on("end", () => {
        clearTimeout(timer);
        const raw = Buffer.concat(chunks);
        let body: string;
        try {
          body = new TextDecoder("utf-8", { fatal: opts.strictUtf8 ?? false, ignoreBOM: true }).decode(raw);
        } catch {
          reject(new SessionError("protocol", "wait", `${where} answered with bytes that are not UTF-8: ${invalidUtf8(raw)} (RFC 6120 §11.6)`, "unsupported-encoding"));
          return;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ...(tlsInfo ? { tlsInfo } : {}), ...(tlsSocket ? { tlsSocket } : {}) });
      });
      res.on("error", (err) => {
        clearTimeout(timer);
        reject(new SessionError("network", "wait", `${where}: ${err.message}`));
      });
    });
    req.on("socket", (socket) => {
      if (opts.unref) socket.unref();
      if (socket instanceof tls.TLSSocket) tlsSocket = socket;
      if (req.reusedSocket) return;
      socket.once("connect", () => opts.meter?.add("roundTrips"));
      if (socket instanceof tls.TLSSocket) {
        socket.once("secureConnect", () => {
          opts.meter?.add("roundTrips", socket.getProtocol() === "TLSv1.3" ? 1 : 2);
          tlsInfo = describeTls(socket);
        });
      }
    });
    req.on("error", (err: Error & { code?: string }) => {
      clearTimeout(timer);
      if (secure && (isCertificateError(err) || err.code?.startsWith("ERR_SSL") || err.code?.startsWith("ERR_TLS"))) {
        reject(tlsError(err, servername));
      } else if (err.code === "ECONNREFUSED" || err.code === "ENOTFOUND" || err.code === "EAI_AGAIN" || err.code === "EHOSTUNREACH" || err.code === "ENETUNREACH") {
        reject(new SessionError("network", "tcp-connect", `cannot connect to ${options.host}:${port} for ${where}: ${err.message}`, err.code));
      } else {
        reject(new SessionError("network", "wait", `${where}: ${err.message}`, err.code));
      }
    });
    req.end(opts.body);
  });
}

/** The CORS headers of a response (Access-Control-*), by lower-case name. */
export function corsHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith("access-control-") && value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}
