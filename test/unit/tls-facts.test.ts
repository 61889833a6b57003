import { X509Certificate } from "node:crypto";
import tls from "node:tls";
import { describe, expect, it } from "vitest";
import rfc7590 from "../../src/checks/rfc-7590-tls.js";
import { certificateProblems } from "../../src/session/tls-facts.js";
import type { CheckDefinition, CheckContext } from "../../src/checks/types.js";
import {
  checkXmppServerIdentity,
  daysUntil,
  describeTls,
  matchDomain,
  subjectAltNames,
  tlsFactRows,
  wildcardMatches,
  type CertificateNames,
  type TlsInfo,
} from "../../src/session/tls-facts.js";
import { CERT_CNONLY, CERT_MANY, CERT_SRV, CERT_XMPP, KEY_XMPP } from "./tls-facts.fixtures.js";

const der = (pem: string) => new X509Certificate(pem).raw;
const names = (over: Partial<CertificateNames> = {}): CertificateNames => ({ dns: [], srv: [], xmppAddr: [], ip: [], uri: [], ...over });

describe("subjectAltName from DER", () => {
  it("reads DNS names, IPv4 and IPv6 addresses and URIs", () => {
    expect(subjectAltNames(der(CERT_XMPP))).toEqual({
      dns: ["example.org", "*.example.org"],
      srv: [],
      xmppAddr: [],
      ip: ["127.0.0.1", "0:0:0:0:0:0:0:1"],
      uri: ["xmpp:example.org"],
    });
  });

  it("reads the otherNames SRVName and id-on-xmppAddr", () => {
    const n = subjectAltNames(der(CERT_SRV));
    expect(n.srv).toEqual(["_xmpp-client.example.org"]);
    expect(n.xmppAddr).toEqual(["chat.example.net"]);
    expect(n.dns).toEqual(["hosting.example"]);
    // node prints the same otherNames: the walker agrees with OpenSSL.
    expect(new X509Certificate(CERT_SRV).subjectAltName).toContain("othername:XmppAddr:chat.example.net");
  });

  it("handles a SAN longer than 255 bytes and a certificate without SAN", () => {
    const n = subjectAltNames(der(CERT_MANY));
    expect(n.dns).toHaveLength(13);
    expect(n.dns.at(-1)).toBe("xmpp.example.com");
    expect(subjectAltNames(der(CERT_CNONLY))).toEqual(names());
  });

  it("rejects garbage instead of inventing names", () => {
    expect(() => subjectAltNames(Buffer.from([0x30, 0x82, 0xff]))).toThrow();
    expect(() => subjectAltNames(der(CERT_XMPP).subarray(0, 100))).toThrow();
  });
});

describe("is the certificate valid for the XMPP domain (RFC 6125, RFC 6120 §13.7.2)", () => {
  const xmpp = subjectAltNames(der(CERT_XMPP));
  const srv = subjectAltNames(der(CERT_SRV));

  it("DNS-ID exactly, case and trailing dot aside", () => {
    expect(matchDomain(xmpp, "example.org")).toEqual({ domain: "example.org", valid: true, by: "dns", name: "example.org" });
    expect(matchDomain(xmpp, "EXAMPLE.org.").valid).toBe(true);
  });

  it("a wildcard covers exactly one left-most label", () => {
    expect(matchDomain(xmpp, "chat.example.org")).toMatchObject({ valid: true, by: "dns-wildcard", name: "*.example.org" });
    expect(matchDomain(xmpp, "a.b.example.org").valid).toBe(false);
    expect(matchDomain(xmpp, "example.com").valid).toBe(false);
    expect(wildcardMatches("*.org", "example.org")).toBe(false);
    expect(wildcardMatches("f*.example.org", "foo.example.org")).toBe(false);
  });

  it("SRV-ID _xmpp-client.<domain> and XmppAddr", () => {
    expect(matchDomain(srv, "example.org")).toMatchObject({ valid: true, by: "srv", name: "_xmpp-client.example.org" });
    expect(matchDomain(srv, "chat.example.net")).toMatchObject({ valid: true, by: "xmppAddr" });
    expect(matchDomain(names({ srv: ["_xmpps-client.example.org"] }), "example.org").valid).toBe(true);
    expect(matchDomain(names({ srv: ["_imap.example.org"] }), "example.org").valid).toBe(false);
  });

  it("the CN counts only when the SAN has no identifier", () => {
    expect(matchDomain(names({ commonName: "example.org" }), "example.org")).toMatchObject({ valid: true, by: "cn" });
    expect(matchDomain(names({ dns: ["other.example"], commonName: "example.org" }), "example.org").valid).toBe(false);
    // IP addresses are not identifiers of an XMPP domain.
    expect(matchDomain(names({ ip: ["127.0.0.1"], commonName: "example.org" }), "example.org").valid).toBe(true);
  });

  it("checkXmppServerIdentity accepts SRV-ID and XmppAddr where node's check would not", () => {
    const cert = { raw: der(CERT_SRV), subject: { CN: "hosting.example" } } as unknown as tls.PeerCertificate;
    expect(checkXmppServerIdentity("example.org", cert)).toBeUndefined();
    expect(tls.checkServerIdentity("example.org", { ...cert, subjectaltname: new X509Certificate(CERT_SRV).subjectAltName } as tls.PeerCertificate)).toBeInstanceOf(Error);
    const err = checkXmppServerIdentity("example.com", cert) as Error & { code: string };
    expect(err.code).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
    expect(err.message).toMatch(/not valid for example.com: it names hosting.example, SRVName _xmpp-client.example.org, XmppAddr chat.example.net/);
  });
});

