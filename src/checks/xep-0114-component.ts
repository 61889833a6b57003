/**
 * XEP-0114: Jabber Component Protocol
 * https://xmpp.org/extensions/xep-0114.html
 */
import { notDeterminedYet } from "./advertisement.js";
import { defineCheck } from "./types.js";

export default [
  defineCheck({
    id: "xep0114.component",
    spec: { doc: "XEP-0114", version: "1.6", section: "3", url: "https://xmpp.org/extensions/xep-0114.html#proto" },
    level: "MUST",
    requirement:
      "If the credentials are acceptable, the receiving application (in this case the server) MUST return an empty <handshake/> element.",
    title: "External components can connect",
    needs: ["account"],
    run: () =>
      notDeterminedYet(
        "no advertisement shows component support to a client; it needs a component handshake with a shared secret, which this version does not run",
      ),
  }),
];
