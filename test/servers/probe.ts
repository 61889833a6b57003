/**
 * Developer tool: records what a harness server really advertises.
 *
 *   node dist/test/servers/probe.js <prosody|ejabberd> [--json] [--base-port N]
 *
 * Starts the server with the harness (on its default ports), then over STARTTLS
 * (verifying the certificate against caFile) records the stream features before
 * TLS, before and after authentication (SASL PLAIN as alice), and disco#info of
 * the domain, of alice's bare JID, of every disco#items entry and of a freshly
 * created MUC room; also checks direct TLS, the component port, BOSH, WebSocket
 * upgrade, XEP-0215 services and an upload slot. Prints a readable summary (or
 * JSON with --json) and stops the server.
 *
 * Deliberately independent of src/ (uses only node:tls/net and @xmpp/xml's parser).
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { Parser, type Element } from "@xmpp/xml";
import { serverInfo, startServer, type ServerInfo, type ServerKind } from "./harness.js";

const NS_STREAM = "http://etherx.jabber.org/streams";

/** A tiny XMPP stream reader: one parser per stream (header), queue of top-level elements. */
class Wire {
  private parser!: Parser;
  private queue: Element[] = [];
  private waiters: Array<(e: Element) => void> = [];
  streamAttrs: Record<string, string> = {};
  closed = false;
  readonly log: string[] = [];
  constructor(public sock: net.Socket | tls.TLSSocket) {
    this.attach(sock);
  }
  attach(sock: net.Socket | tls.TLSSocket): void {
    this.sock = sock;
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => {
      this.log.push("<< " + d);
      this.parser.write(d);
    });
    sock.on("close", () => {
      this.closed = true;
    });
    sock.on("error", () => {
      this.closed = true;
    });
  }
  detach(): void {
    this.sock.removeAllListeners("data");
    this.sock.removeAllListeners("close");
    this.sock.removeAllListeners("error");
  }
  private newParser(): void {
    this.parser = new Parser();
    this.parser.on("start", (el) => {
      this.streamAttrs = el.attrs;
    });
    this.parser.on("element", (el) => {
      const w = this.waiters.shift();
      if (w) w(el);
      else this.queue.push(el);
    });
    this.parser.on("error", (e) => {
      this.log.push("!! parse error " + e.message);
    });
  }
  send(s: string): void {
    this.log.push(">> " + s);
    this.sock.write(s);
  }
  open(to: string, ns = "jabber:client", from?: string): void {
    this.newParser();
    this.queue = [];
    this.send(
      `<?xml version='1.0'?><stream:stream to='${to}'${from ? ` from='${from}'` : ""} version='1.0' xml:lang='en' xmlns='${ns}' xmlns:stream='${NS_STREAM}'>`,
    );
  }
  next(timeoutMs = 10_000): Promise<Element> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error("timeout waiting for a stanza; last traffic:\n" + this.log.slice(-4).join("\n")));
      }, timeoutMs);
      const w = (e: Element) => {
        clearTimeout(t);
        resolve(e);
      };
      this.waiters.push(w);
    });
  }
  /** Next element matching pred (others are dropped into `skipped`). */
  async until(pred: (e: Element) => boolean, timeoutMs = 10_000): Promise<Element> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()));
      if (pred(e)) return e;
    }
  }
  private idc = 0;
  async iq(type: "get" | "set", to: string | undefined, payload: string, timeoutMs = 10_000): Promise<Element> {
    const id = `p${++this.idc}`;
    this.send(`<iq type='${type}' id='${id}'${to ? ` to='${to}'` : ""}>${payload}</iq>`);
    return this.until((e) => e.name === "iq" && e.attrs.id === id, timeoutMs);
  }
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => resolve(s));
    s.once("error", reject);
  });
}

function upgradeTls(sock: net.Socket | undefined, opts: { port?: number; ca: string; servername: string; alpn?: string[] }): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const t = tls.connect(
      {
        ...(sock ? { socket: sock } : { host: "127.0.0.1", port: opts.port }),
        ca: readFileSync(opts.ca),
        servername: opts.servername,
        ALPNProtocols: opts.alpn,
      },
      () => resolve(t),
    );
    t.once("error", reject);
  });
}

