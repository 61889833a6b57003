/**
 * XEP-0352: Client State Indication
 * https://xmpp.org/extensions/xep-0352.html
 * Counted as advertised in the post-auth stream features, or as a Bind2
 * inline feature (XEP-0386), the second place a server announces it.
 */
import { advertisedOutcome, findStreamFeature } from "./advertisement.js";
import { defineCheck } from "./types.js";
import { bind2InlineFeature } from "./xep-0386-bind2.js";

export const NS_CSI = "urn:xmpp:csi:0";

export default [
  defineCheck({
    id: "xep0352.advertised",
    spec: { doc: "XEP-0352", version: "1.0.0", section: "4.1", url: "https://xmpp.org/extensions/xep-0352.html#discovery" },
    level: "INFO",
    requirement: "If the server supports CSI, it advertises it in the stream features after the client has authenticated:",
    title: "Client State Indication is advertised",
    needs: ["account"],
    run: (ctx) =>
      advertisedOutcome(
        "Client State Indication",
        findStreamFeature(ctx, [{ name: "csi", ns: NS_CSI }], "after-auth"),
        bind2InlineFeature(ctx, NS_CSI),
      ),
  }),
];
