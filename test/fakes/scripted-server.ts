/**
 * A scriptable fake XMPP server on loopback. It plays a well-behaved server
 * through the whole login of RFC 6120 (stream header and features, STARTTLS
 * with a throw-away certificate, SASL PLAIN answered with <success/>,
 * restart, bind) and afterwards answers every iq with service-unavailable —
 * except at the one step where the script tells it to misbehave: from there
 * on it does only what that act does.
 */
import net from "node:net";
import tls from "node:tls";
import type { Certificate } from "./certificate.js";

export const FAKE_DOMAIN = "fake.test";

/** The steps of the login, as the server plays them. */
export type Step =
  | "header" // our stream header, in answer to the client's
  | "features" // the initial features (STARTTLS required)
  | "starttls" // <proceed/>
  | "tls" // the TLS handshake
  | "features-after-tls" // the SASL mechanisms
  | "sasl" // the answer to <auth/>
  | "features-after-auth" // <bind/>
  | "bind"; // the bind result

export interface Peer {
  /** The connection as it is now (TLS after STARTTLS). */
  readonly socket: net.Socket;
  readonly closed: boolean;
  write(text: string): boolean;
  /** Closes our side after what was written. */
  end(): void;
  onClose(fn: () => void): void;
}

/** What the server does instead of the step's answer; `request` is what the client sent that led to it. */
export type Act = (peer: Peer, request: string) => void;

export interface Script {
  certificate: Certificate;
  /** SASL mechanisms offered after STARTTLS (default PLAIN). */
  mechanisms?: string[];
  misbehave?: { at: Step; act: Act };
}

export interface ScriptedServer {
  port: number;
  /** The steps the server got to, in order, over all connections. */
  reached: Step[];
  /** A connection was closed by the client while the server still had it open. */
  clientClosed: boolean;
  /** What the client sent after the server misbehaved (the last 4 KiB). */
  heard: string;
  close(): Promise<void>;
}

const NS_STREAMS = "urn:ietf:params:xml:ns:xmpp-streams";
const header = (n: number) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' ` +
  `id='fake-${n}' from='${FAKE_DOMAIN}' version='1.0' xml:lang='en'>`;

/** Stock misbehaviours. */
export const act = {
  silent: (): Act => () => {},
  hangUp: (): Act => (peer) => peer.end(),
  send: (text: string): Act => (peer) => void peer.write(text),
  /** Bytes as they are, UTF-8 or not. */
  sendBytes: (bytes: Buffer): Act => (peer) => void (peer.closed || peer.socket.write(bytes)),
  /** The answer `reply` makes of the request's id (an iq result of the server's choosing). */
  answer: (reply: (id: string) => string): Act => (peer, request) => void peer.write(reply(attr(request, "id") ?? "")),
  /** RFC 6120 §4.9: the error, the closing tag, the connection closed. */
  streamError: (condition: string, text?: string): Act => (peer) => {
    const said = text ? `<text xmlns='${NS_STREAMS}'>${text}</text>` : "";
    peer.write(`<stream:error><${condition} xmlns='${NS_STREAMS}'/>${said}</stream:error></stream:stream>`);
    peer.end();
  },
  /** One character of `text` every `everyMs`, until it is all out or the connection is gone. */
  drip: (text: string, everyMs: number): Act => (peer) => {
    let i = 0;
    const timer = setInterval(() => (i < text.length && !peer.closed ? peer.write(text[i++]!) : clearInterval(timer)), everyMs);
    peer.onClose(() => clearInterval(timer));
  },
  /** Writes the parts one after the other as fast as the client reads them, until done or the connection is gone. */
  pour: (parts: () => Iterator<string>): Act => (peer) => {
    const it = parts();
    const next = (): void => {
      while (!peer.closed) {
        const part = it.next();
        if (part.done) return;
        if (!peer.write(part.value)) return void peer.socket.once("drain", next);
      }
    };
    next();
  },
};

/** `prefix`, then `total` bytes of `filler` in 64 KiB pieces, then `suffix`. */
export function* bigElement(prefix: string, total: number, suffix: string, filler = "a"): Iterator<string> {
  yield prefix;
  const piece = filler.repeat(65536 / filler.length);
  for (let sent = 0; sent < total; sent += piece.length) yield piece;
  yield suffix;
}

export function* endless(text: string): Iterator<string> {
  for (;;) yield text;
}

