/**
 * RFC 7395: XMPP over WebSocket
 * https://www.rfc-editor.org/rfc/rfc7395
 */
import { notDeterminedYet } from "./advertisement.js";
import { defineCheck } from "./types.js";

export default [
  defineCheck({
    id: "rfc7395.websocket",
    spec: { doc: "RFC 7395", version: "", section: "", url: "https://www.rfc-editor.org/rfc/rfc7395" },
    level: "MUST",
    // No RFC source is shipped with xepcheck; the requirement is XEP-0479's table row.
    requirement: "XEP-0479 Web Compliance Suite, Web Connection Mechanisms: RFC 7395 is required of servers at both levels.",
    title: "XMPP over WebSocket works",
    needs: ["account"],
    run: () =>
      notDeterminedYet(
        "no disco feature shows WebSocket support; it needs a real WebSocket login, which this version does not run yet",
      ),
  }),
];
