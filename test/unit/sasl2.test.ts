/**
 * SASL2 helpers: reading the offer (XEP-0388, XEP-0386, XEP-0198, XEP-0484,
 * XEP-0440), the HT-* FAST mechanisms, and what a transcript keeps of them.
 */
import { createHmac } from "node:crypto";
import { xml } from "@xmpp/xml";
import parse from "@xmpp/xml/lib/parse.js";
import { describe, expect, it } from "vitest";
import { chooseChannelBinding, offeredChannelBindings } from "../../src/session/login.js";
import { htInitiator, htResponder, htVariant, newUserAgent, sasl2Offer, usableFastMechanisms } from "../../src/session/sasl2.js";
import type { XmppStream } from "../../src/session/stream.js";
import { redactedXml } from "../../src/session/transcript.js";

// As Prosody 13 (mod_sasl2 family) and ejabberd 24.12 send them after STARTTLS with from='<bare JID>'.
const PROSODY =
  "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><authentication xmlns='urn:xmpp:sasl:2'><mechanism>SCRAM-SHA-256</mechanism><mechanism>SCRAM-SHA-256-PLUS</mechanism><mechanism>PLAIN</mechanism>" +
  "<inline><bind xmlns='urn:xmpp:bind:0'><inline><feature var='urn:xmpp:carbons:2'/><feature var='urn:xmpp:csi:0'/><feature var='urn:xmpp:sm:3'/></inline></bind>" +
  "<fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-EXPR</mechanism><mechanism>HT-SHA-256-NONE</mechanism></fast><sm xmlns='urn:xmpp:sm:3'/></inline></authentication>" +
  "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-256</mechanism></mechanisms>" +
  "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-exporter'/></sasl-channel-binding></stream:features>";
const EJABBERD =
  "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-exporter'/><channel-binding type='tls-server-end-point'/></sasl-channel-binding>" +
  "<authentication xmlns='urn:xmpp:sasl:2'><inline><bind xmlns='urn:xmpp:bind:0'><inline><feature var='urn:xmpp:sm:3'/><feature var='urn:xmpp:carbons:2'/></inline></bind><sm xmlns='urn:xmpp:sm:3'/>" +
  "<fast xmlns='urn:xmpp:fast:0' tls-0rtt='true'><mechanism>HT-SHA-256-NONE</mechanism><mechanism>HT-SHA-256-UNIQ</mechanism><mechanism>HT-SHA-256-EXPR</mechanism><mechanism>HT-SHA-256-ENDP</mechanism></fast></inline>" +
  "<mechanism>SCRAM-SHA-512</mechanism><mechanism>SCRAM-SHA-512-PLUS</mechanism></authentication></stream:features>";

