/**
 * XEP-0030: Service Discovery
 * https://xmpp.org/extensions/xep-0030.html
 */
import { xml } from "@xmpp/xml";
import { NS_DISCO_INFO, parseDiscoInfo } from "../probe/disco.js";
import { StanzaError } from "../session/errors.js";
import { findDiscoFeature, advertisementEvidence } from "./advertisement.js";
import { defineCheck, defineScenario } from "./types.js";

export default [
  defineCheck({
    id: "xep0030.server-info",
    spec: { doc: "XEP-0030", version: "2.5.0", section: "3.1", url: "https://xmpp.org/extensions/xep-0030.html#info-basic" },
    level: "MUST",
    requirement:
      "The target entity then MUST either return an IQ result, or return an error (see the Error Conditions section of this document).",
    title: "The server answers disco#info with its identity and features",
    needs: ["account"],
    run: (ctx) => {
      const info = ctx.probe.domain;
      const found = findDiscoFeature(ctx, NS_DISCO_INFO, ["domain"]);
      if (info.errorKind === "no-answer") {
        return { verdict: "error", advertised: null, works: null, summary: `disco#info of ${info.jid} got no answer: ${info.error}`, evidence: [] };
      }
      if (info.error) {
        return {
          verdict: "fail",
          advertised: false,
          works: false,
          summary: `the server answered disco#info with the error ${info.error}`,
          evidence: [{ type: "expectedActual", expected: "an IQ result with identities and features", actual: `error: ${info.error}` }],
        };
      }
      const server = info.identities.find((i) => i.category === "server");
      const identities = info.identities.map((i) => `${i.category}/${i.type}${i.name ? ` (${i.name})` : ""}`);
      return {
        verdict: server ? "pass" : "warn",
        advertised: found.foundAt.length > 0,
        works: true,
        summary: server
          ? `disco#info answered: ${info.identities.length} identities, ${info.features.length} features`
          : `disco#info answered, but with no identity of category "server" (${identities.join(", ") || "none"})`,
        evidence: [
          advertisementEvidence(found),
          { type: "table", title: "Identities", columns: ["category", "type", "name"], rows: info.identities.map((i) => [i.category, i.type, i.name ?? ""]) },
        ],
      };
    },
  }),
  defineScenario({
    id: "xep0030.account-info",
    spec: { doc: "XEP-0030", version: "2.5.0", section: "3.1", url: "https://xmpp.org/extensions/xep-0030.html#info-basic" },
    level: "MUST",
    requirement:
      "When an entity sends a disco#info request to a bare JID (<account@domain.tld>) hosted by a server, the server itself MUST reply on behalf of the hosted account, either with an IQ-error or an IQ-result.",
    title: "disco#info of the account's own bare JID is answered by the server",
    needs: ["account"],
    advertised: (ctx) => findDiscoFeature(ctx, NS_DISCO_INFO, ["domain", "account"]).foundAt.length > 0,
    run: async (s) => {
      const alice = await s.login("account");
      let result;
      try {
        // The stream only takes an answer from the bare JID, the domain, or nobody (on the account's behalf).
        result = await alice.iq(xml("iq", { type: "get", to: alice.bare }, xml("query", { xmlns: NS_DISCO_INFO })));
      } catch (err) {
        if (!(err instanceof StanzaError)) throw err;
        s.summary = `the server answered for ${alice.bare} with the error ${err.condition} (allowed; nothing is discoverable about the account)`;
        return;
      }
      const query = result.getChild("query", NS_DISCO_INFO);
      const info = parseDiscoInfo(alice.bare, query);
      s.ensure(query && info.identities.length > 0, "a disco#info <query/> with at least one <identity/> (§3.1: every entity has one)", result.toString());
      const identities = info.identities.map((i) => `${i.category}/${i.type}`).join(", ");
      s.summary = `disco#info of ${alice.bare} answered${result.attrs.from ? ` from ${result.attrs.from}` : ""}: ${identities}, ${info.features.length} features`;
    },
  }),
];
