/**
 * XEP-0410: MUC Self-Ping optimisation
 * https://xmpp.org/extensions/xep-0410.html
 */
import { mucRoomFeatureOutcome } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const FEATURE_SELF_PING = "http://jabber.org/protocol/muc#self-ping-optimization";

export default [
  defineCheck({
    id: "xep0410.advertised",
    spec: { doc: "XEP-0410", version: "1.1.0", section: "3.3", url: "https://xmpp.org/extensions/xep-0410.html#serveroptimization" },
    level: "MUST",
    requirement:
      "A service implementing this optimization needs to advertise the http://jabber.org/protocol/muc#self-ping-optimization feature in the Service Discovery (XEP-0030) disco#info response on the individual MUC room JIDs, and it MUST respond to a self-ping request as follows:",
    title: "The MUC service advertises the self-ping optimisation",
    needs: ["account"],
    run: (ctx) => mucRoomFeatureOutcome(ctx, "MUC Self-Ping optimisation", FEATURE_SELF_PING),
  }),
];
