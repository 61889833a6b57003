/**
 * XEP-0049: Private XML Storage, get and set.
 * https://xmpp.org/extensions/xep-0049.html
 */
import { xml, type Element } from "@xmpp/xml";
import type { Actor } from "../scenario/actor.js";
import { serialized } from "./pubsub.js";

export const NS_PRIVATE = "jabber:iq:private";

/** The stored element `name` of namespace `ns` (as the server returns it). */
export async function privateGet(actor: Actor, name: string, ns: string): Promise<Element | undefined> {
  const result = await actor.iq(xml("iq", { type: "get" }, xml("query", { xmlns: NS_PRIVATE }, xml(name, { xmlns: ns }))));
  return result.getChild("query", NS_PRIVATE)?.getChild(name, ns);
}

export async function privateSet(actor: Actor, el: Element): Promise<void> {
  await serialized(actor, () => actor.iq(xml("iq", { type: "set" }, xml("query", { xmlns: NS_PRIVATE }, el))));
}
