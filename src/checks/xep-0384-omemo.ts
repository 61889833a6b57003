/**
 * XEP-0384: OMEMO Encryption — the server-side prerequisites (§7.1)
 * https://xmpp.org/extensions/xep-0384.html
 */
import { advertisementEvidence } from "./advertisement.js";
import { allFound, pepFeature, pepIdentity } from "./pep.js";
import { defineCheck } from "./types.js";

export default [
  defineCheck({
    id: "xep0384.prerequisites-advertised",
    spec: { doc: "XEP-0384", version: "0.9.1", section: "7.1", url: "https://xmpp.org/extensions/xep-0384.html#server-side" },
    level: "MUST",
    requirement:
      "The pubsub service MUST support the 'open' access model for node configuration and 'pubsub#access_model' as a publish option.",
    title: "PEP offers what OMEMO needs: publish-options and the open access model",
    needs: ["account"],
    run: (ctx) => {
      const pep = [pepIdentity(ctx), pepFeature(ctx, "publish-options")];
      const open = pepFeature(ctx, "access-open");
      const found = [...pep, open];
      const yes = allFound(...found);
      if (allFound(...pep) && !yes) {
        // Many PEP services support the open model without listing it; only publishing can tell.
        return {
          verdict: "skip",
          advertised: false,
          works: null,
          summary: "not determined yet: PEP has publish-options but does not list pubsub#access-open; only publishing with access_model=open can tell",
          evidence: found.map(advertisementEvidence),
        };
      }
      return {
        verdict: yes ? "pass" : "na",
        advertised: yes,
        works: null,
        summary: yes
          ? "PEP advertises publish-options and the open access model"
          : `not advertised: ${found.filter((f) => !f.foundAt.length).map((f) => f.looked).join(", ")} missing`,
        evidence: found.map(advertisementEvidence),
      };
    },
  }),
];
