/**
 * What gathering records, as plain data: the shapes the report stores
 * (report/types.ts) and the gatherers fill (src/session, src/probe). Here,
 * apart from both, so that the report's contract depends on no code that
 * talks to a server.
 */

/** Counts what a run costs a server: stanzas, bytes and the round trips we waited for. */
export interface TrafficTotals {
  stanzasIn: number;
  stanzasOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Exchanges where the client sent something and waited for the answer (incl. TCP and TLS handshakes). */
  roundTrips: number;
  /** Sessions logged in. */
  logins: number;
}

/** Names a certificate is issued for (its subjectAltName, and the subject CN). */
export interface CertificateNames {
  /** dNSName entries (DNS-IDs, maybe wildcards). */
  dns: string[];
  /** SRVName otherNames (RFC 4985), e.g. "_xmpp-client.example.org". */
  srv: string[];
  /** id-on-xmppAddr otherNames (RFC 6120 §13.7.1.4). */
  xmppAddr: string[];
  /** iPAddress entries. */
  ip: string[];
  /** uniformResourceIdentifier entries. */
  uri: string[];
  /** The subject's commonName (used only when the SAN holds no DNS-ID, SRV-ID, XmppAddr or URI). */
  commonName?: string;
}

/** Whether, and by which name, the certificate is valid for the XMPP domain. */
export interface DomainMatch {
  /** The domain the certificate was checked for (the SNI name we sent). */
  domain: string;
  valid: boolean;
  /** Which kind of identifier matched. */
  by?: "dns" | "dns-wildcard" | "srv" | "xmppAddr" | "cn";
  /** The certificate's name that matched. */
  name?: string;
}

export interface PeerCertificateFacts {
  subject: string;
  issuer: string;
  /** node's printed subjectAltName (for reading; `names` holds the parsed values). */
  subjectAltName?: string;
  validFrom: string;
  validTo: string;
  /** Whole days from the handshake until validTo; negative once expired. */
  daysUntilExpiry?: number;
  names?: CertificateNames;
  /** SHA-256 fingerprint of the leaf certificate. */
  fingerprint256?: string;
  /** Subjects from the leaf upwards, as far as the chain was available. */
  chain?: string[];
}

export interface TlsInfo {
  protocol: string | null;
  cipher: string;
  /** Whether the certificate chain verified against the trusted roots (and, with rejectUnauthorized, the host name). */
  authorized: boolean;
  /** Why it did not (CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_CERT_ALTNAME_INVALID, …). */
  authorizationError?: string;
  alpn?: string | false | null;
  /** The SNI name we sent (the XMPP domain). */
  servername?: string;
  peerCertificate?: PeerCertificateFacts;
  /** The certificate checked against the SNI name: DNS-ID (incl. wildcard), SRV-ID, XmppAddr. */
  domainMatch?: DomainMatch;
}

export interface FeatureSnapshot {
  /** "initial", "after-starttls", "after-auth", … */
  stage: string;
  xml: string;
}

export interface Identity {
  category: string;
  type: string;
  name?: string;
}

/** A XEP-0004 form as XEP-0128 embeds it: FORM_TYPE plus fields. */
export interface DataForm {
  formType?: string;
  fields: Record<string, string[]>;
}

export interface DiscoInfo {
  jid: string;
  identities: Identity[];
  features: string[];
  forms: DataForm[];
  /** Set when the entity answered with an error (or not at all). */
  error?: string;
  /** "stanza": it answered with an error stanza; "no-answer": timeout or lost connection. */
  errorKind?: "stanza" | "no-answer";
}

export interface LoginCost {
  flavour: string;
  ok: boolean;
  /** Exchanges the client waited for: TCP connect, TLS handshake (1 for TLS 1.3, 2 before), stream opens, requests. */
  roundTrips: number;
  /** Bytes of XML received and sent (after TLS decryption). */
  bytesIn: number;
  bytesOut: number;
  ms: number;
  note?: string;
}

export interface ComponentInfo extends DiscoInfo {
  name?: string;
  node?: string;
}

export interface SoftwareVersion {
  name?: string;
  version?: string;
  os?: string;
  error?: string;
  /** "stanza": the server answered with an error; "no-answer": it did not answer (we cannot tell). */
  errorKind?: "stanza" | "no-answer";
}

export interface ProbeResult {
  domain: DiscoInfo;
  /** disco#info of the account's bare JID (PEP, MAM, push live here on many servers). */
  account: DiscoInfo;
  /** disco#items of the domain, each with its own disco#info. */
  components: ComponentInfo[];
  componentsError?: string;
  /** disco#items past the --max-disco-items limit, whose disco#info was not asked for. */
  componentsNotProbed?: number;
  software: SoftwareVersion;
  /** XEP-0157 addresses from the serverinfo form, by field name. */
  contactAddresses: Record<string, string[]>;
  /** XEP-0363 §8 max-file-size of the first upload service, in bytes. */
  uploadMaxFileSize?: number;
  /** Stream features per stream (re)start: initial, after-starttls, after-auth. */
  streamFeatures: FeatureSnapshot[];
  tls: TlsInfo | null;
  sasl: { offered: string[]; used: string };
  jid: string;
}
