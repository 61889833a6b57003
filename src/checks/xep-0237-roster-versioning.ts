/**
 * XEP-0237: Roster Versioning (folded into RFC 6121 §2.6; the XEP is
 * Obsolete but is what XEP-0479 names).
 * https://xmpp.org/extensions/xep-0237.html
 */
import type { Actor } from "../scenario/actor.js";
import { getRoster, itemFor, pushAbout, removeRosterItem, rosterPushes, setRosterItem, type RosterPush } from "../scenario/roster.js";
import type { Scenario } from "../scenario/scenario.js";
import { findStreamFeature } from "./advertisement.js";
import { defineScenario, type CheckContext } from "./types.js";

export const NS_ROSTERVER = "urn:xmpp:features:rosterver";

const spec = { doc: "XEP-0237", version: "1.3", section: "2.4", url: "https://xmpp.org/extensions/xep-0237.html#response-result" };

function advertised(ctx: CheckContext): boolean {
  return findStreamFeature(ctx, [{ name: "ver", ns: NS_ROSTERVER }], "after-auth").foundAt.length > 0;
}

/** §2.3: a client sends 'ver' only to a server that offers versioning in this stream's features. */
async function versionedSession(s: Scenario): Promise<Actor> {
  const alice = await s.login("account");
  if (!alice.stream.features.getChild("ver", NS_ROSTERVER)) {
    s.skip("the server does not offer <ver xmlns='urn:xmpp:features:rosterver'/>; XEP-0237 §2.3 forbids sending 'ver' then");
  }
  return alice;
}

/**
 * A push must carry 'ver' (§2.4). §4.1 lets a server send an empty one in
 * every push; a non-empty one names the roster after the change, so it
 * cannot be the version of the roster before it.
 */
function checkPushVer(s: Scenario, push: RosterPush, previous: string | undefined): void {
  s.ensure(push.ver !== undefined, "a 'ver' attribute on the roster push", push.el.toString());
  if (push.ver === "") {
    s.note("the push carries an empty 'ver' (XEP-0237 §4.1, syntactic conformance)");
    return;
  }
  s.ensure(push.ver !== previous, `a 'ver' other than the one before the change ('${previous}')`, push.el.toString());
}

export default [
  defineScenario({
    id: "xep0237.versioned-get",
    spec,
    level: "MUST",
    requirement:
      "Whether or not the roster has been modified since the version ID enumerated by the client, the server MUST either return the complete roster as described in RFC 3921 (including a 'ver' attribute that signals the latest version) or return an empty IQ-result (thus indicating that any roster modifications will be sent via roster pushes, as described below).",
    title: "Roster versioning: a get with ver returns a version, then an empty result or the roster",
    needs: ["account"],
    advertised,
    run: async (s) => {
      const alice = await versionedSession(s);
      const first = await getRoster(alice, "");
      s.ensure(first.full && first.ver !== undefined, "the complete roster with a 'ver' attribute, in answer to ver=''", first.full ? "a roster without 'ver'" : "an empty iq result");
      const second = await getRoster(alice, first.ver);
      s.ensure(
        !second.full || second.ver !== undefined,
        `an empty iq result or the complete roster with a 'ver', in answer to ver='${first.ver}'`,
        "a roster without 'ver'",
      );
      s.summary = second.full
        ? `ver='' got ver='${first.ver}'; asking with it got the complete roster again (ver='${second.ver}')`
        : `ver='' got ver='${first.ver}' (${first.items.length} items); asking with it got an empty result`;
    },
  }),
  defineScenario({
    id: "xep0237.push-ver",
    spec,
    level: "MUST",
    requirement: "When roster versioning is enabled, the server MUST include the updated roster version with each roster push.",
    title: "Roster versioning: every roster push carries the updated version",
    needs: ["account"],
    // It changes the roster: another scenario's roster change in between would move the version under it.
    serialized: "roster",
    advertised,
    run: async (s) => {
      const alice = await versionedSession(s);
      // The version before the change (the versioned get itself is xep0237.versioned-get's business).
      const first = await getRoster(alice, "");
      // An item for an account that does not exist: adding it sends nobody anything.
      const contact = `${s.token("xepcheck")}@${s.domain}`;
      s.cleanup(`remove ${contact} from the roster of ${alice.bare}`, async () => {
        const a = alice.stream.isClosed ? await s.login("account", "cleanup") : alice;
        if (itemFor((await getRoster(a)).items, contact)) await removeRosterItem(a, contact);
      });
      const pushes = rosterPushes(alice);
      const added = pushes.expect(pushAbout(contact, (i) => i.subscription !== "remove"), `a roster push of the added item ${contact}`);
      await setRosterItem(alice, { jid: contact });
      const addPush = await added;
      checkPushVer(s, addPush, first.ver);
      const removed = pushes.expect(pushAbout(contact, (i) => i.subscription === "remove"), `a roster push removing ${contact}`);
      await removeRosterItem(alice, contact);
      const removePush = await removed;
      checkPushVer(s, removePush, addPush.ver);
      s.summary = `roster pushes carried ver='${addPush.ver}' (add) and ver='${removePush.ver}' (remove), after ver='${first.ver ?? "(none)"}'`;
    },
  }),
];
