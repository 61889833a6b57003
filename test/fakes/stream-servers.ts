/**
 * Fake servers for the stream-level checks of RFC 6120 (src/checks/rfc-6120-streams.ts),
 * each breaking the rules on purpose, so that the checks are seen to fail:
 *
 * - lax: answers every stream header, but wrongly (no 'from', 'id', 'xml:lang';
 *   'to' unasked; the version and the id the client sent echoed; a content
 *   namespace of jabber:server; standalone='yes', and with `byteOrderMark`
 *   a byte order mark first; an element before the features), requires
 *   STARTTLS and advertises another feature beside it, puts whitespace
 *   before <proceed/>, keeps the stream ID after TLS and offers STARTTLS
 *   again there with PLAIN twice and SCRAM-SHA-1 (with `bare`, no features at all), answers
 *   an empty <auth/> with <invalid-mechanism/>, one with data with a
 *   challenge, <abort/> with <not-authorized/> and a bind with a result, and
 *   never refuses anything: it answers <starttls/> and <auth/> whatever came
 *   before them.
 * - mute: accepts the connection and never sends a byte.
 */
import net from "node:net";
import tls from "node:tls";
import type { Certificate } from "./certificate.js";

export interface FakeStreamServer {
  port: number;
  close(): Promise<void>;
}

const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";
const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";

async function listen(onConnection: (socket: net.Socket) => void): Promise<FakeStreamServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function startMuteServer(): Promise<FakeStreamServer> {
  return listen(() => {});
}

export function startLaxServer(certificate: Certificate, options: { byteOrderMark?: boolean; bare?: boolean } = {}): Promise<FakeStreamServer> {
  return listen((plain) => {
    let socket: net.Socket = plain;
    let secured = false;
    let heard = "";
    const attr = (text: string, name: string) => new RegExp(`\\s${name}=['"]([^'"]*)['"]`).exec(text)?.[1];
    const onData = (data: Buffer) => {
      heard += data.toString("latin1");
      for (;;) {
        const header = /<[a-z]*:?stream[\s>][^>]*>/.exec(heard);
        const starttls = heard.indexOf("<starttls");
        const auth = heard.indexOf("<auth");
        const bind = heard.indexOf("<bind");
        const abort = heard.indexOf("<abort");
        const next = Math.min(...[header?.index ?? -1, starttls, auth, bind, abort].filter((i) => i >= 0));
        if (!Number.isFinite(next)) return;
        if (header && header.index === next) {
          heard = heard.slice(header.index + header[0].length);
          const version = attr(header[0], "version") ?? "1.0";
          const id = attr(header[0], "id") ?? "lax-1";
          socket.write(
            `${options.byteOrderMark ? "\uFEFF" : ""}<?xml version='1.0' standalone='yes'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' ` +
              `to='somebody@fake.test' version='${version}' id='${id}'>`,
          );
          if (!secured) {
            socket.write(`<xepcheck-first/><stream:features><starttls xmlns='${NS_TLS}'><required/></starttls><xepcheck-feature xmlns='urn:xepcheck:feature'/></stream:features>`);
          } else if (options.bare) {
            socket.write("<stream:features/>");
          } else {
            const plain = "<mechanism>PLAIN</mechanism>";
            socket.write(`<stream:features><starttls xmlns='${NS_TLS}'/><mechanisms xmlns='${NS_SASL}'>${plain}${plain}<mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>`);
          }
        } else if (next === starttls) {
          heard = heard.slice(starttls + "<starttls".length);
          socket.write(` <proceed xmlns='${NS_TLS}'/>`);
          socket.off("data", onData);
          const secure = new tls.TLSSocket(socket, { isServer: true, key: certificate.key, cert: certificate.cert });
          secure.on("error", () => {});
          secure.on("data", onData);
          socket = secure;
          secured = true;
          heard = "";
          return;
        } else if (next === bind) {
          heard = heard.slice(bind + "<bind".length);
          socket.write("<iq type='result' id='xc-bind-before-sasl'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>somebody@fake.test/x</jid></bind></iq>");
        } else if (next === abort) {
          heard = heard.slice(abort + "<abort".length);
          socket.write(`<failure xmlns='${NS_SASL}'><not-authorized/></failure>`);
        } else {
          const empty = /^<auth[^>]*\/>/.test(heard.slice(auth));
          heard = heard.slice(auth + "<auth".length);
          socket.write(empty ? `<failure xmlns='${NS_SASL}'><invalid-mechanism/></failure>` : `<challenge xmlns='${NS_SASL}'>cj1sYXg=</challenge>`);
        }
      }
    };
    plain.on("data", onData);
  });
}
