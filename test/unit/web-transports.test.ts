/**
 * XmppStream over WebSocket (RFC 7395) and BOSH (XEP-0206) against small
 * fake servers on loopback (plain ws:// and http://): framing, headers,
 * round-trip counts, BOSH request pacing, and the refusal to log in without
 * TLS. The real logins are in test/integration/web.test.ts.
 */
import http from "node:http";
import type net from "node:net";
import { xml, type Element } from "@xmpp/xml";
import parse from "@xmpp/xml/lib/parse.js";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { ORDER_GAP_MS } from "../../src/session/bosh.js";
import { SessionError } from "../../src/session/errors.js";
import { login } from "../../src/session/login.js";
import { XmppStream, type StreamOptions } from "../../src/session/stream.js";

const NS_HTTPBIND = "http://jabber.org/protocol/httpbind";
const NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing";
const FEATURES =
  "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>" +
  "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>";

let closeServer: (() => Promise<void>) | undefined;
afterEach(async () => {
  await closeServer?.();
  closeServer = undefined;
});

function options(transport: "websocket" | "bosh", url: string): StreamOptions {
  return { domain: "example.org", host: "127.0.0.1", port: 1, mode: "starttls", tls: {}, timeoutMs: 2000, transport, url };
}

function pingResult(el: Element): string {
  return `<iq type='result' id='${el.attrs.id}' from='example.org' xmlns='jabber:client'/>`;
}

