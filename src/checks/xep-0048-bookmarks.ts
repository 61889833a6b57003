/**
 * XEP-0048: Bookmark Storage (kept in XEP-0049 private storage, or converted to PEP)
 * https://xmpp.org/extensions/xep-0048.html
 */
import { xml } from "@xmpp/xml";
import { guardBookmarks, roomJid } from "../scenario/account-state.js";
import { FEATURE_COMPAT, NS_LEGACY_BOOKMARKS } from "../xmpp/bookmarks.js";
import { NS_PRIVATE, privateGet, privateSet } from "../xmpp/private-xml.js";
import { detach } from "../xmpp/xml.js";
import { advertisedOutcome, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";

const spec = { doc: "XEP-0048", version: "1.2", section: "3", url: "https://xmpp.org/extensions/xep-0048.html#storage" };
const REQUIREMENT =
  "Note: In the past, Private XML Storage (XEP-0049) was the recommended method (see the archived version of this specification at <http://www.xmpp.org/extensions/attic/xep-0048-1.0.html>).";

const storageAdvertised = (ctx: CheckContext) =>
  findDiscoFeature(ctx, NS_PRIVATE, ["domain", "account"]).foundAt.length > 0 ||
  findDiscoFeature(ctx, FEATURE_COMPAT, ["account", "domain"]).foundAt.length > 0;

export default [
  defineCheck({
    id: "xep0048.advertised",
    spec,
    level: "INFO",
    requirement: REQUIREMENT,
    title: "Bookmark storage is available (private XML storage or #compat)",
    needs: ["account"],
    run: (ctx) =>
      advertisedOutcome(
        "Bookmark storage",
        findDiscoFeature(ctx, NS_PRIVATE, ["domain", "account"]),
        findDiscoFeature(ctx, FEATURE_COMPAT, ["account", "domain"]),
      ),
  }),
  defineScenario({
    id: "xep0048.private-storage",
    spec,
    level: "INFO",
    requirement: REQUIREMENT,
    title: "Bookmarks in private XML storage: a conference bookmark is stored and read back",
    needs: ["account"],
    serialized: "bookmarks",
    advertised: storageAdvertised,
    run: async (s) => {
      const alice = await s.login("account", "A");
      const before = await guardBookmarks(s, alice);
      const jid = roomJid(s);
      const name = `xepcheck ${s.token()}`;
      const conference = xml("conference", { jid, name, autojoin: "false" }, xml("nick", {}, "xepcheck"));
      // A client replaces the whole list: the old bookmarks plus the new one.
      const old = before.legacy?.getChildElements().map(detach) ?? [];
      await privateSet(alice, xml("storage", { xmlns: NS_LEGACY_BOOKMARKS }, ...old, conference));
      const reader = await s.login("account", "B");
      const storage = await privateGet(reader, "storage", NS_LEGACY_BOOKMARKS);
      const got = storage?.getChildren("conference").find((c) => c.attrs.jid === jid);
      s.ensure(
        got && got.attrs.name === name && got.getChildText("nick") === "xepcheck",
        `<conference jid='${jid}' name='${name}'><nick>xepcheck</nick></conference> in storage:bookmarks`,
        storage?.toString() ?? "no <storage/> in the result",
      );
      const kept = old.filter((o) => o.getName() === "conference").every((o) => storage!.getChildren("conference").some((c) => c.attrs.jid === o.attrs.jid));
      s.ensure(kept, "the bookmarks stored before still listed", storage!.toString());
      s.summary = `the conference bookmark ${jid} was stored in private XML (storage:bookmarks) and read back`;
    },
  }),
];
