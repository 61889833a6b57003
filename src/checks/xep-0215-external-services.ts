/**
 * XEP-0215: External Service Discovery
 * https://xmpp.org/extensions/xep-0215.html
 */
import { discoAdvertised } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_EXTDISCO = "urn:xmpp:extdisco:2";

export default [
  defineCheck({
    id: "xep0215.advertised",
    spec: { doc: "XEP-0215", version: "1.0.0", section: "5", url: "https://xmpp.org/extensions/xep-0215.html#disco" },
    level: "MUST",
    requirement:
      "If an XMPP entity supports this protocol, it MUST report that fact by including a service discovery feature of \"urn:xmpp:extdisco:2\" (see Protocol Namespaces regarding issuance of one or more permanent namespaces) in response to a Service Discovery (XEP-0030) information request:",
    title: "External Service Discovery (STUN/TURN) is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "External Service Discovery", NS_EXTDISCO, ["domain", "account"]),
  }),
];
