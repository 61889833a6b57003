/**
 * XEP-0223: Best Practices for Persistent Storage of Private Data via Publish-Subscribe
 * https://xmpp.org/extensions/xep-0223.html
 */
import { xml } from "@xmpp/xml";
import { live } from "../scenario/account-state.js";
import { deleteNodeIfPresent, errorOf, fetchItems, publish } from "../xmpp/pubsub.js";
import { canonical } from "../xmpp/xml.js";
import { advertisementEvidence } from "./advertisement.js";
import { allFound, pepFeature, pepIdentity } from "./pep.js";
import { defineCheck, defineScenario } from "./types.js";

/**
 * What a service may answer someone not on a node's whitelist: XEP-0060
 * §6.5.9.8 says not-allowed (with <closed-node/>); PEP services also hide
 * the node (item-not-found) or refuse with forbidden / not-authorized.
 */
export const REFUSALS = ["not-allowed", "forbidden", "not-authorized", "item-not-found"];

export default [
  defineCheck({
    id: "xep0223.advertised",
    spec: { doc: "XEP-0223", version: "1.1.1", section: "5", url: "https://xmpp.org/extensions/xep-0223.html#support" },
    level: "MUST",
    requirement:
      "The server MUST return an identity of \"pubsub/pep\" and include the \"publish-options\" feauture in the list of the namespaces and other features it supports:",
    title: "PEP with publish-options is advertised",
    needs: ["account"],
    run: (ctx) => {
      const found = [pepIdentity(ctx), pepFeature(ctx, "publish-options")];
      const yes = allFound(...found);
      return {
        verdict: yes ? "pass" : "na",
        advertised: yes,
        works: null,
        summary: yes ? "PEP with publish-options is advertised on the account" : `not advertised: ${found.filter((f) => !f.foundAt.length).map((f) => f.looked).join(", ")} missing`,
        evidence: found.map(advertisementEvidence),
      };
    },
  }),
  defineScenario({
    id: "xep0223.private-node",
    spec: { doc: "XEP-0223", version: "1.1.1", section: "3", url: "https://xmpp.org/extensions/xep-0223.html#store" },
    level: "MUST",
    requirement:
      "In order for the client to reliably persist private information, the virtual pubsub service must also support the \"publish-options\" feature defined in Publish-Subscribe (XEP-0060).",
    title: "Private PEP storage: an item published with access_model=whitelist is kept for the owner only",
    needs: ["account", "peer"],
    connections: 3,
    advertised: (ctx) => allFound(pepIdentity(ctx), pepFeature(ctx, "publish-options")),
    run: async (s) => {
      s.bareJid("peer"); // without a second account: skip before changing anything
      const alice = await s.login("account", "A");
      const node = `urn:xepcheck:private:${s.token()}`;
      s.cleanup(`delete the node ${node}`, async () => deleteNodeIfPresent(await live(s, alice, "account"), node));
      const id = s.token("item");
      const payload = xml("secret", { xmlns: node }, id);
      await publish(alice, node, payload, { id, options: { persist_items: "true", access_model: "whitelist" } });

      // The owner reads it from another session: it was stored.
      const again = await s.login("account", "B");
      const items = await fetchItems(again, node, { ids: [id] });
      const got = items.find((i) => i.attrs.id === id)?.getChildElements()[0];
      s.ensure(got && canonical(got) === canonical(payload), `item ${id} with ${payload.toString()} for the owner`, items.map((i) => i.toString()).join(" ") || "no items");

      // Someone else is not on the whitelist.
      const bob = await s.login("peer", "C");
      let leaked = "";
      const condition = await errorOf(
        fetchItems(bob, node, { owner: alice.bare }).then((its) => (leaked = its.map((i) => i.toString()).join(" "))),
      );
      s.ensure(
        condition !== undefined && REFUSALS.includes(condition),
        `an error (${REFUSALS.join(", ")}) for ${bob.bare} retrieving the items (Publish-Subscribe (XEP-0060) §6.5.9.8)`,
        condition ?? `a result: ${leaked || "with no items"}`,
      );
      if (condition !== "not-allowed") s.note(`Publish-Subscribe (XEP-0060) §6.5.9.8 asks for not-allowed with <closed-node/>; the service answered ${condition}`);
      s.summary = `the item published with access_model=whitelist was read back by the owner; ${bob.bare} got ${condition}`;
    },
  }),
];
