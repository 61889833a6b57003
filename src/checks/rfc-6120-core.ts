/**
 * RFC 6120: XMPP Core, proven by live exchanges.
 * https://www.rfc-editor.org/rfc/rfc6120
 * No RFC source is shipped with xepcheck: the requirements below are
 * paraphrases of the named sections, marked as such.
 */
import { xml } from "@xmpp/xml";
import { NS_SASL } from "../session/login.js";
import { NS_STREAM, NS_TLS } from "../session/stream.js";
import { defineScenario } from "./types.js";

const rfc = (section: string, anchor: string) => ({
  doc: "RFC 6120",
  version: "",
  section,
  url: `https://www.rfc-editor.org/rfc/rfc6120#${anchor}`,
});

export default [
  defineScenario({
    id: "rfc6120.bind-full-jid",
    spec: rfc("7.6.1", "section-7.6.1"),
    level: "MUST",
    requirement: "(paraphrase of RFC 6120 §7.6.1) On a successful bind request the server returns the full JID of the connected resource in a <jid/> element of the iq result.",
    title: "Resource binding returns a full JID",
    needs: ["account"],
    advertised: () => null,
    run: async (s) => {
      const alice = await s.login("account", undefined, { fresh: true }); // the bind is what is judged
      const [bare, resource] = alice.jid.split("/");
      s.ensure(resource && bare === s.bareJid("account"), `a full JID ${s.bareJid("account")}/<resource>`, alice.jid);
      s.summary = `bound ${alice.jid}`;
    },
  }),
  defineScenario({
    id: "rfc6120.unknown-iq-error",
    spec: rfc("8.4", "section-8.4"),
    level: "MUST",
    requirement: "(paraphrase of RFC 6120 §8.4) An entity that receives an iq get or set with a payload it does not understand returns an error, service-unavailable or feature-not-implemented.",
    title: "An iq with an unknown payload gets an error",
    needs: ["account"],
    advertised: () => null,
    run: async (s) => {
      const alice = await s.login("account");
      const condition = await alice.iqError(
        xml("iq", { type: "get", to: s.domain }, xml("query", { xmlns: `urn:xepcheck:unknown:${s.token()}` })),
        "an error reply",
      );
      s.ensure(
        condition === "service-unavailable" || condition === "feature-not-implemented",
        "service-unavailable or feature-not-implemented",
        condition,
      );
      s.summary = `answered with ${condition}`;
    },
  }),
  defineScenario({
    id: "rfc6120.stream-from-accepted",
    spec: rfc("4.7.1", "section-4.7.1"),
    level: "MUST",
    requirement: "(paraphrase of RFC 6120 §4.7.1) Over a TLS-protected stream the client includes a 'from' attribute with its bare JID in the stream header; the server accepts it.",
    title: "A stream header carrying 'from' is accepted",
    needs: ["account"],
    advertised: () => null,
    run: async (s) => {
      // Every login of xepcheck sends from='<bare JID>' once TLS is up; the
      // session exists only if the server accepted those headers.
      const alice = await s.login("account", undefined, { fresh: true });
      s.ensure(alice.stream.headerFrom === alice.bare, `a stream header with from='${alice.bare}' that the server accepted`, `from='${alice.stream.headerFrom ?? ""}'`);
      s.note(`the stream headers of ${alice.label} carried from='${alice.stream.headerFrom}'`);
      s.summary = `logged in with from='${alice.bare}' in the stream headers`;
    },
  }),
  defineScenario({
    id: "rfc6120.starttls-required",
    spec: rfc("5.3.1", "section-5.3.1"),
    level: "MUST",
    requirement: "(paraphrase of RFC 6120 §5.3.1 and §13.9.4) The server offers STARTTLS in its first stream features, and does not let a client authenticate before TLS is negotiated.",
    title: "STARTTLS is offered, and authentication is refused before it",
    needs: [],
    advertised: () => null,
    run: async (s) => {
      if (s.ctx.tlsMode === "direct") s.skip("this run uses direct TLS; STARTTLS is a property of the plain port");
      const stream = await s.rawStream();
      s.ensure(stream.features.getChild("starttls", NS_TLS), "<starttls/> in the first stream features", stream.features.toString());
      // Credentials that exist nowhere: nothing real ever goes out in the clear.
      const bogus = Buffer.from(`\0${s.token("nobody")}\0${s.token("nothing")}`).toString("base64");
      const answer = await stream
        .request(xml("auth", { xmlns: NS_SASL, mechanism: "PLAIN" }, bogus), (el) => el.getNS() === NS_SASL || el.is("error", NS_STREAM), "sasl")
        .catch((err: Error) => err);
      if (answer instanceof Error) {
        s.summary = `STARTTLS offered; authentication before TLS ended the stream (${answer.message})`;
        return;
      }
      s.ensure(!answer.is("success"), "authentication refused before TLS", answer.toString());
      s.summary = `STARTTLS offered; authentication before TLS refused with <${answer.getChildElements()[0]?.getName() ?? answer.getName()}/>`;
    },
  }),
];
