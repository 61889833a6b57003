/**
 * The XML reader of every transport (src/session/xml-reader.ts): element
 * boundaries, the size and depth limits, whitespace, namespaces, and the
 * XML that RFC 6120 §11 forbids (restricted XML, other encodings, characters
 * XML forbids), each an error naming what arrived and the section.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SessionError } from "../../src/session/errors.js";
import { StreamReader, XmlError, parseXmlDocument, readerFailure } from "../../src/session/xml-reader.js";

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

function reader(maxStanzaBytes = 1024, maxDepth = 100) {
  const got = { elements: [] as string[], sizes: [] as number[], errors: [] as (Error & { condition?: string })[], header: undefined as string | undefined, ended: false };
  const parser = new StreamReader(
    { maxStanzaBytes, maxDepth },
    {
      header: (el) => (got.header = el.name),
      element: (el, bytes) => {
        got.elements.push(el.toString());
        got.sizes.push(bytes);
      },
      end: () => (got.ended = true),
      error: (err) => got.errors.push(err),
    },
  );
  const write = (text: string | Buffer) => parser.write(typeof text === "string" ? Buffer.from(text) : text);
  return { write, got };
}

/** Writes `data` in pieces until an error; returns the characters written. */
function feed(write: (s: string) => void, got: { errors: Error[] }, data: Iterable<string>): number {
  let written = 0;
  for (const piece of data) {
    if (got.errors.length > 0) break;
    write(piece);
    written += piece.length;
  }
  return written;
}

function* repeated(text: string, times: number): Iterable<string> {
  for (let i = 0; i < times; i++) yield text;
}

const messages = (got: { errors: Error[] }) => got.errors.map((e) => e.message);

