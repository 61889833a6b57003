/**
 * XEP-0352: Client State Indication
 * https://xmpp.org/extensions/xep-0352.html
 * Counted as advertised in the post-auth stream features, or as a Bind2
 * inline feature (XEP-0386), the second place a server announces it.
 */
import { xml } from "@xmpp/xml";
import type { Actor } from "../scenario/actor.js";
import type { Scenario } from "../scenario/scenario.js";
import { SessionError, StanzaError } from "../session/errors.js";
import { NS_PING } from "../session/stream.js";
import { advertisedOutcome, findStreamFeature } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";
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
  defineScenario({
    id: "xep0352.state-changes",
    spec: { doc: "XEP-0352", version: "1.0.0", section: "4.2", url: "https://xmpp.org/extensions/xep-0352.html#indication" },
    level: "INFO",
    requirement:
      "There is no reply from the server to either of these elements (though they may indirectly cause the server to send stanzas, e.g., to update presence information when the client becomes active after a period of inactivity).",
    title: "<inactive/> and <active/> are accepted: the stream goes on",
    needs: ["account"],
    advertised: csiAdvertised,
    run: async (s) => {
      const alice = await s.login("account");
      alice.send(xml("inactive", { xmlns: NS_CSI }));
      await stillServed(s, alice, "<inactive/>");
      alice.send(xml("active", { xmlns: NS_CSI }));
      await stillServed(s, alice, "<active/>");
      s.summary = "after <inactive/> and after <active/>, the server still answered a ping on the same stream";
    },
  }),
];

function csiAdvertised(ctx: CheckContext): boolean {
  return (
    findStreamFeature(ctx, [{ name: "csi", ns: NS_CSI }], "after-auth").foundAt.length > 0 ||
    bind2InlineFeature(ctx, NS_CSI).foundAt.length > 0
  );
}

/** A ping answered (a result, or an error: an answer all the same) on a stream the server did not close. */
async function stillServed(s: Scenario, actor: Actor, after: string): Promise<void> {
  try {
    await actor.iq(xml("iq", { type: "get", to: s.domain }, xml("ping", { xmlns: NS_PING })));
  } catch (err) {
    if (err instanceof StanzaError) return;
    if (err instanceof SessionError && (err.kind === "stream-error" || err.kind === "network")) {
      s.fail(`the stream to go on after ${after}`, err.message);
    }
    throw err;
  }
}
