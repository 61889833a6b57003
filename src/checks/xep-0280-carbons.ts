/**
 * XEP-0280: Message Carbons
 * https://xmpp.org/extensions/xep-0280.html
 */
import { xml, type Element } from "@xmpp/xml";
import { withBody } from "../scenario/actor.js";
import { discoAdvertised, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario } from "./types.js";

export const NS_CARBONS = "urn:xmpp:carbons:2";
export const NS_FORWARD = "urn:xmpp:forward:0";

/** <message><sent|received xmlns=carbons><forwarded><message>…body…</message></forwarded></…></message> */
function carbonOf(kind: "sent" | "received", body: string) {
  return (el: Element) =>
    el.is("message") && el.getChild(kind, NS_CARBONS)?.getChild("forwarded", NS_FORWARD)?.getChild("message")?.getChildText("body") === body;
}

export default [
  defineCheck({
    id: "xep0280.advertised",
    spec: { doc: "XEP-0280", version: "1.0.1", section: "3", url: "https://xmpp.org/extensions/xep-0280.html#disco" },
    level: "INFO",
    requirement:
      "An entity advertises support for this protocol by including the \"urn:xmpp:carbons:2\" feature in its service discovery information features as specified in Service Discovery (XEP-0030) or section 6.3 of Entity Capabilities (XEP-0115).",
    title: "Message Carbons is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Message Carbons", NS_CARBONS, ["domain", "account"]),
  }),
  defineScenario({
    id: "xep0280.copies",
    spec: { doc: "XEP-0280", version: "1.0.1", section: "7", url: "https://xmpp.org/extensions/xep-0280.html#inbound" },
    level: "MUST",
    requirement:
      "The content of the wrapping message MUST contain a <received/> element qualified by the namespace \"urn:xmpp:carbons:2\", which itself contains a <forwarded/> element qualified by the namespace \"urn:xmpp:forward:0\" that contains the original <message/>.",
    title: "Carbons: sent and received copies reach the other resource",
    needs: ["account", "peer"],
    connections: 3,
    advertised: (ctx) => findDiscoFeature(ctx, NS_CARBONS, ["domain", "account"]).foundAt.length > 0,
    run: async (s) => {
      const [a, b, bob] = await Promise.all([s.login("account", "A"), s.login("account", "B"), s.login("peer")]);
      await a.iq(xml("iq", { type: "set" }, xml("enable", { xmlns: NS_CARBONS })));
      // Carbons go to available resources (§6): make A and B available.
      a.available();
      b.available();
      const out = `sent ${s.token()}`;
      b.message(bob.bare, out);
      await a.expect(carbonOf("sent", out), "a <sent/> carbon of B's message at A");
      const back = `received ${s.token()}`;
      bob.message(b.jid, back);
      await a.expect(carbonOf("received", back), "a <received/> carbon of the message to B at A");
      await b.expect(withBody(back), "the message itself at B");
      s.summary = "A received <sent/> and <received/> copies of B's conversation";
    },
  }),
];
