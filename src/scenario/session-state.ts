/**
 * Whether what a session sent changed the state of the session itself, so
 * that it can no longer be handed to another scenario as if it had just
 * logged in. Account state (a vCard, a PEP node, an archive) is the
 * scenario's own to undo; session state is not undoable in general.
 */
import type { Element } from "@xmpp/xml";

/** Payload namespaces of iq requests that change how the server treats this one session. */
const SESSION_STATE_NAMESPACES = new Set([
  // A blocklist request makes the resource get block and unblock pushes (XEP-0191 §3.2).
  "urn:xmpp:blocking",
  "urn:xmpp:carbons:2",
  "urn:xmpp:push:0",
  "jabber:iq:privacy",
  "jabber:iq:register",
  "urn:xmpp:bind:0",
]);

/**
 * What sending `el` did to the session: nothing ("none"); made it available
 * or sent directed presence ("presence"), which an unavailable presence
 * undoes (RFC 6121 §4.5.2: the server broadcasts it to everyone who had the
 * session's presence, rooms included); requested or changed the roster
 * ("roster"), which nothing undoes but which only matters to scenarios that
 * request the roster themselves; or something else ("other"), which only
 * closing the session undoes.
 */
export type SessionChange = "none" | "presence" | "roster" | "other";

/** A roster request makes the resource "interested": roster pushes and subscription requests go to it (RFC 6121 §2.1.6, §3.1.3). */
const NS_ROSTER = "jabber:iq:roster";

/** Presence types about the roster (RFC 6121 §3): account state, undone by the scenario's own cleanup. */
const SUBSCRIPTION_TYPES = new Set(["subscribe", "subscribed", "unsubscribe", "unsubscribed"]);

export function sessionChange(el: Element): SessionChange {
  if (el.is("presence")) return SUBSCRIPTION_TYPES.has(el.attrs.type ?? "") ? "none" : "presence";
  if (el.is("message")) return "none";
  // Anything that is not a stanza (XEP-0198 <enable/>, XEP-0352 <inactive/>, a stream restart) is about this stream.
  if (!el.is("iq")) return "other";
  if (el.attrs.type === "result" || el.attrs.type === "error") return "none";
  const payloads = el.getChildElements().map((child) => child.getNS() ?? "");
  if (payloads.some((ns) => SESSION_STATE_NAMESPACES.has(ns))) return "other";
  return payloads.includes(NS_ROSTER) ? "roster" : "none";
}
