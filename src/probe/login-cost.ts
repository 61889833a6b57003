/**
 * What each way of logging in costs: the round trips the client waits for
 * (TCP connect, TLS handshake, each stream open, each request and its
 * answer, as the stream's TrafficMeter counts them), the bytes of XML sent
 * and received (after TLS decryption; TLS records and handshakes are not
 * counted), and the time, from the first TCP packet to a session that can
 * send stanzas. Only the login being measured is counted: getting a FAST
 * token, or the session that is later resumed, happens before the clock
 * starts, and closing after it stops.
 *
 * Flavours the server does not offer (no SASL2, no FAST, no direct TLS port
 * known, no resumable Stream Management) are left out of the result.
 */
import { performance } from "node:perf_hooks";
import { endpointOf, type Target } from "../scenario/scenario.js";
import { SessionError } from "../session/errors.js";
import { connectSecure, login as loginOnce, loginWithoutBind as loginWithoutBindOnce, type ConnectOptions, type Credentials } from "../session/login.js";
import {
  adoptInlineSm,
  adoptResumedSm,
  authenticateSasl2,
  countStanzasAfterSuccess,
  loginSasl2 as loginSasl2Once,
  newUserAgent,
  sasl2Offer,
  usableFastMechanisms,
  type FastToken,
  type Sasl2Offer,
  type UserAgent,
} from "../session/sasl2.js";
import { NS_SM, StreamManagement } from "../session/stream-management.js";
import type { XmppStream } from "../session/stream.js";
import { TrafficMeter } from "../session/traffic.js";
import type { LoginCost } from "../facts.js";

export type { LoginCost };

// Every authentication here is a login the server sees: counted in the run's traffic, as the scenarios' are.
const login: typeof loginOnce = (o) => (o.meter?.add("logins"), loginOnce(o));
const loginWithoutBind: typeof loginWithoutBindOnce = (o) => (o.meter?.add("logins"), loginWithoutBindOnce(o));
const loginSasl2: typeof loginSasl2Once = (o) => (o.meter?.add("logins"), loginSasl2Once(o));

/** The flavours, in the order measured. Names are stable (tables and tests use them). */
export const LOGIN_FLAVOURS = {
  starttls: "STARTTLS + SASL + bind + SM enable",
  directTls: "direct TLS + SASL + bind",
  sasl2: "SASL2 + Bind2 + inline SM",
  fast: "FAST token re-login",
  smResume: "SM resumption",
  sasl2Resume: "SASL2 + inline SM resumption",
  fastResume: "FAST + inline SM resumption",
} as const;

export type LoginFlavour = keyof typeof LOGIN_FLAVOURS;

/** How the stream of a login was secured, for a row's note. */
export function securedBy(mode: Target["mode"]): string {
  return mode === "direct" ? "over direct TLS" : "over STARTTLS";
}

/**
 * The rows that the run's scenarios measure as they log in their own way
 * (XEP-0368's direct TLS login, XEP-0198's resumption, SASL2, FAST…): each
 * way in is then logged in once in a run, shared by its check and this
 * table. measureLoginCosts logs in only for the flavours no scenario
 * recorded.
 */
export class LoginCostBook {
  private readonly rows = new Map<LoginFlavour, LoginCost>();

  /**
   * A login of `flavour` just completed on `stream`, and nothing else has
   * been sent on it: its meter holds the login's cost, its clock started
   * with the connection.
   */
  record(flavour: LoginFlavour, stream: XmppStream, note: string, checkId: string): void {
    if (this.rows.has(flavour)) return;
    const ms = performance.now() - stream.openedAt;
    const { roundTrips, bytesIn, bytesOut } = stream.meter.totals();
    this.rows.set(flavour, { flavour: LOGIN_FLAVOURS[flavour], ok: true, roundTrips, bytesIn, bytesOut, ms: Math.round(ms * 10) / 10, note: `${note}; the login of ${checkId}` });
  }

  has(flavour: LoginFlavour): boolean {
    return this.rows.has(flavour);
  }

  /** The recorded rows and `measured` together, in the table's order. */
  merged(measured: LoginCost[]): LoginCost[] {
    const all = [...this.rows.values(), ...measured];
    const order = Object.values(LOGIN_FLAVOURS) as string[];
    return all.sort((a, b) => order.indexOf(a.flavour) - order.indexOf(b.flavour));
  }
}

