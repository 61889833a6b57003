/**
 * XEP-0012: Last Activity
 * https://xmpp.org/extensions/xep-0012.html
 */
import { discoAdvertised } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_LAST = "jabber:iq:last";

export default [
  defineCheck({
    id: "xep0012.advertised",
    spec: { doc: "XEP-0012", version: "2.0", section: "6", url: "https://xmpp.org/extensions/xep-0012.html#support" },
    level: "MUST",
    requirement:
      "If an entity supports the Last Activity protocol, it MUST advertise that fact in its responses to Service Discovery (XEP-0030) information (\"disco#info\") requests by returning a feature of \"jabber:iq:last\".",
    title: "Last Activity is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Last Activity", NS_LAST, ["domain"]),
  }),
];
