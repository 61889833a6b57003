/**
 * Presence subscriptions between the two accounts (RFC 6121 §3), set up
 * for a scenario and undone by its cleanups, and the roster reads they use.
 */
import { xml, type Element } from "@xmpp/xml";
import type { Actor } from "./actor.js";
import { SETTLE_MS, live, until } from "./account-state.js";
import { NS_ROSTER } from "./roster.js";
import type { Role, Scenario } from "./scenario.js";

export async function rosterItem(actor: Actor, jid: string): Promise<Element | undefined> {
  const result = await actor.iq(xml("iq", { type: "get" }, xml("query", { xmlns: NS_ROSTER })));
  return result
    .getChild("query", NS_ROSTER)
    ?.getChildren("item")
    .find((i) => i.attrs.jid?.toLowerCase() === jid.toLowerCase());
}

/** What of a roster item a restore must give back: subscription, ask, name, groups. */
export function rosterKey(item: Element | undefined): string {
  if (!item) return "(no item)";
  const groups = item.getChildren("group").map((g) => g.text()).sort();
  return `subscription=${item.attrs.subscription ?? "none"} ask=${item.attrs.ask ?? "-"} name=${item.attrs.name ?? "-"} groups=[${groups.join(",")}]`;
}

const subscribedTo = (item: Element | undefined) => item?.attrs.subscription === "to" || item?.attrs.subscription === "both";

/** Answers roster pushes (RFC 6121 §2.1.6) with a result, as a client must. */
export function answerRosterPushes(actor: Actor): void {
  actor.stream.answerRequests(
    (el) => el.is("iq") && el.attrs.type === "set" && !!el.getChild("query", NS_ROSTER),
    (el) => xml("iq", { type: "result", id: el.attrs.id, ...(el.attrs.from ? { to: el.attrs.from } : {}) }),
  );
}

/**
 * Makes the presence subscription between the two accounts mutual
 * ("both"), as PEP needs it (XEP-0163 §2.3), and registers cleanups that
 * undo exactly what was added: the unsubscriptions, then the roster items
 * that did not exist before, then a comparison with the rosters as found.
 */
export async function ensureMutualSubscription(s: Scenario, alice: Actor, bob: Actor): Promise<void> {
  answerRosterPushes(alice);
  answerRosterPushes(bob);
  const before = { alice: await rosterItem(alice, bob.bare), bob: await rosterItem(bob, alice.bare) };
  s.note(`roster before: ${alice.bare} has ${bob.bare}: ${rosterKey(before.alice)}; ${bob.bare} has ${alice.bare}: ${rosterKey(before.bob)}`);
  s.cleanup("restore the rosters of both accounts", async () => {
    const a = await live(s, alice, "account");
    const b = await live(s, bob, "peer");
    for (const [actor, contact, old] of [
      [a, b.bare, before.alice],
      [b, a.bare, before.bob],
    ] as const) {
      if (!old && (await rosterItem(actor, contact))) {
        await actor.iq(xml("iq", { type: "set" }, xml("query", { xmlns: NS_ROSTER }, xml("item", { jid: contact, subscription: "remove" }))));
      }
    }
    // A request that was pending before was answered by the setup: ask again.
    for (const [actor, contact, old] of [
      [a, b.bare, before.alice],
      [b, a.bare, before.bob],
    ] as const) {
      if (old?.attrs.ask === "subscribe" && !subscribedTo(old)) actor.send(xml("presence", { to: contact, type: "subscribe" }));
    }
    const expected = `${rosterKey(before.alice)} / ${rosterKey(before.bob)}`;
    let now = "";
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      now = `${rosterKey(await rosterItem(a, b.bare))} / ${rosterKey(await rosterItem(b, a.bare))}`;
      if (now === expected || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    if (now !== expected) throw new Error(`rosters differ from before: expected ${expected}, now ${now}`);
  });
  await subscribe(s, bob, "peer", alice, subscribedTo(before.bob));
  await subscribe(s, alice, "account", bob, subscribedTo(before.alice));
}

/** `subscriber` subscribes to `contact`'s presence and `contact` approves (RFC 6121 §3.1). */
async function subscribe(s: Scenario, subscriber: Actor, role: Role, contact: Actor, already: boolean): Promise<void> {
  if (already) {
    s.note(`${subscriber.bare} is already subscribed to ${contact.bare}`);
    return;
  }
  s.cleanup(`${subscriber.bare} unsubscribes from ${contact.bare}`, async () => {
    const who = await live(s, subscriber, role);
    who.send(xml("presence", { to: contact.bare, type: "unsubscribe" }));
    await until(
      s,
      async () => !subscribedTo(await rosterItem(who, contact.bare)),
      "the subscription cancelled",
      async () => rosterKey(await rosterItem(who, contact.bare)),
    );
  });
  subscriber.send(xml("presence", { to: contact.bare, type: "subscribe" }));
  await until(
    s,
    async () => {
      const item = await rosterItem(subscriber, contact.bare);
      return item?.attrs.ask === "subscribe" || subscribedTo(item);
    },
    `${subscriber.bare}'s roster item for ${contact.bare} with ask='subscribe' (RFC 6121 §3.1.2)`,
    async () => rosterKey(await rosterItem(subscriber, contact.bare)),
  );
  contact.send(xml("presence", { to: subscriber.bare, type: "subscribed" }));
  await until(
    s,
    async () => subscribedTo(await rosterItem(subscriber, contact.bare)),
    `${subscriber.bare}'s roster item for ${contact.bare} with subscription 'to' or 'both' (RFC 6121 §3.1.5)`,
    async () => rosterKey(await rosterItem(subscriber, contact.bare)),
  );
}
