/**
 * XEP-0156 host-meta parsing and where xepcheck asks for it; the small
 * helpers the web transports share (namespaces of framed stanzas, BOSH body
 * children, TLS names for URLs with an IP address).
 */
import parse from "@xmpp/xml/lib/parse.js";
import { xml } from "@xmpp/xml";
import { describe, expect, it } from "vitest";
import { xboshAttribute } from "../../src/checks/xep-0206-bosh.js";
import {
  REL_BOSH,
  REL_WEBSOCKET,
  allLinks,
  hostMetaCandidates,
  linksOf,
  parseJrd,
  parseXrd,
  type HostMeta,
  type HostMetaDocument,
} from "../../src/probe/host-meta.js";
import { standalone } from "../../src/session/bosh.js";
import { webTlsNames, withClientNamespace } from "../../src/session/transport.js";

// As ejabberd 24.12 serves it: XML declaration, a newline, then the XRD.
const EJABBERD_XRD = `<?xml version='1.0' encoding='utf-8'?>
<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel='urn:xmpp:alt-connections:xbosh' href='https://ejabberd.test:5443/bosh'/><Link rel='urn:xmpp:alt-connections:websocket' href='wss://ejabberd.test:5443/ws'/></XRD>`;
// As Prosody 13 serves it (mod_http_altconnect).
const PROSODY_JRD = `{"links":[{"rel":"urn:xmpp:alt-connections:xbosh","href":"https://prosody.test:5281/http-bind"},{"rel":"urn:xmpp:alt-connections:websocket","href":"wss://prosody.test:5281/xmpp-websocket"}]}`;

function doc(format: "xrd" | "jrd", links: { rel: string; href: string }[], status = 200): HostMetaDocument {
  return { format, url: `https://example.org/.well-known/host-meta${format === "jrd" ? ".json" : ""}`, status, cors: {}, links };
}

describe("host-meta documents (XEP-0156 §2)", () => {
  it("reads the links of an XRD, declaration and whitespace included", () => {
    expect(parseXrd(EJABBERD_XRD)).toEqual([
      { rel: REL_BOSH, href: "https://ejabberd.test:5443/bosh" },
      { rel: REL_WEBSOCKET, href: "wss://ejabberd.test:5443/ws" },
    ]);
  });

  it("refuses what is not an XRD", () => {
    expect(() => parseXrd("<html xmlns='http://www.w3.org/1999/xhtml'/>")).toThrow(/not an XRD/);
    expect(() => parseXrd("<XRD/>")).toThrow(/not an XRD/);
  });

  it("reads the links of a JRD and refuses what is not one", () => {
    expect(parseJrd(PROSODY_JRD).map((l) => l.href)).toEqual([
      "https://prosody.test:5281/http-bind",
      "wss://prosody.test:5281/xmpp-websocket",
    ]);
    expect(() => parseJrd("[]")).toThrow(/not a JRD/);
    expect(() => parseJrd(`{"links": 3}`)).toThrow(/not a JRD/);
    expect(() => parseJrd("<XRD/>")).toThrow();
  });

  it("lists the endpoints of the documents that were served, without duplicates", () => {
    const ws = { rel: REL_WEBSOCKET, href: "wss://example.org/ws" };
    const meta: HostMeta = { xrd: doc("xrd", [ws]), jrd: doc("jrd", [ws, { rel: REL_BOSH, href: "https://example.org/bosh" }]) };
    expect(allLinks(meta)).toHaveLength(2);
    expect(linksOf(meta, "websocket")).toEqual(["wss://example.org/ws"]);
    expect(linksOf(meta, "bosh")).toEqual(["https://example.org/bosh"]);
    const unserved: HostMeta = { xrd: { ...doc("xrd", [ws], 404), error: "HTTP 404" }, jrd: doc("jrd", []) };
    expect(linksOf(unserved, "websocket")).toEqual([]);
  });
});

describe("where host-meta is asked", () => {
  const base = { domain: "example.org", host: "127.0.0.1", tls: {}, timeoutMs: 1000 };

  it("asks the domain on port 443, at --host when one was given", () => {
    expect(hostMetaCandidates({ ...base, configuredHost: false })).toEqual([expect.objectContaining({ domain: "example.org", port: 443 })]);
    expect(hostMetaCandidates({ ...base, configuredHost: false })[0]!.connectHost).toBeUndefined();
    expect(hostMetaCandidates({ ...base, configuredHost: true })[0]).toMatchObject({ port: 443, connectHost: "127.0.0.1" });
  });

  it("with --url, asks the URL's host and port first (still for the domain), then port 443", () => {
    const candidates = hostMetaCandidates({ ...base, configuredHost: true, url: "wss://127.0.0.1:5443/ws" });
    expect(candidates).toHaveLength(2);
    expect(candidates[0]).toMatchObject({ domain: "example.org", port: 5443, connectHost: "127.0.0.1" });
    expect(candidates[1]).toMatchObject({ domain: "example.org", port: 443, connectHost: "127.0.0.1" });
  });
});

describe("framing helpers", () => {
  it("puts stanzas in jabber:client for WebSocket and BOSH, and nothing else", () => {
    const iq = xml("iq", { type: "get", id: "1" }, xml("ping", { xmlns: "urn:xmpp:ping" }));
    expect(withClientNamespace(iq).toString()).toBe(`<iq type="get" id="1" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`);
    expect(iq.attrs.xmlns).toBeUndefined(); // the original (in the transcript) is untouched
    const auth = xml("auth", { xmlns: "urn:ietf:params:xml:ns:xmpp-sasl" });
    expect(withClientNamespace(auth)).toBe(auth);
  });

  it("makes BOSH body children stand alone: the stream prefix declared, stanzas in jabber:client", () => {
    const body = parse(
      `<body xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='http://etherx.jabber.org/streams'>` +
        `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features><iq type='result' id='a'/></body>`,
    );
    const [features, iq] = body.getChildElements().map((c) => standalone(c, body));
    expect(features!.is("features", "http://etherx.jabber.org/streams")).toBe(true);
    expect(features!.parent).toBeNull();
    expect(iq!.getNS()).toBe("jabber:client");
  });

  it("finds urn:xmpp:xbosh attributes whatever their prefix", () => {
    expect(xboshAttribute({ "xmlns:xmpp": "urn:xmpp:xbosh", "xmpp:restartlogic": "true" }, "restartlogic")).toBe("true");
    expect(xboshAttribute({ "xmlns:x": "urn:xmpp:xbosh", "x:version": "1.0" }, "version")).toBe("1.0");
    expect(xboshAttribute({ "xmpp:restartlogic": "true" }, "restartlogic")).toBeUndefined();
  });

  it("names the XMPP domain in TLS when the URL has an IP address", () => {
    expect(webTlsNames("127.0.0.1", "example.org").servername).toBe("example.org");
    expect(webTlsNames("web.example.org", "example.org").servername).toBe("web.example.org");
  });
});
