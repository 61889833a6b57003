/**
 * XEP-0156 host-meta: where a domain says its WebSocket (RFC 7395) and BOSH
 * (XEP-0206) endpoints are, in /.well-known/host-meta (XRD, RFC 6415) and
 * /.well-known/host-meta.json (JRD). Facts only; checks judge them.
 *
 * Where we ask: host-meta belongs to the XMPP domain, so every request says
 * Host: <domain> (ejabberd answers host-meta only then) and verifies the
 * certificate for the domain. It is fetched from https://<domain>/ (port
 * 443), connecting to --host when one was given. With --url, the URL's host
 * and port are asked first (a test server or a web front end on another
 * port): https://<domain>:<url port>/ at <url host>.
 *
 * Discovered URLs are used as they are, except that with --host their host
 * is connected to at --host (the Host header and the certificate name stay
 * the URL's): --host means "the domain lives here", for the web too.
 */
import parse from "@xmpp/xml/lib/parse.js";
import { SessionError } from "../session/errors.js";
import { corsHeaders, httpRequest } from "../session/http.js";
import type { TrafficMeter } from "../session/traffic.js";
import type { TlsSettings, TransportKind } from "../session/transport.js";

export const REL_WEBSOCKET = "urn:xmpp:alt-connections:websocket";
export const REL_BOSH = "urn:xmpp:alt-connections:xbosh";
export const NS_XRD = "http://docs.oasis-open.org/ns/xri/xrd-1.0";
/** What a browser on another site would send; CORS headers answer it. */
export const ORIGIN = "https://xepcheck.invalid";

export interface HostMetaLink {
  rel: string;
  href: string;
}

export interface HostMetaDocument {
  format: "xrd" | "jrd";
  /** https://<domain>[:port]/.well-known/host-meta[.json] */
  url: string;
  /** host:port connected to, when not the URL's host. */
  connectedTo?: string;
  status?: number;
  contentType?: string;
  /** Access-Control-* response headers, by lower-case name. */
  cors: Record<string, string>;
  links: HostMetaLink[];
  /** Why there is no document: network, TLS, HTTP status, or unparsable content. */
  error?: string;
  errorKind?: "network" | "timeout" | "tls" | "http" | "format";
}

export interface HostMeta {
  xrd: HostMetaDocument;
  jrd: HostMetaDocument;
}

export interface HostMetaTarget {
  domain: string;
  /** HTTPS port (default 443). */
  port?: number;
  /** Connect here instead of the domain. */
  connectHost?: string;
  tls: TlsSettings;
  timeoutMs: number;
  meter?: TrafficMeter;
}

/** A WebSocket or BOSH endpoint and where it came from. */
export interface WebEndpoint {
  url: string;
  source: "--url" | "host-meta";
  /** Connect here instead of the URL's host (--host). */
  connectHost?: string;
}

/** Parses an XRD document (RFC 6415 §3) into its links; throws if it is not one. */
export function parseXrd(text: string): HostMetaLink[] {
  const root = parse(text.replace(/^\s*<\?xml[^>]*\?>/, "").trim());
  if (!root || !root.is("XRD", NS_XRD)) throw new Error(`not an XRD document (root <${root?.name ?? "?"}/>)`);
  return root
    .getChildren("Link")
    .filter((l) => l.attrs.rel && l.attrs.href)
    .map((l) => ({ rel: String(l.attrs.rel), href: String(l.attrs.href) }));
}

/** Parses a JRD document (RFC 6415 Appendix A) into its links; throws if it is not one. */
export function parseJrd(text: string): HostMetaLink[] {
  const doc: unknown = JSON.parse(text);
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new Error("not a JRD document (no JSON object)");
  const links = (doc as { links?: unknown }).links ?? [];
  if (!Array.isArray(links)) throw new Error("not a JRD document ('links' is not an array)");
  return links
    .filter((l): l is { rel: string; href: string } => typeof l?.rel === "string" && typeof l?.href === "string")
    .map((l) => ({ rel: l.rel, href: l.href }));
}

