/**
 * RFC 7590: Use of TLS in XMPP
 * https://www.rfc-editor.org/rfc/rfc7590
 */
import { notDeterminedYet } from "./advertisement.js";
import { defineCheck } from "./types.js";

export default [
  defineCheck({
    id: "rfc7590.tls",
    spec: { doc: "RFC 7590", version: "", section: "", url: "https://www.rfc-editor.org/rfc/rfc7590" },
    level: "MUST",
    // No RFC source is shipped with xepcheck; the requirement is XEP-0479's table row.
    requirement: "XEP-0479 Core Compliance Suite, TLS: RFC 7590 is required of servers at both levels.",
    title: "TLS is used as RFC 7590 recommends",
    needs: ["account"],
    run: () =>
      notDeterminedYet(
        "RFC 7590 is judged from TLS facts (protocol version, certificate, TLS required before authentication), which this version records but does not judge yet",
      ),
  }),
];