/** Compact description of a <stream:features> element. */
function describeFeatures(f: Element): string[] {
  const out: string[] = [];
  for (const c of f.getChildElements()) {
    const ns = c.attrs.xmlns ?? "";
    if (c.name === "mechanisms") {
      out.push(`mechanisms(${ns}): ${c.getChildren("mechanism").map((m) => m.getText()).join(" ")}`);
    } else if (c.name === "authentication" && ns === "urn:xmpp:sasl:2") {
      const mechs = c.getChildren("mechanism").map((m) => m.getText()).join(" ");
      const inline = c.getChild("inline");
      const inl = inline ? inline.getChildElements().map((i) => describeInline(i)).join("; ") : "";
      out.push(`authentication(urn:xmpp:sasl:2): ${mechs}${inl ? ` | inline: ${inl}` : ""}`);
    } else {
      const kids = c.getChildElements().map((k) => k.name + (k.attrs.xmlns && k.attrs.xmlns !== ns ? `(${k.attrs.xmlns})` : ""));
      const attrs = Object.entries(c.attrs).filter(([k]) => k !== "xmlns").map(([k, v]) => `${k}=${v}`);
      out.push(`${c.name}(${ns})${attrs.length ? " " + attrs.join(" ") : ""}${kids.length ? " [" + kids.join(", ") + "]" : ""}`);
    }
  }
  return out;
}

function describeInline(i: Element): string {
  const ns = i.attrs.xmlns ?? "";
  if (i.name === "bind") {
    const feats = (i.getChild("inline")?.getChildren("feature") ?? []).map((f) => f.attrs.var);
    return `bind(${ns}) inline features: ${feats.join(", ") || "none"}`;
  }
  if (i.name === "fast") {
    return `fast(${ns}) ${i.getChildren("mechanism").map((m) => m.getText()).join(" ")}`;
  }
  return `${i.name}(${ns})`;
}

interface DiscoInfo {
  jid: string;
  node?: string;
  error?: string;
  identities: string[];
  features: string[];
  forms: string[];
}

function parseDiscoInfo(jid: string, iq: Element): DiscoInfo {
  if (iq.attrs.type !== "result") {
    const err = iq.getChild("error");
    return { jid, error: err ? err.getChildElements().map((e) => e.name).join(",") : "?", identities: [], features: [], forms: [] };
  }
  const q = iq.getChild("query", "http://jabber.org/protocol/disco#info");
  const identities = (q?.getChildren("identity") ?? []).map(
    (i) => `${i.attrs.category}/${i.attrs.type}${i.attrs.name ? ` "${i.attrs.name}"` : ""}`,
  );
  const features = (q?.getChildren("feature") ?? []).map((f) => f.attrs.var ?? "").sort();
  const forms = (q?.getChildren("x", "jabber:x:data") ?? []).map((x) => {
    const fields = x.getChildren("field").map((f) => {
      const vals = f.getChildren("value").map((v) => v.getText());
      return `${f.attrs.var}=${vals.join("|")}`;
    });
    return fields.join("; ");
  });
  return { jid, identities, features, forms };
}

