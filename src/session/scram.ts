/**
 * SCRAM client (RFC 5802, RFC 7677) on node:crypto, with the -PLUS variants'
 * channel binding (RFC 5802 §6–7): tls-exporter (RFC 9266),
 * tls-server-end-point (RFC 5929 §4), tls-unique (RFC 5929 §3, TLS 1.2).
 * https://www.rfc-editor.org/rfc/rfc5802
 *
 * Unlike xmpp.js's SCRAM-SHA-1 it derives keys with one native pbkdf2 call
 * (instead of thousands of awaited WebCrypto HMACs), offers SHA-256/512, and
 * verifies the server signature, so a server that does not know the password
 * cannot pretend to. With channel binding the signature also covers the
 * binding data: a server (or a man in the middle) on another TLS channel
 * cannot produce it.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { promisify } from "node:util";
import { excerpt } from "./errors.js";

const pbkdf2Async = promisify(pbkdf2);

export type ScramHash = "sha1" | "sha256" | "sha512";

export const SCRAM_MECHANISMS: Record<string, ScramHash> = {
  "SCRAM-SHA-512": "sha512",
  "SCRAM-SHA-256": "sha256",
  "SCRAM-SHA-1": "sha1",
};

const HASH_BYTES: Record<ScramHash, number> = { sha1: 20, sha256: 32, sha512: 64 };

/** "SCRAM-SHA-256-PLUS" → { hash: "sha256", plus: true }; undefined for other mechanisms. */
export function scramVariant(mechanism: string): { hash: ScramHash; plus: boolean } | undefined {
  const plus = mechanism.endsWith("-PLUS");
  const hash = SCRAM_MECHANISMS[plus ? mechanism.slice(0, -"-PLUS".length) : mechanism];
  return hash ? { hash, plus } : undefined;
}

/**
 * Channel-binding types (RFC 5056 registry) xepcheck can compute:
 * tls-exporter (RFC 9266), tls-server-end-point (RFC 5929 §4), tls-unique
 * (RFC 5929 §3; TLS 1.2 and earlier only).
 */
export const CHANNEL_BINDING_TYPES = ["tls-exporter", "tls-server-end-point", "tls-unique"] as const;
export type ChannelBindingType = (typeof CHANNEL_BINDING_TYPES)[number];

export interface ChannelBinding {
  type: ChannelBindingType;
  data: Buffer;
}

export class ChannelBindingError extends Error {
  override name = "ChannelBindingError";
}

/**
 * The channel-binding data of `type` for this TLS connection.
 * - tls-exporter (RFC 9266 §2): 32 bytes of exported keying material with the
 *   label "EXPORTER-Channel-Binding" and an empty context.
 * - tls-server-end-point (RFC 5929 §4.1): the hash of the server's certificate
 *   (DER), with the hash of its signature algorithm (SHA-256 for MD5/SHA-1).
 * - tls-unique (RFC 5929 §3.1): the first Finished message of the handshake,
 *   the client's on a full handshake; undefined for TLS 1.3 (RFC 8446 §C.5).
 */
export function channelBindingData(socket: TLSSocket, type: ChannelBindingType): Buffer {
  switch (type) {
    case "tls-exporter":
      return socket.exportKeyingMaterial(32, "EXPORTER-Channel-Binding", Buffer.alloc(0));
    case "tls-server-end-point": {
      const der = peerCertificateDer(socket);
      if (!der) throw new ChannelBindingError("tls-server-end-point: the server's certificate is not available");
      return serverEndPoint(der);
    }
    case "tls-unique": {
      if (socket.getProtocol() === "TLSv1.3") throw new ChannelBindingError("tls-unique is not defined for TLS 1.3 (RFC 8446 §C.5)");
      if (socket.isSessionReused()) throw new ChannelBindingError("tls-unique on a resumed TLS session is not supported by xepcheck");
      const finished = socket.getFinished();
      if (!finished) throw new ChannelBindingError("tls-unique: no Finished message available");
      return finished;
    }
  }
}

export function channelBinding(socket: TLSSocket, type: ChannelBindingType): ChannelBinding {
  return { type, data: channelBindingData(socket, type) };
}

/**
 * The DER of the server's (leaf) certificate. Node forgets the peer
 * certificate once a TLS 1.3 NewSessionTicket arrives (getPeerCertificate()
 * returns {} from then on, which is before any stream can use it); the TLS
 * session still holds it, as 'peer' [3] of OpenSSL's SSL_SESSION ASN.1.
 */
