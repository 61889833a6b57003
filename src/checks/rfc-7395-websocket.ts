/**
 * RFC 7395: XMPP over WebSocket, proven by real WebSocket sessions.
 * https://www.rfc-editor.org/rfc/rfc7395
 * No RFC source is shipped with xepcheck: the requirements below are
 * paraphrases of the named sections, marked as such.
 *
 * The endpoint is --url (wss://…) when given, else the WebSocket link of the
 * domain's host-meta (XEP-0156); without either the scenarios skip.
 */
import { NS_TLS } from "../session/stream.js";
import { costText, discoDomain, endpointFor, hostMetaLists, table, webLogin, webStream } from "../scenario/web.js";
import { defineScenario } from "./types.js";

const rfc = (section: string) => ({
  doc: "RFC 7395",
  version: "",
  section,
  url: `https://www.rfc-editor.org/rfc/rfc7395#section-${section}`,
});

export default [
  defineScenario({
    id: "rfc7395.websocket",
    spec: rfc("3"),
    level: "MUST",
    requirement:
      "(paraphrase of RFC 7395 §3.1–§3.7) The server speaks XMPP over WebSocket with the 'xmpp' subprotocol, one complete XML element per message: it answers <open/> with <open/> and stream features, lets the client authenticate, restart with a new <open/> and bind, and exchanges stanzas.",
    title: "XMPP over WebSocket works: open, authenticate, restart, bind, disco#info, close",
    needs: ["account"],
    advertised: () => null,
    run: async (s) => {
      const { endpoint, found } = await endpointFor(s, "websocket");
      s.advertised = hostMetaLists(found, "websocket");
      const session = await webLogin(s, "websocket", endpoint);
      const { stream } = session;
      const login = stream.meter.totals();
      const facts = stream.transportFacts;
      s.ensure(facts.subprotocol === "xmpp", "the 'xmpp' subprotocol selected in the WebSocket handshake (§3.1)", `'${facts.subprotocol ?? ""}'`);
      s.ensure(stream.header.version === "1.0", "an <open/> answer with version='1.0' (§3.4, RFC 6120 §4.7.5)", JSON.stringify(stream.header));
      const query = await discoDomain(s, session);
      await stream.close();
      s.evidence.push(
        table("WebSocket session", ["fact", "value"], [
          ["URL", endpoint.url],
          ["found in", endpoint.source],
          ...(endpoint.connectHost ? [["connected at", endpoint.connectHost]] : []),
          ["subprotocol", facts.subprotocol ?? ""],
          ["TLS", stream.tlsInfo ? `${stream.tlsInfo.protocol} ${stream.tlsInfo.cipher}` : "none"],
          ["SASL mechanism", session.mechanism],
          ["bound JID", session.jid],
          ["login cost", costText(login)],
          ["disco#info features of the domain", String(query.getChildren("feature").length)],
          ["<close/> answered with <close/>", stream.serverClosed ? "yes" : "no"],
          ...Object.entries(facts.cors ?? {}).map(([name, value]) => [`upgrade response ${name}`, value]),
        ]),
      );
      s.summary =
        `logged in over WebSocket at ${endpoint.url} as ${session.jid} (${login.roundTrips} round trips), ` +
        `disco#info of ${s.domain} answered with ${query.getChildren("feature").length} features`;
    },
  }),
  defineScenario({
    id: "rfc7395.no-starttls",
    spec: rfc("3.9"),
    level: "MUST",
    requirement:
      "(paraphrase of RFC 7395 §3.9) TLS is provided by the WebSocket layer (wss:), so a server does not advertise TLS (STARTTLS) as a stream feature over the XMPP subprotocol.",
    title: "No STARTTLS in the stream features over WebSocket",
    needs: [],
    advertised: () => null,
    run: async (s) => {
      const { endpoint } = await endpointFor(s, "websocket");
      const stream = await webStream(s, "websocket", endpoint);
      s.ensure(!stream.features.getChild("starttls", NS_TLS), "no <starttls/> in the stream features over WebSocket", stream.features.toString());
      await stream.close();
      s.summary = `the stream features over ${endpoint.url} do not offer STARTTLS`;
    },
  }),
  defineScenario({
    id: "rfc7395.close",
    spec: rfc("3.6"),
    level: "MUST",
    requirement:
      "(paraphrase of RFC 7395 §3.6 with RFC 6120 §4.4) A stream is closed with a <close/> element; the other party answers with a <close/> of its own, and then the WebSocket closing handshake follows.",
    title: "<close/> over WebSocket is answered with <close/>",
    needs: [],
    advertised: () => null,
    run: async (s) => {
      const { endpoint } = await endpointFor(s, "websocket");
      const stream = await webStream(s, "websocket", endpoint);
      await stream.close();
      s.ensure(stream.serverClosed, "a <close/> from the server in answer to ours", "no <close/> from the server (the WebSocket ended, or its closing wait passed)");
      s.summary = `the server answered <close/> with <close/> at ${endpoint.url}`;
    },
  }),
];
