/**
 * XEP-0198: Stream Management
 * https://xmpp.org/extensions/xep-0198.html
 * Counted as advertised in the post-auth stream features, or inline in SASL2
 * (where a client enables it during authentication).
 */
import { xml, type Element } from "@xmpp/xml";
import { withBody } from "../scenario/actor.js";
import { answered, dropConnection, manage, reconnect, settle } from "../scenario/stream-management.js";
import { NS_SASL2 } from "../session/sasl2.js";
import { NS_SM } from "../session/stream-management.js";
import { advertisedOutcome, findStreamFeature } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";
import { securedBy } from "../probe/login-cost.js";

export { NS_SM };

const spec = (section: string, anchor: string) => ({
  doc: "XEP-0198",
  version: "1.6.3",
  section,
  url: `https://xmpp.org/extensions/xep-0198.html#${anchor}`,
});

function smFeatures(ctx: CheckContext) {
  return [
    findStreamFeature(ctx, [{ name: "sm", ns: NS_SM }], "after-auth"),
    findStreamFeature(ctx, [{ name: "authentication", ns: NS_SASL2 }, { name: "inline" }, { name: "sm", ns: NS_SM }], "before-auth"),
  ];
}

export function smAdvertised(ctx: CheckContext): boolean {
  return smFeatures(ctx).some((f) => f.foundAt.length > 0);
}

