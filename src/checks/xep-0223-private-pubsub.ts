/**
 * XEP-0223: Best Practices for Persistent Storage of Private Data via Publish-Subscribe
 * https://xmpp.org/extensions/xep-0223.html
 */
import { advertisementEvidence } from "./advertisement.js";
import { allFound, pepFeature, pepIdentity } from "./pep.js";
import { defineCheck } from "./types.js";

export default [
  defineCheck({
    id: "xep0223.advertised",
    spec: { doc: "XEP-0223", version: "1.1.1", section: "5", url: "https://xmpp.org/extensions/xep-0223.html#support" },
    level: "MUST",
    requirement:
      "The server MUST return an identity of \"pubsub/pep\" and include the \"publish-options\" feauture in the list of the namespaces and other features it supports:",
    title: "PEP with publish-options is advertised",
    needs: ["account"],
    run: (ctx) => {
      const found = [pepIdentity(ctx), pepFeature(ctx, "publish-options")];
      const yes = allFound(...found);
      return {
        verdict: yes ? "pass" : "na",
        advertised: yes,
        works: null,
        summary: yes ? "PEP with publish-options is advertised on the account" : `not advertised: ${found.filter((f) => !f.foundAt.length).map((f) => f.looked).join(", ")} missing`,
        evidence: found.map(advertisementEvidence),
      };
    },
  }),
];
