/**
 * XEP-0191: Blocking Command
 * https://xmpp.org/extensions/xep-0191.html
 */
import { discoAdvertised } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_BLOCKING = "urn:xmpp:blocking";

export default [
  defineCheck({
    id: "xep0191.advertised",
    spec: { doc: "XEP-0191", version: "1.3", section: "3.1", url: "https://xmpp.org/extensions/xep-0191.html#disco" },
    level: "MUST",
    requirement:
      "If the server supports the protocol defined herein, it MUST return a feature of \"urn:xmpp:blocking\":",
    title: "Blocking Command is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Blocking Command", NS_BLOCKING, ["domain", "account"]),
  }),
];
