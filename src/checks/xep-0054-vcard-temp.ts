/**
 * XEP-0054: vcard-temp
 * https://xmpp.org/extensions/xep-0054.html
 */
import { discoAdvertised } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_VCARD = "vcard-temp";

export default [
  defineCheck({
    id: "xep0054.advertised",
    spec: { doc: "XEP-0054", version: "1.3.0", section: "4", url: "https://xmpp.org/extensions/xep-0054.html#support" },
    level: "MUST",
    requirement:
      "If an entity supports the vcard-temp protocol, it MUST report that by including a service discovery feature of \"vcard-temp\" (see Protocol Namespaces regarding issuance of one or more permanent namespaces) in response to a Service Discovery (XEP-0030) information request:",
    title: "vcard-temp is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "vcard-temp", NS_VCARD, ["domain", "account"]),
  }),
];
