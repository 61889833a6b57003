/**
 * XEP-0313: Message Archive Management — the account's archive and the MUC archive
 * https://xmpp.org/extensions/xep-0313.html
 *
 * Ids: xep0313.account-* for the user's archive, xep0313.muc-* for room
 * archives (the compliance suite selects them by these prefixes).
 * A client cannot delete archived messages: every scenario uses unique
 * bodies and leaves them in the archive (acceptable residue).
 */
import { xml, type Element } from "@xmpp/xml";
import type { Actor } from "../scenario/actor.js";
import { withBody } from "../scenario/actor.js";
import { createInstantRoom, groupchatWithBody, roomAdvertises, roomFeatureAdvertised, roomFeatureOutcome, roomInfo } from "../scenario/muc.js";
import type { Scenario } from "../scenario/scenario.js";
import { StanzaError } from "../session/errors.js";
import { advertisedOutcome, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";
import { NS_DELAY, NS_FORWARD, NS_MAM, NS_RSM, findArchived, type MamPage, type MamResult } from "../xmpp/mam.js";

const NS_SID = "urn:xmpp:sid:0";
const NS_CORRECT = "urn:xmpp:message-correct:0";

const spec = { doc: "XEP-0313", version: "1.1.3" };

/** The account's archive: advertised on the account (or, less precisely, the domain). */
function accountMamAdvertised(ctx: CheckContext): boolean {
  return findDiscoFeature(ctx, NS_MAM, ["account", "domain"]).foundAt.length > 0;
}

const bare = (jid: string | undefined) => (jid ?? "").split("/")[0]!.toLowerCase();

/** bob sends alice (full JID) a chat message; returns alice's live copy. */
async function chatToAlice(s: Scenario, alice: Actor, bob: Actor, body: string, ...extra: Element[]): Promise<{ sent: Element; live: Element }> {
  const live = alice.expect(withBody(body), "the message at the recipient");
  const sent = bob.message(alice.jid, body, {}, ...extra);
  return { sent, live: await live };
}

/** Checks the shape §4.2 requires of a result and of the <fin/>; returns the forwarded message. */
function ensureResultShape(s: Scenario, r: MamResult, page: MamPage, queryid = r.queryid): Element {
  s.ensure(r.id, "an 'id' attribute (the archive UID) on <result/> (§4.2)", r.el.toString());
  s.ensure(r.queryid === queryid, "the query's 'queryid' on <result/> (§4.2)", r.el.toString());
  s.ensure(r.message, `a <forwarded xmlns='${NS_FORWARD}'/> with the original <message/> (§4.2)`, r.el.toString());
  s.ensure(r.stamp, `a <delay xmlns='${NS_DELAY}' stamp='…'/> in <forwarded/> (§4.2)`, r.el.toString());
  s.ensure(
    page.fin?.getChild("set", NS_RSM),
    `<fin xmlns='${NS_MAM}'> with an RSM <set/> in the iq result (§4)`,
    page.fin ? page.fin.toString() : "no <fin/>",
  );
  return r.message!;
}

export default [
  defineCheck({
    id: "xep0313.account-advertised",
    spec: { ...spec, section: "7", url: "https://xmpp.org/extensions/xep-0313.html#support" },
    level: "MUST",
    requirement:
      "If a server or other entity hosts archives and supports MAM queries, it MUST advertise the 'urn:xmpp:mam:2' and 'urn:xmpp:mam:2#extended' features in response to Service Discovery (XEP-0030) requests made to archiving JIDs (i.e. JIDs hosting an archive, such as users' bare JIDs):",
    title: "The account's message archive is advertised",
    needs: ["account"],
    run: (ctx) => {
      const onAccount = findDiscoFeature(ctx, NS_MAM, ["account"]);
      const onDomain = findDiscoFeature(ctx, NS_MAM, ["domain"]);
      const outcome = advertisedOutcome("MAM on the account", onAccount, onDomain);
      if (!onAccount.foundAt.length && onDomain.foundAt.length) {
        return {
          ...outcome,
          verdict: "warn",
          summary: `${NS_MAM} is advertised on the domain but not on the account's bare JID, where the archive lives`,
        };
      }
      return outcome;
    },
  }),
  defineCheck({
    id: "xep0313.muc-advertised",
    spec: { ...spec, section: "3.3.2", url: "https://xmpp.org/extensions/xep-0313.html#archives_muc" },
    level: "MUST",
    requirement:
      "A MUC service allowing MAM queries for a room MUST expose the MAM archive on the room's bare JID.",
    title: "The MUC service advertises message archives",
    needs: ["account"],
    run: (ctx) => roomFeatureOutcome(ctx, "MAM on the MUC service", NS_MAM, "xep0313.muc-archive"),
  }),
  defineScenario({
    id: "xep0313.account-query",
    spec: { ...spec, section: "4.2", url: "https://xmpp.org/extensions/xep-0313.html#results" },
    level: "MUST",
    requirement:
      "The result messages MUST contain a <result/> element with an 'id' attribute that gives the current message's archive UID (archived messages MAY also contain a XEP-0359 <stanza-id> element, but clients MUST NOT depend on it).",
    title: "A received message is found in the account's archive, filtered by the sender",
    needs: ["account", "peer"],
    advertised: accountMamAdvertised,
    run: async (s) => {
      const [alice, bob] = await Promise.all([s.login("account"), s.login("peer")]);
      const body = `archived ${s.token()}`;
      await chatToAlice(s, alice, bob, body);
      const { found, page, first } = await findArchived(alice, { with: bob.bare, max: 20 }, (r) => r.message?.getChildText("body") === body);
      s.ensure(found, `the message '${body}' in the archive queried with with='${bob.bare}' (§4, §4.1.1)`, `${first.results.length} results on the last page, none with that body`);
      const message = ensureResultShape(s, found!, page);
      s.ensure(bare(message.attrs.from) === bob.bare.toLowerCase(), `the forwarded message from ${bob.bare}`, message.toString());
      // §4.1.1: with a 'with' filter, only messages to or from that JID.
      const stray = page.results.filter((r) => ![bare(r.message?.attrs.from), bare(r.message?.attrs.to)].includes(bob.bare.toLowerCase()));
      s.ensure(stray.length === 0, `only messages to or from ${bob.bare} (§4.1.1)`, stray.map((r) => r.el.toString()).join(" "));
      s.summary = `the archive returned the message under UID '${found!.id}', forwarded with its delay stamp, and a <fin/> with RSM`;
    },
  }),
  defineScenario({
    id: "xep0313.account-correction",
    spec: { ...spec, section: "6.1.1", url: "https://xmpp.org/extensions/xep-0313.html#business-storeret-user-archives" },
    level: "SHOULD",
    requirement:
      "It is suggested that other elements that are used in a given deployment to supplement conversations (e.g. XHTML-IM payloads) are also stored.",
    title: "A message correction (XEP-0308) is archived with its <replace/> element",
    needs: ["account", "peer"],
    advertised: accountMamAdvertised,
    run: async (s) => {
      const [alice, bob] = await Promise.all([s.login("account"), s.login("peer")]);
      const original = `typo ${s.token()}`;
      const { sent } = await chatToAlice(s, alice, bob, original);
      const corrected = `corrected ${s.token()}`;
      await chatToAlice(s, alice, bob, corrected, xml("replace", { xmlns: NS_CORRECT, id: sent.attrs.id! }));
      const { found, first } = await findArchived(alice, { with: bob.bare, max: 20 }, (r) => r.message?.getChildText("body") === corrected);
      s.ensure(found, `the correction '${corrected}' in the archive`, `${first.results.length} results on the last page, none with that body`);
      const replace = found!.message!.getChild("replace", NS_CORRECT);
      s.ensure(replace, `<replace xmlns='${NS_CORRECT}'/> kept in the archived correction`, found!.el.toString());
      s.ensure(replace!.attrs.id === sent.attrs.id, `<replace id='${sent.attrs.id}'/> (the corrected message's id)`, replace!.toString());
      s.summary = `the archived correction kept <replace id='${sent.attrs.id}'/>`;
    },
  }),
  defineScenario({
    id: "xep0313.muc-archive",
    spec: { ...spec, section: "3.3.2", url: "https://xmpp.org/extensions/xep-0313.html#archives_muc" },
    level: "MUST",
    requirement: "A MUC service allowing MAM queries for a room MUST expose the MAM archive on the room's bare JID.",
    title: "A groupchat message is found in the room's archive",
    needs: ["account"],
    advertised: (ctx) => roomFeatureAdvertised(ctx, NS_MAM),
    run: async (s) => {
      const alice = await s.login("account");
      // Setting the stage: a room-creation quirk (XEP-0045 §10.1) is XEP-0045's finding, not this check's.
      const room = await s.precondition("a room created (XEP-0045 §10.1)", () => createInstantRoom(s, alice, "xc-alice"));
      const listed = roomAdvertises(s, room.jid, NS_MAM, await roomInfo(alice, room.jid));
      const body = `room archive ${s.token()}`;
      const reflected = alice.expect(groupchatWithBody(room.jid, body), "the reflection of the groupchat message");
      alice.send(xml("message", { to: room.jid, type: "groupchat", id: alice.stream.nextId() }, xml("body", {}, body)));
      const live = await reflected;
      let search: Awaited<ReturnType<typeof findArchived>>;
      try {
        search = await findArchived(alice, { to: room.jid, max: 20 }, (r) => r.message?.getChildText("body") === body);
      } catch (err) {
        if (err instanceof StanzaError && !listed && s.ctx.probe.components.every((c) => !c.features.includes(NS_MAM))) {
          s.skip(`a new room does not offer MAM: ${room.jid} does not list ${NS_MAM} and answered the query with ${err.condition}`);
        }
        throw err;
      }
      const { found, page, first } = search;
      s.ensure(found, `the groupchat message '${body}' in the archive of ${room.jid}`, `${first.results.length} results on the last page, none with that body`);
      s.ensure(bare(found!.el.attrs.from) === room.jid.toLowerCase(), `results from the room ${room.jid}`, found!.el.toString());
      const message = ensureResultShape(s, found!, page);
      // §6.1.2: no 'to', and 'from' the sender's occupant JID.
      s.ensure(message.attrs.to === undefined, "no 'to' on the forwarded message (§6.1.2)", message.toString());
      s.ensure(message.attrs.from?.toLowerCase() === room.occupant.toLowerCase(), `from='${room.occupant}' on the forwarded message (§6.1.2)`, message.toString());
      // §3.5: the live copy names the archive and UID: <stanza-id by='room'/>.
      const sid = live.getChildren("stanza-id").find((c) => c.getNS() === NS_SID && bare(c.attrs.by) === room.jid.toLowerCase());
      s.ensure(sid, `<stanza-id xmlns='${NS_SID}' by='${room.jid}'/> on the reflected message (§3.5)`, live.toString());
      s.ensure(sid!.attrs.id === found!.id, `the live stanza-id '${sid!.attrs.id}' equal to the archive UID`, `archive UID '${found!.id}'`);
      s.summary = `${room.jid} archived the message under UID '${found!.id}' (the reflected stanza-id), from the occupant JID`;
    },
  }),
];
