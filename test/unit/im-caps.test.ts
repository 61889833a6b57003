/** XEP-0115 §5.1 verification string, proven with the XEP's own worked examples (§5.2, §5.3). */
import parse from "@xmpp/xml/lib/parse.js";
import { describe, expect, it } from "vitest";
import {
  capsHashAlgorithm,
  capsIllFormed,
  capsInputFromQuery,
  capsString,
  capsVerificationString,
} from "../../src/checks/xep-0115-caps.js";

// §5.2: client/pc "Exodus 0.9.1" with caps, disco#info, disco#items, muc (given out of order on purpose).
const simple = parse(`<query xmlns='http://jabber.org/protocol/disco#info'>
  <identity category='client' type='pc' name='Exodus 0.9.1'/>
  <feature var='http://jabber.org/protocol/muc'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/caps'/>
</query>`);

// §5.3: the disco#info result of the example, verbatim.
const complex = parse(`<query xmlns='http://jabber.org/protocol/disco#info'
         node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>
    <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
    <identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>
    <feature var='http://jabber.org/protocol/caps'/>
    <feature var='http://jabber.org/protocol/disco#info'/>
    <feature var='http://jabber.org/protocol/disco#items'/>
    <feature var='http://jabber.org/protocol/muc'/>
    <x xmlns='jabber:x:data' type='result'>
      <field var='FORM_TYPE' type='hidden'>
        <value>urn:xmpp:dataforms:softwareinfo</value>
      </field>
      <field var='ip_version' type='text-multi' >
        <value>ipv4</value>
        <value>ipv6</value>
      </field>
      <field var='os'>
        <value>Mac</value>
      </field>
      <field var='os_version'>
        <value>10.5.1</value>
      </field>
      <field var='software'>
        <value>Psi</value>
      </field>
      <field var='software_version'>
        <value>0.11</value>
      </field>
    </x>
  </query>`);

describe("XEP-0115 verification string", () => {
  it("§5.2 simple generation example", () => {
    const input = capsInputFromQuery(simple);
    expect(capsString(input)).toBe(
      "client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<http://jabber.org/protocol/disco#info<" +
        "http://jabber.org/protocol/disco#items<http://jabber.org/protocol/muc<",
    );
    expect(capsVerificationString(input, "sha-1")).toBe("QgayPKawpkPSDYmwT/WM94uAlu0=");
    expect(capsIllFormed(input)).toEqual([]);
  });

  it("§5.3 complex generation example, with identities in two languages and a XEP-0128 form", () => {
    const input = capsInputFromQuery(complex);
    expect(capsString(input)).toBe(
      "client/pc/el/Ψ 0.11<client/pc/en/Psi 0.11<http://jabber.org/protocol/caps<http://jabber.org/protocol/disco#info<" +
        "http://jabber.org/protocol/disco#items<http://jabber.org/protocol/muc<urn:xmpp:dataforms:softwareinfo<" +
        "ip_version<ipv4<ipv6<os<Mac<os_version<10.5.1<software<Psi<software_version<0.11<",
    );
    expect(capsVerificationString(input)).toBe("q07IKJEyjvHSyhy//CH0CxmKi8w=");
  });

  it("ignores forms whose FORM_TYPE is missing or not hidden (§5.4 step 3.6)", () => {
    const withJunk = parse(
      `<query xmlns='http://jabber.org/protocol/disco#info'><identity category='client' type='pc' name='Exodus 0.9.1'/>` +
        `<feature var='http://jabber.org/protocol/caps'/><feature var='http://jabber.org/protocol/disco#info'/>` +
        `<feature var='http://jabber.org/protocol/disco#items'/><feature var='http://jabber.org/protocol/muc'/>` +
        `<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE'><value>urn:example</value></field><field var='a'><value>b</value></field></x>` +
        `<x xmlns='jabber:x:data' type='result'><field var='c'><value>d</value></field></x></query>`,
    );
    expect(capsVerificationString(capsInputFromQuery(withJunk))).toBe("QgayPKawpkPSDYmwT/WM94uAlu0=");
  });

  it("sorts by UTF-8 octets, not by UTF-16 code units", () => {
    // U+FF21 (EF BC A1) sorts before U+1F600 (F0 9F 98 80) in octets, after it in UTF-16.
    const q = parse(
      `<query xmlns='http://jabber.org/protocol/disco#info'><identity category='a' type='b'/><feature var='\u{1F600}'/><feature var='\uFF21'/></query>`,
    );
    expect(capsString(capsInputFromQuery(q))).toBe("a/b//<\uFF21<\u{1F600}<");
  });

  it("flags ill-formed responses (§5.4 steps 3.3–3.5)", () => {
    const q = parse(
      `<query xmlns='http://jabber.org/protocol/disco#info'><identity category='a' type='b'/><identity category='a' type='b'/>` +
        `<feature var='f'/><feature var='f'/>` +
        `<x xmlns='jabber:x:data'><field var='FORM_TYPE' type='hidden'><value>t</value></field></x>` +
        `<x xmlns='jabber:x:data'><field var='FORM_TYPE' type='hidden'><value>t</value></field></x></query>`,
    );
    expect(capsIllFormed(capsInputFromQuery(q))).toEqual([
      "identity a/b// appears more than once",
      "feature f appears more than once",
      "two forms have the FORM_TYPE t",
    ]);
  });

  it("names hashes as the IANA registry does", () => {
    expect(capsHashAlgorithm("sha-1")).toBe("sha1");
    expect(capsHashAlgorithm("sha-256")).toBe("sha256");
    expect(capsHashAlgorithm("made-up")).toBeUndefined();
  });
});
