/**
 * RFC 6121: XMPP Instant Messaging and Presence, proven by live exchanges.
 * https://www.rfc-editor.org/rfc/rfc6121
 * No RFC source is shipped with xepcheck: the requirements below are
 * paraphrases of the named sections, marked as such.
 *
 * The roster and subscription scenarios change the relation between the
 * account and the peer (what each has in its roster for the other), which
 * other scenarios may rely on: they run alone, read it first, and put it
 * back afterwards.
 */
import { xml } from "@xmpp/xml";
import { withBody } from "../scenario/actor.js";
import {
  clearRelation,
  describeItem,
  getRoster,
  itemFor,
  pushAbout,
  readRelation,
  removeRosterItem,
  restoreRelationFresh,
  rosterPushes,
  setRosterItem,
  subscribeAndApprove,
} from "../scenario/roster.js";
import { StanzaError } from "../session/errors.js";
import { NS_PING } from "../session/stream.js";
import { defineScenario } from "./types.js";

const rfc = (section: string) => ({
  doc: "RFC 6121",
  version: "",
  section,
  url: `https://www.rfc-editor.org/rfc/rfc6121#section-${section}`,
});

export default [
  defineScenario({
    id: "rfc6121.roster-push",
    spec: rfc("2.1.6"),
    level: "MUST",
    requirement:
      "(paraphrase of RFC 6121 §2.1.6, §2.3.2 and §2.5.2) When a roster item is added or removed, the server updates the roster and sends a roster push with the changed item to every interested resource of the account, that is, every resource that has requested the roster.",
    title: "Roster add, get and remove, pushed to another resource of the account",
    needs: ["account", "peer"],
    connections: 5,
    serialized: "roster",
    advertised: () => null,
    run: async (s) => {
      const [a, b, bob] = await Promise.all([s.login("account", "A"), s.login("account", "B"), s.login("peer", "bob")]);
      // Some servers push to every resource, interested or not: collect (and answer) from the start.
      [a, b, bob].forEach(rosterPushes);
      const contact = bob.bare;
      const before = await readRelation(a, bob);
      s.cleanup(`restore what ${a.bare} and ${contact} have in their rosters for each other`, () => restoreRelationFresh(s, before));
      if (before.a || before.b) {
        s.note(`before: ${a.bare} has ${describeItem(before.a)} for ${contact}; ${contact} has ${describeItem(before.b)} for ${a.bare}; removing them for the test`);
        await clearRelation(a, bob);
      }
      // B requests the roster: it is now an interested resource (§2.1.6).
      const atB = rosterPushes(b);
      await getRoster(b);
      // Only pushes of the changes below count (not those of clearing an earlier item).
      atB.discard();
      rosterPushes(a).discard();
      const name = s.token("name");
      const group = s.token("group");
      const pushedToB = atB.expect(
        pushAbout(contact, (i) => i.name === name && i.subscription !== "remove"),
        `a roster push of the added item ${contact} at ${b.label}, the other interested resource (§2.1.6, §2.3.2)`,
      );
      const pushedToA = rosterPushes(a).expect(pushAbout(contact, (i) => i.name === name), `a roster push of the added item at ${a.label}`);
      await setRosterItem(a, { jid: contact, name, groups: [group] });
      const added = (await pushedToB).item;
      await pushedToA;
      s.ensure(
        added.groups.includes(group) && added.subscription === "none",
        `the pushed item with subscription 'none' and group ${group}`,
        describeItem(added),
      );
      const listed = itemFor((await getRoster(b)).items, contact);
      s.ensure(listed?.name === name && listed.groups.includes(group), `${contact} in the roster ${b.label} gets, named ${name}`, describeItem(listed));

      const removedAtB = atB.expect(
        pushAbout(contact, (i) => i.subscription === "remove"),
        `a roster push with subscription='remove' for ${contact} at ${b.label} (§2.5.2)`,
      );
      const removedAtA = rosterPushes(a).expect(pushAbout(contact, (i) => i.subscription === "remove"), `a removal push at ${a.label}`);
      await removeRosterItem(a, contact);
      await Promise.all([removedAtB, removedAtA]);
      const gone = itemFor((await getRoster(b)).items, contact);
      s.ensure(!gone, `no item for ${contact} in the roster after the removal`, describeItem(gone));
      s.summary = `${a.label} added and removed ${contact}; ${b.label} received both pushes and the roster it read reflected each change`;
    },
  }),
  defineScenario({
    id: "rfc6121.subscription-both",
    spec: rfc("3.1"),
    level: "MUST",
    requirement:
      "(paraphrase of RFC 6121 §3.1.2–§3.1.6) When a user requests a subscription to a contact's presence and the contact approves it, the servers deliver the request and the approval and push the roster items to both parties; a subscription in each direction leaves both items at subscription 'both'.",
    title: "Mutual presence subscription ends with subscription 'both' on both sides",
    needs: ["account", "peer"],
    connections: 4,
    serialized: "roster",
    advertised: () => null,
    run: async (s) => {
      const [alice, bob] = await Promise.all([s.login("account", "A"), s.login("peer", "B")]);
      [alice, bob].forEach(rosterPushes);
      const before = await readRelation(alice, bob);
      s.cleanup(`restore what ${alice.bare} and ${bob.bare} have in their rosters for each other`, () => restoreRelationFresh(s, before));
      if (before.a || before.b) {
        s.note(`before: ${alice.bare} has ${describeItem(before.a)} for ${bob.bare}; ${bob.bare} has ${describeItem(before.b)} for ${alice.bare}; removing them for the test`);
        await clearRelation(alice, bob);
      }
      // Subscription requests are delivered to available resources (§3.1.3).
      alice.available();
      bob.available();
      const first = await subscribeAndApprove(alice, bob);
      s.note(`after ${alice.bare} → ${bob.bare}: ${describeItem(first.userItem)} / ${describeItem(first.contactItem)}`);
      const second = await subscribeAndApprove(bob, alice);
      s.ensure(
        second.userItem.subscription === "both" && second.contactItem.subscription === "both",
        "roster pushes with subscription 'both' on both sides",
        `${bob.bare} has ${describeItem(second.userItem)}, ${alice.bare} has ${describeItem(second.contactItem)}`,
      );
      const after = await readRelation(alice, bob);
      s.ensure(
        after.a?.subscription === "both" && after.b?.subscription === "both",
        "both rosters listing the other with subscription 'both'",
        `${alice.bare} has ${describeItem(after.a)} for ${bob.bare}, ${bob.bare} has ${describeItem(after.b)} for ${alice.bare}`,
      );
      s.summary = `${alice.bare} and ${bob.bare} subscribed to each other; both rosters show subscription 'both'`;
    },
  }),
  defineScenario({
    id: "rfc6121.message-bare-jid",
    spec: rfc("8.5.2.1.1"),
    level: "MUST",
    requirement:
      "(paraphrase of RFC 6121 §8.5.2.1.1) A message of type 'chat' to the bare JID of an account with an available resource of non-negative priority is delivered to that resource (with several, to the most available ones).",
    title: "A message to the bare JID reaches an available resource",
    needs: ["account", "peer"],
    // Where a message to the bare JID goes depends on all available resources
    // of the account: this one must be the only one (and must not take the
    // messages other scenarios send to the bare JID).
    exclusive: true,
    advertised: () => null,
    run: async (s) => {
      const [alice, bob] = await Promise.all([s.login("account", "A"), s.login("peer", "B")]);
      alice.available();
      // A round trip on the same stream: the server has processed the presence before bob sends.
      await alice.iq(xml("iq", { type: "get", to: s.domain }, xml("ping", { xmlns: NS_PING }))).catch((err: unknown) => {
        if (!(err instanceof StanzaError)) throw err;
      });
      const body = `bare ${s.token()}`;
      const arrives = alice.expect(withBody(body), `the message to ${alice.bare} at ${alice.label}, the available resource`);
      bob.message(alice.bare, body);
      await arrives;
      s.summary = `a chat message from ${bob.bare} to ${alice.bare} reached the available resource ${alice.jid}`;
    },
  }),
];
