/**
 * XEP-0206: XMPP over BOSH
 * https://xmpp.org/extensions/xep-0206.html
 */
import { notDeterminedYet } from "./advertisement.js";
import { defineCheck } from "./types.js";

export default [
  defineCheck({
    id: "xep0206.bosh",
    spec: { doc: "XEP-0206", version: "1.4", section: "4", url: "https://xmpp.org/extensions/xep-0206.html#create" },
    level: "MUST",
    requirement:
      "If the connection manager supports stream restarts, it MUST advertise that fact by including a 'restartlogic' attribute (qualified by the 'urn:xmpp:xbosh' namespace) whose value is set to \"true\".",
    title: "XMPP over BOSH works",
    needs: ["account"],
    run: () =>
      notDeterminedYet(
        "no disco feature shows BOSH support; it needs a real BOSH session, which this version does not run yet",
      ),
  }),
];
