/**
 * XEP-0202: Entity Time
 * https://xmpp.org/extensions/xep-0202.html
 */
import { discoAdvertised } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_TIME = "urn:xmpp:time";

export default [
  defineCheck({
    id: "xep0202.advertised",
    spec: { doc: "XEP-0202", version: "2.0", section: "4", url: "https://xmpp.org/extensions/xep-0202.html#disco" },
    level: "MUST",
    requirement:
      "If an entity supports the Entity Time protocol, it MUST report that by including a service discovery feature of \"urn:xmpp:time\" in response to a Service Discovery (XEP-0030) information request:",
    title: "Entity Time is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Entity Time", NS_TIME, ["domain"]),
  }),
];