async function fetchDocument(format: "xrd" | "jrd", t: HostMetaTarget): Promise<HostMetaDocument> {
  const port = t.port ?? 443;
  const url = `https://${t.domain}${port === 443 ? "" : `:${port}`}/.well-known/host-meta${format === "jrd" ? ".json" : ""}`;
  const doc: HostMetaDocument = {
    format,
    url,
    ...(t.connectHost && t.connectHost !== t.domain ? { connectedTo: `${t.connectHost}:${port}` } : {}),
    cors: {},
    links: [],
  };
  try {
    const res = await httpRequest(url, {
      connectHost: t.connectHost,
      headers: { Origin: ORIGIN, Accept: format === "jrd" ? "application/json" : "application/xrd+xml" },
      tls: t.tls,
      timeoutMs: t.timeoutMs,
      meter: t.meter,
    });
    t.meter?.add("roundTrips");
    doc.status = res.status;
    const type = res.headers["content-type"];
    if (type) doc.contentType = type;
    doc.cors = corsHeaders(res.headers);
    if (res.status !== 200) {
      doc.error = `HTTP ${res.status}`;
      doc.errorKind = "http";
      return doc;
    }
    try {
      doc.links = format === "xrd" ? parseXrd(res.body) : parseJrd(res.body);
    } catch (err) {
      doc.error = `unreadable ${format.toUpperCase()}: ${(err as Error).message}`;
      doc.errorKind = "format";
    }
  } catch (err) {
    doc.error = (err as Error).message;
    doc.errorKind = err instanceof SessionError ? (err.kind === "tls" ? "tls" : err.kind === "timeout" ? "timeout" : "network") : "network";
  }
  return doc;
}

/** Fetches both documents (XRD and JRD) of a domain. */
export async function fetchHostMeta(t: HostMetaTarget): Promise<HostMeta> {
  const [xrd, jrd] = await Promise.all([fetchDocument("xrd", t), fetchDocument("jrd", t)]);
  return { xrd, jrd };
}

export function served(doc: HostMetaDocument): boolean {
  return doc.status === 200 && !doc.error;
}

/**
 * Does the domain's origin offer host-meta? true when a document was served;
 * false when neither was (an HTTP error status, a refused connection);
 * null when TLS stood in the way or nothing answered: we could not tell.
 */
export function hostMetaOffered(meta: HostMeta): boolean | null {
  const docs = [meta.xrd, meta.jrd];
  if (docs.some(served)) return true;
  return docs.some((d) => d.errorKind === "tls") || docs.every((d) => d.errorKind === "timeout") ? null : false;
}

