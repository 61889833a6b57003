/**
 * XEP-0359: Unique and Stable Stanza IDs
 * https://xmpp.org/extensions/xep-0359.html
 */
import { discoAdvertised } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_SID = "urn:xmpp:sid:0";

export default [
  defineCheck({
    id: "xep0359.advertised",
    spec: { doc: "XEP-0359", version: "0.7.0", section: "5", url: "https://xmpp.org/extensions/xep-0359.html#disco" },
    level: "SHOULD",
    requirement:
      "An entity that follows the business rules, especially the rule on overriding the ID in elements where the by atttribute matches the 'by' attribute they would otherwise set, SHOULD announce the 'urn:xmpp:sid:0' namespace in its disco features allowing other entities to verify that those business rules are properly enforced.",
    title: "Unique and Stable Stanza IDs are advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Unique and Stable Stanza IDs", NS_SID, ["account", "domain"]),
  }),
];
