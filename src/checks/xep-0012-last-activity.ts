/**
 * XEP-0012: Last Activity
 * https://xmpp.org/extensions/xep-0012.html
 */
import { xml } from "@xmpp/xml";
import { discoAdvertised, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario } from "./types.js";

export const NS_LAST = "jabber:iq:last";

export default [
  defineCheck({
    id: "xep0012.advertised",
    spec: { doc: "XEP-0012", version: "2.0", section: "6", url: "https://xmpp.org/extensions/xep-0012.html#support" },
    level: "MUST",
    requirement:
      "If an entity supports the Last Activity protocol, it MUST advertise that fact in its responses to Service Discovery (XEP-0030) information (\"disco#info\") requests by returning a feature of \"jabber:iq:last\".",
    title: "Last Activity is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Last Activity", NS_LAST, ["domain"]),
  }),
  defineScenario({
    id: "xep0012.server-uptime",
    spec: { doc: "XEP-0012", version: "2.0", section: "2", url: "https://xmpp.org/extensions/xep-0012.html#protocol" },
    level: "MUST",
    requirement:
      "When returning an IQ-result, the target entity sends an <iq/> stanza of type='result' containing a <query/> element with a REQUIRED 'seconds' attribute and OPTIONAL XML character data.",
    title: "A last activity query to the server gets its uptime in seconds",
    needs: ["account"],
    advertised: (ctx) => findDiscoFeature(ctx, NS_LAST, ["domain"]).foundAt.length > 0,
    run: async (s) => {
      const alice = await s.login("account");
      // §5: sent to a server, the answer is the server's uptime.
      const result = await alice.iq(xml("iq", { type: "get", to: s.domain }, xml("query", { xmlns: NS_LAST })));
      const seconds = result.getChild("query", NS_LAST)?.attrs.seconds;
      s.ensure(typeof seconds === "string" && /^\d+$/.test(seconds), "a <query/> with a 'seconds' attribute holding a non-negative integer", result.toString());
      s.summary = `${s.domain} has been running for ${seconds} s`;
    },
  }),
];
