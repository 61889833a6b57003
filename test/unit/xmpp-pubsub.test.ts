/** Pure helpers of the PEP and storage protocol clients (src/xmpp). */
import { inflateSync } from "node:zlib";
import { xml } from "@xmpp/xml";
import parse from "@xmpp/xml/lib/parse.js";
import { describe, expect, it } from "vitest";
import type { Actor } from "../../src/scenario/actor.js";
import { crc32, sha1Hex, tinyPng } from "../../src/xmpp/avatar.js";
import { capsVer } from "../../src/xmpp/caps.js";
import { publishOptions, serialized } from "../../src/xmpp/pubsub.js";
import { vcardPhoto } from "../../src/xmpp/vcard.js";
import { canonical, sameXml } from "../../src/xmpp/xml.js";

describe("capsVer", () => {
  it("computes the XEP-0115 §5.2 example", () => {
    const ver = capsVer(
      [{ category: "client", type: "pc", name: "Exodus 0.9.1" }],
      ["http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items", "http://jabber.org/protocol/muc", "http://jabber.org/protocol/caps"],
    );
    expect(ver).toBe("QgayPKawpkPSDYmwT/WM94uAlu0=");
  });
});

describe("tinyPng", () => {
  it("is a valid PNG: signature, chunks with correct CRCs, one 1x1 grey pixel", () => {
    const png = tinyPng("xc-token");
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const chunks: { type: string; data: Buffer }[] = [];
    for (let at = 8; at < png.length; ) {
      const length = png.readUInt32BE(at);
      const type = png.subarray(at + 4, at + 8).toString("latin1");
      const data = png.subarray(at + 8, at + 8 + length);
      expect(png.readUInt32BE(at + 8 + length), `CRC of ${type}`).toBe(crc32(png.subarray(at + 4, at + 8 + length)));
      chunks.push({ type, data });
      at += 12 + length;
    }
    expect(chunks.map((c) => c.type)).toEqual(["IHDR", "tEXt", "IDAT", "IEND"]);
    expect(chunks[0]!.data.readUInt32BE(0)).toBe(1);
    expect(chunks[0]!.data.readUInt32BE(4)).toBe(1);
    expect(chunks[1]!.data.toString("latin1")).toBe("Comment\0xc-token");
    expect(inflateSync(chunks[2]!.data)).toEqual(Buffer.from([0, 0x80]));
  });

  it("differs per token, so each run publishes a new hash", () => {
    expect(sha1Hex(tinyPng("a"))).not.toBe(sha1Hex(tinyPng("b")));
  });

  it("crc32 is the standard one", () => {
    expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926);
  });
});

describe("canonical", () => {
  it("ignores attribute order, namespace spelling and whitespace between elements", () => {
    const a = parse(`<c xmlns='urn:x' b='2' a='1'>\n  <nick>n</nick>\n</c>`);
    const b = parse(`<p:c xmlns:p='urn:x' a='1' b='2'><p:nick>n</p:nick></p:c>`);
    expect(canonical(a)).toBe(canonical(b));
    expect(sameXml(a, b)).toBe(true);
  });

  it("sees a changed text, attribute, namespace or child", () => {
    const base = canonical(parse(`<c xmlns='urn:x' a='1'><nick>n</nick></c>`));
    expect(canonical(parse(`<c xmlns='urn:x' a='1'><nick>m</nick></c>`))).not.toBe(base);
    expect(canonical(parse(`<c xmlns='urn:x' a='2'><nick>n</nick></c>`))).not.toBe(base);
    expect(canonical(parse(`<c xmlns='urn:y' a='1'><nick>n</nick></c>`))).not.toBe(base);
    expect(canonical(parse(`<c xmlns='urn:x' a='1'><nick>n</nick><x/></c>`))).not.toBe(base);
  });
});

describe("vcardPhoto", () => {
  it("decodes BINVAL (with line breaks) and reads TYPE", () => {
    const png = tinyPng("t");
    const b64 = png.toString("base64").replace(/(.{20})/g, "$1\n");
    const vcard = xml("vCard", { xmlns: "vcard-temp" }, xml("PHOTO", {}, xml("TYPE", {}, "image/png"), xml("BINVAL", {}, b64)));
    expect(vcardPhoto(vcard)).toMatchObject({ type: "image/png", bytes: png });
    expect(vcardPhoto(xml("vCard", { xmlns: "vcard-temp" }))).toBeUndefined();
  });
});

describe("publishOptions", () => {
  it("is a submit form of FORM_TYPE publish-options with pubsub# fields", () => {
    const el = publishOptions({ access_model: "whitelist", max_items: "max" });
    expect(el.toString()).toBe(
      "<publish-options><x xmlns=\"jabber:x:data\" type=\"submit\"><field var=\"FORM_TYPE\" type=\"hidden\"><value>http://jabber.org/protocol/pubsub#publish-options</value></field>" +
        "<field var=\"pubsub#access_model\"><value>whitelist</value></field><field var=\"pubsub#max_items\"><value>max</value></field></x></publish-options>",
    );
  });
});

describe("serialized", () => {
  /** Only the bare JID of an actor is used. */
  const actorOf = (jid: string) => ({ bare: jid }) as Actor;

  it("runs changes one after the other, even when one fails", async () => {
    const log: string[] = [];
    const step = (name: string, ms: number, fail = false) =>
      serialized(actorOf("alice@example.org"), async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([step("a", 30, true), step("b", 5), step("c", 1)]);
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled", "fulfilled"]);
  });

  it("does not make another account's changes (another server's, in a run of many) wait", async () => {
    const log: string[] = [];
    const step = (jid: string, name: string, ms: number) =>
      serialized(actorOf(jid), async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
      });
    await Promise.all([step("alice@one.example", "one", 30), step("alice@two.example", "two", 1)]);
    expect(log).toEqual(["start one", "start two", "end two", "end one"]);
  });
});
