/**
 * XEP-0386: Bind 2
 * https://xmpp.org/extensions/xep-0386.html
 * The scenarios bind through SASL2 (src/session/sasl2.ts) and prove each
 * inline feature by its effect, not by the server's word: the session
 * answers disco#info, acknowledges stanzas (XEP-0198), receives carbons
 * (XEP-0280), starts inactive (XEP-0352).
 */
import { redactedXml } from "../session/transcript.js";
import { xml, type Element } from "@xmpp/xml";
import { arrivedPromptly } from "../scenario/actor.js";
import { ScenarioFailure } from "../scenario/outcome.js";
import type { Scenario } from "../scenario/scenario.js";
import { NS_CARBONS, NS_CSI, adoptInlineSm, newUserAgent, sasl2Session } from "../session/sasl2.js";
import { NS_SM } from "../session/stream-management.js";
import { NS_PING, type XmppStream } from "../session/stream.js";
import { advertisedOutcome, bind2InlineFeature, bind2Path, findStreamFeature } from "./advertisement.js";
import type { CheckContext } from "./types.js";
import { defineCheck, defineScenario } from "./types.js";
import { discoAnswered, sasl2Login } from "../scenario/sasl2.js";
import { securedBy } from "../probe/login-cost.js";

const NS_FORWARD = "urn:xmpp:forward:0";
const NS_CHATSTATES = "http://jabber.org/protocol/chatstates";

const bind2Advertised = (ctx: CheckContext) => findStreamFeature(ctx, bind2Path, "before-auth").foundAt.length > 0;
const inlineAdvertised = (feature: string) => (ctx: CheckContext) => bind2InlineFeature(ctx, feature).foundAt.length > 0;

const spec = (section: string, anchor: string) => ({
  doc: "XEP-0386",
  version: "1.1.0",
  section,
  url: `https://xmpp.org/extensions/xep-0386.html#${anchor}`,
});

/** Binds through SASL2 + Bind 2 with `extra` inline requests; a login without <bound/> fails the scenario. */
async function bind2(s: Scenario, label: string, extra: { sm?: { resume?: boolean }; carbons?: boolean; csi?: "active" | "inactive" } = {}) {
  if (!bind2Advertised(s.ctx)) {
    // Try anyway: a server may bind without advertising; without SASL2 at all this fails as "not offered".
    s.note("Bind 2 is not advertised inline in SASL2; requesting it anyway");
  }
  const login = await sasl2Login(s, label, { userAgent: newUserAgent(), bind: { tag: "xepcheck", ...extra } });
  const { outcome } = login;
  s.ensure(outcome.bound, "a <bound xmlns='urn:xmpp:bind:0'/> in <success/>", redactedXml(outcome.success));
  const jid = outcome.authorizationIdentifier ?? "";
  const bare = s.bareJid("account");
  s.ensure(
    jid.toLowerCase().startsWith(`${bare.toLowerCase()}/`) && jid.length > bare.length + 1,
    `<authorization-identifier/> with the full JID ${bare}/<resource>`,
    redactedXml(outcome.success),
  );
  return login;
}

/** A message whose carbon copy (sent or received) wraps a message with this body. */
function carbonOf(kind: "sent" | "received", body: string) {
  return (el: Element) =>
    el.is("message") && el.getChild(kind, NS_CARBONS)?.getChild("forwarded", NS_FORWARD)?.getChild("message")?.getChildText("body") === body;
}

async function waitOn(stream: XmppStream, match: (el: Element) => boolean, what: string, timeoutMs: number): Promise<Element> {
  try {
    return await stream.waitFor(match, "wait", { timeoutMs });
  } catch (err) {
    if ((err as { kind?: string }).kind === "timeout") throw new ScenarioFailure(what, `nothing arrived within ${timeoutMs} ms`);
    throw err;
  }
}

