/**
 * RFC 6121: XMPP Instant Messaging and Presence
 * https://www.rfc-editor.org/rfc/rfc6121
 */
import { notDeterminedYet } from "./advertisement.js";
import { defineCheck } from "./types.js";

export default [
  defineCheck({
    id: "rfc6121.im",
    spec: { doc: "RFC 6121", version: "", section: "", url: "https://www.rfc-editor.org/rfc/rfc6121" },
    level: "MUST",
    // No RFC source is shipped with xepcheck; the requirement is XEP-0479's table row.
    requirement: "XEP-0479 IM Compliance Suite, Core features: RFC 6121 is required of servers at both levels.",
    title: "The server follows RFC 6121 (roster, subscriptions, message routing)",
    needs: ["account"],
    run: () =>
      notDeterminedYet(
        "no advertisement shows RFC 6121 conformance; it is shown by live roster, subscription and message exchanges, which this version does not run yet",
      ),
  }),
];