export function peerCertificateDer(socket: TLSSocket): Buffer | undefined {
  const direct = socket.getPeerX509Certificate?.()?.raw;
  if (direct) return direct;
  const session = socket.getSession();
  if (!session) return undefined;
  try {
    const peer = derChildren(session, 0).find((c) => session[c.start] === 0xa3);
    const cert = peer ? derChildren(session, peer.start)[0] : undefined;
    return cert && session[cert.start] === 0x30 ? Buffer.from(session.subarray(cert.start, cert.end)) : undefined;
  } catch {
    return undefined;
  }
}

/** RFC 5929 §4.1: the certificate hashed with its signature's hash function; MD5 and SHA-1 become SHA-256. */
export function serverEndPoint(der: Buffer): Buffer {
  const hash = certificateSignatureHash(der);
  return createHash(hash === "md5" || hash === "sha1" ? "sha256" : hash).update(der).digest();
}

const SIGNATURE_HASHES: Record<string, string> = {
  "1.2.840.113549.1.1.4": "md5", // md5WithRSAEncryption
  "1.2.840.113549.1.1.5": "sha1", // sha1WithRSAEncryption
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
  "1.2.840.113549.1.1.14": "sha224",
  "1.2.840.10045.4.1": "sha1", // ecdsa-with-SHA1
  "1.2.840.10045.4.3.1": "sha224",
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
  "1.2.840.10040.4.3": "sha1", // dsa-with-sha1
  "2.16.840.1.101.3.4.3.1": "sha224", // dsa-with-sha224
  "2.16.840.1.101.3.4.3.2": "sha256", // dsa-with-sha256
};
const HASH_OIDS: Record<string, string> = {
  "1.3.14.3.2.26": "sha1",
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
  "2.16.840.1.101.3.4.2.4": "sha224",
};
const RSASSA_PSS = "1.2.840.113549.1.1.10";

/** The hash function of a certificate's signatureAlgorithm (RFC 5280 §4.1.1.2), read from its DER. */
export function certificateSignatureHash(der: Buffer): string {
  const cert = derChildren(der, 0);
  const algorithm = cert[1];
  if (!algorithm || der[algorithm.start] !== 0x30) throw new ChannelBindingError("malformed certificate: no signatureAlgorithm");
  const [oid, params] = derChildren(der, algorithm.start);
  if (!oid || der[oid.start] !== 0x06) throw new ChannelBindingError("malformed certificate: no algorithm OID");
  const name = oidString(der.subarray(oid.contentStart, oid.end));
  if (name === RSASSA_PSS) {
    // RSASSA-PSS-params: [0] hashAlgorithm, SHA-1 when absent (RFC 4055 §3.1).
    const first = params && der[params.start] === 0x30 ? derChildren(der, params.start)[0] : undefined;
    if (!first || der[first.start] !== 0xa0) return "sha1";
    const hashAlg = derChildren(der, first.start)[0];
    const hashOid = hashAlg ? derChildren(der, hashAlg.start)[0] : undefined;
    const hash = hashOid ? HASH_OIDS[oidString(der.subarray(hashOid.contentStart, hashOid.end))] : undefined;
    if (!hash) throw new ChannelBindingError("tls-server-end-point: unknown RSASSA-PSS hash");
    return hash;
  }
  const hash = SIGNATURE_HASHES[name];
  // Ed25519/Ed448 use no single hash function: RFC 5929 §4.1 leaves the binding undefined.
  if (!hash) throw new ChannelBindingError(`tls-server-end-point is undefined for the certificate's signature algorithm ${name} (RFC 5929 §4.1)`);
  return hash;
}

interface DerNode {
  start: number;
  contentStart: number;
  end: number;
}

function derNode(der: Buffer, start: number): DerNode {
  let pos = start + 1;
  const first = der[pos++];
  if (first === undefined) throw new ChannelBindingError("malformed DER: truncated");
  let length = first;
  if (first & 0x80) {
    const bytes = first & 0x7f;
    if (bytes === 0 || bytes > 4) throw new ChannelBindingError("malformed DER: unsupported length");
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + (der[pos++] ?? 0);
  }
  const end = pos + length;
  if (end > der.length) throw new ChannelBindingError("malformed DER: length beyond the data");
  return { start, contentStart: pos, end };
}

/** The children of the constructed DER element at `start`. */
function derChildren(der: Buffer, start: number): DerNode[] {
  const parent = derNode(der, start);
  const children: DerNode[] = [];
  for (let pos = parent.contentStart; pos < parent.end; ) {
    const child = derNode(der, pos);
    children.push(child);
    pos = child.end;
  }
  return children;
}