/** A connection manager that answers what it can at once and holds an empty request until the next one comes (hold=1). */
async function fakeBosh(behave: { status?: number } = {}) {
  const arrivals: { rid: number; at: number; body: string }[] = [];
  let held: http.ServerResponse | undefined;
  const reply = (res: http.ServerResponse, inner = "", attrs = "") =>
    res.writeHead(200, { "Content-Type": "text/xml; charset=utf-8", "Access-Control-Allow-Origin": "*" }).end(
      `<body xmlns='${NS_HTTPBIND}' xmlns:stream='http://etherx.jabber.org/streams'${attrs}>${inner}</body>`,
    );
  const server = http.createServer((req, res) => {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      if (behave.status) return res.writeHead(behave.status).end("no");
      const body = parse(text);
      arrivals.push({ rid: Number(body.attrs.rid), at: performance.now(), body: text });
      if (held) {
        reply(held); // hold=1: a new request releases the held one
        held = undefined;
      }
      if (!body.attrs.sid) {
        return reply(
          res,
          FEATURES,
          ` sid='s1' wait='60' requests='2' hold='1' inactivity='60' polling='0' authid='a1' from='example.org'` +
            ` xmpp:version='1.0' xmpp:restartlogic='true' xmlns:xmpp='urn:xmpp:xbosh'`,
        );
      }
      if (body.attrs.type === "terminate") return reply(res, "", " type='terminate'");
      const iqs = body.getChildren("iq");
      if (iqs.length) return reply(res, iqs.map(pingResult).join(""));
      held = res;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const sockets = new Set<net.Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  closeServer = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/bosh`, arrivals };
}

/** A WebSocket server speaking RFC 7395 framing, or refusing the subprotocol. */
async function fakeWebSocket(behave: { selectXmpp?: boolean; featuresPadding?: number } = {}) {
  const received: string[] = [];
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    handleProtocols: (protocols) => (behave.selectXmpp !== false && protocols.has("xmpp") ? "xmpp" : false),
  });
  wss.on("connection", (ws) => {
    ws.on("message", (data) => {
      const text = data.toString();
      received.push(text);
      const el = parse(text);
      if (el.is("open", NS_FRAMING)) {
        ws.send(`<open xmlns='${NS_FRAMING}' from='example.org' id='w1' version='1.0' xml:lang='en'/>`);
        ws.send(behave.featuresPadding ? FEATURES.replace("</stream:features>", `<x>${"a".repeat(behave.featuresPadding)}</x></stream:features>`) : FEATURES);
      } else if (el.is("close", NS_FRAMING)) {
        ws.send(`<close xmlns='${NS_FRAMING}'/>`);
      } else if (el.is("iq")) {
        ws.send(pingResult(el));
      }
    });
  });
  await new Promise<void>((resolve) => wss.once("listening", resolve));
  closeServer = () =>
    new Promise<void>((resolve) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => resolve());
    });
  return { url: `ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}/ws`, received };
}

const ping = () => xml("iq", { type: "get", to: "example.org" }, xml("ping", { xmlns: "urn:xmpp:ping" }));

describe("XmppStream over WebSocket (RFC 7395)", () => {
  it("opens with <open/>, reads the features, frames one element per message, closes with <close/>", async () => {
    const fake = await fakeWebSocket();
    const stream = await XmppStream.open(options("websocket", fake.url));
    expect(stream.transport).toBe("websocket");
    expect(stream.header).toMatchObject({ from: "example.org", id: "w1", version: "1.0" });
    expect(stream.features.getChild("mechanisms", "urn:ietf:params:xml:ns:xmpp-sasl")).toBeTruthy();
    expect(stream.transportFacts).toMatchObject({ url: fake.url, subprotocol: "xmpp" });
    // TCP connect, HTTP upgrade, <open/>: three round trips (no TLS on ws://).
    expect(stream.meter.roundTrips).toBe(3);
    await stream.iq(ping());
    expect(stream.meter.roundTrips).toBe(4);
    expect(fake.received[0]).toMatch(/^<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.org' version='1.0'/);
    expect(fake.received[1]).toMatch(/^<iq type="get" to="example.org" id="[^"]+" xmlns="jabber:client">/);
    await stream.close();
    expect(fake.received[2]).toBe(`<close xmlns='${NS_FRAMING}'/>`);
    expect(stream.serverClosed).toBe(true);
  });

  it("fails the handshake when the server does not select the 'xmpp' subprotocol", async () => {
    const fake = await fakeWebSocket({ selectXmpp: false });
    const err = await XmppStream.open(options("websocket", fake.url)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionError);
    expect((err as SessionError).message).toMatch(/subprotocol/);
  });

  it("never authenticates over ws:// (no TLS)", async () => {
    const fake = await fakeWebSocket();
    const err = await login({ ...options("websocket", fake.url), credentials: { username: "alice", password: "secret" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionError);
    expect((err as SessionError).message).toMatch(/not TLS-protected/);
    expect(fake.received.some((m) => m.includes("<auth"))).toBe(false);
  });
});

describe("XmppStream over BOSH (XEP-0206)", () => {
  it("creates a session as the stream header, one HTTP request per exchange, terminates at close", async () => {
    const fake = await fakeBosh();
    const stream = await XmppStream.open(options("bosh", fake.url));
    expect(stream.header).toMatchObject({ from: "example.org", id: "a1", version: "1.0" });
    expect(stream.features.getChild("mechanisms", "urn:ietf:params:xml:ns:xmpp-sasl")).toBeTruthy();
    expect(stream.transportFacts.attributes).toMatchObject({ sid: "s1", "xmpp:restartlogic": "true" });
    expect(stream.transportFacts.cors).toEqual({ "access-control-allow-origin": "*" });
    // TCP connect + the session creation request.
    expect(stream.meter.roundTrips).toBe(2);
    await stream.iq(ping());
    expect(stream.meter.roundTrips).toBe(3);
    await stream.close();
    expect(stream.serverClosed).toBe(true);
    const creation = parse(fake.arrivals[0]!.body);
    expect(creation.attrs).toMatchObject({ to: "example.org", hold: "1", "xmpp:version": "1.0", "xmlns:xmpp": "urn:xmpp:xbosh" });
    expect(fake.arrivals[1]!.body).toContain(`xmlns="jabber:client"`);
    expect(fake.arrivals.at(-1)!.body).toContain("type='terminate'");
    const rids = fake.arrivals.map((a) => a.rid);
    expect(rids).toEqual(rids.map((_, i) => rids[0]! + i));
  });

  it("keeps a request pending once bound, and never sends a request right behind one in flight", async () => {
    const fake = await fakeBosh();
    const stream = await XmppStream.open(options("bosh", fake.url));
    stream.jid = "alice@example.org/r"; // as login() does after binding
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.arrivals).toHaveLength(2); // creation, then the pending empty request
    expect(parse(fake.arrivals[1]!.body).getChildElements()).toHaveLength(0);
    // Two stanzas at once: the first goes, the second waits until the first can have arrived.
    stream.send(xml("message", { to: "bob@example.org" }, xml("body", {}, "one")));
    stream.send(xml("message", { to: "bob@example.org" }, xml("body", {}, "two")));
    await new Promise((r) => setTimeout(r, ORDER_GAP_MS * 4));
    const [one, two] = fake.arrivals.slice(2);
    expect(one!.body).toContain("one");
    expect(two!.body).toContain("two");
    expect(two!.at - one!.at).toBeGreaterThanOrEqual(ORDER_GAP_MS - 5);
    await stream.close();
  });

  it("ends the stream when the connection manager answers with an HTTP error", async () => {
    const fake = await fakeBosh({ status: 404 });
    const err = await XmppStream.open(options("bosh", fake.url)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionError);
    expect((err as SessionError).message).toMatch(/HTTP 404/);
  });
});

describe("the maximum stanza size over WebSocket and BOSH", () => {
  it("WebSocket: a message larger than the limit ends the stream with a limit error naming --max-stanza-size", async () => {
    const fake = await fakeWebSocket({ featuresPadding: 200_000 });
    const err = await XmppStream.open({ ...options("websocket", fake.url), maxStanzaBytes: 65_536 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionError);
    expect(err).toMatchObject({ kind: "limit" });
    expect((err as SessionError).message).toMatch(/larger than 65536 bytes.*--max-stanza-size/);
  });

  it("BOSH: a body larger than the limit is refused before it is buffered whole", async () => {
    let written = 0;
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/xml" });
      const chunk = "a".repeat(16_384);
      // Up to 8 MB, as fast as the client reads; the client must hang up long before.
      const pump = () => {
        while (written < 8_000_000) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      res.write("<body xmlns='http://jabber.org/protocol/httpbind'>");
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closeServer = () => new Promise<void>((resolve) => server.close(() => resolve()));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/bosh`;
    const err = await XmppStream.open({ ...options("bosh", url), maxStanzaBytes: 65_536 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "limit" });
    expect(written).toBeLessThan(8_000_000);
  });
});
