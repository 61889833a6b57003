/**
 * XEP-0049: Private XML Storage
 * https://xmpp.org/extensions/xep-0049.html
 */
import { discoAdvertised } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_PRIVATE = "jabber:iq:private";

export default [
  defineCheck({
    id: "xep0049.advertised",
    spec: { doc: "XEP-0049", version: "1.2", section: "4", url: "https://xmpp.org/extensions/xep-0049.html" },
    level: "MUST",
    requirement:
      "A server MUST NOT allow any entity other than an authorized resource of the user to create, update, or delete private XML stored on behalf of that user.",
    title: "Private XML Storage is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Private XML Storage", NS_PRIVATE, ["domain", "account"]),
  }),
];