function oidString(bytes: Buffer): string {
  if (bytes.length === 0) return "";
  const parts = [Math.floor(bytes[0]! / 40), bytes[0]! % 40];
  let value = 0;
  for (const b of bytes.subarray(1)) {
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join(".");
}

/** RFC 5802 §5.1: "=" and "," in a username are escaped as =3D and =2C. */
export function saslName(name: string): string {
  return name.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

function parseAttributes(message: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const part of message.split(",")) {
    const eq = part.indexOf("=");
    if (eq !== 1) throw new ScramError(`malformed SCRAM message from the server: attribute ${JSON.stringify(part.slice(0, 40))}`);
    attrs.set(part[0]!, part.slice(2));
  }
  return attrs;
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/**
 * More PBKDF2 iterations than any server uses (4096 is RFC 7677's minimum,
 * servers ship 4096 to 10000); the hashing cannot be interrupted, so a
 * hostile server asking for billions would otherwise hold the run for hours.
 */
const MAX_ITERATIONS = 1_000_000;

export class ScramError extends Error {
  override name = "ScramError";
}

/**
 * One SCRAM exchange. Call clientFirst(), then clientFinal(serverFirst), then
 * verifyServerFinal(serverFinal): it throws unless the server proved it knows
 * the password.
 */
export class ScramClient {
  private readonly nonce: string;
  private clientFirstBare = "";
  private serverSignature: Buffer | undefined;

  constructor(
    readonly hash: ScramHash,
    private readonly username: string,
    private readonly password: string,
    nonce?: string,
    /** For the -PLUS variants: the channel binding to use (RFC 5802 §6). */
    readonly channelBinding?: ChannelBinding,
  ) {
    this.nonce = nonce ?? randomBytes(18).toString("base64");
  }

  /**
   * RFC 5802 §7 gs2-header: "p=<cb-name>,," with channel binding (the -PLUS
   * variants), else "n,," (the client does not support channel binding, or
   * does not use it: never "y", which claims the server offers no -PLUS).
   */
  get gs2Header(): string {
    return this.channelBinding ? `p=${this.channelBinding.type},,` : "n,,";
  }

  /** RFC 5802 §7 channel-binding: base64 of the gs2 header followed by the channel-binding data. */
  get cbindInput(): string {
    const header = Buffer.from(this.gs2Header, "utf8");
    return Buffer.concat(this.channelBinding ? [header, this.channelBinding.data] : [header]).toString("base64");
  }

  clientFirst(): string {
    this.clientFirstBare = `n=${saslName(this.username)},r=${this.nonce}`;
    return `${this.gs2Header}${this.clientFirstBare}`;
  }

  async clientFinal(serverFirst: string): Promise<string> {
    const attrs = parseAttributes(serverFirst);
    if (attrs.has("m")) throw new ScramError("server requires an unsupported SCRAM extension");
    const nonce = attrs.get("r");
    const salt = attrs.get("s");
    const iterations = Number(attrs.get("i"));
    if (!nonce || !salt || !Number.isInteger(iterations) || iterations < 1) {
      throw new ScramError(`server-first-message lacks r, s or i: ${JSON.stringify(excerpt(serverFirst, 80))}`);
    }
    if (iterations > MAX_ITERATIONS) {
      throw new ScramError(`the server asks for ${iterations} PBKDF2 iterations; xepcheck stops at ${MAX_ITERATIONS}`);
    }
    if (!nonce.startsWith(this.nonce) || nonce.length === this.nonce.length) {
      throw new ScramError("server nonce does not extend the client nonce");
    }
    const saltedPassword = await pbkdf2Async(
      Buffer.from(this.password, "utf8"),
      Buffer.from(salt, "base64"),
      iterations,
      HASH_BYTES[this.hash],
      this.hash,
    );
    const clientFinalWithoutProof = `c=${this.cbindInput},r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
    const hmac = (key: Buffer, data: string) => createHmac(this.hash, key).update(data).digest();
    const clientKey = hmac(saltedPassword, "Client Key");
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const clientSignature = hmac(storedKey, authMessage);
    const proof = xor(clientKey, clientSignature);
    this.serverSignature = hmac(hmac(saltedPassword, "Server Key"), authMessage);
    return `${clientFinalWithoutProof},p=${proof.toString("base64")}`;
  }

  verifyServerFinal(serverFinal: string): void {
    if (!this.serverSignature) throw new ScramError("server-final before client-final");
    const attrs = parseAttributes(serverFinal);
    const error = attrs.get("e");
    if (error) throw new ScramError(`server reported SCRAM error "${error}"`);
    const v = attrs.get("v");
    if (!v) throw new ScramError("server-final-message has no verifier");
    const got = Buffer.from(v, "base64");
    if (got.length !== this.serverSignature.length || !timingSafeEqual(got, this.serverSignature)) {
      throw new ScramError("server signature does not match: the server does not know the password");
    }
  }
}