export interface LoginCostOptions {
  /**
   * XEP-0368 direct TLS endpoint. Default: `target.directTlsPort` (when the
   * target knows one) on `target.host`; without either, that flavour is left out.
   */
  directTls?: { host?: string; port: number };
  /** Only these flavours; default all. */
  flavours?: LoginFlavour[];
}

interface Measured {
  note?: string;
  /** Runs after the clock stopped: closing, invalidating tokens. */
  finish?: () => Promise<void>;
}

/**
 * Logs in once per flavour the server offers and measures each login. Needs
 * the account's credentials (it logs in several times, and requests and
 * invalidates FAST tokens); every session is closed and every token
 * invalidated before it returns. Traffic is also added to `target.meter`.
 */
export async function measureLoginCosts(target: Target, credentials: Credentials, options: LoginCostOptions = {}): Promise<LoginCost[]> {
  // Traffic outside the measured logins (probing the offer, getting tokens, the sessions to resume) is the run's too.
  const base: ConnectOptions = { ...endpointOf(target), meter: target.meter };
  const bare = `${credentials.username}@${target.domain}`;
  const over = securedBy(target.mode);
  const wanted = (label: string) => !options.flavours || options.flavours.some((f) => LOGIN_FLAVOURS[f] === label);
  if (options.flavours?.length === 0) return [];
  const results: LoginCost[] = [];

  const measure = async (flavour: string, run: (opts: ConnectOptions) => Promise<Measured>): Promise<void> => {
    if (!wanted(flavour)) return;
    const meter = new TrafficMeter(target.meter);
    const started = performance.now();
    try {
      const measured = await run({ ...base, meter });
      const ms = performance.now() - started;
      const { roundTrips, bytesIn, bytesOut } = meter.totals();
      results.push({ flavour, ok: true, roundTrips, bytesIn, bytesOut, ms: Math.round(ms * 10) / 10, ...(measured.note ? { note: measured.note } : {}) });
      await measured.finish?.().catch(() => {});
    } catch (err) {
      const ms = performance.now() - started;
      const { roundTrips, bytesIn, bytesOut } = meter.totals();
      results.push({ flavour, ok: false, roundTrips, bytesIn, bytesOut, ms: Math.round(ms * 10) / 10, note: (err as Error).message });
    }
  };

  // What the server offers before authentication (with from='<bare JID>', as SASL2 and FAST need).
  const probe = await connectSecure({ ...base, from: bare });
  const offer: Sasl2Offer | undefined = sasl2Offer(probe.features);
  const fastMechanism = offer?.fast ? usableFastMechanisms(probe, offer.fast.mechanisms)[0] : undefined;
  await probe.close();
  const inlineSm = Boolean(offer?.bind?.inline.includes(NS_SM));

  const reopen = async () => (await loginWithoutBind({ ...base, credentials })).stream;
  if (target.mode === "starttls") await measure(LOGIN_FLAVOURS.starttls, async (opts) => {
    const session = await login({ ...opts, credentials });
    const smOffered = Boolean(session.stream.features.getChild("sm", NS_SM));
    const sm = new StreamManagement(session.stream);
    if (smOffered) await sm.enable({ resume: true });
    return {
      note: `${session.mechanism}${smOffered ? "" : "; no Stream Management offered: bind only"}`,
      finish: () => (smOffered ? sm.close() : session.stream.close()),
    };
  });

  const direct = options.directTls ?? directTlsOf(target);
  if (direct) {
    await measure(LOGIN_FLAVOURS.directTls, async (opts) => {
      const session = await login({ ...opts, host: direct.host ?? target.host, port: direct.port, mode: "direct", credentials });
      return { note: `${session.mechanism} on port ${direct.port}`, finish: () => session.stream.close() };
    });
  }

  if (offer?.bind) {
    await measure(LOGIN_FLAVOURS.sasl2, async (opts) => {
      const { stream, outcome } = await loginSasl2({ ...opts, credentials, userAgent: newUserAgent(), bind: { tag: "xepcheck", ...(inlineSm ? { sm: { resume: true } } : {}) } });
      requireBound(stream, outcome.bound);
      const enabled = outcome.smEnable?.is("enabled") ? outcome.smEnable : undefined;
      const sm = enabled ? adoptInlineSm(stream, enabled) : undefined;
      return {
        note: `${outcome.mechanism} ${over}${enabled ? "" : "; Stream Management not enabled inline"}`,
        finish: () => (sm ? sm.close() : stream.close()),
      };
    });
  }

  if (offer?.bind && fastMechanism && wanted(LOGIN_FLAVOURS.fast)) {
    const userAgent = newUserAgent();
    const token = await fastToken({ ...base, meter: new TrafficMeter(target.meter) }, credentials, fastMechanism, userAgent).catch(() => undefined);
    if (token) {
      const tokens: FastToken[] = [token];
      await measure(LOGIN_FLAVOURS.fast, async (opts) => {
        const { stream, outcome } = await loginSasl2({
          ...opts,
          credentials: { username: credentials.username },
          token,
          userAgent,
          bind: { tag: "xepcheck", ...(inlineSm ? { sm: { resume: true } } : {}) },
        });
        requireBound(stream, outcome.bound);
        if (outcome.token) tokens.push(outcome.token); // rotated (XEP-0484 §3.5)
        const enabled = outcome.smEnable?.is("enabled") ? outcome.smEnable : undefined;
        const sm = enabled ? adoptInlineSm(stream, enabled) : undefined;
        return {
          note: `${fastMechanism} ${over}, Bind2${enabled ? " + inline SM" : ""}`,
          finish: () => (sm ? sm.close() : stream.close()),
        };
      });
      await invalidateTokens(base, credentials, tokens, userAgent);
    }
  }

  // SM resumption (XEP-0198 §5): a session with resumable SM is dropped, then resumed on a new connection.
  if (wanted(LOGIN_FLAVOURS.smResume)) {
    const dropped = await droppedLegacySession(base, credentials).catch(() => undefined);
    if (dropped) {
      await measure(LOGIN_FLAVOURS.smResume, async (opts) => {
        const { stream, mechanism } = await loginWithoutBind({ ...opts, credentials });
        try {
          await dropped.resume(stream);
        } catch (err) {
          stream.destroy();
          await dropped.end(reopen).catch(() => {});
          throw err;
        }
        return { note: `${mechanism} ${over}, then <resume/>`, finish: () => dropped.close() };
      });
    }
  }

  if (offer?.sm && inlineSm && wanted(LOGIN_FLAVOURS.sasl2Resume)) {
    const dropped = await droppedSasl2Session(base, credentials, newUserAgent()).catch(() => undefined);
    if (dropped) {
      await measure(LOGIN_FLAVOURS.sasl2Resume, async (opts) => {
        const resumed = await resumeInline(opts, credentials, dropped.sm, dropped.userAgent).catch(async (err: unknown) => {
          await dropped.sm.end(reopen).catch(() => {});
          throw err;
        });
        return { note: `${resumed.mechanism} ${over}, <resume/> inside <authenticate/>`, finish: () => resumed.sm.close() };
      });
    }
  }

  if (offer?.sm && inlineSm && fastMechanism && wanted(LOGIN_FLAVOURS.fastResume)) {
    const userAgent = newUserAgent();
    const dropped = await droppedSasl2Session(base, credentials, userAgent, fastMechanism).catch(() => undefined);
    if (dropped?.token) {
      const tokens: FastToken[] = [dropped.token];
      await measure(LOGIN_FLAVOURS.fastResume, async (opts) => {
        const resumed = await resumeInline(opts, credentials, dropped.sm, userAgent, dropped.token).catch(async (err: unknown) => {
          await dropped.sm.end(reopen).catch(() => {});
          throw err;
        });
        // Prosody 13's mod_sasl2_fast issues a new token here: the resumed session still holds the first login's request.
        if (resumed.token) tokens.push(resumed.token);
        return { note: `${fastMechanism} ${over}, <resume/> inside <authenticate/>`, finish: () => resumed.sm.close() };
      });
      await invalidateTokens(base, credentials, tokens, userAgent);
    } else if (dropped) {
      await dropped.sm.end(reopen).catch(() => {});
    }
  }

  return results;
}