describe("days until expiry", () => {
  it("counts whole days, negative once passed", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(daysUntil("Jan 15 00:00:00 2026 GMT", now)).toBe(14);
    expect(daysUntil("Jan 14 23:59:59 2026 GMT", now)).toBe(13);
    expect(daysUntil("Dec 31 12:00:00 2025 GMT", now)).toBe(-1);
  });
});

describe("describeTls on a real TLS connection", () => {
  it("records protocol, cipher, SNI, chain verdict, names, match and expiry", async () => {
    const server = tls.createServer({ key: KEY_XMPP, cert: CERT_XMPP, ALPNProtocols: ["xmpp-client"] }, (s) => s.end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const facts = async (servername: string, ca?: string, alsoValidFor?: string): Promise<TlsInfo> => {
        const socket = tls.connect({ host: "127.0.0.1", port, servername, ALPNProtocols: ["xmpp-client"], rejectUnauthorized: false, ...(ca ? { ca } : {}) });
        await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
        const info = describeTls(socket, alsoValidFor);
        socket.destroy();
        return info;
      };
      const trusted = await facts("example.org", CERT_XMPP);
      expect(trusted).toMatchObject({
        protocol: "TLSv1.3",
        authorized: true,
        alpn: "xmpp-client",
        servername: "example.org",
        domainMatch: { domain: "example.org", valid: true, by: "dns", name: "example.org" },
        peerCertificate: { subject: "CN=example.org", names: { dns: ["example.org", "*.example.org"], commonName: "example.org" } },
      });
      expect(trusted.cipher).toMatch(/^TLS_/);
      expect(trusted.peerCertificate!.daysUntilExpiry).toBeGreaterThan(300);
      expect(trusted.peerCertificate!.chain).toEqual(["CN=example.org"]);
      expect(tlsFactRows(trusted)).toContainEqual(["valid for example.org", "yes, by DNS-ID example.org"]);

      const untrusted = await facts("example.org");
      expect(untrusted).toMatchObject({ authorized: false, authorizationError: "DEPTH_ZERO_SELF_SIGNED_CERT" });
      expect(certificateProblems(untrusted, "example.org")).toEqual(["the certificate is self-signed (DEPTH_ZERO_SELF_SIGNED_CERT)"]);

      const wrong = await facts("example.com", CERT_XMPP);
      expect(wrong).toMatchObject({ authorized: false, authorizationError: "ERR_TLS_CERT_ALTNAME_INVALID", domainMatch: { valid: false } });
      expect(certificateProblems(wrong, "example.com")).toEqual([
        "the certificate is not valid for example.com: it names example.org, *.example.org, IP 127.0.0.1, IP 0:0:0:0:0:0:0:1",
      ]);

      // A web transport sends the URL's host as SNI; the XMPP domain is accepted too (XEP-0156 §2.2).
      const web = await facts("web.example.com", CERT_XMPP, "chat.example.org");
      expect(web.servername).toBe("web.example.com");
      expect(web.domainMatch).toEqual({ domain: "chat.example.org", valid: true, by: "dns-wildcard", name: "*.example.org" });
    } finally {
      server.close();
    }
  });
});

