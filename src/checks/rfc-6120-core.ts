/**
 * RFC 6120: XMPP Core
 * https://www.rfc-editor.org/rfc/rfc6120
 */
import { notDeterminedYet } from "./advertisement.js";
import { defineCheck } from "./types.js";

export default [
  defineCheck({
    id: "rfc6120.core",
    spec: { doc: "RFC 6120", version: "", section: "", url: "https://www.rfc-editor.org/rfc/rfc6120" },
    level: "MUST",
    // No RFC source is shipped with xepcheck; the requirement is XEP-0479's table row.
    requirement: "XEP-0479 Core Compliance Suite, Core features: RFC 6120 is required of servers at both levels.",
    title: "The server follows RFC 6120 (binding, stanza errors, stream headers, STARTTLS)",
    needs: ["account"],
    run: () =>
      notDeterminedYet(
        "no advertisement shows RFC 6120 conformance; it is shown by live exchanges (resource binding, stanza errors, stream header, STARTTLS), which this version does not run yet",
      ),
  }),
];
