/**
 * XEP-0352: Client State Indication
 * https://xmpp.org/extensions/xep-0352.html
 * Counted as advertised in the post-auth stream features, or as a Bind2
 * inline feature (XEP-0386), the second place a server announces it.
 */
import { xml, type Element } from "@xmpp/xml";
import { arrivedPromptly, type Actor } from "../scenario/actor.js";
import type { Scenario } from "../scenario/scenario.js";
import { SessionError, StanzaError } from "../session/errors.js";
import { NS_PING } from "../session/stream.js";
import { advertisedOutcome, findStreamFeature } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";
import { bind2InlineFeature } from "./advertisement.js";

export const NS_CSI = "urn:xmpp:csi:0";
const NS_CHATSTATES = "http://jabber.org/protocol/chatstates";
/** After bob's barrier, how long a chat state may still be on its way to alice: at least this, and as long as its delivery while active took. */
const GRACE_MS = 100;
/** After <inactive/>, before the chat state is sent. */
const SETTLE_MS = 200;
/** After <active/> and a ping: time for a chat state released out of order to show itself. */
const LATE_MS = 200;

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
    spec: { doc: "XEP-0352", version: "1.0.0", section: "5.1", url: "https://xmpp.org/extensions/xep-0352.html#in-order-processing" },
    level: "INFO",
    requirement:
      "As a result, all actions triggered by a CSI nonza sent to the server must happen before processing further requests from the same client to the server.",
    title: "The server acts on <inactive/>: a chat state waits (or is dropped) until <active/>",
    needs: ["account", "peer"],
    advertised: csiAdvertised,
    run: async (s) => {
      const alice = await s.login("account");
      // A contact's chat state (servers treat what comes from the account's own resources differently).
      const other = await s.login("peer");
      // A chat state without a body (XEP-0085): what CSI servers hold back or drop for an inactive client (§2.2).
      const chatState = () => {
        const id = s.token("cs");
        other.send(xml("message", { to: alice.jid, type: "chat", id }, xml("composing", { xmlns: NS_CHATSTATES })));
        return (el: Element) => el.is("message") && el.attrs.id === id;
      };
      const started = Date.now();
      await s.precondition("a chat state from bob reaches alice while she is active", () =>
        alice.expect(chatState(), "the chat state at the active session"),
      );
      // Held means not there when delivery would have brought it (a distant server's routing is not holding).
      const delivery = Date.now() - started;
      const grace = Math.max(GRACE_MS, delivery);
      alice.send(xml("inactive", { xmlns: NS_CSI }));
      // Nothing more is sent on alice's stream until <active/>: client data ends the holding on some servers
      // (Prosody's mod_csi_simple), so no ping can serve as the barrier here; a short pause lets <inactive/> take effect.
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const held = chatState();
      // The barrier is bob's: once his ping is answered the server has routed his chat state, and
      // what it wrote to alice is there within the time delivery took while she was active.
      const early = await arrivedPromptly(other, alice.stream, held, grace);
      const within = `by the answer to bob's next ping and ${grace} ms more`;
      if (early) {
        // Holding is the server's choice (§2.2): nothing observable. Advertised: could not tell; not advertised: not offered.
        if (csiAdvertised(s.ctx)) s.skip(`not determined: the server delivered a chat state at once to the inactive session (${within}), as it may`);
        s.fail(`the chat state held back or dropped while alice is inactive`, `it arrived at once (${within}): ${early.toString()}`);
      }
      alice.send(xml("active", { xmlns: NS_CSI }));
      // §5.1: what <active/> releases is on the wire before the answer to the next request.
      await stillServed(s, alice, "<active/>");
      const released = alice.stream.takeArrived(held);
      if (!released) {
        const late = await alice.stream.waitFor(held, "wait", { timeoutMs: LATE_MS }).catch(() => undefined);
        if (late) s.fail("the held chat state delivered before the answer to the ping sent after <active/> (§5.1)", `it came after the answer: ${late.toString()}`);
      }
      s.summary = released
        ? `a chat state sent to the inactive session was held (not there ${within}) and delivered on <active/>, before the answer to the next ping (§5.1)`
        : `a chat state sent to the inactive session was not delivered, nor on <active/>: dropped (§2.2 allows it)`;
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
