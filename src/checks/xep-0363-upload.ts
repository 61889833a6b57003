/**
 * XEP-0363: HTTP File Upload
 * https://xmpp.org/extensions/xep-0363.html
 */
import { FORM_UPLOAD, findForm } from "../probe/probe.js";
import { advertisedOutcome, componentsWith, findDiscoFeature } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_UPLOAD = "urn:xmpp:http:upload:0";

export default [
  defineCheck({
    id: "xep0363.advertised",
    spec: { doc: "XEP-0363", version: "1.2.0", section: "3", url: "https://xmpp.org/extensions/xep-0363.html#disco" },
    level: "INFO",
    requirement:
      "An entity advertises support for this protocol by including the \"urn:xmpp:http:upload:0\" in its service discovery information features as specified in Service Discovery (XEP-0030) or section 6.3 of Entity Capabilities (XEP-0115).",
    title: "An HTTP File Upload service is advertised",
    needs: ["account"],
    run: (ctx) => {
      const outcome = advertisedOutcome("HTTP File Upload", findDiscoFeature(ctx, NS_UPLOAD, ["domain", "components"]));
      const services = componentsWith(ctx, {}).filter((c) => c.features.includes(NS_UPLOAD));
      if (services.length) {
        outcome.evidence.push({
          type: "table",
          title: "Upload services",
          columns: ["service", "max-file-size (bytes)"],
          rows: services.map((s) => [s.jid, findForm(s.forms, FORM_UPLOAD)?.fields["max-file-size"]?.[0] ?? "not announced"]),
        });
      }
      return outcome;
    },
  }),
];
