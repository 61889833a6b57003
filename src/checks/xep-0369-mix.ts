/**
 * XEP-0369: MIX
 * https://xmpp.org/extensions/xep-0369.html
 */
import { discoAdvertised } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_MIX_CORE = "urn:xmpp:mix:core:1";

export default [
  defineCheck({
    id: "xep0369.advertised",
    spec: { doc: "XEP-0369", version: "0.14.6", section: "6.1", url: "https://xmpp.org/extensions/xep-0369.html#disco-service" },
    level: "MUST",
    requirement:
      "The MIX service then MUST return its identity and the features it supports, which MUST include the 'urn:xmpp:mix:core:1' feature, and the identity MUST have a category of 'conference' and a type of 'mix', as shown in the following example:",
    title: "A MIX service is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "MIX", NS_MIX_CORE, ["components"], { category: "conference", type: "mix" }),
  }),
];