/** The links of the documents that were served, XRD first, without duplicates. */
export function allLinks(meta: HostMeta): HostMetaLink[] {
  const seen = new Set<string>();
  return [meta.xrd, meta.jrd]
    .filter(served)
    .flatMap((d) => d.links)
    .filter((l) => {
      const key = `${l.rel} ${l.href}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** The URLs of one connection method (XEP-0156 §2.1 link relations). */
export function linksOf(meta: HostMeta, transport: "websocket" | "bosh"): string[] {
  const rel = transport === "websocket" ? REL_WEBSOCKET : REL_BOSH;
  return allLinks(meta)
    .filter((l) => l.rel === rel)
    .map((l) => l.href);
}

/** What a run knows of where to connect (the fields of the scenario Target that matter here). */
export interface WebTarget {
  domain: string;
  host: string;
  /** --host was given. */
  configuredHost: boolean;
  tls: TlsSettings;
  timeoutMs: number;
  url?: string;
  meter?: TrafficMeter;
}

/** Where to ask for host-meta, in order: the --url's host and port first, then the domain's port 443. */
export function hostMetaCandidates(t: WebTarget): HostMetaTarget[] {
  const base = { domain: t.domain, tls: t.tls, timeoutMs: t.timeoutMs, ...(t.meter ? { meter: t.meter } : {}) };
  const atDomain: HostMetaTarget = { ...base, port: 443, ...(t.configuredHost ? { connectHost: t.host } : {}) };
  if (!t.url) return [atDomain];
  const url = new URL(t.url);
  const secure = url.protocol === "https:" || url.protocol === "wss:";
  const port = Number(url.port) || (secure ? 443 : 80);
  const atUrl: HostMetaTarget = { ...base, port, connectHost: url.hostname.replace(/^\[|\]$/g, "") };
  return port === 443 && atUrl.connectHost === (atDomain.connectHost ?? t.domain) ? [atDomain] : [atUrl, atDomain];
}

export interface WebDiscovery {
  /** The host-meta documents that decided (the first candidate that served one, else the last asked). */
  hostMeta: HostMeta;
  /** Every place asked, with what it answered (status or error). */
  asked: { url: string; connectedTo?: string; result: string }[];
  websocket?: WebEndpoint;
  bosh?: WebEndpoint;
}

function endpointFrom(href: string | undefined, t: WebTarget): WebEndpoint | undefined {
  if (!href) return undefined;
  return { url: href, source: "host-meta", ...(t.configuredHost ? { connectHost: t.host } : {}) };
}

/** Host-meta, asked where hostMetaCandidates says, and the endpoints: --url for its own kind, host-meta for the rest. */
export async function discoverWeb(t: WebTarget): Promise<WebDiscovery> {
  const asked: WebDiscovery["asked"] = [];
  let hostMeta: HostMeta | undefined;
  for (const candidate of hostMetaCandidates(t)) {
    hostMeta = await fetchHostMeta(candidate);
    for (const doc of [hostMeta.xrd, hostMeta.jrd]) {
      asked.push({ url: doc.url, ...(doc.connectedTo ? { connectedTo: doc.connectedTo } : {}), result: doc.error ?? `HTTP ${doc.status}` });
    }
    if (served(hostMeta.xrd) || served(hostMeta.jrd)) break;
  }
  const given = t.url ? urlKind(t.url) : undefined;
  const secureFirst = (urls: string[]) => [...urls].sort((a, b) => Number(isSecureUrl(b)) - Number(isSecureUrl(a)));
  return {
    hostMeta: hostMeta!,
    asked,
    websocket: given === "websocket" ? { url: t.url!, source: "--url" } : endpointFrom(secureFirst(linksOf(hostMeta!, "websocket"))[0], t),
    bosh: given === "bosh" ? { url: t.url!, source: "--url" } : endpointFrom(secureFirst(linksOf(hostMeta!, "bosh"))[0], t),
  };
}

const runs = new WeakMap<object, Promise<WebDiscovery>>();

/** discoverWeb once per run (the scenarios of RFC 7395, XEP-0206 and XEP-0156 share it). */
export function webDiscovery(t: WebTarget): Promise<WebDiscovery> {
  let found = runs.get(t);
  if (!found) {
    found = discoverWeb(t);
    runs.set(t, found);
  }
  return found;
}

export function urlKind(url: string): "websocket" | "bosh" {
  return /^wss?:/i.test(url) ? "websocket" : "bosh";
}

export function isSecureUrl(url: string): boolean {
  return /^(wss|https):/i.test(url);
}

const mainSessions = new Map<string, Promise<WebDiscovery>>();

/**
 * The endpoint of the main session's transport when no --url was given:
 * from host-meta of the domain (once per domain and place asked).
 */
export async function resolveWebUrl(
  transport: Exclude<TransportKind, "tcp">,
  o: { domain: string; host: string; configuredHost?: boolean; tls: TlsSettings; timeoutMs: number; meter?: TrafficMeter },
): Promise<{ url: string; connectHost?: string }> {
  const t: WebTarget = { domain: o.domain, host: o.host, configuredHost: Boolean(o.configuredHost), tls: o.tls, timeoutMs: o.timeoutMs };
  const key = JSON.stringify([t.domain, t.configuredHost ? t.host : "", t.tls.insecure ?? false, t.tls.ca ?? ""]);
  let found = mainSessions.get(key);
  if (!found) {
    found = discoverWeb({ ...t, ...(o.meter ? { meter: o.meter } : {}) });
    mainSessions.set(key, found);
  }
  const discovery = await found;
  const endpoint = discovery[transport];
  if (!endpoint) {
    const why = discovery.asked.map((a) => `${a.url}${a.connectedTo ? ` at ${a.connectedTo}` : ""}: ${a.result}`).join("; ");
    throw new SessionError(
      "network",
      "tcp-connect",
      `no ${transport === "websocket" ? "WebSocket" : "BOSH"} endpoint of ${o.domain} is known: host-meta (XEP-0156) lists none (${why}). Give --url.`,
    );
  }
  return { url: endpoint.url, ...(endpoint.connectHost ? { connectHost: endpoint.connectHost } : {}) };
}
