/**
 * XEP-0191: Blocking Command
 * https://xmpp.org/extensions/xep-0191.html
 */
import { xml, type Element } from "@xmpp/xml";
import { withBody, type Actor } from "../scenario/actor.js";
import { sameJid } from "../scenario/roster.js";
import type { Scenario } from "../scenario/scenario.js";
import { discoAdvertised, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario } from "./types.js";

export const NS_BLOCKING = "urn:xmpp:blocking";

export default [
  defineCheck({
    id: "xep0191.advertised",
    spec: { doc: "XEP-0191", version: "1.3", section: "3.1", url: "https://xmpp.org/extensions/xep-0191.html#disco" },
    level: "MUST",
    requirement:
      "If the server supports the protocol defined herein, it MUST return a feature of \"urn:xmpp:blocking\":",
    title: "Blocking Command is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Blocking Command", NS_BLOCKING, ["domain", "account"]),
  }),
  defineScenario({
    id: "xep0191.block-unblock",
    spec: { doc: "XEP-0191", version: "1.3", section: "3.3", url: "https://xmpp.org/extensions/xep-0191.html#block" },
    level: "MUST",
    requirement:
      "Once the user has blocked communications with a JID, the user's server MUST NOT deliver any XML stanzas from the JID to the user.",
    title: "Blocking the peer stops its messages; the blocklist lists it; unblocking lets them through",
    needs: ["account", "peer"],
    // Blocking the peer would break every other scenario between the two accounts.
    exclusive: true,
    advertised: (ctx) => findDiscoFeature(ctx, NS_BLOCKING, ["domain", "account"]).foundAt.length > 0,
    run: async (s) => {
      const [alice, bob] = await Promise.all([s.login("account", "A"), s.login("peer", "B")]);
      const peer = bob.bare;
      // Retrieving the blocklist makes this resource one that gets the block/unblock pushes (§3.3).
      const before = await blocklist(alice);
      s.cleanup(`restore the blocklist of ${alice.bare} (${before.length ? before.join(", ") : "empty"})`, () => restoreBlocklist(s, alice, before));
      if (before.some((j) => sameJid(j, peer))) {
        s.note(`${peer} was blocked before the test: unblocking it first`);
        await change(alice, "unblock", peer);
      }
      alice.available();
      await alice.barrier();

      await change(alice, "block", peer);
      const listed = await blocklist(alice);
      s.ensure(listed.some((j) => sameJid(j, peer)), `${peer} in the blocklist (§3.2)`, listed.length ? listed.join(", ") : "an empty blocklist");

      const blocked = `blocked ${s.token()}`;
      const sent = bob.message(alice.bare, blocked);
      // Barrier, not a wait: the server answers bob's ping after it has processed his message (RFC 6120 §10.1,
      // in order), and alice's ping after anything it delivered to her before. Delivery later still is caught
      // below: after unblocking, a message of bob's cannot overtake it on the same route.
      await bob.barrier();
      await alice.barrier();
      await alice.expectNone(withBody(blocked), `no message from the blocked ${peer}`, 0);
      // A bounce is sent to bob while his message is processed, so before the answer to his ping: already here, or never.
      const bounced = bob.stream.takeArrived((el) => el.is("message") && el.attrs.type === "error" && el.attrs.id === sent.attrs.id);
      s.note(bounced ? `${peer} got the error ${errorCondition(bounced)} back (§3.3: SHOULD be service-unavailable)` : `${peer} got no error back`);

      await change(alice, "unblock", peer);
      const after = `unblocked ${s.token()}`;
      const arrives = alice.expect(withBody(after), `the message from ${peer} after unblocking (§3.4)`);
      bob.message(alice.bare, after);
      await arrives;
      // In order on bob's stream: had the first message been delivered, it would have come before this one.
      await alice.expectNone(withBody(blocked), `the message sent while ${peer} was blocked never delivered`, 0);
      s.summary = `while ${peer} was blocked its message did not arrive${bounced ? ` (it got ${errorCondition(bounced)})` : ""}; the blocklist listed it; after unblocking its next message arrived`;
    },
  }),
];

/** §3.2: the JIDs in the blocklist. */
async function blocklist(actor: Actor): Promise<string[]> {
  const result = await actor.iq(xml("iq", { type: "get" }, xml("blocklist", { xmlns: NS_BLOCKING })));
  return (result.getChild("blocklist", NS_BLOCKING)?.getChildren("item") ?? []).map((i) => i.attrs.jid ?? "");
}

/**
 * §3.3/§3.4: blocks or unblocks the given JIDs (never none: an empty
 * <unblock/> unblocks everyone) and answers the push the server sends to
 * resources that retrieved the blocklist.
 */
async function change(actor: Actor, what: "block" | "unblock", ...jids: string[]): Promise<void> {
  if (jids.length === 0) return;
  const push = actor.stream
    .waitFor((el) => el.is("iq") && el.attrs.type === "set" && Boolean(el.getChild(what, NS_BLOCKING)) && (!el.attrs.from || sameJid(el.attrs.from, actor.bare)), "wait")
    .then((el) => actor.send(xml("iq", { type: "result", id: el.attrs.id, ...(el.attrs.from ? { to: el.attrs.from } : {}) })));
  push.catch(() => {});
  await actor.iq(xml("iq", { type: "set" }, xml(what, { xmlns: NS_BLOCKING }, ...jids.map((jid) => xml("item", { jid })))));
  // The push is a MUST of §3.3/§3.4, but this scenario proves blocking, not the push: do not wait for it long.
  await Promise.race([push, new Promise((r) => setTimeout(r, 500))]);
}

function errorCondition(el: Element): string {
  return el.getChild("error")?.getChildElements().find((c) => c.getName() !== "text")?.getName() ?? "an error";
}

/** Cleanup: the blocklist exactly as it was (from a fresh session if the scenario's is gone). */
async function restoreBlocklist(s: Scenario, actor: Actor, before: string[]): Promise<void> {
  const a = actor.stream.isClosed ? await s.login("account", "cleanup") : actor;
  const now = await blocklist(a);
  await change(a, "unblock", ...now.filter((j) => !before.some((b) => sameJid(b, j))));
  await change(a, "block", ...before.filter((b) => !now.some((j) => sameJid(b, j))));
  const after = await blocklist(a);
  const same = after.length === before.length && after.every((j) => before.some((b) => sameJid(b, j)));
  if (!same) throw new Error(`blocklist not restored: ${after.join(", ") || "empty"} (was ${before.join(", ") || "empty"})`);
}
