/**
 * XEP-0160: Offline message storage
 * https://xmpp.org/extensions/xep-0160.html
 */
import { discoAdvertised } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const FEATURE_OFFLINE = "msgoffline";

export default [
  defineCheck({
    id: "xep0160.advertised",
    spec: { doc: "XEP-0160", version: "1.0.1", section: "4", url: "https://xmpp.org/extensions/xep-0160.html#disco" },
    level: "SHOULD",
    requirement:
      "If a server supports offline message handling as described herein, it SHOULD return a \"msgoffline\" feature in response to Service Discovery (XEP-0030) information requests:",
    title: "Offline message storage is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Offline message storage", FEATURE_OFFLINE, ["domain"]),
  }),
];
