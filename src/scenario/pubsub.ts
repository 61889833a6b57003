/**
 * What the PEP and storage scenarios (XEP-0163, 0223, 0384, 0054, 0153,
 * 0398, 0049, 0048, 0402) share: pubsub requests on the account's PEP
 * service, private XML and vCard requests, roster subscriptions between the
 * two accounts, XEP-0115 caps answered by an actor, and the snapshots that
 * let their cleanups put the accounts back exactly as they were.
 */
import { createHash } from "node:crypto";
import { deflateSync } from "node:zlib";
import { xml, type Element } from "@xmpp/xml";
import parse from "@xmpp/xml/lib/parse.js";
import { componentsWith } from "../checks/advertisement.js";
import { StanzaError } from "../session/errors.js";
import type { Actor } from "./actor.js";
import type { Role, Scenario } from "./scenario.js";
import { holdLock } from "./locks.js";

export const NS_PUBSUB = "http://jabber.org/protocol/pubsub";
export const NS_PUBSUB_OWNER = `${NS_PUBSUB}#owner`;
export const NS_PUBSUB_EVENT = `${NS_PUBSUB}#event`;
export const NS_PUBSUB_ERRORS = `${NS_PUBSUB}#errors`;
export const NS_PUBLISH_OPTIONS = `${NS_PUBSUB}#publish-options`;
export const NS_DATA = "jabber:x:data";
export const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
export const NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items";
export const NS_CAPS = "http://jabber.org/protocol/caps";
export const NS_ROSTER = "jabber:iq:roster";
export const NS_PRIVATE = "jabber:iq:private";
export const NS_VCARD = "vcard-temp";
export const NS_AVATAR_DATA = "urn:xmpp:avatar:data";
export const NS_AVATAR_METADATA = "urn:xmpp:avatar:metadata";
export const NS_VCARD4 = "urn:xmpp:vcard4";
export const NS_BOOKMARKS = "urn:xmpp:bookmarks:1";
export const FEATURE_COMPAT = "urn:xmpp:bookmarks:1#compat";
export const NS_LEGACY_BOOKMARKS = "storage:bookmarks";

/** How long a cleanup or a setup step polls for the server to reach a state. */
const SETTLE_MS = 10_000;

// ---------------------------------------------------------------- XML

/**
 * A comparable form of an element: namespace, name, sorted attributes,
 * children; whitespace-only text between elements is ignored.
 */
export function canonical(el: Element): string {
  const attrs = Object.entries(el.attrs)
    .filter(([k, v]) => v !== undefined && k !== "xmlns" && !k.startsWith("xmlns:"))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => ` ${k}=${JSON.stringify(String(v))}`)
    .join("");
  const parts: string[] = [];
  let text = "";
  const flush = () => {
    if (text.trim() !== "") parts.push(JSON.stringify(text));
    text = "";
  };
  for (const child of el.children) {
    if (typeof child === "string") text += child;
    else {
      flush();
      parts.push(canonical(child));
    }
  }
  flush();
  return `<{${el.getNS() ?? ""}}${el.getName()}${attrs}>${parts.join("")}</>`;
}

export function sameXml(a: Element | undefined, b: Element | undefined): boolean {
  if (!a || !b) return a === b;
  return canonical(a) === canonical(b);
}

/** A copy of `el` with its namespace written out, detached from the stanza it came in. */
export function detach(el: Element): Element {
  const copy = parse(el.toString());
  const ns = el.getNS();
  if (ns && copy.getNS() !== ns) copy.attrs.xmlns = ns;
  return copy;
}


let changes: Promise<unknown> = Promise.resolve();

/**
 * Runs `fn` (one request that changes PEP data: a publish, a retraction, a
 * node deletion, a vCard or private XML that a server may convert to PEP)
 * after the others of this process. The scenarios run concurrently; a client
 * does not create several nodes of one account at the same instant, and
 * ejabberd 24.12 can abort such concurrent creations (an mnesia "cyclic"
 * lock conflict answered with item-not-found).
 */
export function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const run = changes.then(fn, fn);
  changes = run.catch(() => undefined);
  return run;
}

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

/**
 * Answers, for as long as the actor's stream lives, every incoming stanza
 * that `match`es with `respond(el)` (iq get/set that nobody waits for
 * would otherwise get service-unavailable).
 */
export function serve(actor: Actor, match: (el: Element) => boolean, respond: (el: Element) => Element | undefined): void {
  const loop = async () => {
    while (!actor.stream.isClosed) {
      let el: Element;
      try {
        el = await actor.stream.waitFor(match, "wait", { timeoutMs: 3_600_000 });
      } catch {
        if (actor.stream.isClosed) return;
        continue;
      }
      const reply = respond(el);
      if (reply && !actor.stream.isClosed) actor.send(reply);
    }
  };
  void loop();
}

/** The actor if its stream is still open, else a fresh session of `role` (for cleanups). */
export async function live(s: Scenario, actor: Actor, role: Role): Promise<Actor> {
  return actor.stream.isClosed ? s.login(role, "cleanup") : actor;
}