describe("the SASL2 offer", () => {
  it("reads mechanisms, Bind 2 inline features, inline SM, FAST and channel bindings (Prosody)", () => {
    expect(sasl2Offer(parse(PROSODY))).toEqual({
      mechanisms: ["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "PLAIN"],
      channelBindings: ["tls-exporter"],
      bind: { inline: ["urn:xmpp:carbons:2", "urn:xmpp:csi:0", "urn:xmpp:sm:3"] },
      sm: true,
      fast: { mechanisms: ["HT-SHA-256-EXPR", "HT-SHA-256-NONE"], tls0rtt: false },
    });
  });

  it("reads ejabberd's order and tls-0rtt", () => {
    const offer = sasl2Offer(parse(EJABBERD))!;
    expect(offer.mechanisms).toEqual(["SCRAM-SHA-512", "SCRAM-SHA-512-PLUS"]);
    expect(offer.channelBindings).toEqual(["tls-exporter", "tls-server-end-point"]);
    expect(offer.fast?.tls0rtt).toBe(true);
  });

  it("is undefined without <authentication/>; channel bindings are undefined without XEP-0440", () => {
    const plain = parse("<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:features>");
    expect(sasl2Offer(plain)).toBeUndefined();
    expect(offeredChannelBindings(plain)).toBeUndefined();
  });
});

describe("channel-binding choice for -PLUS", () => {
  const stream = (features: string, protocol: string) =>
    ({ features: parse(features), tlsSocket: { getProtocol: () => protocol } }) as unknown as XmppStream;

  it("takes the first announced type this TLS version defines", () => {
    expect(chooseChannelBinding(stream(EJABBERD, "TLSv1.3"))).toBe("tls-exporter");
    const endpointOnly =
      "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-unique'/><channel-binding type='tls-server-end-point'/></sasl-channel-binding></stream:features>";
    expect(chooseChannelBinding(stream(endpointOnly, "TLSv1.3"))).toBe("tls-server-end-point");
    expect(chooseChannelBinding(stream(endpointOnly, "TLSv1.2"))).toBe("tls-server-end-point");
  });

  it("without an announcement, the TLS version's default: tls-exporter for 1.3, tls-unique before", () => {
    const none = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>";
    expect(chooseChannelBinding(stream(none, "TLSv1.3"))).toBe("tls-exporter");
    expect(chooseChannelBinding(stream(none, "TLSv1.2"))).toBe("tls-unique");
  });
});

describe("HT-* mechanisms (XEP-0484 FAST)", () => {
  it("parses hash and channel binding", () => {
    expect(htVariant("HT-SHA-256-NONE")).toEqual({ hash: "sha256" });
    expect(htVariant("HT-SHA-256-EXPR")).toEqual({ hash: "sha256", channelBinding: "tls-exporter" });
    expect(htVariant("HT-SHA-512-ENDP")).toEqual({ hash: "sha512", channelBinding: "tls-server-end-point" });
    expect(htVariant("HT-SHA-256-UNIQ")).toEqual({ hash: "sha256", channelBinding: "tls-unique" });
    expect(htVariant("HT-MD5-NONE")).toBeUndefined();
    expect(htVariant("SCRAM-SHA-1")).toBeUndefined();
  });

  it("initial response: authcid NUL HMAC(token, 'Initiator' || cb-data); server: HMAC(token, 'Responder' || cb-data)", () => {
    const v = htVariant("HT-SHA-256-EXPR")!;
    const cb = Buffer.alloc(32, 1);
    const initial = htInitiator(v, "alice", "secret-token:xyz", cb);
    const nul = initial.indexOf(0);
    expect(initial.subarray(0, nul).toString()).toBe("alice");
    const mac = createHmac("sha256", "secret-token:xyz").update(Buffer.concat([Buffer.from("Initiator"), cb])).digest();
    expect(initial.subarray(nul + 1).equals(mac)).toBe(true);
    const responder = createHmac("sha256", "secret-token:xyz").update(Buffer.concat([Buffer.from("Responder"), cb])).digest();
    expect(htResponder(v, "secret-token:xyz", cb).equals(responder)).toBe(true);
    // -NONE binds to nothing: the HMAC of the bare label.
    const none = htInitiator(htVariant("HT-SHA-256-NONE")!, "alice", "t");
    expect(none.subarray(6).equals(createHmac("sha256", "t").update("Initiator").digest())).toBe(true);
  });

  it("prefers channel-binding mechanisms and drops those this connection cannot compute", () => {
    const noTls = { tlsSocket: undefined } as unknown as XmppStream;
    expect(usableFastMechanisms(noTls, ["HT-SHA-256-EXPR", "HT-SHA-256-NONE", "HT-FOO"])).toEqual(["HT-SHA-256-NONE"]);
    const tls13 = {
      tlsSocket: {
        getProtocol: () => "TLSv1.3",
        exportKeyingMaterial: () => Buffer.alloc(32),
        getPeerX509Certificate: () => undefined,
        getSession: () => undefined,
      },
    } as unknown as XmppStream;
    expect(usableFastMechanisms(tls13, ["HT-SHA-256-NONE", "HT-SHA-256-UNIQ", "HT-SHA-256-ENDP", "HT-SHA-256-EXPR"])).toEqual([
      "HT-SHA-256-EXPR",
      "HT-SHA-256-NONE",
    ]);
  });

  it("user-agent ids are UUID v4 (XEP-0388 §2.3)", () => {
    expect(newUserAgent().id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe("transcripts keep no SASL2 secret", () => {
  it("redacts initial responses, challenges, additional data and FAST tokens", () => {
    const authenticate = xml(
      "authenticate",
      { xmlns: "urn:xmpp:sasl:2", mechanism: "HT-SHA-256-NONE" },
      xml("initial-response", {}, "YWxpY2UAc2VjcmV0"),
      xml("fast", { xmlns: "urn:xmpp:fast:0" }),
    );
    expect(redactedXml(authenticate)).not.toContain("YWxpY2UAc2VjcmV0");
    const success = xml(
      "success",
      { xmlns: "urn:xmpp:sasl:2" },
      xml("additional-data", {}, "djE9c2lnbmF0dXJl"),
      xml("token", { xmlns: "urn:xmpp:fast:0", expiry: "2030-01-01T00:00:00Z", token: "secret-token:fast-abc" }),
      xml("authorization-identifier", {}, "alice@example.org/r"),
    );
    const text = redactedXml(success);
    expect(text).not.toContain("secret-token:fast-abc");
    expect(text).not.toContain("djE9c2lnbmF0dXJl");
    expect(text).toContain("alice@example.org/r");
    expect(text).toContain("2030-01-01T00:00:00Z");
  });
});
