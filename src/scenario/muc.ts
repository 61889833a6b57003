/**
 * Multi-User Chat (XEP-0045) steps for live scenarios: find the service,
 * create an instant room with a unique name (§10.1.2), join (§7.2), leave
 * (§7.14), ask a room's disco#info (§6.4), destroy it (§10.9). Every room a
 * scenario creates is destroyed by a cleanup registered the moment it exists.
 * https://xmpp.org/extensions/xep-0045.html
 */
import { xml, type Element } from "@xmpp/xml";
import { componentsWith, findDiscoFeature, mucRoomFeatureOutcome } from "../checks/advertisement.js";
import type { CheckContext, CheckOutcome } from "../checks/types.js";
import { discoInfo, type DiscoInfo } from "../probe/disco.js";
import { StanzaError } from "../session/errors.js";
import { stanzaError } from "../session/stream.js";
import type { Actor } from "./actor.js";
import type { Scenario } from "./scenario.js";

export const NS_MUC = "http://jabber.org/protocol/muc";
export const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
export const NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner";
export const NS_DATA = "jabber:x:data";
export const MUC_IDENTITY = { category: "conference", type: "text" };

/** The first MUC service among the domain's items (identity conference/text), preferring one that lists the MUC feature. */
export function mucService(ctx: CheckContext): string | undefined {
  const services = componentsWith(ctx, MUC_IDENTITY);
  return (services.find((c) => c.features.includes(NS_MUC)) ?? services[0])?.jid;
}

/**
 * `advertised()` for features the spec puts on rooms (which the probe does
 * not see): true when the MUC service lists `feature`, false when there is
 * no MUC service at all (nothing is offered), null otherwise (a room may
 * still have it; the scenario asks the room).
 */
export function roomFeatureAdvertised(ctx: CheckContext, feature: string): boolean | null {
  if (!mucService(ctx)) return false;
  return findDiscoFeature(ctx, feature, ["components"], MUC_IDENTITY).foundAt.length > 0 ? true : null;
}

/**
 * The advertisement check for a room feature: mucRoomFeatureOutcome, with
 * its "not determined" summary pointing at the scenario that asks a room.
 */
export function roomFeatureOutcome(ctx: CheckContext, what: string, feature: string, scenarioId: string): CheckOutcome {
  const outcome = mucRoomFeatureOutcome(ctx, what, feature);
  if (outcome.verdict !== "skip") return outcome;
  return {
    ...outcome,
    summary: `not determined by advertisement: the MUC service does not list ${feature}; the spec puts it on rooms, which ${scenarioId} asks`,
  };
}

/**
 * What a room's own disco#info said about a feature, found during the run:
 * noted in the transcript, and set as `advertised` on the scenario. The
 * runner computes `advertised` from the probe before the run, and the probe
 * never sees rooms; a runner that lets a live finding replace
 * def.advertised(ctx) (proposed for src/scenario/scenario.ts) then reads a
 * working feature that the room does not list as "works, not advertised"
 * (warn). Until then the property is inert and the note tells.
 */
export function roomAdvertises(s: Scenario, room: string, feature: string, info: DiscoInfo): boolean {
  const listed = info.features.includes(feature);
  s.note(`disco#info of ${room} ${listed ? "lists" : "does not list"} ${feature}${info.error ? ` (error: ${info.error})` : ""}`);
  (s as Scenario & { advertised?: boolean | null }).advertised ||= listed;
  return listed;
}

/** The MUC service of the probe, or the scenario fails: with no service the verdict rules make it "not offered". */
export function requireMucService(s: Scenario): string {
  const service = mucService(s.ctx);
  if (!service) {
    const items = s.ctx.probe.components.map((c) => c.jid);
    s.fail(
      "a Multi-User Chat service (an item of the domain's disco#items with identity conference/text)",
      items.length ? `none among ${items.join(", ")}` : "the domain lists no items",
    );
  }
  return service;
}

export interface Room {
  /** Bare room JID, room@service. */
  jid: string;
  service: string;
}

export interface Joined {
  /** Occupant JID, room@service/nick (as the service confirmed it). */
  occupant: string;
  nick: string;
  /** The self-presence (status code 110, or from the occupant JID we asked for). */
  self: Element;
  /** Presences from the room that arrived before the self-presence (the room roster, §7.2.2). */
  before: Element[];
}

const bareOf = (jid: string | undefined) => (jid ?? "").split("/")[0]!.toLowerCase();
const resourceOf = (jid: string | undefined) => {
  const j = jid ?? "";
  const slash = j.indexOf("/");
  return slash < 0 ? "" : j.slice(slash + 1);
};

/** The status codes of a MUC presence or message (<x xmlns='…#user'><status code='110'/>…). */
export function statusCodes(el: Element): string[] {
  return (el.getChild("x", NS_MUC_USER)?.getChildren("status") ?? []).map((st) => st.attrs.code ?? "");
}

/** The <item/> of a MUC presence (affiliation, role, jid). */
export function mucItem(el: Element): Element | undefined {
  return el.getChild("x", NS_MUC_USER)?.getChild("item");
}

/**
 * A presence from an occupant of `room` (room@service/nick), or an error
 * from the room. Presences from the bare room JID (ejabberd sends one with
 * the room's entity capabilities) are not occupants'.
 */
export function fromRoom(room: string, type?: string) {
  return (el: Element) =>
    el.is("presence") &&
    bareOf(el.attrs.from) === room.toLowerCase() &&
    (resourceOf(el.attrs.from) !== "" || el.attrs.type === "error") &&
    (type === undefined || el.attrs.type === type);
}

