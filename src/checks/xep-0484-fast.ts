/**
 * XEP-0484: Fast Authentication Streamlining Tokens
 * https://xmpp.org/extensions/xep-0484.html
 *
 * Tokens are secrets: they live only in memory, never in a note or a
 * summary; transcripts redact <token/> and every SASL2 payload. Every token
 * a scenario obtains is invalidated before the scenario ends (§3.6).
 */
import { redactedXml } from "../session/transcript.js";
import type { Scenario } from "../scenario/scenario.js";
import { Sasl2Failure, authenticateSasl2, loginSasl2, newUserAgent, usableFastMechanisms, type FastToken, type UserAgent } from "../session/sasl2.js";
import { advertisedOutcome, findStreamFeature } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";
import { connectOptions, discoAnswered, probedSasl2, sasl2Login, securedStream } from "../scenario/sasl2.js";
import { NS_SASL2 } from "../session/sasl2.js";
import { securedBy } from "../probe/login-cost.js";

export const NS_FAST = "urn:xmpp:fast:0";

const spec = (section: string, anchor: string) => ({
  doc: "XEP-0484",
  version: "0.2.0",
  section,
  url: `https://xmpp.org/extensions/xep-0484.html#${anchor}`,
});

const fastAdvertised = (ctx: CheckContext) => (probedSasl2(ctx)?.fast?.mechanisms.length ?? 0) > 0;

/** The FAST mechanisms offered on a fresh stream that xepcheck can compute, channel binding first. */
async function fastMechanisms(s: Scenario): Promise<string[]> {
  const stream = await securedStream(s, "alice (FAST offer)");
  const offered = stream.features.getChild("authentication", NS_SASL2)?.getChild("inline")?.getChild("fast", NS_FAST);
  if (!offered) s.fail("<fast xmlns='urn:xmpp:fast:0'/> in the SASL2 <inline/> features (with from='<bare JID>')", stream.features.toString());
  const mechanisms = offered.getChildren("mechanism").map((m) => m.text().trim());
  const usable = usableFastMechanisms(stream, mechanisms);
  await stream.close();
  if (usable.length === 0) s.skip(`none of the FAST mechanisms offered (${mechanisms.join(", ") || "none"}) can be computed on this connection`);
  return usable;
}

/**
 * Logs in with the password, asking for a token for `mechanism`; the token
 * is invalidated when the scenario ends, and the session closed at once.
 */
async function obtainToken(s: Scenario, mechanism: string, userAgent: UserAgent): Promise<{ token: FastToken; invalidated(): void }> {
  const login = await sasl2Login(s, `alice (token for ${mechanism})`, { userAgent, bind: { tag: "xepcheck" }, requestToken: mechanism });
  const token = login.outcome.token;
  await login.stream.close();
  if (!token) s.fail(`a <token xmlns='${NS_FAST}' token='…' expiry='…'/> in <success/>`, redactedXml(login.outcome.success));
  const live: { token?: FastToken } = { token };
  s.cleanup(`invalidate the FAST token for ${mechanism}`, async () => {
    if (!live.token) return;
    await invalidate(s, live.token, userAgent).catch((err: unknown) => {
      // Already unusable is what cleanup wants.
      if (!(err instanceof Sasl2Failure)) throw err;
    });
  });
  return {
    token,
    invalidated: () => {
      delete live.token;
    },
  };
}

/** XEP-0484 §3.6: authenticate with the token and invalidate='true', without binding. */
async function invalidate(s: Scenario, token: FastToken, userAgent: UserAgent): Promise<void> {
  const { stream } = await loginSasl2({
    ...connectOptions(s, `alice (invalidate ${token.mechanism} token)`),
    credentials: { username: s.credentials("account").username },
    token,
    userAgent,
    fast: { invalidate: true },
  });
  await stream.close();
}

