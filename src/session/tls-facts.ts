/**
 * Facts about a TLS connection (RFC 7590): protocol, cipher, whether the
 * certificate verified, and the certificate itself. Facts, not verdicts.
 */
import type tls from "node:tls";

export interface TlsInfo {
  protocol: string | null;
  cipher: string;
  authorized: boolean;
  authorizationError?: string;
  alpn?: string | false | null;
  peerCertificate?: { subject: string; subjectAltName?: string; validFrom: string; validTo: string; issuer: string };
}

function formatName(name: object | undefined): string {
  if (!name) return "";
  return Object.entries(name)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : String(v)}`)
    .join(", ");
}

export function describeTls(secure: tls.TLSSocket): TlsInfo {
  const cert = secure.getPeerCertificate();
  return {
    protocol: secure.getProtocol(),
    cipher: secure.getCipher().name,
    authorized: secure.authorized,
    authorizationError: secure.authorizationError ? String(secure.authorizationError) : undefined,
    alpn: secure.alpnProtocol,
    peerCertificate:
      cert && cert.subject
        ? {
            subject: formatName(cert.subject),
            issuer: formatName(cert.issuer),
            subjectAltName: cert.subjectaltname,
            validFrom: cert.valid_from,
            validTo: cert.valid_to,
          }
        : undefined,
  };
}
