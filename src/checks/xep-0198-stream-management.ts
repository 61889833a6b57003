/**
 * XEP-0198: Stream Management
 * https://xmpp.org/extensions/xep-0198.html
 * Counted as advertised in the post-auth stream features, or inline in SASL2
 * (where a client enables it during authentication).
 */
import { advertisedOutcome, findStreamFeature } from "./advertisement.js";
import { defineCheck } from "./types.js";
import { NS_SASL2 } from "./xep-0388-sasl2.js";

export const NS_SM = "urn:xmpp:sm:3";

export default [
  defineCheck({
    id: "xep0198.advertised",
    spec: { doc: "XEP-0198", version: "1.6.3", section: "2", url: "https://xmpp.org/extensions/xep-0198.html#feature" },
    level: "INFO",
    requirement:
      "The server returns a stream header to the client along with stream features, where the features include an <sm/> element qualified by the 'urn:xmpp:sm:3' namespace (see Namespace Versioning regarding the possibility of incrementing the version number).",
    title: "Stream Management is advertised",
    needs: ["account"],
    run: (ctx) =>
      advertisedOutcome(
        "Stream Management",
        findStreamFeature(ctx, [{ name: "sm", ns: NS_SM }], "after-auth"),
        findStreamFeature(ctx, [{ name: "authentication", ns: NS_SASL2 }, { name: "inline" }, { name: "sm", ns: NS_SM }], "before-auth"),
      ),
  }),
];
