/**
 * XEP-0045: Multi-User Chat
 * https://xmpp.org/extensions/xep-0045.html
 */
import { discoAdvertised } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_MUC = "http://jabber.org/protocol/muc";

export default [
  defineCheck({
    id: "xep0045.advertised",
    spec: { doc: "XEP-0045", version: "1.35.5", section: "6.2", url: "https://xmpp.org/extensions/xep-0045.html#disco-service-features" },
    level: "MUST",
    requirement:
      "The service MUST return its identity and the features it supports.",
    title: "A Multi-User Chat service is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Multi-User Chat", NS_MUC, ["components"], { category: "conference", type: "text" }),
  }),
];
