/**
 * XEP-0484: Fast Authentication Streamlining Tokens
 * https://xmpp.org/extensions/xep-0484.html
 */
import { advertisedOutcome, findStreamFeature } from "./advertisement.js";
import { defineCheck } from "./types.js";
import { NS_SASL2 } from "./xep-0388-sasl2.js";

export const NS_FAST = "urn:xmpp:fast:0";

export default [
  defineCheck({
    id: "xep0484.advertised",
    spec: { doc: "XEP-0484", version: "0.2.0", section: "3.1", url: "https://xmpp.org/extensions/xep-0484.html#support" },
    level: "MUST",
    requirement: "Servers that support FAST MUST advertise this as a SASL2 inline feature.",
    title: "FAST is offered inline in SASL2",
    needs: ["account"],
    run: (ctx) =>
      advertisedOutcome(
        "FAST",
        findStreamFeature(ctx, [{ name: "authentication", ns: NS_SASL2 }, { name: "inline" }, { name: "fast", ns: NS_FAST }], "before-auth"),
      ),
  }),
];
