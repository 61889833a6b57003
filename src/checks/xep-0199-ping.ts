/**
 * XEP-0199: XMPP Ping
 * https://xmpp.org/extensions/xep-0199.html
 */
import { discoAdvertised } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_PING = "urn:xmpp:ping";

export default [
  defineCheck({
    id: "xep0199.advertised",
    spec: { doc: "XEP-0199", version: "2.0.1", section: "4.2", url: "https://xmpp.org/extensions/xep-0199.html#c2s" },
    level: "MUST",
    requirement:
      "If the server supports the ping namespace, it MUST return an IQ-result:",
    title: "XMPP Ping is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "XMPP Ping", NS_PING, ["domain"]),
  }),
];
