/**
 * XEP-0280: Message Carbons
 * https://xmpp.org/extensions/xep-0280.html
 */
import { discoAdvertised } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_CARBONS = "urn:xmpp:carbons:2";

export default [
  defineCheck({
    id: "xep0280.advertised",
    spec: { doc: "XEP-0280", version: "1.0.1", section: "3", url: "https://xmpp.org/extensions/xep-0280.html#disco" },
    level: "INFO",
    requirement:
      "An entity advertises support for this protocol by including the \"urn:xmpp:carbons:2\" feature in its service discovery information features as specified in Service Discovery (XEP-0030) or section 6.3 of Entity Capabilities (XEP-0115).",
    title: "Message Carbons is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Message Carbons", NS_CARBONS, ["domain", "account"]),
  }),
];
