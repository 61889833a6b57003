/**
 * XEP-0077: In-Band Registration
 * https://xmpp.org/extensions/xep-0077.html
 */
import { advertisedOutcome, findDiscoFeature, findStreamFeature } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_REGISTER = "jabber:iq:register";
export const FEATURE_REGISTER = "http://jabber.org/features/iq-register";

export default [
  defineCheck({
    id: "xep0077.advertised",
    spec: { doc: "XEP-0077", version: "2.4", section: "8", url: "https://xmpp.org/extensions/xep-0077.html#streamfeature" },
    level: "MAY",
    requirement:
      "Upon receiving a stream header qualified by the 'jabber:client' namespace, a server returns a stream header to the client and MAY announce support for in-band registration by including the relevant stream feature:",
    title: "In-band registration is announced",
    needs: ["account"],
    run: (ctx) =>
      advertisedOutcome(
        "In-Band Registration",
        findStreamFeature(ctx, [{ name: "register", ns: FEATURE_REGISTER }], "before-auth"),
        findDiscoFeature(ctx, NS_REGISTER, ["domain"]),
      ),
  }),
];
