/**
 * XEP-0153: vCard-Based Avatars. A server supports them by storing the
 * avatar in vcard-temp (XEP-0054); no feature of its own exists.
 * https://xmpp.org/extensions/xep-0153.html
 */
import { advertisedOutcome, findDiscoFeature } from "./advertisement.js";
import { defineCheck } from "./types.js";
import { NS_VCARD } from "./xep-0054-vcard-temp.js";

export default [
  defineCheck({
    id: "xep0153.advertised",
    spec: { doc: "XEP-0153", version: "1.1.1", section: "4.5", url: "https://xmpp.org/extensions/xep-0153.html#bizrules-xml" },
    level: "SHOULD",
    requirement:
      "The <PHOTO/> element SHOULD contain a <BINVAL/> child whose XML character data is Base64-encoded data for the avatar image.",
    title: "vCard storage for avatars is advertised (vcard-temp)",
    needs: ["account"],
    run: (ctx) => advertisedOutcome("vCard storage for avatars (vcard-temp)", findDiscoFeature(ctx, NS_VCARD, ["domain", "account"])),
  }),
];
