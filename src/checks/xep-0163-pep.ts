/**
 * XEP-0163: Personal Eventing Protocol
 * https://xmpp.org/extensions/xep-0163.html
 */
import { xml, type Element } from "@xmpp/xml";
import type { Actor } from "../scenario/actor.js";
import { live } from "../scenario/account-state.js";
import { ensureMutualSubscription } from "../scenario/subscription.js";
import { availableWithCaps } from "../xmpp/caps.js";
import { deleteNodeIfPresent, eventItem, fetchItems, NS_PUBSUB, publish } from "../xmpp/pubsub.js";
import { canonical } from "../xmpp/xml.js";
import type { Scenario } from "../scenario/scenario.js";
import { advertisedOutcome } from "./advertisement.js";
import { pepIdentity } from "./pep.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";

const VERSION = "1.2.2";
const spec = (section: string, anchor: string) => ({
  doc: "XEP-0163",
  version: VERSION,
  section,
  url: `https://xmpp.org/extensions/xep-0163.html#${anchor}`,
});

const pepAdvertised = (ctx: CheckContext) => pepIdentity(ctx).foundAt.length > 0;

/** A payload in the node's own namespace, carrying a token. */
const entry = (node: string, text: string) => xml("entry", { xmlns: node }, text);

/** A node of our own on the account, deleted again at the end. */
function tempNode(s: Scenario, alice: Actor): string {
  const node = `urn:xepcheck:pep:${s.token()}`;
  s.cleanup(`delete the node ${node}`, async () => deleteNodeIfPresent(await live(s, alice, "account"), node));
  return node;
}

const fromBare = (el: Element, bare: string) => (el.attrs.from ?? "").toLowerCase() === bare.toLowerCase();

