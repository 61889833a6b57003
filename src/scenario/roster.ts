/**
 * The roster in scenarios (RFC 6121 §2–§3, XEP-0237): read and change it,
 * collect roster pushes (answering each with a result, as RFC 6121 §2.1.6
 * asks of clients), run a presence subscription between two accounts, and
 * put the relation between two accounts back the way it was.
 */
import { xml, type Element } from "@xmpp/xml";
import { StanzaError } from "../session/errors.js";
import type { Actor } from "./actor.js";
import { ScenarioFailure } from "./outcome.js";
import type { Scenario } from "./scenario.js";

export const NS_ROSTER = "jabber:iq:roster";

export interface RosterItem {
  jid: string;
  name?: string;
  /** "none", "to", "from", "both" or, in a push, "remove". */
  subscription: string;
  /** "subscribe" while an outbound subscription request is pending. */
  ask?: string;
  approved?: boolean;
  groups: string[];
}

export interface RosterResult {
  /** false: an empty iq result, with changes to follow as pushes (XEP-0237 §2.4). */
  full: boolean;
  ver?: string;
  items: RosterItem[];
}

export interface RosterPush {
  item: RosterItem;
  ver?: string;
  el: Element;
}

export function sameJid(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}

export function parseRosterItem(el: Element): RosterItem {
  return {
    jid: el.attrs.jid ?? "",
    ...(el.attrs.name !== undefined ? { name: el.attrs.name as string } : {}),
    subscription: el.attrs.subscription ?? "none",
    ...(el.attrs.ask !== undefined ? { ask: el.attrs.ask as string } : {}),
    ...(el.attrs.approved === "true" || el.attrs.approved === "1" ? { approved: true } : {}),
    groups: el.getChildren("group").map((g) => g.text()),
  };
}

export function itemFor(items: RosterItem[], jid: string): RosterItem | undefined {
  return items.find((i) => sameJid(i.jid, jid));
}

/** "both, name 'Bob', groups [Friends]"; "no item". */
export function describeItem(item: RosterItem | undefined): string {
  if (!item) return "no item";
  const parts = [item.subscription + (item.ask ? ` (ask=${item.ask})` : "")];
  if (item.name !== undefined) parts.push(`name '${item.name}'`);
  if (item.groups.length) parts.push(`groups [${[...item.groups].sort().join(", ")}]`);
  return parts.join(", ");
}

/** Same subscription, pending request, name and groups. */
export function sameItem(a: RosterItem | undefined, b: RosterItem | undefined): boolean {
  return describeItem(a) === describeItem(b);
}

/**
 * Roster get (RFC 6121 §2.1.3); with `ver`, a versioned get (XEP-0237 §2.3).
 * The actor becomes an interested resource: its pushes are collected (and
 * answered) from now on, see rosterPushes().
 */
export async function getRoster(actor: Actor, ver?: string): Promise<RosterResult> {
  rosterPushes(actor);
  const result = await actor.iq(xml("iq", { type: "get" }, xml("query", { xmlns: NS_ROSTER, ...(ver !== undefined ? { ver } : {}) })));
  const query = result.getChild("query", NS_ROSTER);
  if (!query) return { full: false, items: [] };
  return {
    full: true,
    ...(query.attrs.ver !== undefined ? { ver: query.attrs.ver as string } : {}),
    items: query.getChildren("item").map(parseRosterItem),
  };
}

/** Roster set adding or updating an item (RFC 6121 §2.3, §2.4). */
export async function setRosterItem(actor: Actor, item: { jid: string; name?: string; groups?: string[] }): Promise<void> {
  const groups = (item.groups ?? []).map((g) => xml("group", {}, g));
  await actor.iq(
    xml("iq", { type: "set" }, xml("query", { xmlns: NS_ROSTER }, xml("item", { jid: item.jid, ...(item.name !== undefined ? { name: item.name } : {}) }, ...groups))),
  );
}

/** Roster set with subscription='remove' (RFC 6121 §2.5). */
export async function removeRosterItem(actor: Actor, jid: string): Promise<void> {
  await actor.iq(xml("iq", { type: "set" }, xml("query", { xmlns: NS_ROSTER }, xml("item", { jid, subscription: "remove" }))));
}

interface PushWaiter {
  match: (p: RosterPush) => boolean;
  resolve: (p: RosterPush) => void;
  reject: (err: Error) => void;
}

/**
 * Collects the roster pushes an actor receives, from the moment it is made,
 * and answers each with an iq result. The actor still has to request the
 * roster to become an "interested resource" (RFC 6121 §2.1.6).
 */
export class RosterPushes {
  /** Every push received, in order. */
  readonly seen: RosterPush[] = [];
  private unclaimed: RosterPush[] = [];
  private waiting: PushWaiter[] = [];
  private failure: Error | undefined;

  constructor(readonly actor: Actor) {
    this.arm();
  }

