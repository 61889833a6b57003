/**
 * Logins through SASL2 (XEP-0388) for the scenarios that test SASL2, Bind 2
 * (XEP-0386), FAST (XEP-0484) and the SCRAM variants: on the run's TCP
 * endpoint with from='<bare JID>' in the stream header (servers offer SASL2
 * and FAST only then), every exchange recorded in the scenario's transcript.
 */
import { xml } from "@xmpp/xml";
import parse from "@xmpp/xml/lib/parse.js";
import { featuresAt, findStreamFeature } from "../checks/advertisement.js";
import type { CheckContext } from "../checks/types.js";
import { connectSecure, type ConnectOptions } from "../session/login.js";
import {
  LabelledTranscript,
  NS_SASL2,
  Sasl2Failure,
  Sasl2NotOffered,
  loginSasl2,
  newUserAgent,
  sasl2Offer,
  type Sasl2Login,
  type Sasl2LoginOptions,
  type Sasl2Offer,
} from "../session/sasl2.js";
import type { XmppStream } from "../session/stream.js";
import { redactedXml } from "../session/transcript.js";
import { ScenarioFailure } from "./outcome.js";
import { endpointOf, type Scenario } from "./scenario.js";

const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";

/** The SASL2 feature the probe saw before authentication (with from='<bare JID>'). */
export function probedSasl2(ctx: CheckContext): Sasl2Offer | undefined {
  const snapshot = featuresAt(ctx.probe.streamFeatures, "before-auth");
  if (!snapshot) return undefined;
  return sasl2Offer(parse(snapshot.xml));
}

export function sasl2Advertised(ctx: CheckContext): boolean {
  return findStreamFeature(ctx, [{ name: "authentication", ns: NS_SASL2 }], "before-auth").foundAt.length > 0;
}

/** Connection settings of the run, recorded into the scenario's transcript under `label`. */
export function connectOptions(s: Scenario, label: string): ConnectOptions {
  const t = s.target;
  const web = { transport: t.transport, url: t.url, configuredHost: t.configuredHost };
  return {
    ...endpointOf(t),
    meter: t.meter,
    transcript: new LabelledTranscript(s.transcript, label),
    ...(web as object),
  };
}

export type ScenarioSasl2Request = Omit<Sasl2LoginOptions, keyof ConnectOptions | "credentials" | "userAgent"> &
  Partial<Pick<Sasl2LoginOptions, "userAgent">> & { password?: boolean };

/**
 * Logs `label` in through SASL2 with the account's credentials (or, with
 * `password: false`, with the request's token alone); the stream is closed
 * when the scenario ends. A <failure/> for a login that should work fails
 * the scenario.
 */
export async function sasl2Login(s: Scenario, label: string, request: ScenarioSasl2Request): Promise<Sasl2Login> {
  const creds = s.credentials("account");
  const { password = true, ...rest } = request;
  const credentials: Sasl2LoginOptions["credentials"] = password ? creds : { username: creds.username };
  s.target.meter.add("logins");
  let login: Sasl2Login;
  try {
    login = await s.connection(
      "a SASL2 login",
      () => loginSasl2({ ...connectOptions(s, label), credentials, userAgent: request.userAgent ?? newUserAgent(), ...rest }),
      (x) => x.stream,
    );
  } catch (err) {
    if (err instanceof Sasl2Failure) throw new ScenarioFailure(`SASL2 <success/> for ${label}`, redactedXml(err.element));
    // Not offered (verdict na when not advertised), not "could not tell".
    if (err instanceof Sasl2NotOffered) throw new ScenarioFailure("<authentication xmlns='urn:xmpp:sasl:2'/> in the stream features after TLS", err.message);
    throw err;
  }
  s.closeAtEnd(label, login.stream);
  s.note(`${label}: SASL2 ${login.outcome.mechanism} succeeded as ${login.outcome.authorizationIdentifier ?? "(no authorization-identifier)"}`);
  return login;
}

/** A TLS-protected stream with from='<bare JID>', before authentication; closed when the scenario ends. */
export async function securedStream(s: Scenario, label: string): Promise<XmppStream> {
  const creds = s.credentials("account");
  const stream = await s.connection("a TLS stream", () => connectSecure({ ...connectOptions(s, label), from: `${creds.username}@${s.domain}` }), (x) => x);
  s.cleanup(`close ${label}`, () => stream.close());
  return stream;
}

/** disco#info of the domain on a bound stream: the session really serves stanzas. */
export async function discoAnswered(s: Scenario, stream: XmppStream): Promise<number> {
  const result = await stream.iq(xml("iq", { type: "get", to: s.domain }, xml("query", { xmlns: NS_DISCO_INFO })));
  const features = result.getChild("query", NS_DISCO_INFO)?.getChildren("feature").length ?? 0;
  s.ensure(features > 0, `a disco#info result listing features of ${s.domain}`, result.toString());
  return features;
}

/** The offer on a fresh stream, or a "not offered" failure (verdict na when not advertised). */
export function requireSasl2(s: Scenario, stream: XmppStream): Sasl2Offer {
  const offer = sasl2Offer(stream.features);
  if (!offer) s.fail("<authentication xmlns='urn:xmpp:sasl:2'/> in the stream features after TLS", stream.features.toString());
  return offer;
}
