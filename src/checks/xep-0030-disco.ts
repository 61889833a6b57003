/**
 * XEP-0030: Service Discovery
 * https://xmpp.org/extensions/xep-0030.html
 */
import { NS_DISCO_INFO } from "../probe/disco.js";
import { findDiscoFeature, advertisementEvidence } from "./advertisement.js";
import { defineCheck } from "./types.js";

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
];