export async function startScriptedServer(script: Script): Promise<ScriptedServer> {
  const sockets = new Set<net.Socket>();
  let streams = 0;
  const fake: ScriptedServer = {
    port: 0,
    reached: [],
    clientClosed: false,
    heard: "",
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((raw) => {
    sockets.add(raw);
    raw.on("error", () => {});
    play(raw, script, fake, () => ++streams);
    raw.on("close", () => sockets.delete(raw));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.port = (server.address() as net.AddressInfo).port;
  return fake;
}

type Phase = "header" | "starttls" | "header-tls" | "sasl" | "header-auth" | "bind" | "bound" | "off";

function play(raw: net.Socket, script: Script, fake: ScriptedServer, nextStream: () => number): void {
  let socket: net.Socket = raw;
  let buffer = "";
  let phase: Phase = "header";
  let closed = false;
  let weEnded = false;
  const closers: (() => void)[] = [];
  raw.on("end", () => {
    if (!weEnded) fake.clientClosed = true;
  });
  raw.on("close", () => {
    if (!weEnded) fake.clientClosed = true;
    closed = true;
    closers.forEach((fn) => fn());
  });
  const peer: Peer = {
    get socket() {
      return socket;
    },
    get closed() {
      return closed;
    },
    write: (text) => (closed ? false : socket.write(text)),
    end: () => {
      weEnded = true;
      socket.end();
    },
    onClose: (fn) => void closers.push(fn),
  };

  /** Plays `step`: its normal answer, or the script's act, after which the server follows no script. */
  const at = (step: Step, request: string, normal: () => void): void => {
    fake.reached.push(step);
    if (script.misbehave?.at !== step) return normal();
    phase = "off";
    script.misbehave.act(peer, request);
  };
  const take = (pattern: RegExp): string | undefined => {
    const m = pattern.exec(buffer);
    if (!m) return undefined;
    buffer = buffer.slice(m.index + m[0].length);
    return m[0];
  };
  const onData = (data: Buffer) => {
    if (phase === "off") fake.heard = (fake.heard + data.toString("utf8")).slice(-4096);
    buffer += data.toString("utf8");
    for (let progressed = true; progressed && phase !== "off"; ) progressed = advance();
  };
  const upgrade = () => {
    socket.off("data", onData);
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: tls.createSecureContext({ key: script.certificate.key, cert: script.certificate.cert }),
    });
    secure.on("error", () => {});
    secure.on("data", onData);
    socket = secure;
    buffer = "";
  };
  const answerHeader = (step: Step, features: string, then: Phase) => {
    const request = take(/<stream:stream\b[^>]*>/);
    if (request === undefined) return false;
    const open = () => {
      peer.write(header(nextStream()));
      at(step, request, () => {
        peer.write(`<stream:features>${features}</stream:features>`);
        phase = then;
      });
    };
    if (phase === "header") at("header", request, open);
    else open();
    return true;
  };

  function advance(): boolean {
    switch (phase) {
      case "header":
        return answerHeader("features", "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>", "starttls");
      case "starttls": {
        const request = take(/<starttls\b[^>]*>/);
        if (request === undefined) return false;
        at("starttls", request, () => {
          peer.write("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
          at("tls", request, () => {
            upgrade();
            phase = "header-tls";
          });
        });
        return true;
      }
      case "header-tls": {
        const mechanisms = (script.mechanisms ?? ["PLAIN"]).map((m) => `<mechanism>${m}</mechanism>`).join("");
        return answerHeader("features-after-tls", `<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${mechanisms}</mechanisms>`, "sasl");
      }
      case "sasl": {
        const request = take(/<auth\b[^>]*\/>|<auth\b[\s\S]*?<\/auth>/);
        if (request === undefined) return false;
        at("sasl", request, () => {
          peer.write("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
          phase = "header-auth";
        });
        return true;
      }
      case "header-auth":
        return answerHeader("features-after-auth", "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>", "bind");
      case "bind": {
        const request = take(/<iq\b[\s\S]*?<\/iq>/);
        if (request === undefined) return false;
        at("bind", request, () => {
          peer.write(
            `<iq type='result' id='${attr(request, "id")}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>` +
              `<jid>alice@${FAKE_DOMAIN}/fake</jid></bind></iq>`,
          );
          phase = "bound";
        });
        return true;
      }
      case "bound": {
        const request = take(/<iq\b[^>]*\/>|<iq\b[\s\S]*?<\/iq>|<\/stream:stream>/);
        if (request === undefined) return false;
        if (request === "</stream:stream>") {
          peer.write("</stream:stream>");
          peer.end();
          phase = "off";
        } else if (["get", "set"].includes(attr(request, "type") ?? "")) {
          const to = attr(request, "to");
          peer.write(
            `<iq type='error' id='${attr(request, "id")}'${to ? ` from='${to}'` : ""}><error type='cancel'>` +
              `<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
          );
        }
        return true;
      }
      case "off":
        return false;
    }
  }

  socket.on("data", onData);
}

/** An attribute of the first start tag in `xml`. */
function attr(xml: string, name: string): string | undefined {
  const tag = /<[^>]*>/.exec(xml)?.[0] ?? "";
  return new RegExp(`\\s${name}=(["'])(.*?)\\1`).exec(tag)?.[2];
}
