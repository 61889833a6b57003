/**
 * XEP-0313: Message Archive Management — the account's archive and the MUC archive
 * https://xmpp.org/extensions/xep-0313.html
 */
import { advertisedOutcome, findDiscoFeature, mucRoomFeatureOutcome } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_MAM = "urn:xmpp:mam:2";

const spec = { doc: "XEP-0313", version: "1.1.3" };

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
    run: (ctx) => mucRoomFeatureOutcome(ctx, "MAM on the MUC service", NS_MAM),
  }),
];