describe("StreamReader: elements and limits", () => {
  it("delivers each top-level element, whatever the chunking, even cut inside a UTF-8 sequence", () => {
    const stream = `${HEADER} <stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>\n<iq type='result' id='a&amp;b' x='1>2'/> <message><body>a &lt; b &#x263A; é 𝄞 <![CDATA[<x/> ]] ]]></body></message>`;
    const bytes = Buffer.from(stream);
    const expected = reader();
    expected.write(bytes);
    expect(expected.got.errors).toEqual([]);
    expect(expected.got.elements).toHaveLength(3);
    expect(expected.got.elements[2]).toBe("<message><body>a &lt; b ☺ é 𝄞 &lt;x/&gt; ]] </body></message>");
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 20 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const { write, got } = reader();
        let from = 0;
        for (const p of [...points, bytes.length]) {
          write(bytes.subarray(from, p));
          from = p;
        }
        expect(got.errors).toEqual([]);
        expect(got.elements).toEqual(expected.got.elements);
        expect(got.sizes).toEqual(expected.got.sizes);
      }),
    );
  });

  it("reports each element's size in bytes, from its '<' to its last '>'", () => {
    const { write, got } = reader();
    write(`${HEADER}  <iq id='é'/>\n<message><body>ab</body></message>`);
    expect(got.sizes).toEqual([Buffer.byteLength("<iq id='é'/>"), Buffer.byteLength("<message><body>ab</body></message>")]);
  });

  it("keeps whitespace inside a tag (after a '>' in an attribute value) and in text", () => {
    const { write, got } = reader();
    write(`${HEADER}<iq a='x>`);
    write("  y'><q>  z  </q></iq>");
    expect(got.elements).toEqual([`<iq a="x&gt;  y"><q>  z  </q></iq>`]);
  });

  it("counts each element on its own: many small stanzas are fine, one big one is not", () => {
    const { write, got } = reader(1024);
    write(HEADER);
    feed(write, got, repeated(`<message><body>${"a".repeat(500)}</body></message>`, 1000));
    expect(got.errors).toEqual([]);
    expect(got.elements).toHaveLength(1000);
  });

  it("refuses an element larger than the limit before more than one read past the limit was held", () => {
    const { write, got } = reader(64 * 1024);
    write(HEADER);
    const chunk = "a".repeat(16 * 1024);
    const written = feed(write, got, (function* () {
      yield "<message><body>";
      yield* repeated(chunk, 640); // 10 MiB
    })());
    expect(got.errors).toHaveLength(1);
    expect(got.errors[0]).toBeInstanceOf(SessionError);
    expect(got.errors[0]).toMatchObject({ kind: "limit", condition: "policy-violation" });
    expect(got.errors[0]!.message).toMatch(/<message\/> larger than 65536 bytes.*--max-stanza-size/);
    expect(written).toBeLessThanOrEqual(64 * 1024 + chunk.length + 100);
    write("</body></message><iq/>");
    expect(got.elements).toEqual([]); // nothing more after an error
    expect(got.errors).toHaveLength(1);
  });

  it("refuses an element over the limit that arrives in one read", () => {
    const { write, got } = reader(200);
    write(`${HEADER}<iq id='small'/><message><body>${"b".repeat(300)}</body></message>`);
    expect(got.elements).toEqual([`<iq id="small"/>`]);
    expect(messages(got)).toEqual([expect.stringMatching(/<message\/> larger than 200 bytes/)]);
  });

  it("applies the limit to the stream header and to a start tag that never ends", () => {
    const header = reader(1024);
    feed(header.write, header.got, ["<stream:stream xmlns:stream='http://etherx.jabber.org/streams' x='", ...repeated("b".repeat(512), 10)]);
    expect(header.got.errors[0]!.message).toMatch(/an element larger than 1024 bytes/);
    const tag = reader(1024);
    tag.write(HEADER);
    feed(tag.write, tag.got, ["<iq junk='", ...repeated("b".repeat(512), 10)]);
    expect(tag.got.errors[0]!.message).toMatch(/an element larger than 1024 bytes/);
  });

  it("drops whitespace between stanzas: megabytes of it never reach the limit", () => {
    const { write, got } = reader(1024);
    write(HEADER);
    feed(write, got, repeated(" \n\t".repeat(20_000), 200)); // 12 MB
    write("<iq id='after'/>");
    expect(got.errors).toEqual([]);
    expect(got.elements).toEqual(['<iq id="after"/>']);
  });

  it("ends at the stream's closing tag and reads nothing after it", () => {
    const { write, got } = reader();
    write(`${HEADER}<iq id='1'/></stream:stream><iq id='2'/>`);
    expect(got.elements).toEqual(['<iq id="1"/>']);
    expect(got.ended).toBe(true);
    expect(got.errors).toEqual([]);
  });

  it("refuses text outside any stanza and text instead of a stream header", () => {
    const between = reader();
    between.write(`${HEADER}<iq/> hello <iq/>`);
    expect(messages(between.got)).toEqual(['text outside any stanza: "hello" (RFC 6120 §11.3)']);
    const before = reader();
    before.write("HTTP/1.1 400 Bad Request\r\n\r\n");
    expect(messages(before.got)).toEqual(['text instead of a stream header: "HTTP/1.1 400 Bad Request" (RFC 6120 §11.3)']);
  });

  it("refuses a closing tag that does not match, and other faults of form", () => {
    for (const [xml, message] of [
      ["<a><b></a></b>", "</a> where </b> was expected"],
      ["<a x='1' x='2'/>", "attribute x twice in <a>"],
      ["<a x='1'y='2'/>", `"y" where an attribute or the end of <a> was expected`],
      ["<a x=1/>", `"1" where the value of x in <a> was expected`],
      ["<a x='<'/>", "'<' in the value of x in <a>"],
      ["<1a/>", `"1a" is not an XML name`],
      ["<a:b:c xmlns:a='u'/>", `"a:b:c" is not an XML name`],
      ["<a>&#0;</a>", "the character reference &#0; names a character XML forbids"],
      ["<a>& b</a>", `'&' that begins no entity reference`],
      ["<a/ >", `" " after '/' in <a>`],
      ["<!foo>", `markup that is not XML: "<!f"`],
    ] as const) {
      const { write, got } = reader();
      write(`${HEADER}${xml}`);
      expect(got.errors, xml).toHaveLength(1);
      expect(got.errors[0], xml).toBeInstanceOf(XmlError);
      expect(got.errors[0]!.message, xml).toContain(message);
      expect(got.errors[0]!.condition, xml).toBe("not-well-formed");
    }
  });

  it("resolves prefixes through ancestors and the stream header; an unbound one is an error", () => {
    const ok = reader();
    ok.write(`${HEADER}<stream:features xml:lang='en'><x:a xmlns:x='urn:x'><x:b x:c='1'/></x:a></stream:features>`);
    expect(ok.got.errors).toEqual([]);
    expect(ok.got.elements).toHaveLength(1);
    for (const [xml, prefix] of [
      ["<x:a/>", "x"],
      ["<a y:c='1'/>", "y"],
      ["<a xmlns:x='urn:x'/><x:b/>", "x"], // a declaration does not outlive its element
      ["<a xmlns:x='urn:x'><b xmlns:x='urn:y'/><x:c/></a><x:d/>", "x"], // nor does a redeclaration
    ] as const) {
      const bad = reader();
      bad.write(`${HEADER}${xml}`);
      expect(messages(bad.got)).toEqual([expect.stringContaining(`unbound namespace prefix "${prefix}"`)]);
    }
    const header = reader();
    header.write("<stream:stream xmlns='jabber:client'>");
    expect(header.got.errors[0]!.message).toMatch(/unbound namespace prefix "stream" in <stream:stream>/);
  });
});