async function discoInfo(w: Wire, jid: string): Promise<DiscoInfo> {
  return parseDiscoInfo(jid, await w.iq("get", jid, "<query xmlns='http://jabber.org/protocol/disco#info'/>"));
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

export interface ProbeResult {
  kind: ServerKind;
  startupMs: number;
  featuresBeforeTls: string[];
  featuresAfterTls: string[];
  featuresAfterAuth: string[];
  boundJid?: string;
  directTls: { alpn: string | false | null; authorized: boolean; features: string[] } | { error: string };
  domain: DiscoInfo;
  account: DiscoInfo;
  items: Array<{ jid: string; name?: string; node?: string; info: DiscoInfo }>;
  answers: Record<string, string>;
  room?: DiscoInfo;
  roomCreate?: string;
  roomPresenceXml?: string;
  mixChannel?: string;
  externalServices?: string[];
  uploadSlot?: string;
  register?: string;
  component?: string;
  bosh?: string;
  websocket?: string;
  hostMeta?: string;
}

export async function probe(s: ServerInfo): Promise<ProbeResult> {
  const alice = s.accounts[0];
  if (!alice) throw new Error("no accounts");
  const [user] = alice.jid.split("@") as [string];

  const sock = await connect(s.ports.c2s);
  const w = new Wire(sock);
  w.open(s.domain);
  const f0 = await w.until((e) => e.name === "stream:features");
  const featuresBeforeTls = describeFeatures(f0);
  w.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  const proceed = await w.next();
  if (proceed.name !== "proceed") throw new Error("no <proceed/>: " + proceed.toString());
  w.detach();
  const t = await upgradeTls(sock, { ca: s.caFile, servername: s.domain });
  if (!t.authorized) throw new Error("TLS not authorized: " + String(t.authorizationError));
  w.attach(t);
  w.open(s.domain, "jabber:client", alice.jid);
  const f1 = await w.until((e) => e.name === "stream:features");
  const featuresAfterTls = describeFeatures(f1);

  // XEP-0077 registration form, pre-auth
  let register: string | undefined;
  try {
    const r = await w.iq("get", undefined, "<query xmlns='jabber:iq:register'/>");
    const q = r.getChild("query", "jabber:iq:register");
    register =
      r.attrs.type === "result"
        ? `form: ${q?.getChildElements().map((c) => c.name + (c.name === "x" ? `(${c.getChildren("field").map((f) => f.attrs.var).join(",")})` : "")).join(", ")}`
        : `error: ${r.toString()}`;
  } catch (e) {
    register = `no answer: ${(e as Error).message.split("\n")[0]}`;
  }

  w.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${b64(`\0${user}\0${alice.password}`)}</auth>`);
  const sres = await w.until((e) => e.name === "success" || e.name === "failure");
  if (sres.name !== "success") throw new Error("SASL PLAIN failed: " + sres.toString());
  w.open(s.domain, "jabber:client", alice.jid);
  const f2 = await w.until((e) => e.name === "stream:features");
  const featuresAfterAuth = describeFeatures(f2);
  const bound = await w.iq("set", undefined, "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>probe</resource></bind>");
  const boundJid = bound.getChild("bind")?.getChildText("jid") ?? undefined;
  if (f2.getChild("session", "urn:ietf:params:xml:ns:xmpp-session")) {
    await w.iq("set", undefined, "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/>").catch(() => undefined);
  }
  w.send("<presence/>");

  const domain = await discoInfo(w, s.domain);
  const account = await discoInfo(w, alice.jid);
  const itemsIq = await w.iq("get", s.domain, "<query xmlns='http://jabber.org/protocol/disco#items'/>");
  const items: ProbeResult["items"] = [];
  for (const it of itemsIq.getChild("query")?.getChildren("item") ?? []) {
    const jid = it.attrs.jid ?? "";
    items.push({ jid, name: it.attrs.name, node: it.attrs.node, info: await discoInfo(w, jid) });
  }

  // Do these answer (independent of what is advertised)?
  const answers: Record<string, string> = {};
  const tryIq = async (label: string, type: "get" | "set", to: string | undefined, payload: string) => {
    try {
      const r = await w.iq(type, to, payload);
      const cond = r.getChild("error")?.getChildElements().find((e) => e.name !== "text")?.name;
      answers[label] = r.attrs.type === "result" ? "result" : `error ${cond ?? "?"}`;
    } catch (e) {
      answers[label] = `no answer (${(e as Error).message.split("\n")[0]})`;
    }
  };
  await tryIq("XEP-0049 private get (storage:bookmarks)", "get", undefined, "<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query>");
  await tryIq("XEP-0191 blocklist get", "get", undefined, "<blocklist xmlns='urn:xmpp:blocking'/>");
  await tryIq("XEP-0280 carbons enable", "set", undefined, "<enable xmlns='urn:xmpp:carbons:2'/>");
  await tryIq("XEP-0313 MAM query (own archive)", "set", undefined, "<query xmlns='urn:xmpp:mam:2' queryid='q1'><set xmlns='http://jabber.org/protocol/rsm'><max>1</max></set></query>");
  await tryIq("XEP-0054 vcard-temp get (own)", "get", undefined, "<vCard xmlns='vcard-temp'/>");
  await tryIq("XEP-0092 version (domain)", "get", s.domain, "<query xmlns='jabber:iq:version'/>");
  await tryIq("XEP-0202 time (domain)", "get", s.domain, "<time xmlns='urn:xmpp:time'/>");
  await tryIq("XEP-0199 ping (domain)", "get", s.domain, "<ping xmlns='urn:xmpp:ping'/>");
  await tryIq("XEP-0012 last (domain, uptime)", "get", s.domain, "<query xmlns='jabber:iq:last'/>");
  await tryIq("XEP-0012 last (bob, offline)", "get", s.accounts[1]?.jid, "<query xmlns='jabber:iq:last'/>");
  await tryIq("XEP-0402 PEP bookmarks items", "get", undefined, "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'/></pubsub>");
  await tryIq("XEP-0357 push enable (dummy app server)", "set", undefined, `<enable xmlns='urn:xmpp:push:0' jid='push.example.invalid' node='n1'/>`);
  await tryIq("XEP-0065 proxy streamhost", "get", s.services.proxy65, "<query xmlns='http://jabber.org/protocol/bytestreams'/>");

  // MUC room
  let room: DiscoInfo | undefined;
  let roomCreate: string | undefined;
  const roomJid = `probe-${randomBytes(3).toString("hex")}@${s.services.muc}`;
  w.send(`<presence to='${roomJid}/alice'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
  const selfPres = await w.until((e) => e.name === "presence" && e.attrs.from === `${roomJid}/alice`);
  const codes = (selfPres.getChild("x", "http://jabber.org/protocol/muc#user")?.getChildren("status") ?? []).map((c) => c.attrs.code);
  roomCreate = `self-presence type=${selfPres.attrs.type ?? "available"} status codes: ${codes.join(",")}`;
  const roomPresenceXml = selfPres.toString();
  const occ = selfPres.getChild("occupant-id", "urn:xmpp:occupant-id:0");
  roomCreate += occ ? "; occupant-id present in presence" : "; no occupant-id in presence";
  if (codes.includes("201")) {
    const cfg = await w.iq("set", roomJid, "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query>");
    roomCreate += `; instant-room config: ${cfg.attrs.type}`;
  }
  room = await discoInfo(w, roomJid);
  // XEP-0410 self-ping
  const ping = await w.iq("get", `${roomJid}/alice`, "<ping xmlns='urn:xmpp:ping'/>");
  roomCreate += `; self-ping: ${ping.attrs.type}`;

  // MIX channel (ejabberd only)
  let mixChannel: string | undefined;
  if (s.services.mix) {
    const name = `probe${randomBytes(3).toString("hex")}`;
    const r = await w.iq("set", s.services.mix, `<create channel='${name}' xmlns='urn:xmpp:mix:core:1'/>`);
    mixChannel = `create ${name}@${s.services.mix}: ${r.attrs.type}`;
  }

  // XEP-0215
  let externalServices: string[] | undefined;
  {
    const r = await w.iq("get", s.domain, "<services xmlns='urn:xmpp:extdisco:2'/>");
    externalServices =
      r.attrs.type === "result"
        ? (r.getChild("services")?.getChildren("service") ?? []).map((x) =>
            Object.entries(x.attrs).map(([k, v]) => `${k}=${k === "password" ? "***" : v}`).join(" "),
          )
        : [`error ${r.toString()}`];
  }

  // XEP-0363 slot
  let uploadSlot: string | undefined;
  {
    const r = await w.iq("get", s.services.upload, "<request xmlns='urn:xmpp:http:upload:0' filename='probe.txt' size='5' content-type='text/plain'/>");
    const slot = r.getChild("slot");
    uploadSlot =
      r.attrs.type === "result" && slot
        ? `put=${slot.getChild("put")?.attrs.url} get=${slot.getChild("get")?.attrs.url}`
        : `error ${r.toString()}`;
    const put = slot?.getChild("put")?.attrs.url;
    if (put) {
      const headers: Record<string, string> = { "content-type": "text/plain" };
      for (const h of slot?.getChild("put")?.getChildren("header") ?? []) headers[h.attrs.name ?? "x"] = h.getText();
      try {
        const res = await fetch(put, { method: "PUT", body: "hello", headers });
        uploadSlot += ` | PUT ${res.status}`;
        const get = slot?.getChild("get")?.attrs.url;
        if (get) {
          const g = await fetch(get);
          uploadSlot += ` | GET ${g.status} ${JSON.stringify(await g.text())}`;
        }
      } catch (e) {
        uploadSlot += ` | PUT failed: ${(e as Error).message}`;
      }
    }
  }

  w.send("</stream:stream>");
  t.end();

  // Direct TLS (XEP-0368), stream header WITHOUT a from attribute
  let directTls: ProbeResult["directTls"];
  try {
    const d = await upgradeTls(undefined, { port: s.ports.directTls, ca: s.caFile, servername: s.domain, alpn: ["xmpp-client"] });
    const dw = new Wire(d);
    dw.open(s.domain);
    const f = await dw.until((e) => e.name === "stream:features");
    directTls = { alpn: d.alpnProtocol, authorized: d.authorized, features: describeFeatures(f) };
    d.end();
  } catch (e) {
    directTls = { error: (e as Error).message };
  }

  // XEP-0114 component
  let component: string | undefined;
  try {
    const cs = await connect(s.ports.component);
    const cw = new Wire(cs);
    cw.open(s.component.domain, "jabber:component:accept");
    // the stream id arrives with the header; wait for it
    const deadline = Date.now() + 5000;
    while (!cw.streamAttrs.id && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const hash = createHash("sha1").update((cw.streamAttrs.id ?? "") + s.component.secret).digest("hex");
    cw.send(`<handshake>${hash}</handshake>`);
    const h = await cw.next(5000);
    component = h.name === "handshake" ? "handshake accepted" : `rejected: ${h.toString()}`;
    cs.end();
  } catch (e) {
    component = `failed: ${(e as Error).message.split("\n")[0]}`;
  }

  // BOSH
  let bosh: string | undefined;
  try {
    const res = await fetch(s.urls.bosh, {
      method: "POST",
      headers: { "content-type": "text/xml; charset=utf-8" },
      body: `<body content='text/xml; charset=utf-8' hold='1' rid='${Math.floor(Math.random() * 1e9)}' to='${s.domain}' ver='1.6' wait='5' xml:lang='en' xmpp:version='1.0' xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh'/>`,
    });
    const text = await res.text();
    bosh = `POST ${s.urls.bosh}: ${res.status}, ${/<(stream:)?features/.test(text) ? "has stream features" : "no features: " + text.slice(0, 200)}`;
  } catch (e) {
    bosh = `failed: ${(e as Error).message}`;
  }

  // WebSocket upgrade
  const websocket = await new Promise<string>((resolve) => {
    const u = new URL(s.urls.websocket);
    const req = http.request({
      host: u.hostname,
      port: Number(u.port),
      path: u.pathname,
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
        "Sec-WebSocket-Protocol": "xmpp",
      },
    });
    req.on("upgrade", (res, socket) => {
      resolve(`GET ${s.urls.websocket}: ${res.statusCode} protocol=${res.headers["sec-websocket-protocol"]}`);
      socket.destroy();
    });
    req.on("response", (res) => resolve(`GET ${s.urls.websocket}: ${res.statusCode} (no upgrade)`));
    req.on("error", (e) => resolve(`failed: ${e.message}`));
    req.end();
  });

  // host-meta over https with Host = domain
  const hostMeta = await new Promise<string>((resolve) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port: s.ports.https,
        path: "/.well-known/host-meta",
        servername: s.domain,
        ca: readFileSync(s.caFile),
        headers: { Host: s.domain },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => {
          const links = [...body.matchAll(/rel=['"]([^'"]+)['"][^>]*href=['"]([^'"]+)['"]|href=['"]([^'"]+)['"][^>]*rel=['"]([^'"]+)['"]/g)].map(
            (m) => `${m[1] ?? m[4]} -> ${m[2] ?? m[3]}`,
          );
          resolve(`${res.statusCode} ${links.join("; ")}`);
        });
      },
    );
    req.on("error", (e) => resolve(`failed: ${e.message}`));
    req.end();
  });

  return {
    kind: s.kind,
    startupMs: s.startupMs,
    featuresBeforeTls,
    featuresAfterTls,
    featuresAfterAuth,
    boundJid,
    directTls,
    domain,
    account,
    items,
    answers,
    room,
    roomCreate,
    roomPresenceXml,
    mixChannel,
    externalServices,
    uploadSlot,
    register,
    component,
    bosh,
    websocket,
    hostMeta,
  };
}

