/**
 * XEP-0388: Extensible SASL Profile (SASL2)
 * https://xmpp.org/extensions/xep-0388.html
 */
import { advertisedOutcome, findStreamFeature } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_SASL2 = "urn:xmpp:sasl:2";

export default [
  defineCheck({
    id: "xep0388.advertised",
    spec: { doc: "XEP-0388", version: "1.0.4", section: "2.1", url: "https://xmpp.org/extensions/xep-0388.html#feature" },
    level: "INFO",
    requirement:
      "Servers capable of SASL2 offer a stream feature of <authentication/>, qualified by the \"urn:xmpp:sasl:2\" namespace.",
    title: "SASL2 is offered",
    needs: ["account"],
    run: (ctx) => advertisedOutcome("SASL2", findStreamFeature(ctx, [{ name: "authentication", ns: NS_SASL2 }], "before-auth")),
  }),
];