/** An iq answered with an error ends in its condition (undefined: a result). */
export async function errorOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    if (err instanceof StanzaError) return err.condition;
    throw err;
  }
}

// ---------------------------------------------------------------- pubsub on the account (PEP)

/** <publish-options/> with a XEP-0004 submit form (XEP-0060 §7.1.5). */
export function publishOptions(fields: Record<string, string>): Element {
  return xml(
    "publish-options",
    {},
    xml(
      "x",
      { xmlns: NS_DATA, type: "submit" },
      xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, NS_PUBLISH_OPTIONS)),
      ...Object.entries(fields).map(([k, v]) => xml("field", { var: `pubsub#${k}` }, xml("value", {}, v))),
    ),
  );
}

/** Publishes `payload` as item `id` to `node` on the actor's own PEP service; returns the item id. */
export async function publish(
  actor: Actor,
  node: string,
  payload: Element,
  opts: { id?: string; options?: Record<string, string> } = {},
): Promise<string | undefined> {
  const result = await serialized(() =>
    actor.iq(
      xml(
        "iq",
        { type: "set" },
        xml(
          "pubsub",
          { xmlns: NS_PUBSUB },
          xml("publish", { node }, xml("item", opts.id ? { id: opts.id } : {}, payload)),
          opts.options ? publishOptions(opts.options) : undefined,
        ),
      ),
    ),
  );
  return result.getChild("pubsub", NS_PUBSUB)?.getChild("publish")?.getChild("item")?.attrs.id ?? opts.id;
}

/** Retrieves the items of `node` at `owner` (default: the actor's own account); throws StanzaError. */
export async function fetchItems(actor: Actor, node: string, opts: { owner?: string; ids?: string[] } = {}): Promise<Element[]> {
  const result = await actor.iq(
    xml(
      "iq",
      { type: "get", ...(opts.owner ? { to: opts.owner } : {}) },
      xml("pubsub", { xmlns: NS_PUBSUB }, xml("items", { node }, ...(opts.ids ?? []).map((id) => xml("item", { id })))),
    ),
  );
  return result.getChild("pubsub", NS_PUBSUB)?.getChild("items")?.getChildren("item") ?? [];
}

export async function retract(actor: Actor, node: string, id: string, notify = true): Promise<void> {
  await serialized(() =>
    actor.iq(
      xml(
        "iq",
        { type: "set" },
        xml("pubsub", { xmlns: NS_PUBSUB }, xml("retract", { node, ...(notify ? { notify: "true" } : {}) }, xml("item", { id }))),
      ),
    ),
  );
}

export async function deleteNode(actor: Actor, node: string): Promise<void> {
  await serialized(() => actor.iq(xml("iq", { type: "set" }, xml("pubsub", { xmlns: NS_PUBSUB_OWNER }, xml("delete", { node })))));
}

/** Deletes `node`; a node that is already gone is fine. */
export async function deleteNodeIfPresent(actor: Actor, node: string): Promise<void> {
  const condition = await errorOf(deleteNode(actor, node));
  if (condition && condition !== "item-not-found") throw new Error(`deleting node ${node}: ${condition}`);
}

