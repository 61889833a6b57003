import { xml } from "@xmpp/xml";
import { describe, expect, it } from "vitest";
import { sessionChange } from "../../src/scenario/session-state.js";

describe("what a sent stanza does to the session (whether it can be parked for the next scenario)", () => {
  it("messages, answers and requests about the account leave it as it was", () => {
    expect(sessionChange(xml("message", { to: "bob@example.org", type: "chat" }, xml("body", {}, "hi")))).toBe("none");
    expect(sessionChange(xml("iq", { type: "result", id: "1" }))).toBe("none");
    expect(sessionChange(xml("iq", { type: "get" }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })))).toBe("none");
    expect(sessionChange(xml("iq", { type: "set" }, xml("vCard", { xmlns: "vcard-temp" })))).toBe("none");
    expect(sessionChange(xml("presence", { to: "bob@example.org", type: "subscribe" }))).toBe("none");
  });

  it("presence that makes it available or is directed is undone by unavailable presence", () => {
    expect(sessionChange(xml("presence"))).toBe("presence");
    expect(sessionChange(xml("presence", { to: "room@muc.example.org/alice" }, xml("x", { xmlns: "http://jabber.org/protocol/muc" })))).toBe("presence");
    expect(sessionChange(xml("presence", { type: "unavailable" }))).toBe("presence");
  });

  it("a roster request makes it an interested resource: for scenarios that request the roster themselves", () => {
    expect(sessionChange(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })))).toBe("roster");
    expect(sessionChange(xml("iq", { type: "set" }, xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: "bob@example.org" }))))).toBe("roster");
  });

  it("blocklist interest, carbons, push, and stream-level elements cannot be undone", () => {
    expect(sessionChange(xml("iq", { type: "get" }, xml("blocklist", { xmlns: "urn:xmpp:blocking" })))).toBe("other");
    expect(sessionChange(xml("iq", { type: "set" }, xml("enable", { xmlns: "urn:xmpp:carbons:2" })))).toBe("other");
    expect(sessionChange(xml("iq", { type: "set" }, xml("enable", { xmlns: "urn:xmpp:push:0", jid: "push.example.org" })))).toBe("other");
    expect(sessionChange(xml("enable", { xmlns: "urn:xmpp:sm:3", resume: "true" }))).toBe("other");
    expect(sessionChange(xml("inactive", { xmlns: "urn:xmpp:csi:0" }))).toBe("other");
  });
});