function directTlsOf(target: Target): { host?: string; port: number } | undefined {
  const port = (target as Target & { directTlsPort?: number }).directTlsPort;
  if (target.mode === "direct") return { port: target.port };
  return port ? { port } : undefined;
}

function requireBound(stream: XmppStream, bound: unknown): void {
  if (!bound || !stream.jid) throw new SessionError("protocol", "bind", "the SASL2 login bound no resource (no <bound/>)");
}

async function fastToken(base: ConnectOptions, credentials: Credentials, mechanism: string, userAgent: UserAgent): Promise<FastToken | undefined> {
  const { stream, outcome } = await loginSasl2({ ...base, credentials, userAgent, bind: { tag: "xepcheck" }, requestToken: mechanism });
  await stream.close();
  return outcome.token;
}

/**
 * XEP-0484 §3.6: one more token login per token, with invalidate='true' and
 * no binding, oldest first (a server keeps a used token and a rotated one).
 */
async function invalidateTokens(base: ConnectOptions, credentials: Credentials, tokens: FastToken[], userAgent: UserAgent): Promise<void> {
  for (const token of tokens) {
    try {
      const { stream } = await loginSasl2({ ...base, credentials: { username: credentials.username }, token, userAgent, fast: { invalidate: true } });
      await stream.close();
    } catch {
      // a token that no longer works is what we wanted
    }
  }
}

