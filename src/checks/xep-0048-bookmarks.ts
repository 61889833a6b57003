/**
 * XEP-0048: Bookmark Storage (kept in XEP-0049 private storage, or converted to PEP)
 * https://xmpp.org/extensions/xep-0048.html
 */
import { advertisedOutcome, findDiscoFeature } from "./advertisement.js";
import { defineCheck } from "./types.js";
import { NS_PRIVATE } from "./xep-0049-private-xml.js";
import { FEATURE_COMPAT } from "./xep-0402-pep-bookmarks.js";

export default [
  defineCheck({
    id: "xep0048.advertised",
    spec: { doc: "XEP-0048", version: "1.2", section: "3", url: "https://xmpp.org/extensions/xep-0048.html#storage" },
    level: "INFO",
    requirement:
      "Note: In the past, Private XML Storage (XEP-0049) was the recommended method (see the archived version of this specification at <http://www.xmpp.org/extensions/attic/xep-0048-1.0.html>).",
    title: "Bookmark storage is available (private XML storage or #compat)",
    needs: ["account"],
    run: (ctx) =>
      advertisedOutcome(
        "Bookmark storage",
        findDiscoFeature(ctx, NS_PRIVATE, ["domain", "account"]),
        findDiscoFeature(ctx, FEATURE_COMPAT, ["account", "domain"]),
      ),
  }),
];