  /**
   * One stream waiter at a time takes the next push; it arms the next one
   * before it returns, so no push can fall between two waiters (and get the
   * stream's automatic service-unavailable).
   */
  private arm(): void {
    const waiting = this.actor.stream.waitFor((el) => this.claim(el), "wait", { timeoutMs: 3_600_000 });
    waiting.catch((err: Error) => {
      if (this.failure) return;
      this.failure = err;
      for (const w of this.waiting) w.reject(err);
      this.waiting = [];
    });
  }

  private claim(el: Element): boolean {
    if (!(el.is("iq") && el.attrs.type === "set")) return false;
    const query = el.getChild("query", NS_ROSTER);
    if (!query) return false;
    // §2.1.6: a push comes from the account's bare JID or carries no 'from'; others are not pushes.
    if (el.attrs.from && !sameJid(el.attrs.from, this.actor.bare)) return false;
    const itemEl = query.getChild("item");
    const push: RosterPush = {
      item: itemEl ? parseRosterItem(itemEl) : { jid: "", subscription: "none", groups: [] },
      ...(query.attrs.ver !== undefined ? { ver: query.attrs.ver as string } : {}),
      el,
    };
    try {
      this.actor.send(xml("iq", { type: "result", id: el.attrs.id, ...(el.attrs.from ? { to: el.attrs.from } : {}) }));
    } catch {
      // the stream is closing; nothing to answer on
    }
    this.seen.push(push);
    const waiter = this.waiting.find((w) => w.match(push));
    if (waiter) {
      this.waiting = this.waiting.filter((w) => w !== waiter);
      waiter.resolve(push);
    } else {
      this.unclaimed.push(push);
    }
    this.arm();
    return true;
  }

  /** Forgets the pushes no expect() has taken: what comes next is about the next change. */
  discard(): void {
    this.unclaimed = [];
  }

  /** The first push not yet taken that matches, or the next one to come; a ScenarioFailure when none comes. */
  expect(match: (p: RosterPush) => boolean, what: string, timeoutMs = this.actor.stream.options.timeoutMs): Promise<RosterPush> {
    const index = this.unclaimed.findIndex(match);
    if (index >= 0) return Promise.resolve(this.unclaimed.splice(index, 1)[0]!);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<RosterPush>((resolve, reject) => {
      const waiter: PushWaiter = {
        match,
        resolve: (p) => {
          clearTimeout(timer);
          resolve(p);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w !== waiter);
        const seen = this.seen.map((p) => `${p.item.jid}: ${describeItem(p.item)}`);
        reject(
          new ScenarioFailure(
            what,
            `no such roster push reached ${this.actor.label} within ${timeoutMs} ms (pushes received: ${seen.length ? seen.join("; ") : "none"})`,
          ),
        );
      }, timeoutMs);
      this.waiting.push(waiter);
    });
  }
}

const watches = new WeakMap<Actor, RosterPushes>();

/** The push collector of `actor`, started on first use. */
export function rosterPushes(actor: Actor): RosterPushes {
  let watch = watches.get(actor);
  if (!watch) {
    watch = new RosterPushes(actor);
    watches.set(actor, watch);
  }
  return watch;
}

/** A push about `jid` whose item passes `test`. */
export function pushAbout(jid: string, test: (item: RosterItem) => boolean = () => true): (p: RosterPush) => boolean {
  return (p) => sameJid(p.item.jid, jid) && test(p.item);
}

function isPresence(type: string, from: string): (el: Element) => boolean {
  return (el) => el.is("presence") && el.attrs.type === type && sameJid(el.attrs.from?.split("/")[0], from);
}

/**
 * RFC 6121 §3.1: `user` asks for `contact`'s presence and `contact` approves.
 * Both must be available and have requested the roster. Resolves once the
 * pushes show the new state on both sides.
 */
export async function subscribeAndApprove(user: Actor, contact: Actor): Promise<{ userItem: RosterItem; contactItem: RosterItem }> {
  const userPushes = rosterPushes(user);
  const contactPushes = rosterPushes(contact);
  // Pushes of earlier changes (a removal that went from 'to' to 'none') must not pass for this one's.
  userPushes.discard();
  contactPushes.discard();
  const request = contact.expect(isPresence("subscribe", user.bare), `the subscription request of ${user.bare} delivered to ${contact.label} (RFC 6121 §3.1.3)`);
  const pending = userPushes.expect(
    pushAbout(contact.bare, (i) => i.ask === "subscribe"),
    `a roster push at ${user.label} showing the request to ${contact.bare} pending (ask='subscribe', RFC 6121 §3.1.2)`,
  );
  user.send(xml("presence", { to: contact.bare, type: "subscribe" }));
  await Promise.all([request, pending]);

  const approved = user.expect(isPresence("subscribed", contact.bare), `the approval of ${contact.bare} delivered to ${user.label} (RFC 6121 §3.1.6)`);
  const userPush = userPushes.expect(
    pushAbout(contact.bare, (i) => (i.subscription === "to" || i.subscription === "both") && i.ask === undefined),
    `a roster push at ${user.label} with subscription 'to' or 'both' for ${contact.bare} (RFC 6121 §3.1.6)`,
  );
  const contactPush = contactPushes.expect(
    pushAbout(user.bare, (i) => i.subscription === "from" || i.subscription === "both"),
    `a roster push at ${contact.label} with subscription 'from' or 'both' for ${user.bare} (RFC 6121 §3.1.5)`,
  );
  contact.send(xml("presence", { to: user.bare, type: "subscribed" }));
  const [, u, c] = await Promise.all([approved, userPush, contactPush]);
  return { userItem: u.item, contactItem: c.item };
}

