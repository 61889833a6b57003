/**
 * What the PEP and storage scenarios (XEP-0163, 0223, 0384, 0054, 0153,
 * 0398, 0049, 0048, 0402) share at the scenario level: polling until the
 * server reaches a state, a live session for cleanups, and the snapshots
 * that let their cleanups put the accounts' profile and bookmarks back
 * exactly as they were. The protocol requests are in src/xmpp.
 */
import { xml, type Element } from "@xmpp/xml";
import { componentsWith } from "../checks/advertisement.js";
import { StanzaError } from "../session/errors.js";
import { BOOKMARK_OPTIONS, NS_BOOKMARKS, NS_LEGACY_BOOKMARKS } from "../xmpp/bookmarks.js";
import { NS_AVATAR_DATA, NS_AVATAR_METADATA, NS_VCARD4 } from "../xmpp/avatar.js";
import { privateGet, privateSet } from "../xmpp/private-xml.js";
import { deleteNodeIfPresent, fetchItems, ownNodes, publish, retract } from "../xmpp/pubsub.js";
import { NS_VCARD, ownVcard, setVcard } from "../xmpp/vcard.js";
import { canonical, detach, sameXml } from "../xmpp/xml.js";
import type { Actor } from "./actor.js";
import { holdLock } from "./locks.js";
import type { Role, Scenario } from "./scenario.js";

/** How long a cleanup or a setup step polls for the server to reach a state. */
export const SETTLE_MS = 10_000;

/** Polls `probe` until it returns true; on the deadline the scenario fails with `expected`. */
export async function until(
  s: Scenario,
  probe: () => Promise<boolean>,
  expected: string,
  actual: () => Promise<string> | string,
  ms = SETTLE_MS,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) s.fail(expected, await actual());
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** The actor if its stream is still open, else a fresh session of `role` (for cleanups). */
export async function live(s: Scenario, actor: Actor, role: Role): Promise<Actor> {
  return actor.stream.isClosed ? s.login(role, "cleanup") : actor;
}

/** ownNodes, or none when the account answers disco#items with an error (no PEP to restore there). */
async function knownNodes(actor: Actor): Promise<string[]> {
  try {
    return await ownNodes(actor);
  } catch (err) {
    if (err instanceof StanzaError) return [];
    throw err;
  }
}

/** privateGet, or undefined when the server refuses private XML (nothing to restore there). */
async function knownPrivate(actor: Actor, name: string, ns: string): Promise<Element | undefined> {
  try {
    return await privateGet(actor, name, ns);
  } catch (err) {
    if (err instanceof StanzaError) return undefined;
    throw err;
  }
}

/** Nodes a server may create or change when it converts between vCard and PEP (XEP-0398, vCard4 storage). */
const PROFILE_NODES = [NS_AVATAR_DATA, NS_AVATAR_METADATA, NS_VCARD4];

/** What the vCard scenarios change on the account: the vCard and the PEP nodes servers convert it to. */
export interface ProfileSnapshot {
  vcard: Element | undefined;
  nodes: string[];
  /** The avatar metadata and data items published before, to publish again. */
  avatar: { metadata?: Element; data?: Element };
}

export async function snapshotProfile(actor: Actor): Promise<ProfileSnapshot> {
  const vcard = await ownVcard(actor);
  const nodes = (await knownNodes(actor)).filter((n) => PROFILE_NODES.includes(n));
  const avatar: ProfileSnapshot["avatar"] = {};
  if (nodes.includes(NS_AVATAR_METADATA)) {
    const [metadata] = (await fetchItems(actor, NS_AVATAR_METADATA).catch(() => [])).slice(-1);
    if (metadata) {
      avatar.metadata = detach(metadata);
      const id = metadata.attrs.id;
      if (id && nodes.includes(NS_AVATAR_DATA)) {
        const [data] = await fetchItems(actor, NS_AVATAR_DATA, { ids: [id] }).catch(() => []);
        if (data) avatar.data = detach(data);
      }
    }
  }
  return { vcard: vcard && detach(vcard), nodes, avatar };
}

function describeProfile(vcard: Element | undefined, nodes: string[]): string {
  return `vCard ${vcard ? vcard.toString() : "(none)"}; profile nodes [${nodes.join(", ")}]`;
}

/**
 * Puts the vCard and the avatar back: the old vCard (an empty one when
 * there was none), the old avatar items, and no profile node that did not
 * exist before. Throws when the result still differs.
 */
export async function restoreProfile(s: Scenario, actor: Actor, before: ProfileSnapshot): Promise<void> {
  const alice = await live(s, actor, "account");
  const oldVcard = before.vcard ?? xml("vCard", { xmlns: NS_VCARD });
  await setVcard(alice, detach(oldVcard));
  const { metadata, data } = before.avatar;
  if (metadata) {
    if (data) await republish(alice, NS_AVATAR_DATA, data);
    await republish(alice, NS_AVATAR_METADATA, metadata);
  }
  const present = await knownNodes(alice);
  for (const node of PROFILE_NODES) {
    if (present.includes(node) && !before.nodes.includes(node)) await deleteNodeIfPresent(alice, node);
  }
  const vcard = await ownVcard(alice);
  const nodes = (await knownNodes(alice)).filter((n) => PROFILE_NODES.includes(n));
  const sameVcard = before.vcard ? sameXml(vcard, before.vcard) : !vcard || vcard.getChildElements().length === 0;
  if (!sameVcard || nodes.join() !== before.nodes.join()) {
    throw new Error(`could not restore the profile: before ${describeProfile(before.vcard, before.nodes)}; now ${describeProfile(vcard, nodes)}`);
  }
}