export default [
  defineCheck({
    id: "xep0163.advertised",
    spec: spec("6.1", "support-owner"),
    level: "MUST",
    requirement:
      "If the account owner's server supports PEP and the account is provisioned for PEP, the server MUST return an identity of \"pubsub/pep\" on behalf of the account (as well as a list of the namespaces and other features it supports, including all supported Publish-Subscribe (XEP-0060) features):",
    title: "The account has a PEP service (identity pubsub/pep)",
    needs: ["account"],
    run: (ctx) => advertisedOutcome("PEP", pepIdentity(ctx)),
  }),
  defineScenario({
    id: "xep0163.publish-retrieve",
    spec: spec("3", "publish"),
    level: "MUST",
    requirement: "If the node does not already exist, the PEP service MUST create the node.",
    title: "PEP: publishing to a new node creates it, and the item can be retrieved",
    needs: ["account"],
    advertised: pepAdvertised,
    run: async (s) => {
      const alice = await s.login("account", "A");
      const node = tempNode(s, alice);
      const id = s.token("item");
      const payload = entry(node, id);
      await publish(alice, node, payload, { id });
      // Another session of the owner reads it back: it is stored, not echoed.
      const reader = await s.login("account", "B");
      const items = await fetchItems(reader, node, { ids: [id] });
      const item = items.find((i) => i.attrs.id === id);
      s.ensure(item, `item ${id} in node ${node}`, items.length ? items.map((i) => i.toString()).join(" ") : "no items");
      const got = item!.getChildElements()[0];
      s.ensure(got && canonical(got) === canonical(payload), payload.toString(), got?.toString() ?? "an empty item");
      s.summary = `publishing to the new node ${node} created it; the item was read back from another session`;
    },
  }),
  defineScenario({
    id: "xep0163.notify-on-publish",
    spec: spec("4.3.3", "notify-when"),
    level: "MUST",
    requirement:
      "When an account owner publishes an item to a node, a PEP service MUST generate a notification and send it to all appropriate subscribers (where the number of notifications is determined by the foregoing rules).",
    title: "PEP: a subscriber of an open node gets a notification of a new item",
    needs: ["account", "peer"],
    advertised: pepAdvertised,
    run: async (s) => {
      s.bareJid("peer"); // without a second account: skip before changing anything
      // §4: "The node has an open access model and the entity has explicitly or implicitly
      // subscribed to the node". The explicit subscription is used here: the implicit one
      // (presence + caps) is exercised by xep0163.last-item-on-presence. (ejabberd 24.12
      // routes caps-based notifications through one, arbitrary, resource of the owner,
      // and loses them when that resource is not available, e.g. xepcheck's own session.)
      const alice = await s.login("account", "A");
      const node = tempNode(s, alice);
      const first = s.token("item");
      await publish(alice, node, entry(node, first), { id: first, options: { access_model: "open" } });
      const bob = await s.login("peer", "B");
      // "PEP ties the receipt of PEP notifications to the subscriber's presence" (§3).
      bob.available();
      const answer = await bob.iq(
        xml("iq", { type: "set", to: alice.bare }, xml("pubsub", { xmlns: NS_PUBSUB }, xml("subscribe", { node, jid: bob.jid }))),
      );
      const subscription = answer.getChild("pubsub", NS_PUBSUB)?.getChild("subscription");
      s.ensure(
        !subscription || subscription.attrs.subscription === "subscribed" || subscription.attrs.subscription === undefined,
        `bob's subscription to ${node} in state 'subscribed'`,
        answer.toString(),
      );
      const second = s.token("item");
      const notified = bob.expect((el) => !!eventItem(el, node, second), `a notification of item ${second} of ${node} at bob/B`);
      await publish(alice, node, entry(node, second), { id: second, options: { access_model: "open" } });
      const message = await notified;
      s.ensure(
        fromBare(message, alice.bare),
        `the notification from the account owner's bare JID ${alice.bare} (§4.3.1)`,
        `from='${message.attrs.from ?? ""}'`,
      );
      s.summary = `${bob.jid}, subscribed to the open node ${node}, got the notification of the new item from ${alice.bare}`;
    },
  }),
  defineScenario({
    id: "xep0163.last-item-on-presence",
    spec: spec("4.3.3", "notify-when"),
    level: "MUST",
    requirement:
      "When a PEP service receives initial presence from a subscriber's resource including Entity Capabilities (XEP-0115) information that indicates an interest in the data format, it MUST generate a notification containing at least the last published item for that node and send it to the newly-available resource; see below under Sending the Last Published Item.",
    title: "PEP: a contact coming online with <node>+notify gets the last published item",
    needs: ["account", "peer"],
    connections: 3,
    serialized: "roster",
    advertised: pepAdvertised,
    run: async (s) => {
      // §2.3: PEP works on presence subscriptions "both"; set one up (and undo it after).
      const [alice, bob] = await Promise.all([s.login("account", "A"), s.login("peer", "B")]);
      await ensureMutualSubscription(s, alice, bob);
      // The owner is online as clients are: some services (ejabberd) learn a contact's caps
      // only from the presence the owner's available resources receive.
      alice.available();
      const node = tempNode(s, alice);
      const features = [`${node}+notify`];
      // A client's caps are normally known to the server already (XEP-0115 caching): a first
      // resource of bob's announces them, so that the resource under test does not race the
      // service's disco#info query (ejabberd 24.12 sends no last item when it loses that race).
      const seed = await s.login("peer", "S");
      const seeded = await Promise.race([
        availableWithCaps(seed, features).queried.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 5000)),
      ]);
      // Barrier: the server handles bob/S's answer to its disco#info before the ping that follows it (RFC 6120 §10.1).
      if (seeded) await seed.barrier();
      await seed.close();
      s.note(seeded ? "bob/S announced the caps and answered the service's disco#info query" : "nobody queried bob/S's caps");
      const first = s.token("item");
      await publish(alice, node, entry(node, first), { id: first });
      const lastItem = bob.expect(
        (el) => !!eventItem(el, node, first),
        `the last published item ${first} of ${node} at bob/B after its initial presence`,
      );
      const caps = availableWithCaps(bob, features);
      s.note(`bob/B is available with caps ver ${caps.ver}, listing ${node}+notify`);
      const message = await lastItem;
      s.ensure(
        fromBare(message, alice.bare),
        `the notification from the account owner's bare JID ${alice.bare} (§4.3.1)`,
        `from='${message.attrs.from ?? ""}'`,
      );
      s.summary = `bob's newly-available resource, advertising ${node}+notify, got the last published item from ${alice.bare}`;
    },
  }),
];
