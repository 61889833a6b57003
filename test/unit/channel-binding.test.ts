/**
 * Channel binding for SCRAM -PLUS (RFC 5802 §6–7) and its data: the gs2
 * header and the c= attribute, tls-exporter (RFC 9266 §2),
 * tls-server-end-point (RFC 5929 §4.1), against the definitions, and on a
 * real TLS connection in this process (both ends must agree).
 */
import { createHash, createHmac, pbkdf2Sync, X509Certificate } from "node:crypto";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import { describe, expect, it } from "vitest";
import {
  ChannelBindingError,
  ScramClient,
  certificateSignatureHash,
  channelBindingData,
  peerCertificateDer,
  scramVariant,
  serverEndPoint,
} from "../../src/session/scram.js";

// Certificates made with openssl for these tests (never used for anything else).
const EC384 = `-----BEGIN CERTIFICATE-----
MIIBgDCCASegAwIBAgIURXEqH03KJvGYAdkc6YJwcxG3XrIwCgYIKoZIzj0EAwMw
FTETMBEGA1UEAwwKZWMzODQudGVzdDAgFw0yNjExMjIwMTIxNTJaGA8yMTI2MTAy
OTAxMjE1MlowFTETMBEGA1UEAwwKZWMzODQudGVzdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABL6uraSl4UGMfrDzNbfGVlgmwdWPzywg/dipFwkmfN1LHtr/kD/5
AQjZ9jFWw6jh/OC1+V8E6b9PhLZZZZ2LUimjUzBRMB0GA1UdDgQWBBTqyA7VT+v/
Eo3KuE2MUpCINNqkLTAfBgNVHSMEGDAWgBTqyA7VT+v/Eo3KuE2MUpCINNqkLTAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMDA0cAMEQCIBi2Upj/vEclxZZ2UlrH
vsjJW+JPJotZufVMhX+ouI+4AiAf0XnpGA44gAiv1k3NwFnlu+cQVsTCQI/kRZ3G
6BkAcA==
-----END CERTIFICATE-----`;
const RSA1 = `-----BEGIN CERTIFICATE-----
MIICBjCCAW+gAwIBAgIUKt3wFaLQBJ6DlhDfnNH+tIQBBhUwDQYJKoZIhvcNAQEF
BQAwFDESMBAGA1UEAwwJcnNhMS50ZXN0MCAXDTI2MTEyMjAxMjE1MloYDzIxMjYx
MDI5MDEyMTUyWjAUMRIwEAYDVQQDDAlyc2ExLnRlc3QwgZ8wDQYJKoZIhvcNAQEB
BQADgY0AMIGJAoGBAMe0ax0fSivUs2jwuI3vJpmbe5eQObwTCi4NmMFYffZMN+2z
OH2quoyhwLyjDnIhOevjCkUedJcjVzZv38YgtH8IvG8ue29DyMznnZFez1fcgvIs
AA9agbOtnxv2SPchpR42NZke08zAOEkqqAhNrxqMQBRV6gmxFCiF02+3FQZlAgMB
AAGjUzBRMB0GA1UdDgQWBBSWmDZfEygazxnUXXR4fOswEnEXQTAfBgNVHSMEGDAW
gBSWmDZfEygazxnUXXR4fOswEnEXQTAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3
DQEBBQUAA4GBAEVDtTk25O/xoom1BP7Rnm2WDg5C+Jc+6tD1y+QO3wCH+3BJhMtH
MhCDSgH3BAYJTfkXody81NvVh5mA/COW3K43B95jV15jxWWqINN5IQ/wNs4uUPfa
S7RSYN4n3sK5sdf9+XYwx1u/cmxjeNB6QhaVMj3acVN6apK1POWv0C11
-----END CERTIFICATE-----`;
const ED = `-----BEGIN CERTIFICATE-----
MIIBOjCB7aADAgECAhQNemtaTBiQljDs01Kz84o9yXAuvjAFBgMrZXAwEjEQMA4G
A1UEAwwHZWQudGVzdDAgFw0yNjExMjIwMTIxNTJaGA8yMTI2MTAyOTAxMjE1Mlow
EjEQMA4GA1UEAwwHZWQudGVzdDAqMAUGAytlcAMhALTCUDZWa1VSUGPvSRaFF79n
C378Onjt+PGDQyjykcw6o1MwUTAdBgNVHQ4EFgQUv7L+whWtQTt4loChf+c/sm/5
xZcwHwYDVR0jBBgwFoAUv7L+whWtQTt4loChf+c/sm/5xZcwDwYDVR0TAQH/BAUw
AwEB/zAFBgMrZXADQQA94zbi78ZE0zuA8xvmXY3VJ41jSqssNft0bloahkYbRYsz
UYGENYfuJl9rb0RxOlBfgI/SYpcG2y+gWGJjPAoB
-----END CERTIFICATE-----`;
const PSS = `-----BEGIN CERTIFICATE-----
MIIDcTCCAiWgAwIBAgIUW7Abza73Jt4jd2NKk8yIRVRQk1MwQQYJKoZIhvcNAQEK
MDSgDzANBglghkgBZQMEAgEFAKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgEF
AKIDAgEgMBMxETAPBgNVBAMMCHBzcy50ZXN0MCAXDTI2MTEyMjAxMjE1MloYDzIx
MjYxMDI5MDEyMTUyWjATMREwDwYDVQQDDAhwc3MudGVzdDCCASIwDQYJKoZIhvcN
AQEBBQADggEPADCCAQoCggEBAMbP6gsjj11xypPOl1lyX+aHoHmDTiuMKptoR+JH
zPgvZHzGRLzeEVHZcsE8TDo0YfWLKgpzd6NH2WuCT2QiSf/AfXfa6qhAgwolbjh1
/ZPG2dW0xQhJv4Y1gavY9IMyLNT8ThJJpaDGUBz9aq/3f2GqmuofC6zH3PFc9dcL
X4CXNp9blFF65umMwn7FPV2CON3cTzQks7lFRulaG8qrs5HYAWCM+Efkq8SLK/AP
fDuSOuLllvu3+434mj4AJq9Z75H7sD0XXjctCq1Ozu3Z//kWkZ7zX+gTNM/dHvcJ
yamJK23HGm1vYLJC92Czq65FkgyGd9XJyjoks9WkDWRb5S8CAwEAAaNTMFEwHQYD
VR0OBBYEFCiixf7noMkwaWWhwdIq816k14pNMB8GA1UdIwQYMBaAFCiixf7noMkw
aWWhwdIq816k14pNMA8GA1UdEwEB/wQFMAMBAf8wQQYJKoZIhvcNAQEKMDSgDzAN
BglghkgBZQMEAgEFAKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgEFAKIDAgEg
A4IBAQCLvVkmG7NxzFZzBvez3ugwKPZE1OT42r1kQ/kIdIq4GofpgIe60o4FHTyu
2vs0EX7NxBIyGI+MLODuvvCU+T0NMEy7Hoe/ANT4RlDWSZjVb097hfyklNjCfpuf
XN6OCVh5/m3EHpHCoxPEEM6a4Qech9w7rNPY/bXgQpfXMlWaBJa71lMv+AV+8mQi
02s2KMVeiN4l1xd9CIageh9kLe5xWeAYjegtnHGKMzyoWS+W1MuIA95tI1GNT36U
eWdDsoGqxGfIMRIIvZibc2YynxyW18e66JuCDdE6Jy2AcI8PdS1vkWwnea2pRxE7
cnSkukNARI99xu37QSCcdPbaf6NN
-----END CERTIFICATE-----`;
const EC256_CERT = `-----BEGIN CERTIFICATE-----
MIIBlDCCATugAwIBAgIUI9iswWJCfXvK1CEP7B/zx4W8mxUwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyMjAxMjE1MloYDzIxMjYxMDI5
MDEyMTUyWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAARE3Slcv+R0qrEXNkdivDcFtU60PuARywJNhMdbZpnaUihuZn6zHy62
+p422L3BR5CmHtv4Qhh0Wj+p7UVKn+42o2kwZzAdBgNVHQ4EFgQUtiVbs7I9oXRS
ElLCwFWymMLSH7EwHwYDVR0jBBgwFoAUtiVbs7I9oXRSElLCwFWymMLSH7EwDwYD
VR0TAQH/BAUwAwEB/zAUBgNVHREEDTALgglsb2NhbGhvc3QwCgYIKoZIzj0EAwID
RwAwRAIgWgYi0iZFHWZvEibNyYDvH/F/gmsBLraEpejX2z6Zuw4CIEtAwiDenQL3
4pD6IrueHMu7rxW1ioeBXUEqf1V6t1VM
-----END CERTIFICATE-----`;
const EC256_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgcPFi68JWld1bVBsO
iitT8dQgEYPMIJi6iD2dmH8oY+ihRANCAARE3Slcv+R0qrEXNkdivDcFtU60PuAR
ywJNhMdbZpnaUihuZn6zHy62+p422L3BR5CmHtv4Qhh0Wj+p7UVKn+42
-----END PRIVATE KEY-----`;

const der = (pem: string) => new X509Certificate(pem).raw;

describe("gs2 header and c= attribute (RFC 5802 §7)", () => {
  it("without channel binding: n,, and c=biws", () => {
    const c = new ScramClient("sha256", "user", "pencil", "nonce");
    expect(c.gs2Header).toBe("n,,");
    expect(c.clientFirst()).toBe("n,,n=user,r=nonce");
    expect(c.cbindInput).toBe("biws");
  });

  it("tls-exporter: p=tls-exporter,, and c= = base64(gs2 header + 32 bytes), as in XEP-0388's SCRAM-SHA-1-PLUS example", async () => {
    // XEP-0388 §2.5's example: c= decodes to "p=tls-exporter,," and a 32-byte binding.
    const c = Buffer.from("cD10bHMtZXhwb3J0ZXIsLMcoQvOdBDePd4OswlmAWV3dg1a1Wh1tYPTBwVid10VU", "base64");
    expect(c.subarray(0, 16).toString()).toBe("p=tls-exporter,,");
    const data = c.subarray(16);
    expect(data.length).toBe(32);
    const client = new ScramClient("sha1", "user", "pencil", "12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6", { type: "tls-exporter", data });
    // The example's initial response, byte for byte.
    expect(Buffer.from(client.clientFirst()).toString("base64")).toBe(
      "cD10bHMtZXhwb3J0ZXIsLG49dXNlcixyPTEyQzRDRDVDLUUzOEUtNEE5OC04RjZELTE1QzM4RjUxQ0NDNg==",
    );
    const final = await client.clientFinal(
      "r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6a09117a6-ac50-4f2f-93f1-93799c2bddf6,s=QSXCR+Q6sek8bf92,i=4096",
    );
    expect(final.startsWith("c=cD10bHMtZXhwb3J0ZXIsLMcoQvOdBDePd4OswlmAWV3dg1a1Wh1tYPTBwVid10VU,r=")).toBe(true);
  });

  it("the proof and server signature cover the channel binding (checked by an independent server-side computation)", async () => {
    const data = Buffer.alloc(32, 7);
    const client = new ScramClient("sha256", "user", "pencil", "cnonce", { type: "tls-server-end-point", data });
    const first = client.clientFirst();
    expect(first).toBe("p=tls-server-end-point,,n=user,r=cnonce");
    const salt = Buffer.from("salt-of-the-earth");
    const serverFirst = `r=cnonceSNONCE,s=${salt.toString("base64")},i=4096`;
    const final = await client.clientFinal(serverFirst);
    const withoutProof = final.slice(0, final.indexOf(",p="));
    expect(withoutProof).toBe(`c=${Buffer.concat([Buffer.from("p=tls-server-end-point,,"), data]).toString("base64")},r=cnonceSNONCE`);
    const salted = pbkdf2Sync("pencil", salt, 4096, 32, "sha256");
    const hmac = (k: Buffer, s: string) => createHmac("sha256", k).update(s).digest();
    const authMessage = `n=user,r=cnonce,${serverFirst},${withoutProof}`;
    const clientKey = hmac(salted, "Client Key");
    const storedKey = createHash("sha256").update(clientKey).digest();
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.from(final.slice(final.indexOf(",p=") + 3), "base64");
    const recovered = Buffer.from(proof.map((b, i) => b ^ signature[i]!));
    expect(createHash("sha256").update(recovered).digest().equals(storedKey)).toBe(true);
    const serverSignature = hmac(hmac(salted, "Server Key"), authMessage).toString("base64");
    expect(() => client.verifyServerFinal(`v=${serverSignature}`)).not.toThrow();
    // The same exchange with other binding data gives another signature: a mismatch is caught.
    const other = new ScramClient("sha256", "user", "pencil", "cnonce", { type: "tls-server-end-point", data: Buffer.alloc(32, 8) });
    other.clientFirst();
    await other.clientFinal(serverFirst);
    expect(() => other.verifyServerFinal(`v=${serverSignature}`)).toThrow(/does not match/);
  });

  it("mechanism names map to hash and -PLUS", () => {
    expect(scramVariant("SCRAM-SHA-512-PLUS")).toEqual({ hash: "sha512", plus: true });
    expect(scramVariant("SCRAM-SHA-1")).toEqual({ hash: "sha1", plus: false });
    expect(scramVariant("PLAIN")).toBeUndefined();
    expect(scramVariant("SCRAM-SHA-384")).toBeUndefined();
  });
});

describe("tls-server-end-point (RFC 5929 §4.1)", () => {
  it("hashes with the certificate's signature hash: SHA-256 for ecdsa-with-SHA256", () => {
    const cert = der(EC256_CERT);
    expect(certificateSignatureHash(cert)).toBe("sha256");
    expect(serverEndPoint(cert).equals(createHash("sha256").update(cert).digest())).toBe(true);
  });

  it("SHA-384 for ecdsa-with-SHA384", () => {
    const cert = der(EC384);
    expect(certificateSignatureHash(cert)).toBe("sha384");
    expect(serverEndPoint(cert).equals(createHash("sha384").update(cert).digest())).toBe(true);
  });

  it("SHA-256 in place of SHA-1 (sha1WithRSAEncryption)", () => {
    const cert = der(RSA1);
    expect(certificateSignatureHash(cert)).toBe("sha1");
    expect(serverEndPoint(cert).equals(createHash("sha256").update(cert).digest())).toBe(true);
  });

  it("RSASSA-PSS: the hash named in its parameters", () => {
    expect(certificateSignatureHash(der(PSS))).toBe("sha256");
  });

  it("undefined for Ed25519 (no single hash function)", () => {
    expect(() => serverEndPoint(der(ED))).toThrow(ChannelBindingError);
  });
});

describe("on a real TLS 1.3 connection", () => {
  it("tls-exporter and tls-server-end-point agree with what the server side computes, also after session tickets", async () => {
    const serverSide: tls.TLSSocket[] = [];
    const server = tls.createServer({ cert: EC256_CERT, key: EC256_KEY, minVersion: "TLSv1.3" }, (socket) => {
      serverSide.push(socket);
      socket.write("hello");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const client = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ca: [EC256_CERT] });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once("error", reject);
        client.once("data", () => resolve()); // after the server's data: TLS 1.3 session tickets have arrived
      });
      await new Promise((r) => setTimeout(r, 50));
      const peer = serverSide[0]!;
      const exporter = channelBindingData(client, "tls-exporter");
      expect(exporter.length).toBe(32);
      expect(exporter.equals(peer.exportKeyingMaterial(32, "EXPORTER-Channel-Binding", Buffer.alloc(0)))).toBe(true);
      // Node forgets the peer certificate once tickets arrive; the session still holds it.
      expect(peerCertificateDer(client)?.equals(der(EC256_CERT))).toBe(true);
      expect(channelBindingData(client, "tls-server-end-point").equals(createHash("sha256").update(der(EC256_CERT)).digest())).toBe(true);
      expect(() => channelBindingData(client, "tls-unique")).toThrow(/TLS 1.3/);
    } finally {
      client.destroy();
      serverSide.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