/**
 * For scenarios that change the vCard: waits for the other such scenarios
 * of this run, records the profile and registers its restoration.
 */
export async function guardProfile(s: Scenario, alice: Actor): Promise<ProfileSnapshot> {
  await holdLock(s, "vCard");
  const before = await snapshotProfile(alice);
  s.note(`profile before: ${describeProfile(before.vcard, before.nodes)}`);
  s.cleanup("restore the vCard and the avatar", () => restoreProfile(s, alice, before));
  return before;
}

async function republish(actor: Actor, node: string, item: Element): Promise<void> {
  const payload = item.getChildElements()[0];
  if (payload) await publish(actor, node, detach(payload), { id: item.attrs.id });
}

const BOOKMARK_NODES = [NS_BOOKMARKS, NS_LEGACY_BOOKMARKS];

export interface BookmarksSnapshot {
  /** <storage xmlns='storage:bookmarks'/> in private XML (undefined: none stored). */
  legacy: Element | undefined;
  nodes: string[];
  /** Items of the urn:xmpp:bookmarks:1 node. */
  items: Element[];
}

export async function snapshotBookmarks(actor: Actor): Promise<BookmarksSnapshot> {
  const legacy = await knownPrivate(actor, "storage", NS_LEGACY_BOOKMARKS);
  const nodes = (await knownNodes(actor)).filter((n) => BOOKMARK_NODES.includes(n));
  const items = nodes.includes(NS_BOOKMARKS) ? (await fetchItems(actor, NS_BOOKMARKS)).map(detach) : [];
  return { legacy: legacy && detach(legacy), nodes, items };
}

function describeBookmarks(b: BookmarksSnapshot): string {
  return `private ${b.legacy?.toString() ?? "(none)"}; nodes [${b.nodes.join(", ")}]; items [${b.items.map((i) => i.attrs.id).join(", ")}]`;
}

/**
 * For scenarios that change bookmarks: waits for the other such scenarios
 * of this run, records both stores and registers their restoration.
 */
export async function guardBookmarks(s: Scenario, alice: Actor): Promise<BookmarksSnapshot> {
  await holdLock(s, "bookmarks");
  const before = await snapshotBookmarks(alice);
  s.note(`bookmarks before: ${describeBookmarks(before)}`);
  s.cleanup("restore the bookmarks", () => restoreBookmarks(s, alice, before));
  return before;
}

function sameItems(a: Element[], b: Element[]): boolean {
  const key = (items: Element[]) => items.map((i) => `${i.attrs.id}=${i.getChildElements().map(canonical).join("")}`).sort().join("\n");
  return key(a) === key(b);
}

/**
 * Puts both bookmark stores back: the old private XML, the old PEP items
 * (republished when changed, retracted when new), no bookmark node that
 * did not exist before. Throws when the result still differs.
 */
export async function restoreBookmarks(s: Scenario, actor: Actor, before: BookmarksSnapshot): Promise<void> {
  const alice = await live(s, actor, "account");
  const legacyNow = await knownPrivate(alice, "storage", NS_LEGACY_BOOKMARKS);
  if (before.legacy || (legacyNow && legacyNow.getChildElements().length > 0)) {
    await privateSet(alice, before.legacy ? detach(before.legacy) : xml("storage", { xmlns: NS_LEGACY_BOOKMARKS }));
  }
  const nodesNow = await knownNodes(alice);
  if (before.nodes.includes(NS_BOOKMARKS) || nodesNow.includes(NS_BOOKMARKS)) {
    const now = await fetchItems(alice, NS_BOOKMARKS).catch(() => []);
    for (const item of now) {
      if (!before.items.some((b) => b.attrs.id === item.attrs.id)) await retract(alice, NS_BOOKMARKS, item.attrs.id!);
    }
    for (const item of before.items) {
      const current = now.find((n) => n.attrs.id === item.attrs.id);
      if (!current || !sameItems([current], [item])) await republishBookmark(alice, item);
    }
  }
  const present = await knownNodes(alice);
  for (const node of BOOKMARK_NODES) {
    if (present.includes(node) && !before.nodes.includes(node)) await deleteNodeIfPresent(alice, node);
  }
  const after = await snapshotBookmarks(alice);
  const sameLegacy = before.legacy ? sameXml(after.legacy, before.legacy) : !after.legacy || after.legacy.getChildElements().length === 0;
  if (!sameLegacy || after.nodes.join() !== before.nodes.join() || !sameItems(after.items, before.items)) {
    throw new Error(`could not restore the bookmarks: before ${describeBookmarks(before)}; now ${describeBookmarks(after)}`);
  }
}

async function republishBookmark(actor: Actor, item: Element): Promise<void> {
  const payload = item.getChildElements()[0];
  if (payload) await publish(actor, NS_BOOKMARKS, detach(payload), { id: item.attrs.id, options: BOOKMARK_OPTIONS });
}

/** A room JID for a bookmark (no room is created): on the MUC service the probe found, if any. */
export function roomJid(s: Scenario): string {
  const muc = componentsWith(s.ctx, { category: "conference", type: "text" })[0]?.jid ?? `conference.${s.domain}`;
  return `${s.token("xepcheck")}@${muc}`;
}
