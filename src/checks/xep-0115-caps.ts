/**
 * XEP-0115: Entity Capabilities (server side: caps in stream features)
 * https://xmpp.org/extensions/xep-0115.html
 */
import { advertisedOutcome, findDiscoFeature, findStreamFeature } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_CAPS = "http://jabber.org/protocol/caps";

export default [
  defineCheck({
    id: "xep0115.advertised",
    spec: { doc: "XEP-0115", version: "1.6.0", section: "6.3", url: "https://xmpp.org/extensions/xep-0115.html#stream" },
    level: "MAY",
    requirement:
      "A server MAY include its entity capabilities in a stream feature element so that connecting clients and peer servers do not need to send service discovery requests each time they connect.",
    title: "The server announces its entity capabilities",
    needs: ["account"],
    run: (ctx) =>
      advertisedOutcome(
        "Entity Capabilities",
        findStreamFeature(ctx, [{ name: "c", ns: NS_CAPS }], "before-auth"),
        findStreamFeature(ctx, [{ name: "c", ns: NS_CAPS }], "after-auth"),
        findDiscoFeature(ctx, NS_CAPS, ["domain"]),
      ),
  }),
];
