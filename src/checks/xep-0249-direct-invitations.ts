/**
 * XEP-0249: Direct MUC Invitations. For a server, support means delivering
 * the invitation message intact; the feature var is mostly a client's.
 * https://xmpp.org/extensions/xep-0249.html
 */
import { advertisedOutcome, findDiscoFeature } from "./advertisement.js";
import { defineCheck } from "./types.js";

export const NS_CONFERENCE = "jabber:x:conference";

export default [
  defineCheck({
    id: "xep0249.advertised",
    spec: { doc: "XEP-0249", version: "1.2", section: "3", url: "https://xmpp.org/extensions/xep-0249.html#support" },
    level: "MUST",
    requirement:
      "If an entity supports the protocol specified herein, it MUST advertise that fact by returning a feature of \"jabber:x:conference\" in response to Service Discovery (XEP-0030) information requests (see Protocol Namespaces regarding issuance of one or more permanent namespaces).",
    title: "Direct MUC invitations are advertised",
    needs: ["account"],
    run: (ctx) => {
      const found = findDiscoFeature(ctx, NS_CONFERENCE, ["domain", "components"], { category: "conference", type: "text" });
      const outcome = advertisedOutcome("Direct MUC Invitations", found);
      if (outcome.advertised) return outcome;
      // Not advertising is normal for servers: only delivering an invitation shows support.
      return {
        ...outcome,
        verdict: "skip",
        summary: "not determined yet: jabber:x:conference is not advertised, and server support means delivering invitations, which needs a live exchange this version does not run",
      };
    },
  }),
];
