/**
 * XEP-0206: XMPP over BOSH, proven by real BOSH sessions (XEP-0124).
 * https://xmpp.org/extensions/xep-0206.html
 *
 * The endpoint is --url (https://…) when given, else the BOSH link of the
 * domain's host-meta (XEP-0156); without either the scenarios skip.
 */
import { NS_XBOSH } from "../session/bosh.js";
import { NS_STREAM } from "../session/stream.js";
import { corsRows, costText, discoDomain, endpointFor, hostMetaLists, table, webLogin, webStream } from "../scenario/web.js";
import type { Scenario } from "../scenario/scenario.js";
import { defineScenario } from "./types.js";

const spec = (section: string, anchor: string) => ({
  doc: "XEP-0206",
  version: "1.4",
  section,
  url: `https://xmpp.org/extensions/xep-0206.html#${anchor}`,
});

/** An attribute qualified by urn:xmpp:xbosh, whatever prefix the connection manager chose. */
export function xboshAttribute(attrs: Record<string, string>, name: string): string | undefined {
  const prefix = Object.entries(attrs).find(([k, v]) => k.startsWith("xmlns:") && v === NS_XBOSH)?.[0].slice("xmlns:".length);
  return prefix ? attrs[`${prefix}:${name}`] : undefined;
}

function sessionTable(attributes: Record<string, string> | undefined) {
  const rows = Object.entries(attributes ?? {})
    .filter(([k]) => k !== "xmlns" && !k.startsWith("xmlns:"))
    .map(([k, v]) => [k, v]);
  return table("BOSH session creation response", ["attribute", "value"], rows);
}

async function loginOverBosh(s: Scenario) {
  const { endpoint, found } = await endpointFor(s, "bosh");
  const session = await webLogin(s, "bosh", endpoint);
  return { endpoint, found, session, login: session.stream.meter.totals() };
}

export default [
  defineScenario({
    id: "xep0206.bosh",
    spec: spec("5", "preconditions-sasl"),
    level: "MUST",
    requirement:
      "If the connection manager receives a <stream:features/> element from the XMPP server, it MUST forward that element to the client:",
    title: "XMPP over BOSH works: session, authenticate, restart, bind, disco#info, terminate",
    needs: ["account"],
    advertised: () => null,
    run: async (s) => {
      const { endpoint, found, session, login } = await loginOverBosh(s);
      s.advertised = hostMetaLists(found, "bosh");
      const { stream } = session;
      const facts = stream.transportFacts;
      const query = await discoDomain(s, session);
      await stream.close();
      s.evidence.push(
        table("BOSH session", ["fact", "value"], [
          ["URL", endpoint.url],
          ["found in", endpoint.source],
          ...(endpoint.connectHost ? [["connected at", endpoint.connectHost]] : []),
          ["TLS", stream.tlsInfo ? `${stream.tlsInfo.protocol} ${stream.tlsInfo.cipher}` : "none"],
          ["SASL mechanism", session.mechanism],
          ["bound JID", session.jid],
          ["login cost", `${costText(login)} (every HTTP request/response a round trip)`],
          ["HTTP requests in the session", String(facts.httpRequests ?? "")],
          ["disco#info features of the domain", String(query.getChildren("feature").length)],
          ["terminate answered", stream.serverClosed ? "yes" : "no"],
        ]),
        sessionTable(facts.attributes),
        table("CORS headers of the session creation response (Origin: https://xepcheck.invalid)", ["response", "header", "value"], corsRows("session creation", facts.cors)),
      );
      s.summary =
        `logged in over BOSH at ${endpoint.url} as ${session.jid} (${login.roundTrips} round trips), ` +
        `restart answered with new features, disco#info of ${s.domain} answered with ${query.getChildren("feature").length} features`;
    },
  }),
  defineScenario({
    id: "xep0206.restartlogic",
    spec: spec("4", "create"),
    level: "MUST",
    requirement:
      "If the connection manager supports stream restarts, it MUST advertise that fact by including a 'restartlogic' attribute (qualified by the 'urn:xmpp:xbosh' namespace) whose value is set to \"true\".",
    title: "A connection manager that restarts streams says xmpp:restartlogic='true'",
    needs: ["account"],
    advertised: () => null,
    run: async (s) => {
      // A login is the proof that restarts work: bind needs the features of the restarted stream.
      const { session } = await loginOverBosh(s);
      const attributes = session.stream.transportFacts.attributes ?? {};
      s.evidence.push(sessionTable(attributes));
      const restartlogic = xboshAttribute(attributes, "restartlogic");
      s.ensure(
        restartlogic === "true" || restartlogic === "1",
        "xmpp:restartlogic='true' on the session creation response, since the stream restart after authentication worked",
        restartlogic === undefined ? "no restartlogic attribute" : `restartlogic='${restartlogic}'`,
      );
      s.summary = "the stream restart works and the session creation response says xmpp:restartlogic='true'";
    },
  }),
  defineScenario({
    id: "xep0206.version",
    spec: spec("4", "create"),
    level: "SHOULD",
    requirement:
      "The connection manager SHOULD include a 'version' attribute (qualified by the 'urn:xmpp:xbosh' namespace) and a <stream:features/> element (qualified by the 'http://etherx.jabber.org/streams' namespace) in a response as soon as they are available, either in its session creation response, or (if it has not yet received them from the XMPP server) in any subsequent response.",
    title: "The session creation response carries xmpp:version and the stream features",
    needs: [],
    advertised: () => null,
    run: async (s) => {
      const { endpoint } = await endpointFor(s, "bosh");
      const stream = await webStream(s, "bosh", endpoint);
      const attributes = stream.transportFacts.attributes ?? {};
      s.evidence.push(sessionTable(attributes));
      const version = xboshAttribute(attributes, "version");
      s.ensure(version !== undefined, "an xmpp:version attribute (urn:xmpp:xbosh) on the session creation response", "none");
      // XmppStream.open waited for <stream:features/>, in this response or a later one.
      s.ensure(stream.features.is("features", NS_STREAM), "<stream:features/>", stream.features.toString());
      await stream.close();
      s.summary = `the session creation response says xmpp:version='${version}', and the stream features came`;
    },
  }),
];