export default [
  defineCheck({
    id: "xep0484.advertised",
    spec: { doc: "XEP-0484", version: "0.2.0", section: "3.1", url: "https://xmpp.org/extensions/xep-0484.html#support" },
    level: "MUST",
    requirement: "Servers that support FAST MUST advertise this as a SASL2 inline feature.",
    title: "FAST is offered inline in SASL2",
    needs: ["account"],
    run: (ctx) =>
      advertisedOutcome(
        "FAST",
        findStreamFeature(ctx, [{ name: "authentication", ns: NS_SASL2 }, { name: "inline" }, { name: "fast", ns: NS_FAST }], "before-auth"),
      ),
  }),
  defineScenario({
    id: "xep0484.token",
    spec: spec("3.3", "token-response"),
    level: "MUST",
    requirement:
      "Upon receiving a token request and successfully authenticating the client, the server generates a new unique token, valid for the requested mechanism, and includes it in the SASL2 <success/> response in a <token/> element qualified by the 'urn:xmpp:fast:0' namespace.",
    title: "FAST: a password login that asks for a token gets one, with an expiry",
    needs: ["account"],
    advertised: fastAdvertised,
    run: async (s) => {
      const [mechanism] = await fastMechanisms(s);
      const { token } = await obtainToken(s, mechanism!, newUserAgent());
      s.ensure(token.token.length > 0, "a non-empty 'token' attribute", "an empty token");
      const expiry = token.expiry ? Date.parse(token.expiry) : NaN;
      s.ensure(
        Number.isFinite(expiry) && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(token.expiry ?? ""),
        "an 'expiry' attribute in the DateTime profile of XEP-0082 (§3.3)",
        `expiry='${token.expiry ?? ""}'`,
      );
      s.ensure(expiry > Date.now(), "an expiry in the future", `expiry='${token.expiry}'`);
      const days = Math.round((expiry - Date.now()) / 86_400_000);
      s.summary = `a ${mechanism} token was issued in <success/>, valid for about ${days} days (expiry ${token.expiry}); it was invalidated afterwards`;
    },
  }),
  defineScenario({
    id: "xep0484.fast-auth",
    spec: spec("3.1", "support"),
    level: "MUST",
    requirement:
      "These mechanisms MUST support authenticating with a token (instead of a password) and MUST result in success or failure within a single round-trip.",
    title: "FAST: each offered mechanism logs in with a token alone, in one round trip, and binds",
    needs: ["account"],
    advertised: fastAdvertised,
    // Its first token login is the login-cost table's FAST row.
    measuresLogin: ["fast"],
    run: async (s) => {
      const mechanisms = await fastMechanisms(s);
      const rows: string[][] = [];
      for (const mechanism of mechanisms) {
        const userAgent = newUserAgent();
        const { token } = await obtainToken(s, mechanism, userAgent);
        const stream = await securedStream(s, `alice (FAST ${mechanism})`);
        const before = stream.meter.roundTrips;
        const outcome = await authenticateSasl2(stream, { username: s.credentials("account").username, token, userAgent, bind: { tag: "xepcheck" } }).catch(
          (err: unknown) => {
            if (err instanceof Sasl2Failure) s.fail(`SASL2 <success/> for ${mechanism} with the token`, redactedXml(err.element));
            throw err;
          },
        );
        // Round trips the client waited for between <authenticate/> and <success/>.
        const authTrips = stream.meter.roundTrips - before;
        s.ensure(authTrips === 1, "success within a single round trip (one <authenticate/>, answered by <success/>)", `${authTrips} round trips`);
        if (outcome.token) {
          const rotated = outcome.token;
          s.note(`the server rotated the ${mechanism} token in <success/> (§3.5)`);
          s.cleanup(`invalidate the rotated FAST token for ${mechanism}`, () => invalidate(s, rotated, userAgent).catch(() => {}));
        }
        s.ensure(outcome.bound, "<bound/>: the token login bound a resource", redactedXml(outcome.success));
        s.loginCost("fast", stream, `${mechanism} ${securedBy(s.target.mode)}, Bind2`);
        await discoAnswered(s, stream);
        rows.push([mechanism, outcome.authorizationIdentifier ?? "", outcome.serverVerified ? "Responder hash verified" : "no server proof sent", `${authTrips}`]);
        await stream.close();
      }
      s.evidence.push({ type: "table", title: "FAST logins with a token, no password", columns: ["mechanism", "bound JID", "server proof", "auth round trips"], rows });
      s.summary = `${mechanisms.join(", ")}: each logged in with a token alone in one round trip, bound a resource and got disco#info answered`;
    },
  }),
  defineScenario({
    id: "xep0484.invalidate",
    spec: spec("3.6", "invalidation"),
    level: "MUST",
    requirement:
      "Upon successful authentication with the 'invalidate' attribute set, the server MUST immediately invalidate the token and prevent its use for future authentication attempts.",
    title: "FAST: a token invalidated with invalidate='true' no longer logs in",
    needs: ["account"],
    advertised: fastAdvertised,
    run: async (s) => {
      const [mechanism] = await fastMechanisms(s);
      const userAgent = newUserAgent();
      const { token, invalidated } = await obtainToken(s, mechanism!, userAgent);
      try {
        await invalidate(s, token, userAgent);
        invalidated();
      } catch (err) {
        if (err instanceof Sasl2Failure) s.fail("SASL2 <success/> for the login with <fast invalidate='true'/>", redactedXml(err.element));
        throw err;
      }
      s.note("authenticated with the token and <fast invalidate='true'/>; now trying the token once more");
      const again = await loginSasl2({
        ...connectOptions(s, `alice (FAST ${mechanism} after invalidation)`),
        credentials: { username: s.credentials("account").username },
        token,
        userAgent,
      }).then(
        async (login) => {
          await login.stream.close();
          return redactedXml(login.outcome.success);
        },
        (err: unknown) => {
          if (err instanceof Sasl2Failure) return err;
          throw err;
        },
      );
      if (!(again instanceof Sasl2Failure)) return s.fail("<failure/> for the invalidated token", again);
      s.summary = `after <fast invalidate='true'/> succeeded, the ${mechanism} token was refused with <${again.condition}/>`;
    },
  }),
];