/** The PEP nodes of the actor's account: disco#items of its bare JID, items with a node. */
export async function ownNodes(actor: Actor): Promise<string[]> {
  const result = await actor.iq(xml("iq", { type: "get", to: actor.bare }, xml("query", { xmlns: NS_DISCO_ITEMS })));
  return (result.getChild("query", NS_DISCO_ITEMS)?.getChildren("item") ?? [])
    .map((i) => i.attrs.node)
    .filter((n): n is string => !!n)
    .sort();
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

/** The item with `id` inside a pubsub#event notification for `node`, if `el` is one. */
export function eventItem(el: Element, node: string, id: string): Element | undefined {
  if (!el.is("message")) return undefined;
  const items = el.getChild("event", NS_PUBSUB_EVENT)?.getChild("items");
  if (items?.attrs.node !== node) return undefined;
  return items.getChildren("item").find((i) => i.attrs.id === id);
}

// ---------------------------------------------------------------- private XML (XEP-0049)

/** The stored element `name` of namespace `ns` (as the server returns it). */
export async function privateGet(actor: Actor, name: string, ns: string): Promise<Element | undefined> {
  const result = await actor.iq(xml("iq", { type: "get" }, xml("query", { xmlns: NS_PRIVATE }, xml(name, { xmlns: ns }))));
  return result.getChild("query", NS_PRIVATE)?.getChild(name, ns);
}

export async function privateSet(actor: Actor, el: Element): Promise<void> {
  await serialized(() => actor.iq(xml("iq", { type: "set" }, xml("query", { xmlns: NS_PRIVATE }, el))));
}

// ---------------------------------------------------------------- vCard (XEP-0054) and avatars

/** The own vCard: the element, or undefined when the server has none (an error reply). */
export async function ownVcard(actor: Actor): Promise<Element | undefined> {
  try {
    const result = await actor.iq(xml("iq", { type: "get" }, xml("vCard", { xmlns: NS_VCARD })));
    return result.getChild("vCard", NS_VCARD) ?? xml("vCard", { xmlns: NS_VCARD });
  } catch (err) {
    if (err instanceof StanzaError && err.condition === "item-not-found") return undefined;
    throw err;
  }
}

export async function setVcard(actor: Actor, vcard: Element): Promise<void> {
  await serialized(() => actor.iq(xml("iq", { type: "set" }, vcard)));
}

/** A vCard whose <PHOTO/> holds a PNG (XEP-0153 §3.1), with the given other fields. */
export function vcardWithPhoto(png: Buffer, ...fields: Element[]): Element {
  return xml(
    "vCard",
    { xmlns: NS_VCARD },
    ...fields,
    xml("PHOTO", {}, xml("TYPE", {}, "image/png"), xml("BINVAL", {}, png.toString("base64"))),
  );
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

/** A valid PNG (1×1, one grey pixel) carrying `token` in a tEXt chunk, so that its hash is new. */
export function tinyPng(token: string): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0); // width
  ihdr.writeUInt32BE(1, 4); // height
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  // compression, filter, interlace: 0
  // one scanline: filter byte 0, then the grey pixel
  const idat = deflateSync(Buffer.from([0x00, 0x80]));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("tEXt", Buffer.from(`Comment\0${token}`, "latin1")),
    chunk("IDAT", idat),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

export function sha1Hex(data: Buffer): string {
  return createHash("sha1").update(data).digest("hex");
}

let crcTable: number[] | undefined;
export function crc32(data: Buffer): number {
  crcTable ??= Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The PHOTO of a vCard: its TYPE and the decoded BINVAL. */
export function vcardPhoto(vcard: Element | undefined): { type?: string; bytes?: Buffer; extval?: string } | undefined {
  const photo = vcard?.getChild("PHOTO");
  if (!photo) return undefined;
  const binval = photo.getChildText("BINVAL");
  return {
    type: photo.getChildText("TYPE") ?? undefined,
    bytes: binval ? Buffer.from(binval.replace(/\s+/g, ""), "base64") : undefined,
    extval: photo.getChildText("EXTVAL") ?? undefined,
  };
}

// ---------------------------------------------------------------- bookmarks (XEP-0048 in private XML, XEP-0402 in PEP)

/** The publish-options XEP-0402 §3.3 publishes bookmarks with. */
export const BOOKMARK_OPTIONS = {
  persist_items: "true",
  max_items: "max",
  send_last_published_item: "never",
  access_model: "whitelist",
};

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

// ---------------------------------------------------------------- roster and presence subscriptions (RFC 6121)

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
  serve(
    actor,
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

// ---------------------------------------------------------------- entity capabilities (XEP-0115)

export interface CapsIdentity {
  category: string;
  type: string;
  lang?: string;
  name?: string;
}

/** The XEP-0115 §5.1 verification string (sha-1, base64) of identities and features. */
export function capsVer(identities: CapsIdentity[], features: string[]): string {
  const ids = identities
    .map((i) => `${i.category}/${i.type}/${i.lang ?? ""}/${i.name ?? ""}`)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const feats = [...features].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const text = [...ids, ...feats].map((x) => `${x}<`).join("");
  return createHash("sha1").update(text, "utf8").digest("base64");
}

export const CAPS_NODE = "https://xepcheck.invalid/caps";

/**
 * Makes `actor` available with XEP-0115 caps listing `features`, and
 * answers the disco#info queries for them. Resolves the returned promise
 * when the first query has been answered (or never, if nobody asks).
 */
export function availableWithCaps(actor: Actor, features: string[]): { ver: string; queried: Promise<void> } {
  const identity: CapsIdentity = { category: "client", type: "bot", name: "xepcheck" };
  const all = [NS_DISCO_INFO, NS_CAPS, ...features];
  const ver = capsVer([identity], all);
  let answered!: () => void;
  const queried = new Promise<void>((resolve) => (answered = resolve));
  serve(
    actor,
    (el) => el.is("iq") && el.attrs.type === "get" && !!el.getChild("query", NS_DISCO_INFO),
    (el) => {
      const node = el.getChild("query", NS_DISCO_INFO)?.attrs.node;
      setImmediate(answered);
      return xml(
        "iq",
        { type: "result", id: el.attrs.id, ...(el.attrs.from ? { to: el.attrs.from } : {}) },
        xml(
          "query",
          { xmlns: NS_DISCO_INFO, ...(node ? { node } : {}) },
          xml("identity", { category: identity.category, type: identity.type, name: identity.name }),
          ...all.map((f) => xml("feature", { var: f })),
        ),
      );
    },
  );
  actor.send(xml("presence", {}, xml("c", { xmlns: NS_CAPS, hash: "sha-1", node: CAPS_NODE, ver })));
  return { ver, queried };
}

/** A room JID for a bookmark (no room is created): on the MUC service the probe found, if any. */
export function roomJid(s: Scenario): string {
  const muc = componentsWith(s.ctx, { category: "conference", type: "text" })[0]?.jid ?? `conference.${s.domain}`;
  return `${s.token("xepcheck")}@${muc}`;
}