describe("StreamReader: depth", () => {
  const nested = (depth: number, open = "<a>", close = "</a>") => `<message>${open.repeat(depth - 1)}${close.repeat(depth - 1)}</message>`;

  it("accepts a stanza exactly as deep as the limit and refuses one level more, naming the option", () => {
    const ok = reader(1 << 20, 20);
    ok.write(`${HEADER}${nested(20)}`);
    expect(ok.got.errors).toEqual([]);
    expect(ok.got.elements).toHaveLength(1);
    const deep = reader(1 << 20, 20);
    deep.write(`${HEADER}${nested(21)}`);
    expect(deep.got.elements).toEqual([]);
    expect(deep.got.errors[0]).toMatchObject({ kind: "limit", condition: "policy-violation" });
    expect(deep.got.errors[0]!.message).toMatch(/<a\/> nested deeper than 20 levels.*--max-xml-depth/);
  });

  it("reads 90 000 prefixed levels in linear time: the limit ends it at once", () => {
    const { write, got } = reader(1 << 20, 100);
    const started = performance.now();
    write(`${HEADER}<message>${"<p:a xmlns:p='urn:x'>".repeat(90_000)}`);
    expect(performance.now() - started).toBeLessThan(1000); // generous: it takes milliseconds
    expect(got.errors[0]!.message).toMatch(/nested deeper than 100 levels/);
  });

  it("at the largest --max-xml-depth (1000), serialising and redacting the deepest stanza does not overflow the stack", async () => {
    const { redactedXml } = await import("../../src/session/transcript.js");
    const { write, got } = reader(1 << 20, 1000);
    const stanzas: import("@xmpp/xml").Element[] = [];
    const parser = new StreamReader({ maxStanzaBytes: 1 << 20, maxDepth: 1000 }, { header() {}, element: (el) => stanzas.push(el), end() {}, error: (e) => got.errors.push(e) });
    parser.write(Buffer.from(`${HEADER}${nested(1000, "<p:a xmlns:p='urn:x'>", "</p:a>").replace("</message>", "<password>x</password></message>")}`));
    write(HEADER);
    expect(got.errors).toEqual([]);
    expect(stanzas).toHaveLength(1);
    expect(redactedXml(stanzas[0]!)).toContain("<password>[redacted]</password>");
  });
});

