/**
 * XEP-0060 / XEP-0163: pubsub requests on an account's own PEP service
 * (publish, items, retract, delete, the account's nodes) and the shape of
 * event notifications. Facts only: errors come back as StanzaError or as a
 * condition, never as a verdict.
 * https://xmpp.org/extensions/xep-0060.html
 */
import { xml, type Element } from "@xmpp/xml";
import type { Actor } from "../scenario/actor.js";
import { StanzaError } from "../session/errors.js";

export const NS_PUBSUB = "http://jabber.org/protocol/pubsub";
export const NS_PUBSUB_OWNER = `${NS_PUBSUB}#owner`;
export const NS_PUBSUB_EVENT = `${NS_PUBSUB}#event`;
export const NS_PUBSUB_ERRORS = `${NS_PUBSUB}#errors`;
export const NS_PUBLISH_OPTIONS = `${NS_PUBSUB}#publish-options`;
export const NS_DATA = "jabber:x:data";
export const NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items";

/** The last change under way per account (bare JID), for serialized(). */
const changes = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` (one request that changes `actor`'s PEP data: a publish, a
 * retraction, a node deletion, a vCard or private XML that a server may
 * convert to PEP) after the other changes of the same account. The
 * scenarios run concurrently; a client does not create several nodes of one
 * account at the same instant, and ejabberd 24.12 can abort such concurrent
 * creations (an mnesia "cyclic" lock conflict answered with item-not-found).
 * Other accounts, and so other servers in a run of many, do not wait.
 */
export function serialized<T>(actor: Actor, fn: () => Promise<T>): Promise<T> {
  const key = actor.bare.toLowerCase();
  const run = (changes.get(key) ?? Promise.resolve()).then(fn, fn);
  const settled = run.catch(() => undefined);
  changes.set(key, settled);
  void settled.then(() => {
    if (changes.get(key) === settled) changes.delete(key);
  });
  return run;
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
  const result = await serialized(actor, () =>
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
  await serialized(actor, () =>
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
  await serialized(actor, () => actor.iq(xml("iq", { type: "set" }, xml("pubsub", { xmlns: NS_PUBSUB_OWNER }, xml("delete", { node })))));
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

/** The item with `id` inside a pubsub#event notification for `node`, if `el` is one. */
export function eventItem(el: Element, node: string, id: string): Element | undefined {
  if (!el.is("message")) return undefined;
  const items = el.getChild("event", NS_PUBSUB_EVENT)?.getChild("items");
  if (items?.attrs.node !== node) return undefined;
  return items.getChildren("item").find((i) => i.attrs.id === id);
}