function printInfo(title: string, d: DiscoInfo): void {
  console.log(`\n## ${title} (${d.jid})`);
  if (d.error) {
    console.log(`  error: ${d.error}`);
    return;
  }
  for (const i of d.identities) console.log(`  identity ${i}`);
  for (const f of d.features) console.log(`  ${f}`);
  for (const x of d.forms) console.log(`  form: ${x}`);
}

async function main(): Promise<void> {
  const kind = process.argv[2] as ServerKind;
  if (kind !== "prosody" && kind !== "ejabberd") {
    console.error("usage: probe.js <prosody|ejabberd> [--json] [--base-port N]");
    process.exit(2);
  }
  const bp = process.argv.indexOf("--base-port");
  const server = await startServer(kind, bp > 0 ? { basePort: Number(process.argv[bp + 1]) } : {});
  try {
    const r = await probe(serverInfo(server));
    if (process.argv.includes("--json")) {
      console.log(JSON.stringify(r, null, 2));
      return;
    }
    console.log(`# ${kind} (started in ${r.startupMs} ms)`);
    console.log("\n## stream features before TLS");
    r.featuresBeforeTls.forEach((l) => console.log("  " + l));
    console.log("\n## stream features after STARTTLS (before auth; header from=alice's JID)");
    r.featuresAfterTls.forEach((l) => console.log("  " + l));
    console.log("\n## stream features after SASL PLAIN auth");
    r.featuresAfterAuth.forEach((l) => console.log("  " + l));
    console.log(`  bound: ${r.boundJid}`);
    console.log("\n## direct TLS (header without from)");
    console.log("  " + JSON.stringify(r.directTls));
    printInfo("disco#info domain", r.domain);
    printInfo("disco#info account bare JID", r.account);
    for (const it of r.items) printInfo(`disco#items entry${it.name ? ` "${it.name}"` : ""}`, it.info);
    if (r.room) printInfo("disco#info new MUC room", r.room);
    console.log(`\n## other`);
    for (const [k, v] of Object.entries({
      roomCreate: r.roomCreate,
      roomPresenceXml: r.roomPresenceXml,
      mixChannel: r.mixChannel,
      register: r.register,
      uploadSlot: r.uploadSlot,
      component: r.component,
      bosh: r.bosh,
      websocket: r.websocket,
      hostMeta: r.hostMeta,
    })) {
      if (v !== undefined) console.log(`  ${k}: ${v}`);
    }
    console.log("  answers:");
    for (const [k, v] of Object.entries(r.answers)) console.log(`    ${k}: ${v}`);
    console.log("  externalServices:");
    for (const e of r.externalServices ?? []) console.log("    " + e);
  } finally {
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  });
}