/** What `a` has in its roster for `b`, and `b` for `a`. */
export interface Relation {
  a?: RosterItem;
  b?: RosterItem;
}

/** Reads both rosters (which also makes both actors interested resources). */
export async function readRelation(a: Actor, b: Actor): Promise<Relation> {
  const [ra, rb] = await Promise.all([getRoster(a), getRoster(b)]);
  const ia = itemFor(ra.items, b.bare);
  const ib = itemFor(rb.items, a.bare);
  return { ...(ia ? { a: ia } : {}), ...(ib ? { b: ib } : {}) };
}

async function removeIfPresent(actor: Actor, jid: string): Promise<void> {
  if (!itemFor((await getRoster(actor)).items, jid)) return;
  try {
    await removeRosterItem(actor, jid);
  } catch (err) {
    // §2.5.3: gone in the meantime (the other side's removal can touch it)
    if (!(err instanceof StanzaError && err.condition === "item-not-found")) throw err;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Removes the items on both sides (cancelling any subscription between them) and waits until both are gone. */
export async function clearRelation(a: Actor, b: Actor): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    await removeIfPresent(a, b.bare);
    await removeIfPresent(b, a.bare);
    const now = await readRelation(a, b);
    if (!now.a && !now.b) return;
    await sleep(200);
  }
  const now = await readRelation(a, b);
  throw new Error(`could not remove the roster items: ${a.bare} has ${describeItem(now.a)} for ${b.bare}, ${b.bare} has ${describeItem(now.b)} for ${a.bare}`);
}

const subscribedTo = (i: RosterItem | undefined) => i?.subscription === "to" || i?.subscription === "both";

/**
 * Puts the relation between the two actors back to `before`: clears it,
 * re-runs the subscriptions that existed, re-sends pending requests, and
 * restores names and groups. Throws when the result differs from `before`.
 */
export async function restoreRelation(a: Actor, b: Actor, before: Relation): Promise<void> {
  await clearRelation(a, b);
  if (!before.a && !before.b) return;
  await readRelation(a, b);
  a.available();
  b.available();
  if (subscribedTo(before.a)) await subscribeAndApprove(a, b);
  if (subscribedTo(before.b)) await subscribeAndApprove(b, a);
  for (const [user, contact, item] of [[a, b, before.a], [b, a, before.b]] as const) {
    if (item?.ask === "subscribe" && !subscribedTo(item)) {
      const pending = rosterPushes(user).expect(pushAbout(contact.bare, (i) => i.ask === "subscribe"), `the pending request of ${user.bare} to ${contact.bare}`);
      user.send(xml("presence", { to: contact.bare, type: "subscribe" }));
      await pending;
    }
  }
  for (const [user, contact, item] of [[a, b, before.a], [b, a, before.b]] as const) {
    if (item) await setRosterItem(user, { jid: contact.bare, ...(item.name !== undefined ? { name: item.name } : {}), groups: item.groups });
  }
  const after = await readRelation(a, b);
  // An item the subscriptions created on a side that had none, left with nothing in it: remove it again.
  for (const [user, contact, was, now] of [[a, b, before.a, after.a], [b, a, before.b, after.b]] as const) {
    if (!was && now && now.subscription === "none" && !now.ask) await removeRosterItem(user, contact.bare);
  }
  const final = await readRelation(a, b);
  if (!sameItem(final.a, before.a) || !sameItem(final.b, before.b)) {
    throw new Error(
      `roster not restored: ${a.bare} has ${describeItem(final.a)} for ${b.bare} (was ${describeItem(before.a)}), ` +
        `${b.bare} has ${describeItem(final.b)} for ${a.bare} (was ${describeItem(before.b)})`,
    );
  }
}

/** A cleanup step: fresh sessions of both accounts put their relation back to `before`. */
export async function restoreRelationFresh(s: Scenario, before: Relation): Promise<void> {
  const a = await s.login("account", "cleanup");
  rosterPushes(a); // some servers push to every resource, interested or not
  const b = await s.login("peer", "cleanup");
  rosterPushes(b);
  await restoreRelation(a, b, before);
}
