/**
 * XEP-0388: Extensible SASL Profile (SASL2)
 * https://xmpp.org/extensions/xep-0388.html
 *
 * The scenarios log in through SASL2 themselves (src/session/sasl2.ts), on
 * the run's TCP endpoint with from='<bare JID>' in the stream header (servers
 * offer SASL2 and FAST only then), and record every exchange in the
 * scenario's transcript, where SASL payloads and tokens are redacted.
 */
import { redactedXml } from "../session/transcript.js";
import { xml } from "@xmpp/xml";
import { withBody } from "../scenario/actor.js";
import { ScenarioFailure } from "../scenario/outcome.js";
import { connectOptions, probedSasl2, requireSasl2, sasl2Advertised, sasl2Login, securedStream } from "../scenario/sasl2.js";
import { SASL_CONDITIONS, connectSecure, loginWithoutBind, offeredChannelBindings } from "../session/login.js";
import {
  NS_SASL,
  NS_SASL2,
  Sasl2Failure,
  adoptInlineSm,
  adoptResumedSm,
  authenticateSasl2,
  countStanzasAfterSuccess,
  newUserAgent,
} from "../session/sasl2.js";
import { scramVariant, type ChannelBindingType } from "../session/scram.js";
import { NS_SM, type StreamManagement } from "../session/stream-management.js";
import { NS_PING, NS_STREAM, type XmppStream } from "../session/stream.js";
import { advertisedOutcome, findStreamFeature } from "./advertisement.js";
import { defineCheck, defineScenario } from "./types.js";
import { securedBy } from "../probe/login-cost.js";

const spec = (section: string, anchor: string) => ({
  doc: "XEP-0388",
  version: "1.0.4",
  section,
  url: `https://xmpp.org/extensions/xep-0388.html#${anchor}`,
});

