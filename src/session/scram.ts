/**
 * SCRAM client (RFC 5802, RFC 7677) on node:crypto.
 * https://www.rfc-editor.org/rfc/rfc5802
 *
 * Unlike xmpp.js's SCRAM-SHA-1 it derives keys with one native pbkdf2 call
 * (instead of thousands of awaited WebCrypto HMACs), offers SHA-256/512, and
 * verifies the server signature, so a server that does not know the password
 * cannot pretend to.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const pbkdf2Async = promisify(pbkdf2);

export type ScramHash = "sha1" | "sha256" | "sha512";

export const SCRAM_MECHANISMS: Record<string, ScramHash> = {
  "SCRAM-SHA-512": "sha512",
  "SCRAM-SHA-256": "sha256",
  "SCRAM-SHA-1": "sha1",
};

const HASH_BYTES: Record<ScramHash, number> = { sha1: 20, sha256: 32, sha512: 64 };

/** RFC 5802 §5.1: "=" and "," in a username are escaped as =3D and =2C. */
export function saslName(name: string): string {
  return name.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

function parseAttributes(message: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const part of message.split(",")) {
    const eq = part.indexOf("=");
    if (eq !== 1) throw new Error(`malformed SCRAM attribute "${part}"`);
    attrs.set(part[0]!, part.slice(2));
  }
  return attrs;
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

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
  ) {
    this.nonce = nonce ?? randomBytes(18).toString("base64");
  }

  /** gs2 header "n,," : no channel binding, no authzid. */
  clientFirst(): string {
    this.clientFirstBare = `n=${saslName(this.username)},r=${this.nonce}`;
    return `n,,${this.clientFirstBare}`;
  }

  async clientFinal(serverFirst: string): Promise<string> {
    const attrs = parseAttributes(serverFirst);
    if (attrs.has("m")) throw new ScramError("server requires an unsupported SCRAM extension");
    const nonce = attrs.get("r");
    const salt = attrs.get("s");
    const iterations = Number(attrs.get("i"));
    if (!nonce || !salt || !Number.isInteger(iterations) || iterations < 1) {
      throw new ScramError(`server-first-message lacks r, s or i: "${serverFirst}"`);
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
    const clientFinalWithoutProof = `c=${Buffer.from("n,,").toString("base64")},r=${nonce}`;
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
