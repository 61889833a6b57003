import { describe, expect, it } from "vitest";
import parse from "@xmpp/xml/lib/parse.js";
import { REDACTED, redactedXml } from "../../src/session/transcript.js";

describe("transcript redaction", () => {
  it("hides SASL payloads but keeps the mechanism", () => {
    const auth = parse("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHNlY3JldA==</auth>");
    const out = redactedXml(auth);
    expect(out).not.toContain("AGFsaWNlAHNlY3JldA==");
    expect(out).toContain(REDACTED);
    expect(out).toContain("mechanism=\"PLAIN\"");
    for (const name of ["response", "challenge", "success"]) {
      const el = parse(`<${name} xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>c2VjcmV0</${name}>`);
      expect(redactedXml(el)).not.toContain("c2VjcmV0");
    }
  });

  it("hides the password of an in-band registration", () => {
    const iq = parse("<iq type='set' id='r1'><query xmlns='jabber:iq:register'><username>bob</username><password>hunter2</password></query></iq>");
    const out = redactedXml(iq);
    expect(out).not.toContain("hunter2");
    expect(out).toContain("<username>bob</username>");
  });

  it("hides TURN credentials of external service discovery", () => {
    const iq = parse(
      "<iq type='result' id='e1'><services xmlns='urn:xmpp:extdisco:2'><service host='turn.example.org' type='turn' username='u1' password='turn-secret'/></services></iq>",
    );
    const out = redactedXml(iq);
    expect(out).not.toContain("turn-secret");
    expect(out).toContain("host=\"turn.example.org\"");
  });

  it("leaves ordinary stanzas alone", () => {
    const msg = parse("<message to='a@b'><body>hello</body></message>");
    expect(redactedXml(msg)).toBe(msg.toString());
  });

  it("does not modify the element it was given", () => {
    const auth = parse("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>c2VjcmV0</auth>");
    redactedXml(auth);
    expect(auth.text()).toBe("c2VjcmV0");
  });
});
