/**
 * XEP-0402: PEP Native Bookmarks
 * https://xmpp.org/extensions/xep-0402.html
 */
import { advertisementEvidence, findDiscoFeature } from "./advertisement.js";
import { allFound, pepFeature, pepIdentity } from "./pep.js";
import { defineCheck } from "./types.js";

export const FEATURE_COMPAT = "urn:xmpp:bookmarks:1#compat";

export default [
  defineCheck({
    id: "xep0402.advertised",
    spec: { doc: "XEP-0402", version: "1.2.0", section: "5.3", url: "https://xmpp.org/extensions/xep-0402.html#compatibility" },
    level: "SHOULD",
    requirement:
      "A server that supports unifying bookmarks from Private XML Storage (XEP-0049) and PEP Native Bookmarks (XEP-0402) SHOULD announce the \"urn:xmpp:bookmarks:1#compat\" feature on the account.",
    title: "PEP Native Bookmarks are advertised (#compat)",
    needs: ["account"],
    run: (ctx) => {
      const compat = findDiscoFeature(ctx, FEATURE_COMPAT, ["account", "domain"]);
      const pep = [pepIdentity(ctx), pepFeature(ctx, "publish-options")];
      const evidence = [compat, ...pep].map(advertisementEvidence);
      if (compat.foundAt.length) {
        return { verdict: "pass", advertised: true, works: null, summary: `${FEATURE_COMPAT} is advertised (${compat.foundAt.join("; ")})`, evidence };
      }
      if (allFound(...pep)) {
        // Bookmarks can still be stored in PEP; only the unification is not announced.
        return {
          verdict: "warn",
          advertised: true,
          works: null,
          summary: `PEP with publish-options is advertised, but not ${FEATURE_COMPAT}: clients should fall back to XEP-0049`,
          evidence,
        };
      }
      return { verdict: "na", advertised: false, works: null, summary: "neither #compat nor PEP with publish-options is advertised", evidence };
    },
  }),
];
