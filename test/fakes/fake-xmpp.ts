/**
 * A small scriptable XMPP server for failure modes after a successful login:
 * STARTTLS (a throw-away self-signed certificate made with the openssl CLI;
 * run xepcheck with --insecure), SASL PLAIN for one account, resource
 * binding, disco#info/#items, software version, ping, and an HTTP File
 * Upload (XEP-0363) service whose slots point at a small HTTP store, or at
 * an HTTP server that accepts and never answers. What it answers, it
 * answers as RFC 6120 and the XEPs say; what it does wrong is chosen per
 * stanza by `onStanza`.
 */
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import { Parser, xml, type Element } from "@xmpp/xml";
import { makeCertificate, type Certificate } from "./certificate.js";

const NS_STREAMS = "urn:ietf:params:xml:ns:xmpp-streams";
const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";
const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
const NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind";
export const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
export const NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items";
export const NS_PING = "urn:xmpp:ping";
export const NS_VERSION = "jabber:iq:version";
export const NS_UPLOAD = "urn:xmpp:http:upload:0";

/** What the server does with one stanza the client sent after binding. */
export type Action =
  /** What a correct server does (the default). */
  | "answer"
  /** Nothing, ever. */
  | "ignore"
  /** Answers an iq with another id. */
  | "wrong-id"
  /** Answers an iq from a JID the client did not ask. */
  | "wrong-from"
  /** A TCP reset (RST) of the connection. */
  | "reset"
  /** Answers an iq with this stanza error. */
  | { error: string; type: "wait" | "cancel" | "modify" | "auth"; text?: string }
  /** Ends the stream with this stream error. */
  | { streamError: string; text?: string };

export interface Connection {
  /** 0 for the first connection accepted, and so on. */
  index: number;
  /** The account logged in on it. */
  user?: string;
  /** The full JID bound on it. */
  jid: string;
}

/** Decides the action for one stanza; `server` lets it change what comes next (refuseNext). */
export type StanzaHook = (stanza: Element, connection: Connection, server: FakeXmpp) => Action;

export interface FakeXmppOptions {
  /** Default fake.test. */
  domain?: string;
  /** The one account (default alice / secret). */
  username?: string;
  password?: string;
  /** Features in the domain's disco#info (disco#info, ping and version are always there). */
  features?: string[];
  onStanza?: StanzaHook;
  /** Unsolicited stanzas sent to every session right after it binds; its answers come after them. */
  flood?: { count: number; kind: "message" | "presence" };
  /** Serve upload.<domain> (XEP-0363) with this max-file-size; its HTTP server stores files, or never answers. */
  upload?: { maxFileSize: number; http: "store" | "silent" };
  /** List this many components (c<i>.<domain>) in the domain's disco#items, each answering disco#info after `delayMs`. */
  components?: { count: number; delayMs?: number };
  /** Pad the domain's disco#info with features up to this many bytes (near --max-stanza-size: every session gets it). */
  discoInfoBytes?: number;
  /** A second account (for --peer), with this password. */
  peer?: { username: string; password: string };
  /** Deliver messages to the session bound to their full 'to' (from the sender's full JID). */
  routing?: boolean;
  /** Breaking RFC 6120 §8 on purpose: routed messages keep a forged 'from' and lose xml:lang and every child but <body/>; iq results and errors are answered. */
  mangle?: boolean;
  /**
   * XEP-0352: "hold" keeps body-less messages for an inactive session until <active/>,
   * "drop" discards them, "ignore" accepts the nonzas and does nothing,
   * "stream-error" answers them with <unsupported-stanza-type/>. `advertised` puts <csi/> in the features.
   */
  csi?: { mode: "hold" | "drop" | "ignore" | "stream-error"; advertised: boolean };
}

export interface FakeXmpp {
  port: number;
  domain: string;
  /** Connections accepted so far. */
  connections: number;
  /** The most connections open at once (one stops counting when the client closes its stream or its socket). */
  mostOpen: number;
  /** HTTP requests the upload server received. */
  uploadRequests: string[];
  /** disco#info queries to the listed components, and the most of them unanswered at once. */
  componentQueries: number;
  mostComponentQueriesInFlight: number;
  /** Ends the next `n` new connections with this stream error right after their stream header. */
  refuseNext(n: number, condition: string, text?: string): void;
  close(): Promise<void>;
}

