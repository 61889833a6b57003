/**
 * XEP-0160: Offline message storage
 * https://xmpp.org/extensions/xep-0160.html
 */
import { xml } from "@xmpp/xml";
import { withBody } from "../scenario/actor.js";
import { StanzaError } from "../session/errors.js";
import { NS_PING } from "../session/stream.js";
import { discoAdvertised, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario } from "./types.js";

export const NS_DELAY = "urn:xmpp:delay";

export const FEATURE_OFFLINE = "msgoffline";

export default [
  defineCheck({
    id: "xep0160.advertised",
    spec: { doc: "XEP-0160", version: "1.0.1", section: "4", url: "https://xmpp.org/extensions/xep-0160.html#disco" },
    level: "SHOULD",
    requirement:
      "If a server supports offline message handling as described herein, it SHOULD return a \"msgoffline\" feature in response to Service Discovery (XEP-0030) information requests:",
    title: "Offline message storage is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Offline message storage", FEATURE_OFFLINE, ["domain"]),
  }),
  defineScenario({
    id: "xep0160.offline-delivery",
    spec: { doc: "XEP-0160", version: "1.0.1", section: "2", url: "https://xmpp.org/extensions/xep-0160.html#flow" },
    level: "SHOULD",
    requirement:
      "When the recipient next sends non-negative available presence to the server, the server delivers the message to the resource that has sent that presence.",
    title: "A message sent while the account is offline is delivered when it comes online",
    needs: ["account", "peer"],
    // The account must have no available resource while the message is sent.
    exclusive: true,
    advertised: (ctx) => findDiscoFeature(ctx, FEATURE_OFFLINE, ["domain"]).foundAt.length > 0,
    run: async (s) => {
      const bob = await s.login("peer");
      const to = s.bareJid("account");
      const body = `offline ${s.token()}`;
      // Unless it was delivered, a last session of the account comes online and takes the message if it is still stored.
      let delivered = false;
      s.cleanup(`make sure the test message is no longer stored for ${to}`, async () => {
        if (delivered) return;
        const drain = await s.login("account", "drain");
        const left = drain.expect(withBody(body), "", 1500).catch(() => undefined);
        drain.available();
        if (await left) s.note(`the test message was still stored for ${to}; this session took it`);
      });
      const sent = bob.message(to, body);
      // A round trip on bob's stream: the server has handled the message before the account comes online.
      await bob.iq(xml("iq", { type: "get", to: s.domain }, xml("ping", { xmlns: NS_PING }))).catch((err: unknown) => {
        if (!(err instanceof StanzaError)) throw err;
      });
      const refused = await bob.stream
        .waitFor((el) => el.is("message") && el.attrs.type === "error" && el.attrs.id === sent.attrs.id, "wait", { timeoutMs: 100 })
        .catch(() => undefined);
      s.ensure(!refused, "the message stored, not refused (§2 step 4)", refused?.toString() ?? "");

      const alice = await s.login("account", "A");
      const arrives = alice.expect(withBody(body), `the stored message delivered to ${alice.label} after its initial presence`);
      alice.available();
      const got = await arrives;
      delivered = true;
      const delay = got.getChild("delay", NS_DELAY);
      s.note(delay ? `delivered with ${delay.toString()}` : "delivered without a XEP-0203 <delay/> (RECOMMENDED by §2)");
      s.summary = delay
        ? `the message sent while ${to} was offline arrived after initial presence, with a delay stamped ${delay.attrs.stamp ?? "(no stamp)"}`
        : `the message sent while ${to} was offline arrived after initial presence, without the RECOMMENDED XEP-0203 delay`;
    },
  }),
];
