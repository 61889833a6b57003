/**
 * XEP-0357: Push Notifications
 * https://xmpp.org/extensions/xep-0357.html
 */
import { discoAdvertised } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_PUSH = "urn:xmpp:push:0";

export default [
  defineCheck({
    id: "xep0357.advertised",
    spec: { doc: "XEP-0357", version: "0.4.1", section: "4.1", url: "https://xmpp.org/extensions/xep-0357.html" },
    level: "MUST",
    requirement:
      "If the user's server supports publishing push notifications and the account is provisioned to allow them, the server MUST include the feature 'urn:xmpp:push:0' in its list of supported features.",
    title: "Push Notifications are advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Push Notifications", NS_PUSH, ["account", "domain"]),
  }),
];
