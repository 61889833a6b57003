/**
 * XEP-0421: Anonymous unique occupant identifiers for MUCs
 * https://xmpp.org/extensions/xep-0421.html
 *
 * The feature lives on rooms (§2); a service lists it too only when every
 * room has it (§4). The scenarios create a room, ask its disco#info, and
 * test only a room that announces the feature: occupant ids in a room that
 * does not announce them MUST be ignored (§4), so there is nothing to test.
 */
import { xml, type Element } from "@xmpp/xml";
import {
  createInstantRoom,
  groupchatWithBody,
  join,
  leave,
  presenceFrom,
  roomAdvertises,
  roomFeatureAdvertised,
  roomFeatureOutcome,
  roomInfo,
  type CreatedRoom,
} from "../scenario/muc.js";
import type { Scenario } from "../scenario/scenario.js";
import { defineCheck, defineScenario } from "./types.js";

export const NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0";

const spec = (section: string, anchor: string) => ({
  doc: "XEP-0421",
  version: "1.0.1",
  section,
  url: `https://xmpp.org/extensions/xep-0421.html#${anchor}`,
});

/** The single occupant id of a stanza from a room; the scenario fails on none or several (§4). */
function occupantId(s: Scenario, el: Element, what: string): string {
  const ids = el.getChildren("occupant-id").filter((c) => c.getNS() === NS_OCCUPANT_ID);
  s.ensure(ids.length === 1, `exactly one <occupant-id xmlns='${NS_OCCUPANT_ID}'/> in ${what} (§4)`, `${ids.length} in ${el.toString()}`);
  const id = ids[0]!.attrs.id;
  s.ensure(id, `an 'id' attribute on <occupant-id/> in ${what}`, el.toString());
  return id!;
}

/** Creates a room and skips unless it announces occupant ids (§2). */
async function roomWithOccupantIds(s: Scenario, owner: Parameters<typeof createInstantRoom>[1]): Promise<CreatedRoom> {
  // Setting the stage: a room-creation quirk (XEP-0045 §10.1) is XEP-0045's finding, not this check's.
  const room = await s.precondition("a room created (XEP-0045 §10.1)", () => createInstantRoom(s, owner, "xc-alice"));
  if (!roomAdvertises(s, room.jid, NS_OCCUPANT_ID, await roomInfo(owner, room.jid))) {
    s.skip(`a new room (${room.jid}) does not announce ${NS_OCCUPANT_ID}: occupant ids are not offered there`);
  }
  return room;
}

