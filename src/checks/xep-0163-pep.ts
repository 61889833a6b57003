/**
 * XEP-0163: Personal Eventing Protocol
 * https://xmpp.org/extensions/xep-0163.html
 */
import { advertisedOutcome } from "./advertisement.js";
import { pepIdentity } from "./pep.js";
import { defineCheck } from "./types.js";

export default [
  defineCheck({
    id: "xep0163.advertised",
    spec: { doc: "XEP-0163", version: "1.2.2", section: "6.1", url: "https://xmpp.org/extensions/xep-0163.html#support-owner" },
    level: "MUST",
    requirement:
      "If the account owner's server supports PEP and the account is provisioned for PEP, the server MUST return an identity of \"pubsub/pep\" on behalf of the account (as well as a list of the namespaces and other features it supports, including all supported Publish-Subscribe (XEP-0060) features):",
    title: "The account has a PEP service (identity pubsub/pep)",
    needs: ["account"],
    run: (ctx) => advertisedOutcome("PEP", pepIdentity(ctx)),
  }),
];
