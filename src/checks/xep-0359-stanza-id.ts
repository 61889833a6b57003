/**
 * XEP-0359: Unique and Stable Stanza IDs
 * https://xmpp.org/extensions/xep-0359.html
 *
 * A server adds <stanza-id by='account'/> to the messages it archives
 * (XEP-0313 §3.5); "stable" is observed by finding the same id as the
 * archive UID of the message.
 */
import { xml, type Element } from "@xmpp/xml";
import { withBody } from "../scenario/actor.js";
import type { Scenario } from "../scenario/scenario.js";
import { StanzaError } from "../session/errors.js";
import { discoAdvertised, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";
import { NS_MAM, findArchived } from "../xmpp/mam.js";

export const NS_SID = "urn:xmpp:sid:0";

const spec = (section: string, anchor: string) => ({
  doc: "XEP-0359",
  version: "0.7.0",
  section,
  url: `https://xmpp.org/extensions/xep-0359.html#${anchor}`,
});

const sidAdvertised = (ctx: CheckContext) => findDiscoFeature(ctx, NS_SID, ["account", "domain"]).foundAt.length > 0;

/** The <stanza-id/> children of `el` whose 'by' is `by` (compared as bare JIDs, case-insensitively). */
function stanzaIdsBy(el: Element, by: string): Element[] {
  return el.getChildren("stanza-id").filter((c) => c.getNS() === NS_SID && (c.attrs.by ?? "").toLowerCase() === by.toLowerCase());
}

/** Exactly one <stanza-id by='…'/> with an id (§3 rules 4 and 5); returns it. */
function oneStanzaId(s: Scenario, el: Element, by: string): Element {
  const ids = stanzaIdsBy(el, by);
  s.ensure(ids.length > 0, `a <stanza-id xmlns='${NS_SID}' by='${by}'/> on the delivered message`, el.toString());
  s.ensure(ids.length === 1, `at most one <stanza-id/> with by='${by}' (§3)`, `${ids.length}: ${el.toString()}`);
  s.ensure(ids[0]!.attrs.id, "an 'id' attribute on <stanza-id/> (§3)", ids[0]!.toString());
  return ids[0]!;
}

export default [
  defineCheck({
    id: "xep0359.advertised",
    spec: spec("5", "disco"),
    level: "SHOULD",
    requirement:
      "An entity that follows the business rules, especially the rule on overriding the ID in elements where the by atttribute matches the 'by' attribute they would otherwise set, SHOULD announce the 'urn:xmpp:sid:0' namespace in its disco features allowing other entities to verify that those business rules are properly enforced.",
    title: "Unique and Stable Stanza IDs are advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Unique and Stable Stanza IDs", NS_SID, ["account", "domain"]),
  }),
  defineScenario({
    id: "xep0359.stanza-id-matches",
    spec: spec("2.1", "stanza-id"),
    level: "MUST",
    requirement:
      "The value of the 'id' attribute must be unique and stable, i.e. it MUST NOT change later for some reason within the scope of the 'by' value.",
    title: "The stanza-id of a delivered message is its archive UID",
    needs: ["account", "peer"],
    advertised: sidAdvertised,
    run: async (s) => {
      const [alice, bob] = await Promise.all([s.login("account"), s.login("peer")]);
      const body = `stanza-id ${s.token()}`;
      const live = alice.expect(withBody(body), "the message at the recipient");
      bob.message(alice.jid, body);
      const sid = oneStanzaId(s, await live, alice.bare);
      let search: Awaited<ReturnType<typeof findArchived>>;
      try {
        search = await findArchived(alice, { with: bob.bare, max: 20 }, (r) => r.message?.getChildText("body") === body);
      } catch (err) {
        if (err instanceof StanzaError && findDiscoFeature(s.ctx, NS_MAM, ["account", "domain"]).foundAt.length === 0) {
          s.skip(`no message archive to compare the stanza-id with: the archive query was answered with ${err.condition}`);
        }
        throw err;
      }
      const { found, first } = search;
      s.ensure(found, `the message '${body}' in the archive (to compare ids)`, `${first.results.length} results on the last page, none with that body`);
      s.ensure(found!.id === sid.attrs.id, `the archive UID equal to the stanza-id '${sid.attrs.id}'`, `archive UID '${found!.id}'`);
      s.summary = `the delivered message carried <stanza-id by='${alice.bare}' id='${sid.attrs.id}'/>, the same id as in the archive`;
    },
  }),
  defineScenario({
    id: "xep0359.forged-stanza-id-removed",
    spec: spec("3", "rules"),
    level: "MUST",
    requirement:
      "Stanza ID generating entities, which encounter a <stanza-id/> element where the 'by' attribute matches the 'by' attribute they would otherwise set, MUST delete that element even if they are not adding their own stanza ID.",
    title: "A stanza-id forged by the sender in the recipient's name is removed",
    needs: ["account", "peer"],
    advertised: sidAdvertised,
    run: async (s) => {
      const [alice, bob] = await Promise.all([s.login("account"), s.login("peer")]);
      const body = `forged stanza-id ${s.token()}`;
      const forged = s.token("forged");
      const live = alice.expect(withBody(body), "the message at the recipient");
      bob.message(alice.jid, body, {}, xml("stanza-id", { xmlns: NS_SID, by: alice.bare, id: forged }));
      const got = await live;
      const ids = stanzaIdsBy(got, alice.bare);
      s.ensure(!ids.some((c) => c.attrs.id === forged), `the forged <stanza-id by='${alice.bare}' id='${forged}'/> removed`, got.toString());
      s.ensure(ids.length <= 1, `at most one <stanza-id/> with by='${alice.bare}' (§3)`, got.toString());
      if (ids.length === 0) s.note(`the server removed the forged stanza-id and added none of its own`);
      s.summary = ids.length
        ? `the forged stanza-id was replaced by the server's own ('${ids[0]!.attrs.id}')`
        : "the forged stanza-id was removed";
    },
  }),
];