export default [
  defineCheck({
    id: "xep0421.advertised",
    spec: spec("2", "disco"),
    level: "MUST",
    requirement:
      "If a MUC room implements occupant identifiers, it MUST specify the 'urn:xmpp:occupant-id:0' feature in its service discovery information features as specified in Service Discovery (XEP-0030).",
    title: "The MUC service advertises occupant identifiers",
    needs: ["account"],
    run: (ctx) => roomFeatureOutcome(ctx, "Occupant identifiers", NS_OCCUPANT_ID, "xep0421.occupant-id"),
  }),
  defineScenario({
    id: "xep0421.occupant-id",
    spec: spec("4", "rules"),
    level: "MUST",
    requirement:
      "The <occupant-id> element MUST be attached to every message and every presence sent by a MUC.",
    title: "Presences and messages from a room carry one stable occupant id per occupant",
    needs: ["account", "peer"],
    advertised: (ctx) => roomFeatureAdvertised(ctx, NS_OCCUPANT_ID),
    run: async (s) => {
      const [alice, bob] = await Promise.all([s.login("account"), s.login("peer")]);
      const room = await roomWithOccupantIds(s, alice);
      const aliceId = occupantId(s, room.self, "the owner's self-presence");
      const joined = await join(s, bob, room.jid, "xc-bob");
      const bobSelf = occupantId(s, joined.self, "the newcomer's self-presence");
      const ownerAtBob = joined.before.find((p) => p.attrs.from?.toLowerCase() === room.occupant.toLowerCase());
      s.ensure(ownerAtBob, `the owner's presence at the newcomer`, joined.before.map((p) => p.toString()).join(" ") || "none");
      s.ensure(occupantId(s, ownerAtBob!, "the owner's presence as the newcomer sees it") === aliceId, `the owner's id '${aliceId}' in every copy`, ownerAtBob!.toString());
      const bobAtAlice = await alice.expect(presenceFrom(joined.occupant), `the newcomer's presence at the owner`);
      s.ensure(occupantId(s, bobAtAlice, "the newcomer's presence at the owner") === bobSelf, `the newcomer's id '${bobSelf}' in every copy`, bobAtAlice.toString());
      s.ensure(bobSelf !== aliceId, "different ids for different users (§4.1, unique)", `both '${aliceId}'`);

      // Two messages of the same occupant; the second carries a forged id the room MUST replace (§4).
      const forged = s.token("forged");
      const first = `occupant-id 1 ${s.token()}`;
      const second = `occupant-id 2 ${s.token()}`;
      const got1 = bob.expect(groupchatWithBody(room.jid, first), "the first message at the other occupant");
      alice.send(xml("message", { to: room.jid, type: "groupchat", id: alice.stream.nextId() }, xml("body", {}, first)));
      const id1 = occupantId(s, await got1, "the first message");
      const got2 = bob.expect(groupchatWithBody(room.jid, second), "the second message at the other occupant");
      alice.send(
        xml(
          "message",
          { to: room.jid, type: "groupchat", id: alice.stream.nextId() },
          xml("body", {}, second),
          xml("occupant-id", { xmlns: NS_OCCUPANT_ID, id: forged }),
        ),
      );
      const id2 = occupantId(s, await got2, "the second message (sent with a forged occupant id)");
      s.ensure(id2 !== forged, "the sender's forged <occupant-id/> replaced by the room (§4)", `the forged id '${forged}' was passed on`);
      s.ensure(id1 === aliceId && id2 === aliceId, `the sender's id '${aliceId}' on both messages`, `'${id1}' and '${id2}'`);
      s.summary = `every presence and both messages carried exactly one occupant id, the sender's own (a forged one was replaced)`;
    },
  }),
  defineScenario({
    id: "xep0421.stable-rejoin",
    spec: spec("4.1", "id-generation"),
    level: "MUST",
    requirement:
      "The occupant identifier MUST be generated such that it is stable. This means that if a user joins the same room a second time, the occupant identifier MUST be the same as was assigned the first time.",
    title: "A user who leaves and joins again keeps the occupant id",
    needs: ["account", "peer"],
    connections: 3,
    advertised: (ctx) => roomFeatureAdvertised(ctx, NS_OCCUPANT_ID),
    run: async (s) => {
      const alice = await s.login("account");
      const room = await roomWithOccupantIds(s, alice);
      const bob1 = await s.login("peer");
      const first = await join(s, bob1, room.jid, "xc-bob");
      const seen1 = await alice.expect(presenceFrom(first.occupant), "the first presence of the user at the owner");
      const id1 = occupantId(s, seen1, "the user's first presence");
      await leave(bob1, first.occupant);
      // Joining again from another session with another nickname: the user is its bare JID (§4.1).
      const bob2 = await s.login("peer");
      const second = await join(s, bob2, room.jid, "xc-bob-again");
      const seen2 = await alice.expect(presenceFrom(second.occupant), "the second presence of the user at the owner");
      const id2 = occupantId(s, seen2, "the user's presence after joining again");
      s.ensure(id2 === id1, `the same occupant id '${id1}' after joining again`, `'${id2}'`);
      s.summary = `${s.bareJid("peer")} kept the occupant id '${id1}' across a second join with another session and nickname`;
    },
  }),
];