describe("StreamReader: what RFC 6120 §11 forbids", () => {
  const cases: [string, string | Buffer, string, RegExp][] = [
    ["a DOCTYPE", `<!DOCTYPE stream [<!ENTITY x "y">]>${HEADER}`, "restricted-xml", /a document type declaration <!DOCTYPE \(RFC 6120 §11\.1\)/],
    ["a DOCTYPE after the header", `${HEADER}<!DOCTYPE x>`, "restricted-xml", /a document type declaration <!DOCTYPE/],
    ["a comment", `${HEADER}<!-- hi -->`, "restricted-xml", /a comment <!-- \(RFC 6120 §11\.1\)/],
    ["a comment inside a stanza", `${HEADER}<iq><!-- hi --></iq>`, "restricted-xml", /a comment <!--/],
    ["a processing instruction", `${HEADER}<?php echo 1 ?>`, "restricted-xml", /a processing instruction <\? \(RFC 6120 §11\.1\)/],
    ["a processing instruction instead of a declaration", `<?xml-stylesheet href='a'?>${HEADER}`, "restricted-xml", /a processing instruction "<\?xml-/],
    ["an internal entity reference", `${HEADER}<message><body>&ent;</body></message>`, "restricted-xml", /the entity reference &ent; \(only the predefined entities are allowed\) \(RFC 6120 §11\.1\)/],
    ["an XML declaration of another encoding", `<?xml version='1.0' encoding='ISO-8859-1'?>${HEADER.slice(21)}`, "unsupported-encoding", /naming the encoding "ISO-8859-1", not UTF-8 \(RFC 6120 §11\.6\)/],
    ["bytes that are not UTF-8", Buffer.concat([Buffer.from(`${HEADER}<iq><bind><jid>al`), Buffer.from([0xe9]), Buffer.from("ce@x/r</jid></bind></iq>")]), "unsupported-encoding", /bytes that are not UTF-8: e9 63 at byte \d+ of a read \(RFC 6120 §11\.6\)/],
    ["UTF-16", Buffer.from(`\ufeff${HEADER}`, "utf16le"), "unsupported-encoding", /bytes that are not UTF-8: ff at byte 0/],
    ["U+0001 in an attribute", `${HEADER}<iq id='a\u0001b'/>`, "not-well-formed", /the character U\+0001, which XML forbids \(RFC 6120 §11\.3\)/],
    ["U+FFFE in text", `${HEADER}<message><body>\ufffe</body></message>`, "not-well-formed", /the character U\+FFFE/],
    ["an escaped surrogate", `${HEADER}<message><body>&#xD800;</body></message>`, "not-well-formed", /&#xD800; names a character XML forbids/],
  ];
  for (const [what, input, condition, message] of cases) {
    it(`${what}: ${condition}, nothing delivered after it`, () => {
      const { write, got } = reader();
      write(input);
      write("<iq id='later'/>");
      expect(got.elements).toEqual([]);
      expect(got.errors).toHaveLength(1);
      expect(got.errors[0]).toBeInstanceOf(XmlError);
      expect(got.errors[0]!.condition).toBe(condition);
      expect(got.errors[0]!.message).toMatch(message);
      expect(readerFailure(got.errors[0] as XmlError).message).toMatch(new RegExp(`^the server sent .*; xepcheck closed the stream with <${condition}/>$`));
    });
  }

  it("takes U+FEFF as a character, not a byte order mark (RFC 6120 §11.6): inside text it stays", () => {
    const { write, got } = reader();
    write(`${HEADER}<message><body>\ufeffx</body></message>`);
    expect(got.errors).toEqual([]);
    expect(got.elements).toEqual(["<message><body>\ufeffx</body></message>"]);
  });

  it("accepts an XML declaration with encoding UTF-8 and standalone (§11.5 lets it be ignored)", () => {
    const { write, got } = reader();
    write(`<?xml version="1.0" encoding="utf-8" standalone='no' ?>${HEADER.slice(21)}<iq/>`);
    expect(got.errors).toEqual([]);
    expect(got.header).toBe("stream:stream");
  });
});

describe("parseXmlDocument (WebSocket frames, BOSH bodies)", () => {
  it("returns the root with its children", () => {
    expect(parseXmlDocument("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='x' version='1.0'/>", 10).attrs.to).toBe("x");
    expect(parseXmlDocument("<body xmlns='http://jabber.org/protocol/httpbind'><message><body>hi</body></message></body>", 10).getChildElements()).toHaveLength(1);
  });

  it("refuses what a stream refuses, an incomplete document, and anything after the root", () => {
    expect(() => parseXmlDocument("<message><!-- x --></message>", 10)).toThrow(/a comment <!--/);
    expect(() => parseXmlDocument("<message>", 10)).toThrow(/an incomplete XML document/);
    expect(() => parseXmlDocument("<a/><b/>", 10)).toThrow(/markup after the document's root element/);
    expect(() => parseXmlDocument("<a/> junk", 10)).toThrow(/text outside the document's root element/);
    expect(() => parseXmlDocument("<a><a><a/></a></a>", 2)).toThrow(/nested deeper than 2 levels/);
  });
});