/** A presence from this occupant JID. */
export function presenceFrom(occupant: string, type?: string) {
  return (el: Element) =>
    el.is("presence") && (el.attrs.from ?? "").toLowerCase() === occupant.toLowerCase() && (type === undefined ? el.attrs.type !== "error" : el.attrs.type === type);
}

/** A groupchat message from `room` with this body. */
export function groupchatWithBody(room: string, body: string) {
  return (el: Element) =>
    el.is("message") && el.attrs.type === "groupchat" && bareOf(el.attrs.from) === room.toLowerCase() && el.getChildText("body") === body;
}

/** A fresh, unique room JID on the service (lowercase: room names are nodeprepped). */
export function newRoomJid(s: Scenario, service: string): string {
  return `${s.token("xepcheck-room")}@${service}`;
}

/**
 * Sends the MUC join presence (§7.2.1; with no discussion history, §7.2.14)
 * and waits for the self-presence. An error presence ends the scenario: with
 * `onError`'s verdict when given (e.g. skip), else as a failure.
 */
export async function join(
  s: Scenario,
  actor: Actor,
  room: string,
  nick: string,
  onError?: (condition: string, el: Element) => void,
): Promise<Joined> {
  const asked = `${room}/${nick}`;
  const before: Element[] = [];
  const stop = actor.stream.onStanza((el) => {
    if (fromRoom(room)(el)) before.push(el);
  });
  try {
    const self = actor.expect(
      (el) =>
        el.is("presence") &&
        bareOf(el.attrs.from) === room.toLowerCase() &&
        (el.attrs.type === "error"
          ? true
          : el.attrs.type !== "unavailable" && (resourceOf(el.attrs.from) === nick || statusCodes(el).includes("110"))),
      `the self-presence from ${asked} (§7.2.2)`,
    );
    actor.send(xml("presence", { to: asked }, xml("x", { xmlns: NS_MUC }, xml("history", { maxstanzas: "0" }))));
    const el = await self;
    if (el.attrs.type === "error") {
      const condition = stanzaError(el).condition;
      onError?.(condition, el);
      s.fail(`to enter ${room} as ${nick}`, `a presence error ${condition}`);
    }
    return { occupant: el.attrs.from!, nick: resourceOf(el.attrs.from), self: el, before: [...before] };
  } finally {
    stop();
  }
}

/** Leaves the room (§7.14) and waits for the unavailable self-presence. */
export async function leave(actor: Actor, occupant: string): Promise<Element> {
  const gone = actor.expect(presenceFrom(occupant, "unavailable"), `the unavailable self-presence from ${occupant} (§7.14)`);
  actor.send(xml("presence", { to: occupant, type: "unavailable" }));
  return gone;
}

/** The <iq type='set'><query xmlns='…#owner'><destroy>…</destroy></query></iq> of §10.9. */
export function destroyIq(room: string, reason: string): Element {
  return xml("iq", { type: "set", to: room }, xml("query", { xmlns: NS_MUC_OWNER }, xml("destroy", {}, xml("reason", {}, reason))));
}

/** The room's disco#info (§6.4), as data; errors are in `.error`. */
export function roomInfo(actor: Actor, room: string): Promise<DiscoInfo> {
  return discoInfo(actor.stream, room);
}

export interface CreatedRoom extends Room, Joined {
  /** The presence that created the room (status 201, affiliation owner). */
  created: Element;
}

/**
 * Enters a room that does not exist yet, so the service creates it (§10.1.1);
 * the room stays locked until configured. Returns the creation presence as
 * it came: whether it carries status 201 and affiliation owner is for the
 * check of §10.1.1 to judge, not for every scenario that needs a room. A
 * refusal to create (not-allowed, forbidden, registration-required) skips
 * the scenario: the service restricts room creation, so nothing can be
 * tested. The room is destroyed by a cleanup registered as soon as it exists.
 */
export async function createRoom(s: Scenario, owner: Actor, nick = "xc-owner"): Promise<CreatedRoom> {
  const service = requireMucService(s);
  const room = newRoomJid(s, service);
  const joined = await join(s, owner, room, nick, (condition) => {
    if (["not-allowed", "forbidden", "registration-required", "not-authorized"].includes(condition)) {
      s.skip(`room creation is restricted: the service answered the join of a new room with ${condition} (§10.1.1)`);
    }
  });
  s.cleanup(`destroy the room ${room}`, () => destroyRoom(s, owner, room));
  return { jid: room, service, created: joined.self, ...joined };
}

/**
 * Creates an instant room (§10.1.2): create it (createRoom), then accept the
 * default configuration with an empty submitted form, which unlocks it.
 */
export async function createInstantRoom(s: Scenario, owner: Actor, nick = "xc-owner"): Promise<CreatedRoom> {
  const room = await createRoom(s, owner, nick);
  await owner.iq(
    xml("iq", { type: "set", to: room.jid }, xml("query", { xmlns: NS_MUC_OWNER }, xml("x", { xmlns: NS_DATA, type: "submit" }))),
  );
  return room;
}

/**
 * Destroys the room as its owner (§10.9), from the owner's session or, when
 * that is gone, a fresh one (ownership belongs to the bare JID). A room that
 * no longer exists (destroyed already, or a temporary room that closed when
 * its last occupant left) is fine.
 */
export async function destroyRoom(s: Scenario, owner: Actor, room: string): Promise<void> {
  const actor = owner.stream.isClosed ? await s.login("account", "cleanup") : owner;
  try {
    await actor.iq(destroyIq(room, "xepcheck: end of the test"));
  } catch (err) {
    if (err instanceof StanzaError && err.condition === "item-not-found") return;
    throw err;
  }
}
