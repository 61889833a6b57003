/**
 * XEP-0402: PEP Native Bookmarks
 * https://xmpp.org/extensions/xep-0402.html
 */
import { xml, type Element } from "@xmpp/xml";
import { guardBookmarks, roomJid, until } from "../scenario/account-state.js";
import { BOOKMARK_OPTIONS, FEATURE_COMPAT, NS_BOOKMARKS, NS_LEGACY_BOOKMARKS } from "../xmpp/bookmarks.js";
import { privateGet } from "../xmpp/private-xml.js";
import { fetchItems, publish, retract } from "../xmpp/pubsub.js";
import { canonical } from "../xmpp/xml.js";
import type { Scenario } from "../scenario/scenario.js";
import { advertisementEvidence, findDiscoFeature } from "./advertisement.js";
import { allFound, pepFeature, pepIdentity } from "./pep.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";

const spec = (section: string, anchor: string) => ({
  doc: "XEP-0402",
  version: "1.2.0",
  section,
  url: `https://xmpp.org/extensions/xep-0402.html#${anchor}`,
});

const pepBookmarksAdvertised = (ctx: CheckContext) =>
  allFound(pepIdentity(ctx), pepFeature(ctx, "publish-options")) || findDiscoFeature(ctx, FEATURE_COMPAT, ["account", "domain"]).foundAt.length > 0;

const compatAdvertised = (ctx: CheckContext) => findDiscoFeature(ctx, FEATURE_COMPAT, ["account", "domain"]).foundAt.length > 0;

/** Publishes a new bookmark as §3.3 shows it; returns its id (the room JID) and payload. */
async function addBookmark(s: Scenario, alice: Parameters<typeof publish>[0]): Promise<{ jid: string; name: string; payload: Element }> {
  const jid = roomJid(s);
  const name = `xepcheck ${s.token()}`;
  const payload = xml("conference", { xmlns: NS_BOOKMARKS, name, autojoin: "false" }, xml("nick", {}, "xepcheck"));
  await publish(alice, NS_BOOKMARKS, payload, { id: jid, options: BOOKMARK_OPTIONS });
  return { jid, name, payload };
}

const legacyConference = (storage: Element | undefined, jid: string) => storage?.getChildren("conference").find((c) => c.attrs.jid === jid);

export default [
  defineCheck({
    id: "xep0402.advertised",
    spec: spec("5.3", "compatibility"),
    level: "SHOULD",
    requirement:
      "A server that supports unifying bookmarks from Private XML Storage (XEP-0049) and PEP Native Bookmarks (XEP-0402) SHOULD announce the \"urn:xmpp:bookmarks:1#compat\" feature on the account.",
    title: "PEP Native Bookmarks are advertised (#compat)",
    needs: ["account"],
    run: (ctx) => {
      const compat = findDiscoFeature(ctx, FEATURE_COMPAT, ["account", "domain"]);
      const pep = [pepIdentity(ctx), pepFeature(ctx, "publish-options")];
      const evidence = [compat, ...pep].map(advertisementEvidence);
      if (compat.foundAt.length) {
        return { verdict: "pass", advertised: true, works: null, summary: `${FEATURE_COMPAT} is advertised (${compat.foundAt.join("; ")})`, evidence };
      }
      if (allFound(...pep)) {
        // Bookmarks can still be stored in PEP; only the unification is not announced.
        return {
          verdict: "warn",
          advertised: true,
          works: null,
          summary: `PEP with publish-options is advertised, but not ${FEATURE_COMPAT}: clients should fall back to XEP-0049`,
          evidence,
        };
      }
      return { verdict: "na", advertised: false, works: null, summary: "neither #compat nor PEP with publish-options is advertised", evidence };
    },
  }),
  defineScenario({
    id: "xep0402.publish-retrieve",
    spec: spec("3.3", "adding-a-bookmark"),
    level: "MUST",
    requirement:
      "publish-options (as defined in XEP-0060) MUST be supported by the server in order to check that the node is correctly configured before publishing a new conference.",
    title: "PEP Native Bookmarks: a bookmark published with the §3.3 publish-options is stored, retrieved and retracted",
    needs: ["account"],
    serialized: "bookmarks",
    advertised: pepBookmarksAdvertised,
    run: async (s) => {
      const alice = await s.login("account", "A");
      await guardBookmarks(s, alice);
      const { jid, payload } = await addBookmark(s, alice);
      // §3.2: another client of the user retrieves the bookmarks.
      const reader = await s.login("account", "B");
      const items = await fetchItems(reader, NS_BOOKMARKS);
      const got = items.find((i) => i.attrs.id === jid)?.getChildElements()[0];
      s.ensure(
        got && canonical(got) === canonical(payload),
        `item ${jid} holding ${payload.toString()}`,
        items.length ? items.map((i) => i.toString()).join(" ") : "no items",
      );
      // §3.5: removing it is retracting the item.
      await retract(alice, NS_BOOKMARKS, jid);
      const after = await fetchItems(reader, NS_BOOKMARKS).catch(() => []);
      s.ensure(!after.some((i) => i.attrs.id === jid), `no item ${jid} after the retraction`, after.map((i) => i.attrs.id).join(", "));
      s.summary = `the bookmark ${jid} was published with publish-options, read back by another session and retracted`;
    },
  }),
  defineScenario({
    id: "xep0402.compat-private-storage",
    spec: spec("5.3.1", "publishing"),
    level: "MAY",
    requirement:
      "When a client publishes a new item, the server MAY collate all items, casting them into the 'storage:bookmarks' namespace and setting the jid attribute to the item id in each case.",
    title: "Bookmarks #compat: a PEP bookmark is visible in private XML storage (storage:bookmarks), and gone after its retraction",
    needs: ["account"],
    serialized: "bookmarks",
    advertised: compatAdvertised,
    run: async (s) => {
      const alice = await s.login("account", "A");
      await guardBookmarks(s, alice);
      const { jid, name } = await addBookmark(s, alice);
      const reader = await s.login("account", "B");
      let storage: Element | undefined;
      await until(
        s,
        async () => legacyConference((storage = await privateGet(reader, "storage", NS_LEGACY_BOOKMARKS)), jid)?.attrs.name === name,
        `<conference jid='${jid}' name='${name}'/> in the private XML storage:bookmarks`,
        () => storage?.toString() ?? "no <storage/>",
      );
      const conference = legacyConference(storage, jid)!;
      s.ensure(conference.getChildText("nick") === "xepcheck", "the bookmark's <nick>xepcheck</nick> carried over", conference.toString());
      await retract(alice, NS_BOOKMARKS, jid);
      await until(
        s,
        async () => !legacyConference((storage = await privateGet(reader, "storage", NS_LEGACY_BOOKMARKS)), jid),
        `no conference ${jid} in storage:bookmarks after the retraction`,
        () => storage?.toString() ?? "no <storage/>",
      );
      s.summary = `the PEP bookmark ${jid} appeared in private XML storage:bookmarks and disappeared with its retraction`;
    },
  }),
];
