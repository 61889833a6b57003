/**
 * XEP-0199: XMPP Ping
 * https://xmpp.org/extensions/xep-0199.html
 */
import { xml } from "@xmpp/xml";
import { discoAdvertised, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario } from "./types.js";

export const NS_PING = "urn:xmpp:ping";

export default [
  defineCheck({
    id: "xep0199.advertised",
    spec: { doc: "XEP-0199", version: "2.0.1", section: "4.2", url: "https://xmpp.org/extensions/xep-0199.html#c2s" },
    level: "MUST",
    requirement:
      "If the server supports the ping namespace, it MUST return an IQ-result:",
    title: "XMPP Ping is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "XMPP Ping", NS_PING, ["domain"]),
  }),
  defineScenario({
    id: "xep0199.server-ping",
    spec: { doc: "XEP-0199", version: "2.0.1", section: "4.2", url: "https://xmpp.org/extensions/xep-0199.html#c2s" },
    level: "MUST",
    requirement: "If the server supports the ping namespace, it MUST return an IQ-result:",
    title: "The server answers a ping with a result",
    needs: ["account"],
    advertised: (ctx) => findDiscoFeature(ctx, NS_PING, ["domain"]).foundAt.length > 0,
    run: async (s) => {
      const alice = await s.login("account");
      const started = performance.now();
      const result = await alice.iq(xml("iq", { type: "get", to: s.domain }, xml("ping", { xmlns: NS_PING })));
      s.ensure(result.attrs.type === "result", "an IQ-result", result.toString());
      s.summary = `${s.domain} answered the ping with a result in ${Math.round(performance.now() - started)} ms`;
    },
  }),
];
