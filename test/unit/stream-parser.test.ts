/** The TCP stream's XML reader: element boundaries, the stanza size limit, whitespace, namespaces. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SessionError } from "../../src/session/errors.js";
import { StreamParser } from "../../src/session/stream-parser.js";

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

function reader(max = 1024) {
  const parser = new StreamParser(max);
  const got = { elements: [] as string[], errors: [] as Error[], header: undefined as string | undefined };
  parser.on("start", (el) => (got.header = el.name));
  parser.on("element", (el) => got.elements.push(el.toString()));
  parser.on("error", (err) => got.errors.push(err));
  return { parser, got };
}

/** Writes `data` in pieces of `size` until an error; returns the characters written. */
function feed(parser: StreamParser, got: { errors: Error[] }, data: Iterable<string>): number {
  let written = 0;
  for (const piece of data) {
    if (got.errors.length > 0) break;
    parser.write(piece);
    written += piece.length;
  }
  return written;
}

function* repeated(text: string, times: number): Iterable<string> {
  for (let i = 0; i < times; i++) yield text;
}

describe("StreamParser", () => {
  it("delivers each top-level element, whatever the chunking", () => {
    const stream = `${HEADER} <stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>\n<iq type='result' id='a&amp;b' x='1>2'/> <message><body>a &lt; b <![CDATA[<x/>]]></body></message>`;
    const { parser: whole, got: expected } = reader();
    whole.write(stream);
    expect(expected.errors).toEqual([]);
    expect(expected.elements).toHaveLength(3);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 20 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const { parser, got } = reader();
        let from = 0;
        for (const p of [...points, stream.length]) {
          parser.write(stream.slice(from, p));
          from = p;
        }
        expect(got.errors).toEqual([]);
        expect(got.elements).toEqual(expected.elements);
      }),
    );
  });

  it("keeps whitespace inside a tag (after a '>' in an attribute value) and in text", () => {
    const { parser, got } = reader();
    parser.write(`${HEADER}<iq a='x>`);
    parser.write("  y'><q>  z  </q></iq>");
    expect(got.elements).toEqual([`<iq a="x&gt;  y"><q>  z  </q></iq>`]);
  });

  it("counts each element on its own: many small stanzas are fine, one big one is not", () => {
    const { parser, got } = reader(1024);
    parser.write(HEADER);
    feed(parser, got, repeated(`<message><body>${"a".repeat(500)}</body></message>`, 1000));
    expect(got.errors).toEqual([]);
    expect(got.elements).toHaveLength(1000);
  });

  it("refuses an element larger than the limit before more than the limit was given to ltx", () => {
    const { parser, got } = reader(64 * 1024);
    parser.write(HEADER);
    const chunk = "a".repeat(16 * 1024);
    const written = feed(parser, got, (function* () {
      yield "<message><body>";
      yield* repeated(chunk, 640); // 10 MiB
    })());
    expect(got.errors).toHaveLength(1);
    expect(got.errors[0]).toBeInstanceOf(SessionError);
    expect(got.errors[0]).toMatchObject({ kind: "limit" });
    expect(got.errors[0]!.message).toMatch(/<message\/> larger than 65536 bytes.*--max-stanza-size/);
    expect(written).toBeLessThanOrEqual(64 * 1024 + chunk.length + 100);
    parser.write("</body></message><iq/>");
    expect(got.elements).toEqual([]); // nothing more after an error
    expect(got.errors).toHaveLength(1);
  });

  it("applies the limit to the stream header and to a start tag that never ends", () => {
    const header = reader(1024);
    feed(header.parser, header.got, ["<stream:stream xmlns:stream='http://etherx.jabber.org/streams' x='", ...repeated("b".repeat(512), 10)]);
    expect(header.got.errors[0]!.message).toMatch(/<stream:stream\/> larger than 1024 bytes/);
    const tag = reader(1024);
    tag.parser.write(HEADER);
    feed(tag.parser, tag.got, ["<iq junk='", ...repeated("b".repeat(512), 10)]);
    expect(tag.got.errors[0]!.message).toMatch(/an element larger than 1024 bytes/);
  });

  it("drops whitespace between stanzas: megabytes of it never reach the limit", () => {
    const { parser, got } = reader(1024);
    parser.write(HEADER);
    feed(parser, got, repeated(" \n\t".repeat(20_000), 200)); // 12 MB
    parser.write("<iq id='after'/>");
    expect(got.errors).toEqual([]);
    expect(got.elements).toEqual(['<iq id="after"/>']);
  });

  it("refuses text outside any stanza and text instead of a stream header", () => {
    const between = reader();
    between.parser.write(`${HEADER}<iq/> hello <iq/>`);
    expect(between.got.errors.map((e) => e.message)).toEqual(['text outside any stanza: "hello <iq/>"']);
    const before = reader();
    before.parser.write("HTTP/1.1 400 Bad Request\r\n\r\n");
    expect(before.got.errors.map((e) => e.message)).toEqual(['text instead of a stream header: "HTTP/1.1 400 Bad Request"']);
  });

  it("refuses a closing tag that does not match", () => {
    const { parser, got } = reader();
    parser.write(`${HEADER}<a><b></a></b>`);
    expect(got.errors.map((e) => e.message)).toEqual(["</a> where </b> was expected"]);
  });

  it("resolves prefixes through ancestors and the stream header; an unbound one is an error", () => {
    const ok = reader();
    ok.parser.write(`${HEADER}<stream:features xml:lang='en'><x:a xmlns:x='urn:x'><x:b x:c='1'/></x:a></stream:features>`);
    expect(ok.got.errors).toEqual([]);
    expect(ok.got.elements).toHaveLength(1);
    for (const [xml, prefix] of [
      ["<x:a/>", "x"],
      ["<a y:c='1'/>", "y"],
      ["<a xmlns:x='urn:x'/><x:b/>", "x"], // a declaration does not outlive its element
    ] as const) {
      const bad = reader();
      bad.parser.write(`${HEADER}${xml}`);
      expect(bad.got.errors.map((e) => e.message)).toEqual([expect.stringContaining(`unbound namespace prefix "${prefix}"`)]);
    }
    const header = reader();
    header.parser.write("<stream:stream xmlns='jabber:client'>");
    expect(header.got.errors[0]!.message).toMatch(/unbound namespace prefix "stream" in <stream:stream>/);
  });
});