export default [
  defineCheck({
    id: "xep0198.advertised",
    spec: spec("2", "feature"),
    level: "INFO",
    requirement:
      "The server returns a stream header to the client along with stream features, where the features include an <sm/> element qualified by the 'urn:xmpp:sm:3' namespace (see Namespace Versioning regarding the possibility of incrementing the version number).",
    title: "Stream Management is advertised",
    needs: ["account"],
    run: (ctx) => advertisedOutcome("Stream Management", ...smFeatures(ctx)),
  }),
  defineScenario({
    id: "xep0198.acks",
    spec: spec("4", "acking"),
    level: "MUST",
    requirement:
      "When an <r/> element (\"request\") is received, the recipient MUST acknowledge it by sending an <a/> element to the sender containing a value of 'h' that is equal to the number of stanzas handled by the recipient of the <r/> element.",
    title: "Stream Management: the server acknowledges exactly the stanzas it handled",
    needs: ["account", "peer"],
    advertised: smAdvertised,
    run: async (s) => {
      const [alice, bob] = await Promise.all([s.login("account", "A"), s.login("peer")]);
      const sm = await manage(s, alice, false);
      // Three stanzas of different kinds: two messages and an iq.
      const first = `first ${s.token()}`;
      const second = `second ${s.token()}`;
      alice.message(bob.jid, first);
      alice.message(bob.jid, second);
      await alice.iq(xml("iq", { type: "get", to: s.domain }, xml("ping", { xmlns: "urn:xmpp:ping" })));
      await bob.expect(withBody(second), "alice's second message at bob");
      // The count as the <r/> leaves: what alice sends after it (an error reply to a roster push
      // the server sends unasked) reaches the server after the <r/> (RFC 6120 §10.1), so h excludes it.
      const sent = sm.outbound;
      const h = await answered(`<a xmlns='${NS_SM}' h='${sent}'/>`, sm.requestAck());
      s.ensure(h === sent, `<a h='${sent}'/>: the ${sent} stanzas alice sent since <enable/>`, `<a h='${h}'/>`);

      // The other direction: the server asks us (it MAY at any time); we answer with our count.
      const before = sm.answered.length;
      const back = `back ${s.token()}`;
      bob.message(alice.jid, back);
      await alice.expect(withBody(back), "bob's message at alice");
      const request = await alice.stream
        .waitFor((el: Element) => el.is("r", NS_SM), "wait", { timeoutMs: 2000 })
        .catch(() => undefined);
      if (request || sm.answered.length > before) {
        s.note(`the server requested acks; alice answered with h=${sm.answered.join(", ")}`);
      } else {
        s.note("the server sent no <r/> within 2 s (it MAY ack at its own pace)");
      }
      // Still acknowledged correctly after our answers, and the stream is alive.
      const sentSince = sm.outbound;
      const again = await answered(`<a xmlns='${NS_SM}' h='${sentSince}'/>`, sm.requestAck());
      s.ensure(again === sentSince, `<a h='${sentSince}'/>`, `<a h='${again}'/>`);
      s.summary = `the server acknowledged h=${h} for the ${h} stanzas sent, and h=${again} later` +
        (sm.answered.length ? `; its <r/> was answered with h=${sm.answered.at(-1)}` : "");
    },
  }),
  defineScenario({
    id: "xep0198.resume",
    spec: spec("5", "resumption"),
    level: "MUST",
    requirement:
      "If the server can resume the former stream, it MUST return a <resumed/> element, which MUST include a 'previd' attribute set to the SM-ID of the former stream and MUST also include an 'h' attribute set to the sequence number of the last handled stanza sent over the former stream from the client to the server (in the unlikely case that the server never received any stanzas, it would set 'h' to zero).",
    title: "Stream Management: a dropped session resumes and gets what was sent meanwhile",
    needs: ["account", "peer"],
    advertised: smAdvertised,
    // alice's login and <enable/>, and her resumption, are two rows of the login-cost table.
    measuresLogin: ["starttls", "smResume"],
    run: async (s) => {
      const [{ alice, sm }, bob] = await Promise.all([
        s.login("account", "A", { fresh: true }).then(async (alice) => {
          const sm = await manage(s, alice, true);
          if (s.target.mode === "starttls") s.loginCost("starttls", alice.stream, alice.session.mechanism);
          return { alice, sm };
        }),
        s.login("peer"),
      ]);
      const previd = sm.enabled!.id!;
      // Available, with a negative priority: bare-JID messages of other scenarios are not routed here (RFC 6121 §8.5.2).
      alice.available(-1);
      const before = `before ${s.token()}`;
      bob.message(alice.jid, before);
      await alice.expect(withBody(before), "bob's message at alice before the drop");
      alice.message(bob.jid, `reply ${s.token()}`);
      const sentBefore = sm.outbound; // as the <r/> leaves (see xep0198.acks)
      const handled = await settle(sm);
      s.ensure(handled === sentBefore, `<a h='${sentBefore}'/>`, `<a h='${handled}'/>`);

      await dropConnection(s, sm);
      const meanwhile = `meanwhile ${s.token()}`;
      bob.message(alice.jid, meanwhile);
      s.note(`bob sent a message to ${alice.jid} while it was disconnected`);

      const stream = await reconnect(s, alice, `${alice.label} (resumed)`);
      const sent = sm.outbound;
      const resumed = await answered(`<resumed xmlns='${NS_SM}' previd='${previd}' h='${sent}'/>`, sm.resume(stream));
      s.loginCost("smResume", stream, `${alice.session.mechanism} ${securedBy(s.target.mode)}, then <resume/>`);
      s.ensure(resumed.attrs.previd === previd, `<resumed previd='${previd}'/>`, resumed.toString());
      s.ensure(resumed.attrs.h === String(sent), `<resumed h='${sent}'/>: the stanzas alice sent before the drop`, resumed.toString());
      const got = await stream.waitFor(withBody(meanwhile), "wait", { timeoutMs: stream.options.timeoutMs }).catch(() => undefined);
      s.ensure(got, "the message sent while disconnected, delivered on the resumed stream", "nothing arrived");
      // The count as the <r/> leaves (see xep0198.acks): later replies to unasked roster pushes are not in h.
      const sentSince = sm.outbound;
      const h = await answered(`<a xmlns='${NS_SM}' h='${sentSince}'/>`, sm.requestAck());
      s.ensure(h === sentSince, `<a h='${sentSince}'/> on the resumed stream`, `<a h='${h}'/>`);
      // No wait for a duplicate: the server re-sends what is unacknowledged in order, so a copy
      // of the earlier message would have come before the later one, and before this <a/>.
      const duplicate = stream.takeArrived(withBody(before));
      s.ensure(!duplicate, "no re-sending of a stanza alice had acknowledged before the drop (§5)", duplicate?.toString() ?? "");
      s.summary = `resumed ${alice.jid} with previd and h=${sent}; the message sent while disconnected arrived after <resumed/>`;
    },
  }),
];
