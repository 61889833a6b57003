/**
 * Facts about a TLS connection (RFC 7590): protocol, cipher, whether the
 * certificate chain verified, whether the certificate names the XMPP domain
 * (RFC 6125 DNS-ID, SRV-ID, RFC 6120 XmppAddr), and how long it stays valid.
 * Facts, not verdicts: src/checks/rfc-7590-tls.ts judges them.
 *
 * The certificate's subjectAltName is read from its DER (a small walker
 * below), not from node's printed string, so that otherName values
 * (id-on-xmppAddr, SRVName) and names with commas or quotes come out exact.
 */
import type { X509Certificate } from "node:crypto";
import type tls from "node:tls";
import { domainToASCII } from "node:url";
import type { CertificateNames, DomainMatch, PeerCertificateFacts, TlsInfo } from "../facts.js";

export type { CertificateNames, DomainMatch, PeerCertificateFacts, TlsInfo };

export const OID_SUBJECT_ALT_NAME = "2.5.29.17";
export const OID_XMPP_ADDR = "1.3.6.1.5.5.7.8.5";
export const OID_SRV_NAME = "1.3.6.1.5.5.7.8.7";

const DAY_MS = 86_400_000;

function formatName(name: object | undefined): string {
  if (!name) return "";
  return Object.entries(name)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : String(v)}`)
    .join(", ");
}

/**
 * The facts of an established TLS connection. The certificate is checked
 * against the SNI name we sent; `alsoValidFor` (a web transport's XMPP
 * domain, when the SNI name was the URL's host: XEP-0156 §2.2 accepts either)
 * is tried when that name does not match.
 */
export function describeTls(secure: tls.TLSSocket, alsoValidFor?: string): TlsInfo {
  const cert = secure.getPeerCertificate(true);
  const x509 = secure.getPeerX509Certificate?.();
  const servername = typeof secure.servername === "string" && secure.servername ? secure.servername : undefined;
  let peerCertificate: PeerCertificateFacts | undefined;
  let domainMatch: DomainMatch | undefined;
  if (cert && cert.subject) {
    const names = x509 ? certificateNames(x509.raw) : undefined;
    if (names && !names.commonName) {
      const cn = (cert.subject as unknown as Record<string, string | string[] | undefined>).CN;
      if (cn) names.commonName = Array.isArray(cn) ? cn[0] : cn;
    }
    peerCertificate = {
      subject: formatName(cert.subject),
      issuer: formatName(cert.issuer),
      subjectAltName: cert.subjectaltname,
      validFrom: cert.valid_from,
      validTo: cert.valid_to,
      ...(Number.isFinite(Date.parse(cert.valid_to)) ? { daysUntilExpiry: daysUntil(cert.valid_to) } : {}),
      ...(names ? { names } : {}),
      ...(cert.fingerprint256 ? { fingerprint256: cert.fingerprint256 } : {}),
      chain: chainSubjects(cert),
    };
    if (servername && names) {
      domainMatch = matchDomain(names, servername);
      if (!domainMatch.valid && alsoValidFor && normalize(alsoValidFor) !== normalize(servername)) {
        const other = matchDomain(names, alsoValidFor);
        if (other.valid) domainMatch = other;
      }
    }
  }
  return {
    protocol: secure.getProtocol(),
    cipher: secure.getCipher().name,
    authorized: secure.authorized,
    authorizationError: secure.authorizationError ? String(secure.authorizationError) : undefined,
    alpn: secure.alpnProtocol,
    ...(servername ? { servername } : {}),
    peerCertificate,
    ...(domainMatch ? { domainMatch } : {}),
  };
}

/** Whole days from `now` until `validTo` (node's "Mon DD HH:MM:SS YYYY GMT"); negative once passed. */
export function daysUntil(validTo: string, now = Date.now()): number {
  return Math.floor((Date.parse(validTo) - now) / DAY_MS);
}

function chainSubjects(cert: tls.DetailedPeerCertificate): string[] {
  const subjects: string[] = [];
  const seen = new Set<string>();
  let c: tls.DetailedPeerCertificate | undefined = cert;
  while (c && c.subject && subjects.length < 10) {
    const key = c.fingerprint256 ?? formatName(c.subject);
    if (seen.has(key)) break; // a self-signed root points at itself
    seen.add(key);
    subjects.push(formatName(c.subject));
    c = c.issuerCertificate;
  }
  return subjects;
}

// ---------------------------------------------------------------------------
// matching (RFC 6125 §6, RFC 6120 §13.7.2)

function normalize(name: string): string {
  const trimmed = name.trim().replace(/\.$/, "").toLowerCase();
  return domainToASCII(trimmed) || trimmed;
}

/** RFC 6125 §6.4.3: "*" only as the whole left-most label, matching exactly one label. */
export function wildcardMatches(pattern: string, domain: string): boolean {
  const p = normalize(pattern);
  const d = normalize(domain);
  if (!p.startsWith("*.")) return false;
  const rest = p.slice(2);
  if (!rest.includes(".")) return false; // "*.com" is never allowed
  const dot = d.indexOf(".");
  return dot > 0 && d.slice(dot + 1) === rest;
}

/**
 * Is the certificate valid for the XMPP `domain`? DNS-ID (exact, then
 * wildcard), SRV-ID _xmpp-client./_xmpps-client.<domain>, XmppAddr equal to
 * the domain; the subject CN only when none of those identifier kinds is present.
 */
export function matchDomain(names: CertificateNames, domain: string): DomainMatch {
  const d = normalize(domain);
  const exact = names.dns.find((n) => normalize(n) === d);
  if (exact) return { domain, valid: true, by: "dns", name: exact };
  const wildcard = names.dns.find((n) => wildcardMatches(n, d));
  if (wildcard) return { domain, valid: true, by: "dns-wildcard", name: wildcard };
  const srv = names.srv.find((n) => [`_xmpp-client.${d}`, `_xmpps-client.${d}`].includes(normalize(n)));
  if (srv) return { domain, valid: true, by: "srv", name: srv };
  const addr = names.xmppAddr.find((n) => normalize(n) === d);
  if (addr) return { domain, valid: true, by: "xmppAddr", name: addr };
  const hasIdentifiers = names.dns.length + names.srv.length + names.xmppAddr.length + names.uri.length > 0;
  if (!hasIdentifiers && names.commonName && normalize(names.commonName) === d) {
    return { domain, valid: true, by: "cn", name: names.commonName };
  }
  return { domain, valid: false };
}

/** "prosody.test, *.prosody.test, SRVName _xmpp-client.x, XmppAddr x" — what a certificate names, for messages. */
export function describeNames(names: CertificateNames): string {
  const parts = [
    ...names.dns,
    ...names.srv.map((n) => `SRVName ${n}`),
    ...names.xmppAddr.map((n) => `XmppAddr ${n}`),
    ...names.ip.map((n) => `IP ${n}`),
  ];
  if (parts.length === 0 && names.commonName) parts.push(`CN ${names.commonName}`);
  return parts.join(", ") || "no names";
}

// ---------------------------------------------------------------------------
// a minimal DER walker: just enough X.509 to read the subjectAltName

interface Tlv {
  tag: number;
  /** Content start and end (exclusive). */
  start: number;
  end: number;
}

class DerError extends Error {}

function readTlv(buf: Uint8Array, pos: number, limit = buf.length): Tlv {
  if (pos + 2 > limit) throw new DerError("truncated DER");
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError("high tag numbers are not used in X.509");
  let len = buf[pos + 1]!;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError("unsupported DER length");
    if (start + n > limit) throw new DerError("truncated DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new DerError("DER element runs past its parent");
  return { tag, start, end };
}

function childrenOf(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let pos = parent.start;
  while (pos < parent.end) {
    const child = readTlv(buf, pos, parent.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

function oidString(buf: Uint8Array, t: Tlv): string {
  const bytes = buf.subarray(t.start, t.end);
  if (bytes.length === 0) return "";
  const parts: number[] = [];
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    value = value * 128 + (bytes[i]! & 0x7f);
    if (!(bytes[i]! & 0x80)) {
      if (parts.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        parts.push(first, value - first * 40);
      } else parts.push(value);
      value = 0;
    }
  }
  return parts.join(".");
}

function text(buf: Uint8Array, t: Tlv): string {
  return Buffer.from(buf.subarray(t.start, t.end)).toString("utf8");
}

function ipString(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
    return groups.join(":");
  }
  return Buffer.from(bytes).toString("hex");
}

const TAG = { SEQUENCE: 0x30, OID: 0x06, BOOLEAN: 0x01, OCTET_STRING: 0x04, EXTENSIONS: 0xa3 } as const;

/** The names in a DER certificate's subjectAltName extension (empty lists when it has none). */
export function subjectAltNames(der: Uint8Array): CertificateNames {
  const names: CertificateNames = { dns: [], srv: [], xmppAddr: [], ip: [], uri: [] };
  const cert = readTlv(der, 0);
  if (cert.tag !== TAG.SEQUENCE) throw new DerError("a certificate is a SEQUENCE");
  const tbs = childrenOf(der, cert)[0];
  if (!tbs || tbs.tag !== TAG.SEQUENCE) throw new DerError("no tbsCertificate");
  const extensions = childrenOf(der, tbs).find((t) => t.tag === TAG.EXTENSIONS);
  if (!extensions) return names;
  const list = childrenOf(der, extensions)[0];
  if (!list) return names;
  for (const ext of childrenOf(der, list)) {
    const [id, ...rest] = childrenOf(der, ext);
    if (!id || id.tag !== TAG.OID || oidString(der, id) !== OID_SUBJECT_ALT_NAME) continue;
    const value = rest.find((t) => t.tag === TAG.OCTET_STRING);
    if (!value) continue;
    const generalNames = readTlv(der, value.start, value.end);
    for (const gn of childrenOf(der, generalNames)) readGeneralName(der, gn, names);
  }
  return names;
}

function readGeneralName(der: Uint8Array, gn: Tlv, names: CertificateNames): void {
  switch (gn.tag) {
    case 0xa0: {
      // otherName: SEQUENCE-like [0] { type-id OID, [0] EXPLICIT value }
      const [typeId, wrapped] = childrenOf(der, gn);
      if (!typeId || typeId.tag !== TAG.OID || !wrapped || wrapped.tag !== 0xa0) return;
      const inner = childrenOf(der, wrapped)[0];
      if (!inner) return;
      const oid = oidString(der, typeId);
      // XmppAddr is a UTF8String, SRVName an IA5String.
      if (oid === OID_XMPP_ADDR && inner.tag === 0x0c) names.xmppAddr.push(text(der, inner));
      if (oid === OID_SRV_NAME && inner.tag === 0x16) names.srv.push(text(der, inner));
      return;
    }
    case 0x82:
      names.dns.push(text(der, gn));
      return;
    case 0x86:
      names.uri.push(text(der, gn));
      return;
    case 0x87:
      names.ip.push(ipString(der.subarray(gn.start, gn.end)));
      return;
    default:
  }
}

/** The names of a certificate, or undefined when its DER cannot be read. */
export function certificateNames(der: Uint8Array | X509Certificate["raw"]): CertificateNames | undefined {
  try {
    return subjectAltNames(der);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// for reports and for the TLS layer

/** The facts as rows of a two-column table ("fact", "value") for evidence. */
export function tlsFactRows(info: TlsInfo): string[][] {
  const cert = info.peerCertificate;
  const rows: string[][] = [
    ["protocol", info.protocol ?? "unknown"],
    ["cipher", info.cipher],
    ["SNI sent", info.servername ?? "none"],
    ["ALPN negotiated", info.alpn ? String(info.alpn) : "none"],
    ["certificate chain", info.authorized ? "verified against the trusted roots" : `not verified: ${info.authorizationError ?? "unknown reason"}`],
  ];
  if (info.domainMatch) {
    const m = info.domainMatch;
    rows.push([
      `valid for ${m.domain}`,
      m.valid ? `yes, by ${matchKind(m.by)} ${m.name}` : `no: the certificate names ${cert?.names ? describeNames(cert.names) : "nothing readable"}`,
    ]);
  }
  if (cert) {
    rows.push(["subject", cert.subject], ["issuer", cert.issuer]);
    if (cert.names) rows.push(["names", describeNames(cert.names)]);
    rows.push(["valid from", cert.validFrom], ["valid to", cert.validTo]);
    if (cert.daysUntilExpiry !== undefined) rows.push(["days until expiry", String(cert.daysUntilExpiry)]);
    if (cert.chain?.length) rows.push(["chain", cert.chain.join(" <- ")]);
  }
  return rows;
}

export function matchKind(by: DomainMatch["by"]): string {
  switch (by) {
    case "dns":
      return "DNS-ID";
    case "dns-wildcard":
      return "wildcard DNS-ID";
    case "srv":
      return "SRV-ID";
    case "xmppAddr":
      return "XmppAddr";
    case "cn":
      return "subject CN";
    default:
      return "?";
  }
}

/**
 * A checkServerIdentity for tls.connect that accepts what XMPP accepts
 * (RFC 6120 §13.7.2): DNS-ID (incl. wildcard), SRV-ID and XmppAddr. node's
 * own check knows DNS-IDs only and would refuse a certificate that names the
 * domain by SRV-ID or XmppAddr alone.
 */
export function checkXmppServerIdentity(domain: string, cert: tls.PeerCertificate): Error | undefined {
  const names = cert.raw ? certificateNames(cert.raw) : undefined;
  if (names && !names.commonName) {
    const cn = (cert.subject as unknown as Record<string, string | string[] | undefined> | undefined)?.CN;
    if (cn) names.commonName = Array.isArray(cn) ? cn[0] : cn;
  }
  if (names && matchDomain(names, domain).valid) return undefined;
  const err = new Error(
    `the certificate is not valid for ${domain}: it names ${names ? describeNames(names) : "nothing readable"}`,
  ) as Error & { code: string; reason: string; host: string };
  err.code = "ERR_TLS_CERT_ALTNAME_INVALID";
  err.reason = err.message;
  err.host = domain;
  return err;
}

/** Why the chain did not verify, in words, from node's/OpenSSL's code. */
export function chainProblem(code: string | undefined): string {
  switch (code) {
    case "CERT_HAS_EXPIRED":
      return "the certificate has expired";
    case "CERT_NOT_YET_VALID":
      return "the certificate is not valid yet";
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
      return "the certificate is self-signed";
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT":
      return "the certificate does not chain to a trusted root";
    case "CERT_REVOKED":
      return "the certificate is revoked";
    case undefined:
      return "the certificate chain did not verify";
    default:
      return `the certificate chain did not verify`;
  }
}

/** The problems of a TLS connection's certificate: chain, validity period, name. Empty when it is valid. */
export function certificateProblems(info: TlsInfo, domain: string): string[] {
  const problems: string[] = [];
  const cert = info.peerCertificate;
  if (!cert) return ["the server sent no certificate"];
  // node's own name check knows DNS-IDs only: when it is the only complaint,
  // the chain verified and our match (SRV-ID and XmppAddr too) decides the name.
  const nameOnly = info.authorizationError === "ERR_TLS_CERT_ALTNAME_INVALID";
  if (!info.authorized && !nameOnly) problems.push(`${chainProblem(info.authorizationError)} (${info.authorizationError ?? "not authorized"})`);
  if (cert.daysUntilExpiry !== undefined && cert.daysUntilExpiry < 0 && info.authorizationError !== "CERT_HAS_EXPIRED") {
    problems.push(`the certificate has expired (${cert.validTo})`);
  }
  // Checked against the name we sent (SNI): the XMPP domain, or a web transport's URL host (XEP-0156 §2.2).
  const match = info.domainMatch;
  if (match && !match.valid) {
    problems.push(`the certificate is not valid for ${match.domain}: it names ${cert.names ? describeNames(cert.names) : "nothing readable"}`);
  } else if (!match) {
    problems.push(nameOnly ? `the certificate is not valid for ${domain} (${info.authorizationError})` : `the certificate's names could not be read to check them against ${domain}`);
  }
  return problems;
}
