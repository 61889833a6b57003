/**
 * XEP-0398: User Avatar to vCard-Based Avatars Conversion
 * https://xmpp.org/extensions/xep-0398.html
 */
import { discoAdvertised } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_CONVERSION = "urn:xmpp:pep-vcard-conversion:0";

export default [
  defineCheck({
    id: "xep0398.advertised",
    spec: { doc: "XEP-0398", version: "1.0.0", section: "2", url: "https://xmpp.org/extensions/xep-0398.html#disco" },
    level: "MUST",
    requirement:
      "The service MUST include a Service Discovery (XEP-0030) feature of \"urn:xmpp:pep-vcard-conversion:0\" on the account.",
    title: "Avatar conversion between PEP and vCard is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "User Avatar to vCard-Based Avatars Conversion", NS_CONVERSION, ["account", "domain"]),
  }),
];