/** A logged-in session with resumable Stream Management, whose connection is then dropped. */
async function droppedLegacySession(base: ConnectOptions, credentials: Credentials): Promise<StreamManagement | undefined> {
  const session = await login({ ...base, credentials });
  if (!session.stream.features.getChild("sm", NS_SM)) {
    await session.stream.close();
    return undefined;
  }
  const sm = new StreamManagement(session.stream);
  const enabled = await sm.enable({ resume: true }).catch(() => undefined);
  if (!enabled?.resume || !enabled.id) {
    await sm.close();
    return undefined;
  }
  sm.drop();
  return sm;
}

/** A SASL2 + Bind2 session with resumable SM enabled inline (and a FAST token if asked), whose connection is then dropped. */
async function droppedSasl2Session(
  base: ConnectOptions,
  credentials: Credentials,
  userAgent: UserAgent,
  requestToken?: string,
): Promise<{ sm: StreamManagement; userAgent: UserAgent; token?: FastToken } | undefined> {
  const { stream, outcome } = await loginSasl2({
    ...base,
    credentials,
    userAgent,
    bind: { tag: "xepcheck", sm: { resume: true } },
    ...(requestToken ? { requestToken } : {}),
  });
  const enabled = outcome.smEnable;
  if (!enabled?.is("enabled") || !enabled.attrs.id) {
    await stream.close();
    return undefined;
  }
  const sm = adoptInlineSm(stream, enabled);
  sm.drop();
  return { sm, userAgent, ...(outcome.token ? { token: outcome.token } : {}) };
}

/** XEP-0198 §9.2: resumes `previous` inside SASL2 <authenticate/>, with the password or a FAST token. */
async function resumeInline(
  opts: ConnectOptions,
  credentials: Credentials,
  previous: StreamManagement,
  userAgent: UserAgent,
  token?: FastToken,
): Promise<{ sm: StreamManagement; mechanism: string; token?: FastToken }> {
  const previd = previous.enabled?.id;
  if (!previd) throw new SessionError("protocol", "wait", "no SM-ID to resume");
  const stream = await connectSecure({ ...opts, from: `${credentials.username}@${opts.domain}` });
  opts.meter?.add("logins");
  try {
    const arrived = countStanzasAfterSuccess(stream);
    const outcome = await authenticateSasl2(stream, {
      username: credentials.username,
      ...(token ? { token } : { password: credentials.password }),
      userAgent,
      resume: { previd, h: previous.inbound },
      bind: { tag: "xepcheck" },
    });
    const resumed = outcome.smResume;
    if (!resumed?.is("resumed")) {
      throw new SessionError("protocol", "wait", `the server did not resume inline: ${outcome.smResume?.toString() ?? "no <resumed/> in <success/>"}`);
    }
    const sm = adoptResumedSm(stream, previous, resumed, arrived.stop());
    return { sm, mechanism: outcome.mechanism, ...(outcome.token ? { token: outcome.token } : {}) };
  } catch (err) {
    stream.destroy();
    throw err;
  }
}
