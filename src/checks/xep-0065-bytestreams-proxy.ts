/**
 * XEP-0065: SOCKS5 Bytestreams proxy
 * https://xmpp.org/extensions/xep-0065.html
 */
import { discoAdvertised } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_BYTESTREAMS = "http://jabber.org/protocol/bytestreams";

export default [
  defineCheck({
    id: "xep0065.advertised",
    spec: { doc: "XEP-0065", version: "1.8.2", section: "3", url: "https://xmpp.org/extensions/xep-0065.html#support" },
    level: "MUST",
    requirement:
      "If an entity supports this protocol, it MUST advertise that fact in its responses to Service Discovery (XEP-0030) information (\"disco#info\") requests by returning a feature of \"http://jabber.org/protocol/bytestreams\".",
    title: "A SOCKS5 Bytestreams proxy is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "SOCKS5 Bytestreams proxy", NS_BYTESTREAMS, ["components"], { category: "proxy", type: "bytestreams" }),
  }),
];