/** The action for the n-th stanza matching `match` on each connection; "answer" for all others. */
export function onNth(match: (el: Element) => boolean, n: number, action: Action): StanzaHook {
  const counts = new Map<number, number>();
  return (el, connection) => {
    if (!match(el)) return "answer";
    const count = (counts.get(connection.index) ?? 0) + 1;
    counts.set(connection.index, count);
    return count === n ? action : "answer";
  };
}

/** An iq get/set whose payload has this namespace. */
export function iqOf(ns: string): (el: Element) => boolean {
  return (el) => el.is("iq") && el.getChildElements()[0]?.getNS() === ns;
}

interface CsiState {
  inactive: boolean;
  /** Held stanzas while inactive ("hold"); undefined when nothing is held. */
  held?: string[];
}

let certificate: Certificate | undefined;

/** A throw-away self-signed certificate, made once per test process. */
function throwAwayCertificate(domain: string): Certificate {
  return (certificate ??= makeCertificate(domain));
}

export async function startFakeXmpp(options: FakeXmppOptions = {}): Promise<FakeXmpp> {
  const domain = options.domain ?? "fake.test";
  const username = options.username ?? "alice";
  const password = options.password ?? "secret";
  const { key, cert } = throwAwayCertificate(domain);
  const secureContext = tls.createSecureContext({ key, cert });
  const sockets = new Set<net.Socket>();
  let open = 0;
  let refusals: { left: number; condition: string; text?: string } = { left: 0, condition: "" };
  /** Bound sessions by full JID, for routing. */
  const bound = new Map<string, { deliver: (text: string) => void; csi: CsiState }>();

  const uploadRequests: string[] = [];
  const files = new Map<string, Buffer>();
  const uploadHttp = http.createServer((req, res) => {
    uploadRequests.push(`${req.method} ${req.url}`);
    if (options.upload?.http !== "store") return; // accepts, reads nothing, never answers
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = req.url ?? "";
      if (req.method === "PUT") {
        files.set(url, Buffer.concat(chunks));
        res.writeHead(201).end();
      } else if (req.method === "GET" && files.has(url)) {
        res.writeHead(200, { "Content-Type": "text/plain" }).end(files.get(url));
      } else {
        res.writeHead(req.method === "OPTIONS" ? 204 : 404).end();
      }
    });
  });
  await new Promise<void>((resolve) => uploadHttp.listen(0, "127.0.0.1", resolve));
  const httpPort = (uploadHttp.address() as net.AddressInfo).port;
  const componentItems = Array.from({ length: options.components?.count ?? 0 }, (_, i) => xml("item", { jid: `c${i}.${domain}` }));
  let componentQueriesInFlight = 0;
  /** Features that bring the domain's disco#info to about options.discoInfoBytes. */
  const padding: string[] = [];
  for (let bytes = 600; bytes < (options.discoInfoBytes ?? 0) - 100; bytes += 60) padding.push(`urn:example:padding:${padding.length.toString().padStart(8, "0")}`);
  const uploadJid = `upload.${domain}`;

  const fake: FakeXmpp = {
    port: 0,
    domain,
    connections: 0,
    mostOpen: 0,
    uploadRequests,
    componentQueries: 0,
    mostComponentQueriesInFlight: 0,
    refuseNext: (n, condition, text) => void (refusals = { left: n, condition, ...(text ? { text } : {}) }),
    close: async () => {
      for (const s of sockets) s.destroy();
      uploadHttp.closeAllConnections();
      await Promise.all([
        new Promise<void>((resolve) => server.close(() => resolve())),
        new Promise<void>((resolve) => uploadHttp.close(() => resolve())),
      ]);
    },
  };

  /** One client connection: the stream, restarted after STARTTLS and after SASL. */
  const serve = (raw: net.Socket) => {
    const connection: Connection = { index: fake.connections++, jid: "" };
    let socket: net.Socket = raw;
    let counted = true;
    // As the client sees it: its </stream:stream> (or FIN) comes before it opens the next connection.
    const closedByClient = () => {
      if (counted) open--;
      counted = false;
    };
    let stage: "initial" | "tls" | "authenticated" = "initial";
    let parser: Parser;
    /** Answers held back while a flood is being sent (it comes first). */
    let heldBack: string[] | undefined;
    const write = (text: string) => {
      if (!socket.destroyed) socket.write(text);
    };
    const streamError = (condition: string, text?: string) => {
      write(
        `<stream:error><${condition} xmlns='${NS_STREAMS}'/>${text ? `<text xmlns='${NS_STREAMS}'>${text}</text>` : ""}</stream:error></stream:stream>`,
      );
      socket.end();
    };

    const features = (): string => {
      if (stage === "initial") return `<starttls xmlns='${NS_TLS}'><required/></starttls>`;
      if (stage === "tls") return `<mechanisms xmlns='${NS_SASL}'><mechanism>PLAIN</mechanism></mechanisms>`;
      return `<bind xmlns='${NS_BIND}'/>${options.csi?.advertised ? "<csi xmlns='urn:xmpp:csi:0'/>" : ""}`;
    };

    const newParser = () => {
      parser = new Parser();
      parser.on("start", () => {
        write(
          `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' ` +
            `id='fake-${connection.index}-${stage}' from='${domain}' version='1.0' xml:lang='en'>`,
        );
        if (stage === "initial" && refusals.left > 0) {
          refusals.left--;
          return streamError(refusals.condition, refusals.text);
        }
        write(`<stream:features>${features()}</stream:features>`);
      });
      parser.on("element", (el) => handle(el));
      parser.on("end", () => {
        closedByClient();
        write("</stream:stream>");
        socket.end();
      });
      parser.on("error", () => streamError("not-well-formed"));
    };
    const onData = (data: Buffer) => parser.write(data.toString("utf8"));

    const handle = (el: Element) => {
      if (stage === "initial" && el.is("starttls", NS_TLS)) {
        write(`<proceed xmlns='${NS_TLS}'/>`);
        raw.off("data", onData);
        const secure = new tls.TLSSocket(raw, { isServer: true, secureContext });
        secure.on("error", () => {});
        secure.on("data", onData);
        secure.on("end", closedByClient);
        secure.on("close", closedByClient);
        socket = secure;
        stage = "tls";
        newParser();
        return;
      }
      if (stage === "tls" && el.is("auth", NS_SASL)) {
        const [, user, pass] = Buffer.from(el.text(), "base64").toString("utf8").split("\0");
        const account = user === username && pass === password ? username : options.peer && user === options.peer.username && pass === options.peer.password ? user : undefined;
        if (el.attrs.mechanism === "PLAIN" && account) {
          connection.user = account;
          write(`<success xmlns='${NS_SASL}'/>`);
          stage = "authenticated";
          newParser();
        } else {
          write(`<failure xmlns='${NS_SASL}'><not-authorized/></failure>`);
        }
        return;
      }
      if (stage !== "authenticated") return streamError("not-authorized");
      if (!connection.jid) return bind(el);
      if (el.getNS() === "urn:xmpp:csi:0") return clientState(el);
      if (options.routing && el.is("message") && el.attrs.to) return route(el);
      const action = options.onStanza?.(el, connection, fake) ?? "answer";
      act(el, action);
    };

    /** This session's client state (XEP-0352) and what is held for it. */
    const csi: CsiState = { inactive: false };
    const clientState = (el: Element) => {
      const mode = options.csi?.mode;
      if (!mode || mode === "stream-error") return streamError("unsupported-stanza-type");
      if (mode === "ignore") return;
      csi.inactive = el.getName() === "inactive";
      if (csi.inactive) csi.held = mode === "hold" ? [] : undefined;
      else {
        for (const text of csi.held ?? []) write(text);
        csi.held = undefined;
      }
    };
    const route = (el: Element) => {
      const to = el.attrs.to!;
      // A bare JID reaches every session of the account (RFC 6121 §8.5.2, as if all were available).
      for (const [jid, target] of bound) if (jid === to || (!to.includes("/") && jid.startsWith(`${to}/`))) routeTo(target, el);
    };
    const routeTo = (target: { deliver: (text: string) => void; csi: CsiState }, el: Element) => {
      const { "xml:lang": lang, ...attrs } = el.attrs;
      const copy = options.mangle
        ? xml("message", { ...attrs, from: el.attrs.from ?? connection.jid }, ...el.getChildren("body"))
        : xml("message", { ...el.attrs, from: connection.jid }, ...el.getChildElements());
      void lang;
      const unimportant = !copy.getChild("body");
      if (unimportant && target.csi.inactive && options.csi?.mode === "drop") return;
      if (unimportant) target.deliver(copy.toString());
      else {
        // A message with a body is important: it goes at once, after what was held (in order).
        const held = target.csi.held;
        target.csi.held = undefined;
        for (const text of held ?? []) target.deliver(text);
        target.deliver(copy.toString());
        if (held) target.csi.held = [];
      }
    };

    const send = (el: Element) => (heldBack ? heldBack.push(el.toString()) : write(el.toString()));

    const bind = (el: Element) => {
      const request = el.getChild("bind", NS_BIND);
      if (!el.is("iq") || el.attrs.type !== "set" || !request) return streamError("not-authorized");
      connection.jid = `${connection.user}@${domain}/${request.getChildText("resource") || `fake-${connection.index}`}`;
      bound.set(connection.jid, { deliver: (text) => (csi.inactive && csi.held ? csi.held.push(text) : write(text)), csi });
      send(xml("iq", { type: "result", id: el.attrs.id }, xml("bind", { xmlns: NS_BIND }, xml("jid", {}, connection.jid))));
      if (options.flood) flood(options.flood.count, options.flood.kind);
    };

    /**
     * Unsolicited stanzas, in chunks, each written once the client has read
     * the previous one (TCP back-pressure, as a server does): the session's
     * own answers interleave with the flood instead of queueing behind all of it.
     */
    const flood = (count: number, kind: "message" | "presence") => {
      let sent = 0;
      heldBack = [];
      const chunk = () => {
        if (socket.destroyed) return;
        let text = "";
        for (const end = Math.min(count, sent + 100); sent < end; sent++) {
          const from = `stranger${sent}@elsewhere.test/flood`;
          text +=
            kind === "message"
              ? `<message from='${from}' to='${connection.jid}' type='chat' id='flood-${sent}'><body>flood ${sent}</body></message>`
              : `<presence from='${from}' to='${connection.jid}'/>`;
        }
        const drained = socket.write(text);
        if (sent >= count) {
          write(heldBack!.join(""));
          heldBack = undefined;
          return;
        }
        if (drained) setImmediate(chunk);
        else socket.once("drain", chunk);
      };
      chunk();
    };

    const act = (el: Element, action: Action) => {
      if (action === "ignore") return;
      if (action === "answer" && /^c\d+\./.test(el.attrs.to ?? "") && el.getChild("query", NS_DISCO_INFO)) return answerComponent(el);
      if (action === "reset") {
        raw.resetAndDestroy();
        return;
      }
      if (typeof action === "object" && "streamError" in action) return streamError(action.streamError, action.text);
      if (options.mangle && el.is("iq") && (el.attrs.type === "result" || el.attrs.type === "error")) return send(errorReply(el, "bad-request", "modify"));
      if (!el.is("iq") || (el.attrs.type !== "get" && el.attrs.type !== "set")) return; // messages and presence go nowhere
      const reply = typeof action === "object" ? errorReply(el, action.error, action.type, action.text) : answer(el);
      if (action === "wrong-id") reply.attrs.id = `${el.attrs.id}-not-yours`;
      if (action === "wrong-from") reply.attrs.from = "intruder.example";
      send(reply);
    };

    const answerComponent = (iq: Element) => {
      fake.componentQueries++;
      fake.mostComponentQueriesInFlight = Math.max(fake.mostComponentQueriesInFlight, ++componentQueriesInFlight);
      setTimeout(() => {
        componentQueriesInFlight--;
        const info = xml("query", { xmlns: NS_DISCO_INFO }, xml("identity", { category: "component", type: "generic" }));
        send(xml("iq", { type: "result", id: iq.attrs.id, from: iq.attrs.to }, info));
      }, options.components?.delayMs ?? 0);
    };

    /** What a correct server answers (RFC 6120 §8.1.2.1: from whom the client asked, or none for its own account). */
    const answer = (iq: Element): Element => {
      const bare = connection.jid.split("/")[0]!;
      const to = iq.attrs.to ?? bare;
      const query = iq.getChildElements()[0];
      const result = (...children: Element[]) =>
        xml("iq", { type: "result", id: iq.attrs.id, ...(iq.attrs.to ? { from: iq.attrs.to } : {}) }, ...children);
      if (iq.attrs.type === "get" && to === domain) {
        if (query?.is("query", NS_DISCO_INFO)) {
          const vars = [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_VERSION, ...(options.features ?? []), ...padding];
          return result(
            xml("query", { xmlns: NS_DISCO_INFO }, xml("identity", { category: "server", type: "im", name: "fake" }), ...vars.map((v) => xml("feature", { var: v }))),
          );
        }
        if (query?.is("query", NS_DISCO_ITEMS)) {
          return result(xml("query", { xmlns: NS_DISCO_ITEMS }, ...(options.upload ? [xml("item", { jid: uploadJid, name: "HTTP File Upload" })] : []), ...componentItems));
        }
        if (query?.is("query", NS_VERSION)) {
          return result(xml("query", { xmlns: NS_VERSION }, xml("name", {}, "fake-xmpp"), xml("version", {}, "1.0")));
        }
        if (query?.is("ping", NS_PING)) return result();
      }
      if (iq.attrs.type === "get" && to === bare && query?.is("query", NS_DISCO_INFO)) {
        return result(xml("query", { xmlns: NS_DISCO_INFO }, xml("identity", { category: "account", type: "registered" })));
      }
      if (options.upload && to === uploadJid && iq.attrs.type === "get") {
        if (query?.is("query", NS_DISCO_INFO)) {
          return result(
            xml(
              "query",
              { xmlns: NS_DISCO_INFO },
              xml("identity", { category: "store", type: "file", name: "HTTP File Upload" }),
              xml("feature", { var: NS_UPLOAD }),
              xml(
                "x",
                { xmlns: "jabber:x:data", type: "result" },
                xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, NS_UPLOAD)),
                xml("field", { var: "max-file-size" }, xml("value", {}, String(options.upload.maxFileSize))),
              ),
            ),
          );
        }
        if (query?.is("request", NS_UPLOAD)) return uploadSlot(iq, query, options.upload.maxFileSize, result);
      }
      return errorReply(iq, "service-unavailable", "cancel");
    };

    /** XEP-0363 §4 and §6: a slot, or <file-too-large/>. */
    const uploadSlot = (iq: Element, request: Element, max: number, result: (...c: Element[]) => Element): Element => {
      const size = Number(request.attrs.size);
      if (size > max) {
        const reply = errorReply(iq, "not-acceptable", "modify", `File too large. The maximum file size is ${max} bytes`);
        reply.getChild("error")!.append(xml("file-too-large", { xmlns: NS_UPLOAD }, xml("max-file-size", {}, String(max))));
        return reply;
      }
      const url = `http://127.0.0.1:${httpPort}/slot/${connection.index}/${encodeURIComponent(request.attrs.filename ?? "file")}`;
      return result(xml("slot", { xmlns: NS_UPLOAD }, xml("put", { url }), xml("get", { url })));
    };

    sockets.add(raw);
    fake.mostOpen = Math.max(fake.mostOpen, ++open);
    raw.on("end", closedByClient);
    raw.on("close", () => {
      closedByClient();
      bound.delete(connection.jid);
      sockets.delete(raw);
    });
    raw.on("error", () => {});
    raw.on("data", onData);
    newParser();
  };

  const server = net.createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.port = (server.address() as net.AddressInfo).port;
  return fake;
}

/** An error reply (RFC 6120 §8.3): from whom the client asked. */
function errorReply(iq: Element, condition: string, type: string, text?: string): Element {
  return xml(
    "iq",
    { type: "error", id: iq.attrs.id, ...(iq.attrs.to ? { from: iq.attrs.to } : {}) },
    xml(
      "error",
      { type },
      xml(condition, { xmlns: NS_STANZAS }),
      ...(text ? [xml("text", { xmlns: NS_STANZAS }, text)] : []),
    ),
  );
}