export default [
  defineCheck({
    id: "xep0386.advertised",
    spec: { doc: "XEP-0386", version: "1.1.0", section: "3.1", url: "https://xmpp.org/extensions/xep-0386.html" },
    level: "MUST",
    requirement:
      "If a server supports Bind 2, it MUST advertise this within the SASL2 <inline/> element in the stream features, with a feature named 'bind' in the namespace 'urn:xmpp:bind:0'.",
    title: "Bind 2 is offered inline in SASL2",
    needs: ["account"],
    run: (ctx) => advertisedOutcome("Bind 2", findStreamFeature(ctx, bind2Path, "before-auth")),
  }),
  defineScenario({
    id: "xep0386.bind",
    spec: spec("3.2", "bind-request"),
    level: "MUST",
    requirement:
      "After processing the bind request as described above, the server MUST respond with the SASL2 <success/> element, including the client's full JID in the <authorization-identifier/> element (specified in Extensible SASL Profile (XEP-0388)), and a <bound/> element qualified by the 'urn:xmpp:bind:0' namespace, as in the following example:",
    title: "Bind 2: one SASL2 exchange binds a resource; <success/> names the full JID and carries <bound/>",
    needs: ["account"],
    advertised: bind2Advertised,
    run: async (s) => {
      const login = await bind2(s, "alice (Bind 2)");
      const { stream, outcome } = login;
      const resource = outcome.authorizationIdentifier!.split("/").slice(1).join("/");
      s.note(
        resource.includes("xepcheck")
          ? `the resource "${resource}" includes the <tag/> "xepcheck" (§3.2.1 SHOULD)`
          : `the resource "${resource}" does not include the <tag/> "xepcheck" (§3.2.1 SHOULD)`,
      );
      const features = await discoAnswered(s, stream);
      s.handOver(sasl2Session(login)); // bound, nothing enabled inline: the next scenario needs no login of its own
      s.summary = `bound ${outcome.authorizationIdentifier} inside SASL2 (<bound/> in <success/>); disco#info of ${s.domain} answered with ${features} features on the session`;
    },
  }),
  defineScenario({
    id: "xep0386.inline-sm",
    spec: spec("3.2", "bind-request"),
    level: "MUST",
    requirement: "The <bound/> response MUST contain the resulting XEP-0198 <enabled/> (or <failed/>) element.",
    title: "Bind 2 enables Stream Management inline: <enabled/> in <bound/>, and stanzas are acknowledged",
    needs: ["account"],
    advertised: inlineAdvertised(NS_SM),
    // Its login is the login-cost table's SASL2 row.
    measuresLogin: ["sasl2"],
    run: async (s) => {
      const { stream, outcome } = await bind2(s, "alice (Bind 2 + SM)", { sm: { resume: true } });
      const result = outcome.smEnable;
      s.ensure(result, `<enabled xmlns='${NS_SM}'/> (or <failed/>) inside <bound/>`, redactedXml(outcome.success));
      s.ensure(result!.is("enabled"), `<enabled xmlns='${NS_SM}'/>: Stream Management on`, result!.toString());
      s.loginCost("sasl2", stream, `${outcome.mechanism} ${securedBy(s.target.mode)}`);
      const sm = adoptInlineSm(stream, result!);
      // An <a h/> after our own <close/> is irrelevant; end cleanly with a last ack.
      s.cleanup("end the managed session", () => sm.close());
      await stream.iq(xml("iq", { type: "get", to: s.domain }, xml("ping", { xmlns: NS_PING }))).catch((err: unknown) => err);
      // The count as the <r/> leaves: a reply to a roster push sent after it is not in h (see xep0198.acks).
      const sent = sm.outbound;
      const h = await sm.requestAck().catch((err: unknown) => {
        throw new ScenarioFailure(`<a xmlns='${NS_SM}' h='${sent}'/> answering <r/>`, (err as Error).message);
      });
      s.ensure(h === sent, `<a h='${sent}'/>: the stanzas sent since the inline <enable/>`, `<a h='${h}'/>`);
      s.summary =
        `<bound/> carried ${result!.toString().replace(/ id="[^"]*"/, "")}; after ${sm.outbound} stanza(s) the server acknowledged h=${h}`;
    },
  }),
  defineScenario({
    id: "xep0386.inline-carbons",
    spec: spec("3.2", "bind-request"),
    level: "MUST",
    requirement:
      "If the client included a XEP-0280 <enable/> element in the requested features, Message Carbons MUST be enabled at this point.",
    title: "Bind 2 enables Carbons inline: the new session gets copies of another resource's messages",
    needs: ["account", "peer"],
    connections: 3,
    advertised: inlineAdvertised(NS_CARBONS),
    run: async (s) => {
      const { stream, outcome } = await bind2(s, "alice (Bind 2 + carbons)", { carbons: true });
      // Carbons go to available resources (XEP-0280 §6), as in xep0280.copies.
      stream.send(xml("presence"));
      const other = await s.login("account", "B");
      other.available();
      const bob = await s.login("peer");
      const out = `sent ${s.token()}`;
      other.message(bob.jid, out);
      await waitOn(stream, carbonOf("sent", out), "a <sent/> carbon of alice/B's message at the Bind 2 session", s.target.timeoutMs);
      const back = `received ${s.token()}`;
      bob.message(other.jid, back);
      await waitOn(stream, carbonOf("received", back), "a <received/> carbon of bob's message to alice/B at the Bind 2 session", s.target.timeoutMs);
      s.summary = `${outcome.authorizationIdentifier}, with carbons enabled inside <bind/>, received <sent/> and <received/> copies of alice/B's conversation`;
    },
  }),
  defineScenario({
    id: "xep0386.inline-csi",
    spec: spec("3.2", "bind-request"),
    level: "SHOULD",
    requirement: "If the client included a XEP-0352 <active/> or <inactive/> element, the session must begin in that state.",
    title: "Bind 2 starts the session inactive (CSI inline): unimportant stanzas wait until <active/>",
    needs: ["account", "peer"],
    connections: 3,
    advertised: inlineAdvertised(NS_CSI),
    run: async (s) => {
      const { stream, outcome } = await bind2(s, "alice (Bind 2 + inactive)", { csi: "inactive" });
      // Nothing more is sent on this stream until <active/>: any client data may end a CSI server's holding.
      const bob = await s.login("peer");
      const jid = outcome.authorizationIdentifier!;
      const chatState = (to: string) => {
        const id = s.token("cs");
        // A chat-state notification without a body: what CSI servers hold back for inactive clients.
        bob.send(xml("message", { to, type: "chat", id }, xml("composing", { xmlns: NS_CHATSTATES })));
        return (el: Element) => el.is("message") && el.attrs.id === id;
      };
      // Held means not there once bob's ping is answered (the server has routed his chat state, RFC 6120
      // §10.1) and as long again as that ping took (the server's write to alice, in flight), at least 100 ms.
      const grace = Math.max(100, Math.round(await bob.barrier()));
      const within = `by the answer to bob's next ping and ${grace} ms more`;
      const byId = chatState(jid);
      const early = await arrivedPromptly(bob, stream, byId, grace);
      if (early) {
        // Holding is the server's choice (XEP-0352 §5): tell "inline state ignored" from "holds nothing".
        const control = await s.login("account", "C");
        control.send(xml("inactive", { xmlns: NS_CSI }));
        await new Promise((resolve) => setTimeout(resolve, 200));
        const controlEarly = await arrivedPromptly(bob, control.stream, chatState(control.jid), grace);
        control.send(xml("active", { xmlns: NS_CSI }));
        if (controlEarly) {
          s.skip("the server delivers chat states at once even to a session that sent <inactive/>, so the inline state cannot be observed");
        }
        s.fail(
          "the chat state held back while the session is inactive, as the server does for a session that sent <inactive/> (alice/C)",
          `it arrived at once (${within}): ${early.toString()}`,
        );
      }
      stream.send(xml("active", { xmlns: NS_CSI }));
      await waitOn(stream, byId, "the held chat state delivered after <active/>", s.target.timeoutMs);
      s.summary = `${jid} began inactive: bob's chat state was held (not there ${within}) and delivered right after <active/>`;
    },
  }),
];
