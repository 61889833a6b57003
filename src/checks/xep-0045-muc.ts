/**
 * XEP-0045: Multi-User Chat
 * https://xmpp.org/extensions/xep-0045.html
 *
 * Every scenario creates its own instant room with a unique name and
 * destroys it in a cleanup. No MUC service at all → advertised() is false and
 * the failed scenario reads "not offered"; a service that refuses to let the
 * account create rooms → skip (nothing can be tested without a room).
 */
import { xml } from "@xmpp/xml";
import { stanzaError } from "../session/stream.js";
import {
  MUC_IDENTITY,
  createInstantRoom,
  createRoom,
  destroyIq,
  fromRoom,
  groupchatWithBody,
  join,
  mucItem,
  presenceFrom,
  requireMucService,
  roomInfo,
  statusCodes,
  NS_MUC,
  NS_MUC_USER,
} from "../scenario/muc.js";
import type { Scenario } from "../scenario/scenario.js";
import { discoAdvertised, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";

export { NS_MUC };

const spec = (section: string, anchor: string) => ({
  doc: "XEP-0045",
  version: "1.35.5",
  section,
  url: `https://xmpp.org/extensions/xep-0045.html#${anchor}`,
});

const mucAdvertised = (ctx: CheckContext) => findDiscoFeature(ctx, NS_MUC, ["components"], MUC_IDENTITY).foundAt.length > 0;

/**
 * A room for a check whose requirement is not room creation: without a MUC
 * service the check reads "not offered", but a room the service does not
 * create as expected is a precondition not met (skip), not a failure.
 */
async function newRoom<T>(s: Scenario, create: () => Promise<T>): Promise<T> {
  requireMucService(s);
  return s.precondition("a room created (§10.1)", create);
}

export default [
  defineCheck({
    id: "xep0045.advertised",
    spec: spec("6.2", "disco-service-features"),
    level: "MUST",
    requirement:
      "The service MUST return its identity and the features it supports.",
    title: "A Multi-User Chat service is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Multi-User Chat", NS_MUC, ["components"], { category: "conference", type: "text" }),
  }),
  defineScenario({
    id: "xep0045.create-instant-room",
    spec: spec("10.1.2", "createroom-instant"),
    level: "MUST",
    requirement: "The service MUST then unlock the room and allow other entities to join it.",
    title: "An instant room is created, owned by its creator, and unlocked for others",
    needs: ["account", "peer"],
    advertised: mucAdvertised,
    run: async (s) => {
      const [alice, bob] = await Promise.all([s.login("account"), s.login("peer")]);
      // Creating the room is the step under test here: status 201 and affiliation owner (§10.1.1),
      // then the empty form that accepts the default configuration (§10.1.2).
      const room = await createInstantRoom(s, alice, "xc-alice");
      s.ensure(statusCodes(room.created).includes("201"), "the creation presence with status code 201 (§10.1.1)", room.created.toString());
      s.ensure(
        mucItem(room.created)?.attrs.affiliation === "owner",
        "the creator's affiliation 'owner' in the creation presence (§10.1.1)",
        room.created.toString(),
      );
      const joined = await join(s, bob, room.jid, "xc-bob");
      s.ensure(!statusCodes(joined.self).includes("201"), "a plain join of the existing room (no status 201)", joined.self.toString());
      s.summary = `created ${room.jid} (status 201, affiliation owner), accepted the default configuration, and a second account entered it`;
    },
  }),
  defineScenario({
    id: "xep0045.locked-until-configured",
    spec: spec("7.2.10", "enter-locked"),
    level: "MUST",
    requirement:
      "If a user attempts to enter a room while it is \"locked\" (i.e., before the room creator provides an initial configuration and therefore before the room officially exists), the service MUST refuse entry and return an <item-not-found/> error to the user:",
    title: "A new room is locked until its owner configures it",
    needs: ["account", "peer"],
    advertised: mucAdvertised,
    run: async (s) => {
      const [alice, bob] = await Promise.all([s.login("account"), s.login("peer")]);
      // Create the room but do not configure it yet: it stays locked (§10.1.1).
      const room = await newRoom(s, () => createRoom(s, alice, "xc-alice"));
      const roomJid = room.jid;
      const bobOccupant = `${roomJid}/xc-bob`;
      const refused = bob.expect(
        (el) => fromRoom(roomJid, "error")(el) || presenceFrom(bobOccupant)(el),
        `an answer from ${roomJid} to the join while it is locked`,
      );
      bob.send(xml("presence", { to: bobOccupant }, xml("x", { xmlns: NS_MUC })));
      const answer = await refused;
      s.ensure(answer.attrs.type === "error", "an error presence: the locked room refuses entry", `the second account entered the unconfigured room: ${answer.toString()}`);
      const condition = stanzaError(answer).condition;
      s.ensure(condition === "item-not-found", "the error item-not-found", condition);
      s.summary = `entering the unconfigured room ${roomJid} was refused with item-not-found`;
    },
  }),
  defineScenario({
    id: "xep0045.self-presence",
    spec: spec("7.2.2", "enter-pres"),
    level: "MUST",
    requirement:
      "As shown in the last stanza, the \"self-presence\" sent by the room to the new user MUST include a status code of 110 so that the user knows this presence refers to itself as an occupant.",
    title: "Entering a room: the occupants' presences, then a self-presence with status 110",
    needs: ["account", "peer"],
    advertised: mucAdvertised,
    run: async (s) => {
      const [alice, bob] = await Promise.all([s.login("account"), s.login("peer")]);
      const room = await newRoom(s, () => createInstantRoom(s, alice, "xc-alice"));
      s.ensure(statusCodes(room.self).includes("110"), "status code 110 in the creator's self-presence", room.self.toString());
      const joined = await join(s, bob, room.jid, "xc-bob");
      s.ensure(statusCodes(joined.self).includes("110"), "status code 110 in the self-presence", joined.self.toString());
      s.ensure(
        (joined.self.getChildren("x").filter((x) => x.getNS() === NS_MUC_USER)).length === 1,
        "exactly one <x xmlns='http://jabber.org/protocol/muc#user'/> in the presence (§7.2.2)",
        joined.self.toString(),
      );
      // §7.2.2: the existing occupants' presences come first, then the self-presence.
      const ownerFirst = joined.before.find((p) => (p.attrs.from ?? "").toLowerCase() === room.occupant.toLowerCase());
      s.ensure(
        ownerFirst,
        `the presence of the existing occupant ${room.occupant} before the self-presence`,
        joined.before.length ? `only ${joined.before.map((p) => p.attrs.from).join(", ")} before it` : "the self-presence came first",
      );
      const role = mucItem(ownerFirst!)?.attrs;
      s.ensure(
        role?.affiliation === "owner" && role.role === "moderator",
        "the owner's presence with affiliation 'owner' and role 'moderator'",
        ownerFirst!.toString(),
      );
      // and the other occupants see the newcomer.
      await alice.expect(presenceFrom(joined.occupant), `the presence of ${joined.occupant} at the owner`);
      s.summary = `${joined.occupant} received the owner's presence, then its own with status 110`;
    },
  }),
  defineScenario({
    id: "xep0045.groupchat-message",
    spec: spec("7.4", "message"),
    level: "MUST",
    requirement:
      "If the sender has voice in the room (this is the default except in moderated rooms) and the message does not violate any service-level or room-level policies (e.g., policies regarding message content or size), the service MUST change the 'from' attribute to the sender's occupant JID and reflect the message out to the full JID of each occupant.",
    title: "A groupchat message reaches every occupant from the sender's occupant JID",
    needs: ["account", "peer"],
    advertised: mucAdvertised,
    run: async (s) => {
      const [alice, bob] = await Promise.all([s.login("account"), s.login("peer")]);
      const room = await newRoom(s, () => createInstantRoom(s, alice, "xc-alice"));
      await join(s, bob, room.jid, "xc-bob");
      const body = `groupchat ${s.token()}`;
      const id = alice.stream.nextId();
      const atBob = bob.expect(groupchatWithBody(room.jid, body), "the groupchat message at the other occupant");
      const atAlice = alice.expect(groupchatWithBody(room.jid, body), "the reflection of the groupchat message at its sender");
      alice.send(xml("message", { to: room.jid, type: "groupchat", id }, xml("body", {}, body)));
      const [got, reflected] = await Promise.all([atBob, atAlice]);
      s.ensure(
        got.attrs.from?.toLowerCase() === room.occupant.toLowerCase(),
        `from='${room.occupant}' (the sender's occupant JID)`,
        `from='${got.attrs.from}'`,
      );
      s.ensure(got.attrs.to === bob.jid, `to='${bob.jid}' (the occupant's full JID)`, `to='${got.attrs.to}'`);
      s.ensure(
        reflected.attrs.from?.toLowerCase() === room.occupant.toLowerCase(),
        `the reflection from '${room.occupant}'`,
        `from='${reflected.attrs.from}'`,
      );
      // SHOULD (§7.4): the reflection keeps the client's id. Recorded, not judged here.
      s.note(`the reflection ${reflected.attrs.id === id ? "kept" : "did not keep"} the message id '${id}' (got '${reflected.attrs.id ?? ""}')`);
      s.summary = `the message reached both occupants from ${room.occupant}`;
    },
  }),
  defineScenario({
    id: "xep0045.destroy-room",
    spec: spec("10.9", "destroyroom"),
    level: "MUST",
    requirement: "A room owner MUST be able to destroy a room, especially if the room is persistent.",
    title: "The owner destroys the room; occupants are told with <destroy/>",
    needs: ["account", "peer"],
    advertised: mucAdvertised,
    run: async (s) => {
      const [alice, bob] = await Promise.all([s.login("account"), s.login("peer")]);
      const room = await newRoom(s, () => createInstantRoom(s, alice, "xc-alice"));
      const joined = await join(s, bob, room.jid, "xc-bob");
      const reason = `destroyed by xepcheck ${s.token()}`;
      const removed = bob.expect(presenceFrom(joined.occupant, "unavailable"), "an unavailable presence to the occupant");
      await alice.iq(destroyIq(room.jid, reason));
      const gone = await removed;
      const destroy = gone.getChild("x", NS_MUC_USER)?.getChild("destroy");
      s.ensure(destroy, "a <destroy/> element in the unavailable presence (§10.9)", gone.toString());
      s.ensure(destroy!.getChildText("reason") === reason, `the owner's reason '${reason}' in <destroy/>`, destroy!.toString());
      // The room is gone: it no longer answers as a room.
      const info = await roomInfo(alice, room.jid);
      s.ensure(
        info.error !== undefined || !info.identities.some((i) => i.category === "conference"),
        `no room at ${room.jid} any more`,
        `disco#info answered with identities ${JSON.stringify(info.identities)}`,
      );
      s.note(`disco#info of the destroyed room: ${info.error ?? "a result"}`);
      s.summary = `destroyed ${room.jid}; the occupant was removed with <destroy/> and the reason`;
    },
  }),
];