function sameJid(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** The first channel-binding type, in xepcheck's preference, that the server announces and this TLS version defines. */
function usableBinding(stream: XmppStream, announced: string[]): ChannelBindingType | undefined {
  const tls13 = stream.tlsSocket?.getProtocol() === "TLSv1.3";
  return (["tls-exporter", "tls-server-end-point", "tls-unique"] as const).find(
    (t) => announced.includes(t) && !(tls13 && t === "tls-unique"),
  );
}

export default [
  defineCheck({
    id: "xep0388.advertised",
    spec: { doc: "XEP-0388", version: "1.0.4", section: "2.1", url: "https://xmpp.org/extensions/xep-0388.html#feature" },
    level: "INFO",
    requirement:
      "Servers capable of SASL2 offer a stream feature of <authentication/>, qualified by the \"urn:xmpp:sasl:2\" namespace.",
    title: "SASL2 is offered",
    needs: ["account"],
    run: (ctx) => advertisedOutcome("SASL2", findStreamFeature(ctx, [{ name: "authentication", ns: NS_SASL2 }], "before-auth")),
  }),
  defineScenario({
    id: "xep0388.authenticate",
    spec: spec("2.6.1", "success"),
    level: "MUST",
    requirement:
      "If the Client is now authenticated, the Server sends a <success/> element, which contains an <authorization-identifier/> element containing the negotiated identity - this is a bare JID, unless resource binding has occurred, in which case it is a full JID.",
    title: "SASL2: authentication succeeds with the bare JID as authorization-identifier, and features follow",
    needs: ["account"],
    advertised: sasl2Advertised,
    run: async (s) => {
      const stream = await securedStream(s, "alice (SASL2)");
      requireSasl2(s, stream);
      const creds = s.credentials("account");
      const started = stream.meter.roundTrips;
      const outcome = await authenticateSasl2(stream, { username: creds.username, password: creds.password, userAgent: newUserAgent() }).catch(
        (err: unknown) => {
          if (err instanceof Sasl2Failure) s.fail("SASL2 <success/>", redactedXml(err.element));
          throw err;
        },
      );
      const bare = s.bareJid("account");
      s.ensure(
        sameJid(outcome.authorizationIdentifier, bare),
        `<authorization-identifier>${bare}</authorization-identifier> (no resource bound yet)`,
        redactedXml(outcome.success),
      );
      const scram = scramVariant(outcome.mechanism);
      if (scram) s.ensure(outcome.serverVerified, "the SCRAM server signature in <additional-data/>", redactedXml(outcome.success));
      s.ensure(outcome.features, "<stream:features/> right after <success/>, without a stream restart (§2.6.1)", "no features");
      if (outcome.features?.getChild("authentication", NS_SASL2)) {
        s.note("the authenticated stream offers SASL2 <authentication/> again, though a further <authenticate/> must be a stream error (§4.8)");
      }
      const trips = stream.meter.roundTrips - started;
      s.summary =
        `${outcome.mechanism} over SASL2 in ${trips} round trips; <success/> named ${outcome.authorizationIdentifier}` +
        (scram ? ", with the server signature verified" : "") +
        "; the new stream features followed without a restart";
    },
  }),
  defineScenario({
    id: "xep0388.failure",
    spec: spec("2.6.2", "failure"),
    level: "MUST",
    requirement:
      "A <failure/> element is used by the server to terminate the authentication attempt. It MAY contain application-specific error codes, and MAY contain a textual error. It MUST contain one of the SASL error codes from RFC 6120 Section 6.5.",
    title: "SASL2: a wrong password gets <failure/> with a SASL error condition of RFC 6120",
    needs: ["account"],
    advertised: sasl2Advertised,
    run: async (s) => {
      const stream = await securedStream(s, "alice (SASL2)");
      requireSasl2(s, stream);
      const creds = s.credentials("account");
      const wrong = `${creds.password}-not-${s.token()}`;
      // One deliberately failed login: the only one xepcheck makes with the account.
      const failure = await authenticateSasl2(stream, { username: creds.username, password: wrong, userAgent: newUserAgent() }).then(
        (outcome) => s.fail("<failure/> for a wrong password", redactedXml(outcome.success)),
        (err: unknown) => {
          if (err instanceof Sasl2Failure) return err.element;
          throw err;
        },
      );
      const condition = failure.getChildElements().find((c) => c.getNS() === NS_SASL && SASL_CONDITIONS.includes(c.getName()));
      s.ensure(
        condition,
        `a SASL error condition of RFC 6120 §6.5 (<not-authorized xmlns='${NS_SASL}'/>, …) in <failure/>`,
        redactedXml(failure),
      );
      // §2.6: a failed attempt leaves the stream as it was; the right password works on it.
      const retry = await authenticateSasl2(stream, { username: creds.username, password: creds.password, userAgent: newUserAgent() }).then(
        (outcome) => `a second attempt on the same stream succeeded as ${outcome.authorizationIdentifier}`,
        (err: unknown) => `a second attempt on the same stream did not succeed (${(err as Error).message})`,
      );
      s.note(retry);
      s.summary = `a wrong password got <failure/> with <${condition!.getName()}/>; ${retry}`;
    },
  }),
  defineScenario({
    id: "xep0388.channel-binding",
    spec: spec("2.1", "feature"),
    level: "MUST",
    requirement:
      "All servers and clients supporting channel-binding MUST implement SASL Channel-Binding Type Capability (XEP-0440).",
    title: "SASL2 with a -PLUS mechanism: channel-binding types announced, and a channel-bound login succeeds",
    needs: ["account"],
    advertised: (ctx) => (probedSasl2(ctx)?.mechanisms ?? []).some((m) => m.endsWith("-PLUS")),
    run: async (s) => {
      const stream = await securedStream(s, "alice (SASL2 -PLUS)");
      const offer = requireSasl2(s, stream);
      const plus = ["SCRAM-SHA-512-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"].find((m) => offer.mechanisms.includes(m));
      if (!plus) s.fail("a SCRAM -PLUS mechanism among the SASL2 mechanisms", offer.mechanisms.join(", "));
      const announced = offeredChannelBindings(stream.features);
      s.ensure(
        announced && announced.length > 0,
        "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'/> listing the channel-binding types (XEP-0440), as the server offers channel binding",
        stream.features.toString(),
      );
      const type = usableBinding(stream, announced!);
      if (!type) s.skip(`none of the announced channel-binding types (${announced!.join(", ")}) is defined for this TLS connection`);
      const creds = s.credentials("account");
      const outcome = await authenticateSasl2(stream, {
        username: creds.username,
        password: creds.password,
        mechanism: plus,
        channelBinding: type,
        userAgent: newUserAgent(),
      }).catch((err: unknown) => {
        if (err instanceof Sasl2Failure) s.fail(`SASL2 <success/> for ${plus} with ${type}`, redactedXml(err.element));
        throw err;
      });
      s.ensure(outcome.serverVerified, "the SCRAM server signature (over the channel binding) in <additional-data/>", redactedXml(outcome.success));
      s.summary = `announced ${announced!.join(", ")}; ${plus} with ${type} succeeded over SASL2 and the server signature verified`;
    },
  }),
  defineScenario({
    id: "xep0388.inline-resume",
    spec: spec("2.6.1", "success"),
    level: "MUST",
    requirement: "The results of activating any requested inline stream features are included in the server's <success/> response.",
    title: "SASL2: a dropped session resumes inside <authenticate/> (XEP-0198 inline), with <resumed/> in <success/>",
    needs: ["account", "peer"],
    advertised: (ctx) => Boolean(probedSasl2(ctx)?.sm),
    // Its resumption is the login-cost table's SASL2 resumption row.
    measuresLogin: ["sasl2Resume"],
    run: async (s) => {
      const offer = probedSasl2(s.ctx);
      if (!offer || !offer.sm) {
        return s.fail("<sm xmlns='urn:xmpp:sm:3'/> in the SASL2 <inline/> features", offer ? "SASL2 without inline <sm/>" : "no SASL2");
      }
      if (!offer.bind?.inline.includes(NS_SM)) {
        s.skip("Bind 2 cannot enable Stream Management inline here, so no SASL2 session exists to resume");
      }
      const userAgent = newUserAgent();
      const first = await sasl2Login(s, "alice/A", { userAgent, bind: { tag: "xepcheck", sm: { resume: true } } });
      const enabled = first.outcome.smEnable;
      if (!enabled || !enabled.is("enabled") || !enabled.attrs.id) {
        return s.fail("<enabled resume='true' id='…'/> inside <bound/>", redactedXml(first.outcome.success));
      }
      const sm = adoptInlineSm(first.stream, enabled);
      const jid = first.stream.jid!;
      const bob = await s.login("peer");
      first.stream.send(xml("presence", {}, xml("priority", {}, "-1")));
      const before = `before ${s.token()}`;
      bob.message(jid, before);
      await first.stream.waitFor(withBody(before), "wait", { timeoutMs: s.target.timeoutMs }).catch(() => {
        throw new ScenarioFailure("bob's message at alice/A before the drop", "nothing arrived");
      });

      let resumedSm: StreamManagement | undefined;
      let stream: XmppStream | undefined;
      const creds = s.credentials("account");
      const openAuthenticated = async () => (await loginWithoutBind({ ...connectOptions(s, "alice (ending)"), credentials: creds })).stream;
      s.cleanup("end alice/A's managed session", async () => {
        if (resumedSm) return resumedSm.close(); // a last <a h/>, then </stream:stream>
        await stream?.close();
        await sm.end(openAuthenticated);
      });

      // No pause after the drop: a message routed before the server notices stays unacknowledged
      // on the dead connection and is kept for resumption, as one routed afterwards is.
      sm.drop();
      s.note(`dropped alice/A's TCP connection without closing the stream (SM-ID ${enabled.attrs.id})`);
      const meanwhile = `meanwhile ${s.token()}`;
      bob.message(jid, meanwhile);
      s.note(`bob sent a message to ${jid} while it was disconnected`);

      const h = sm.inbound;
      const sent = sm.outbound;
      stream = await s.connection("a TLS stream for the resumption", () => connectSecure({ ...connectOptions(s, "alice/A (resumed)"), from: s.bareJid("account") }), (x) => x);
      requireSasl2(s, stream);
      const arrived = countStanzasAfterSuccess(stream);
      const outcome = await authenticateSasl2(stream, {
        username: creds.username,
        password: creds.password,
        userAgent,
        resume: { previd: enabled.attrs.id, h },
        bind: { tag: "xepcheck" },
      }).catch((err: unknown) => {
        if (err instanceof Sasl2Failure) s.fail("SASL2 <success/> with <resumed/>", redactedXml(err.element));
        throw err;
      });
      const resumed = outcome.smResume;
      s.ensure(resumed?.is("resumed"), `<resumed xmlns='${NS_SM}' previd='${enabled.attrs.id}' h='${sent}'/> inside <success/>`, redactedXml(outcome.success));
      resumedSm = adoptResumedSm(stream, sm, resumed!, arrived.stop());
      s.loginCost("sasl2Resume", stream, `${outcome.mechanism} ${securedBy(s.target.mode)}, <resume/> inside <authenticate/>`);
      s.ensure(resumed!.attrs.previd === enabled.attrs.id, `<resumed previd='${enabled.attrs.id}'/>`, resumed!.toString());
      s.ensure(resumed!.attrs.h === String(sent), `<resumed h='${sent}'/>: the stanzas alice sent before the drop`, resumed!.toString());
      s.ensure(!outcome.bound, "no <bound/>: a resumed session keeps its resource (XEP-0386 §3.2)", redactedXml(outcome.success));
      const got = await stream.waitFor(withBody(meanwhile), "wait", { timeoutMs: s.target.timeoutMs }).catch(() => undefined);
      s.ensure(got, "the message sent while disconnected, delivered on the resumed stream", "nothing arrived");
      // Features sent after <success/> would have come before the answer to this ping (RFC 6120 §10.1).
      await stream.iq(xml("iq", { type: "get", to: s.domain }, xml("ping", { xmlns: NS_PING })));
      const features = stream.takeArrived((el) => el.is("features", NS_STREAM));
      if (features) s.note(`the server sent stream features after an inline resumption (XEP-0198 §9.2 says it MUST NOT): ${features.toString()}`);
      s.summary = `resumed ${jid} inside SASL2 <authenticate/>: <success/> carried <resumed previd h='${sent}'/>, and the message sent meanwhile arrived`;
    },
  }),
];