describe("RFC 7590 verdicts from the facts", () => {
  const base: TlsInfo = {
    protocol: "TLSv1.3",
    cipher: "TLS_AES_256_GCM_SHA384",
    authorized: true,
    servername: "example.org",
    peerCertificate: {
      subject: "CN=example.org",
      issuer: "CN=ca",
      validFrom: "Jan 1 00:00:00 2025 GMT",
      validTo: "Jan 1 00:00:00 2030 GMT",
      daysUntilExpiry: 400,
      names: names({ dns: ["example.org"] }),
    },
    domainMatch: { domain: "example.org", valid: true, by: "dns", name: "example.org" },
  };
  const check = (id: string) => rfc7590.find((c) => c.id === id) as CheckDefinition;
  const judge = async (id: string, tls: TlsInfo | null) =>
    check(id).run({ domain: "example.org", tlsMode: "starttls", probe: { tls } } as unknown as CheckContext);
  const cert = (over: Partial<NonNullable<TlsInfo["peerCertificate"]>>) => ({ ...base.peerCertificate!, ...over });

  it("TLS below 1.2 fails; 1.2 and 1.3 pass", async () => {
    expect((await judge("rfc7590.tls-version", base)).verdict).toBe("pass");
    expect((await judge("rfc7590.tls-version", { ...base, protocol: "TLSv1.2" })).verdict).toBe("pass");
    const old = await judge("rfc7590.tls-version", { ...base, protocol: "TLSv1.1" });
    expect(old).toMatchObject({ verdict: "fail", works: false });
    expect(old.summary).toMatch(/TLSv1.1.*older than TLS 1.2/);
    expect((await judge("rfc7590.tls-version", { ...base, protocol: "TLSv1" })).verdict).toBe("fail");
  });

  it("a valid certificate passes; an expired or wrong-name one fails with the reason, --insecure noted", async () => {
    const ok = await judge("rfc7590.certificate", base);
    expect(ok.verdict).toBe("pass");
    expect(ok.summary).toMatch(/valid for example.org by DNS-ID example.org/);

    const expired = await judge("rfc7590.certificate", { ...base, authorized: false, authorizationError: "CERT_HAS_EXPIRED", peerCertificate: cert({ daysUntilExpiry: -30 }) });
    expect(expired).toMatchObject({ verdict: "fail", works: false });
    expect(expired.summary).toBe("the certificate has expired (CERT_HAS_EXPIRED)");
    expect(expired.evidence).toContainEqual(expect.objectContaining({ type: "note", text: expect.stringMatching(/--insecure/) }));

    const wrong = await judge("rfc7590.certificate", {
      ...base,
      authorized: false,
      authorizationError: "ERR_TLS_CERT_ALTNAME_INVALID",
      peerCertificate: cert({ names: names({ dns: ["other.example"] }) }),
      domainMatch: { domain: "example.org", valid: false },
    });
    expect(wrong.verdict).toBe("fail");
    expect(wrong.summary).toBe("the certificate is not valid for example.org: it names other.example");
  });

  it("a certificate valid by SRV-ID passes although node's DNS-only name check complained", async () => {
    const r = await judge("rfc7590.certificate", {
      ...base,
      authorized: false,
      authorizationError: "ERR_TLS_CERT_ALTNAME_INVALID",
      domainMatch: { domain: "example.org", valid: true, by: "srv", name: "_xmpp-client.example.org" },
    });
    expect(r.verdict).toBe("pass");
    expect(r.summary).toMatch(/by SRV-ID _xmpp-client.example.org/);
  });

  it("expiry: 14 days or more pass, fewer warn, past fails", async () => {
    expect((await judge("rfc7590.certificate-expiry", { ...base, peerCertificate: cert({ daysUntilExpiry: 14 }) })).verdict).toBe("pass");
    const soon = await judge("rfc7590.certificate-expiry", { ...base, peerCertificate: cert({ daysUntilExpiry: 13 }) });
    expect(soon).toMatchObject({ verdict: "warn", works: true });
    expect(soon.summary).toMatch(/expires in 13 day\(s\)/);
    const validTo = new Date(Date.now() - 2.5 * 86_400_000).toUTCString().replace(/^\w+, (\d+) (\w+) (\d+) (\S+) GMT$/, "$2 $1 $4 $3 GMT");
    const past = await judge("rfc7590.certificate-expiry", { ...base, peerCertificate: cert({ daysUntilExpiry: -3, validTo }) });
    expect(past).toMatchObject({ verdict: "fail" });
    expect(past.summary).toBe(`the certificate expired 2 day(s) ago (${validTo})`);
  });

  it("no TLS facts: skip, never pass", async () => {
    for (const id of ["rfc7590.tls-version", "rfc7590.certificate", "rfc7590.certificate-expiry"]) {
      expect((await judge(id, null)).verdict).toBe("skip");
    }
  });
});
