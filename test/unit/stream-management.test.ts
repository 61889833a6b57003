/**
 * The client side of XEP-0198 (src/session/stream-management.ts) against a
 * scripted stream: what it counts, when it starts counting, how it answers
 * <r/>, and what it re-sends on resumption.
 */
import { describe, expect, it } from "vitest";
import { xml, type Element } from "@xmpp/xml";
import parse from "@xmpp/xml/lib/parse.js";
import { StreamManagement, StreamManagementError, isStanza } from "../../src/session/stream-management.js";
import type { XmppStream } from "../../src/session/stream.js";

/** Just what StreamManagement uses of an XmppStream; `receive` plays the server. */
class FakeStream {
  readonly sent: Element[] = [];
  isClosed = false;
  jid: string | undefined = "alice@example.org/phone";
  private observers = new Set<(el: Element, direction: "in" | "out") => void>();
  private waiting: { match: (el: Element) => boolean; resolve: (el: Element) => void } | undefined;

  observe(fn: (el: Element, direction: "in" | "out") => void): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }
  send(el: Element): void {
    this.sent.push(el);
    this.observers.forEach((fn) => fn(el, "out"));
  }
  request(el: Element, match: (el: Element) => boolean): Promise<Element> {
    const answer = new Promise<Element>((resolve) => (this.waiting = { match, resolve }));
    this.send(el);
    return answer;
  }
  receive(text: string): void {
    const el = parse(text);
    this.observers.forEach((fn) => fn(el, "in"));
    if (this.waiting?.match(el)) {
      this.waiting.resolve(el);
      this.waiting = undefined;
    }
  }
  async close(): Promise<void> {
    this.isClosed = true;
  }
  destroy(): void {
    this.isClosed = true;
  }
  /** The last SM element we sent, as text. */
  lastSm(): string | undefined {
    return [...this.sent].reverse().find((e) => e.attrs.xmlns === "urn:xmpp:sm:3")?.toString();
  }
}

const SM = "urn:xmpp:sm:3";
const as = (f: FakeStream) => f as unknown as XmppStream;

async function enabled(fake: FakeStream, attrs = `id='sm-1' resume='true'`): Promise<StreamManagement> {
  const sm = new StreamManagement(as(fake));
  const enabling = sm.enable({ resume: true });
  fake.receive(`<enabled xmlns='${SM}' ${attrs}/>`);
  await enabling;
  return sm;
}

describe("XEP-0198 client side", () => {
  it("counts iq, message and presence, not nonzas", () => {
    expect(isStanza(parse("<message to='a@b'/>"))).toBe(true);
    expect(isStanza(parse("<iq type='get' id='1'/>"))).toBe(true);
    expect(isStanza(parse("<presence xmlns='jabber:client'/>"))).toBe(true);
    expect(isStanza(parse(`<r xmlns='${SM}'/>`))).toBe(false);
    expect(isStanza(parse("<message xmlns='urn:example'/>"))).toBe(false);
  });

  it("sends <enable resume='true'/> and reads <enabled/>", async () => {
    const fake = new FakeStream();
    const sm = await enabled(fake, `id='abc' resume='1' max='300'`);
    expect(fake.sent[0]!.toString()).toBe(`<enable xmlns="${SM}" resume="true"/>`);
    expect(sm.enabled).toMatchObject({ id: "abc", resume: true, max: 300 });
  });

  it("refuses with StreamManagementError on <failed/>", async () => {
    const fake = new FakeStream();
    const sm = new StreamManagement(as(fake));
    const enabling = sm.enable();
    fake.receive(`<failed xmlns='${SM}'><unexpected-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`);
    await expect(enabling).rejects.toBeInstanceOf(StreamManagementError);
  });

  it("starts counting inbound at <enabled/> and answers <r/> with that count", async () => {
    const fake = new FakeStream();
    const sm = new StreamManagement(as(fake));
    fake.receive("<message from='x@y'><body>before</body></message>"); // before enabling: not counted
    const enabling = sm.enable({ resume: true });
    fake.receive(`<enabled xmlns='${SM}' id='sm-1' resume='true'/>`);
    await enabling;
    fake.receive("<message from='x@y'><body>1</body></message>");
    fake.receive("<presence from='x@y'/>");
    fake.receive(`<r xmlns='${SM}'/>`);
    expect(fake.lastSm()).toBe(`<a xmlns="${SM}" h="2"/>`);
    expect(sm.inbound).toBe(2);
    expect(sm.answered).toEqual([2]);
  });

  it("counts outbound stanzas from <enable/>, forgets acknowledged ones, and takes only a fresh <a/> as the answer to <r/>", async () => {
    const fake = new FakeStream();
    const sm = await enabled(fake);
    fake.send(xml("message", { to: "b@y" }, xml("body", {}, "one")));
    fake.send(xml("message", { to: "b@y" }, xml("body", {}, "two")));
    fake.receive(`<a xmlns='${SM}' h='1'/>`); // unrequested
    expect(sm.outbound).toBe(2);
    expect(sm.pending).toBe(1);
    const asking = sm.requestAck();
    fake.receive(`<a xmlns='${SM}' h='2'/>`);
    expect(await asking).toBe(2);
    expect(sm.pending).toBe(0);
  });

  it("resumes with previd and h, re-sends what the server did not handle, and counts on", async () => {
    const fake = new FakeStream();
    const sm = await enabled(fake);
    fake.receive("<message from='x@y'><body>in</body></message>");
    fake.send(xml("message", { to: "b@y" }, xml("body", {}, "handled")));
    fake.send(xml("message", { to: "b@y" }, xml("body", {}, "lost")));
    sm.drop();

    const next = new FakeStream();
    next.jid = undefined;
    const resuming = sm.resume(as(next));
    expect(next.sent[0]!.toString()).toBe(`<resume xmlns="${SM}" previd="sm-1" h="1"/>`);
    next.receive(`<resumed xmlns='${SM}' previd='sm-1' h='1'/>`);
    await resuming;
    expect(next.jid).toBe("alice@example.org/phone");
    expect(next.sent.slice(1).map((e) => e.getChildText("body"))).toEqual(["lost"]);
    expect(sm.outbound).toBe(2);
    next.receive("<message from='x@y'><body>meanwhile</body></message>");
    next.receive(`<r xmlns='${SM}'/>`);
    expect(next.lastSm()).toBe(`<a xmlns="${SM}" h="2"/>`);
  });

  it("sends a last <a/> before closing, and nothing after", async () => {
    const fake = new FakeStream();
    const sm = await enabled(fake);
    fake.receive("<message from='x@y'><body>in</body></message>");
    await sm.close();
    expect(fake.lastSm()).toBe(`<a xmlns="${SM}" h="1"/>`);
    const count = fake.sent.length;
    fake.receive(`<r xmlns='${SM}'/>`);
    expect(fake.sent.length).toBe(count);
  });
});
