/**
 * Runs xepcheck against one target: log in (or register throw-away
 * accounts), probe, judge the advertisement checks, run the live scenarios
 * (concurrently, each under its own deadline), score, and build the report.
 */
import { ALL_CHECKS } from "../checks/index.js";
import type { Check, CheckContext, CheckOutcome } from "../checks/types.js";
import { LOGIN_FLAVOURS, LoginCostBook, measureLoginCosts, type LoginCost, type LoginFlavour } from "../probe/login-cost.js";
import { probe as runProbe, type ProbeResult } from "../probe/probe.js";
import { summarizeSpecs } from "../report/summary.js";
import type { CheckResult, RunError, TargetReport } from "../report/types.js";
import { runScenario, type ScenarioEnvironment, type Target } from "../scenario/scenario.js";
import { matchesAny } from "../scoring/glob.js";
import { scoreSuite } from "../scoring/score.js";
import { loadSuite } from "../scoring/suite.js";
import { SessionError, withDeadline } from "../session/errors.js";
import { login, type Credentials, type Session } from "../session/login.js";
import { registerAccount, throwAwayCredentials, unregisterAccount } from "../session/register.js";
import { resolveEndpoints, type Endpoint } from "../session/resolve.js";
import { XmppStream, type StreamLimits } from "../session/stream.js";
import { TrafficMeter } from "../session/traffic.js";
import { traceSection } from "../session/trace.js";
import { ConnectionLimit } from "../scenario/connection-limit.js";
import { featuresAt } from "../checks/advertisement.js";
import parse from "@xmpp/xml/lib/parse.js";
import { Sasl2NotOffered, loginBind2, sasl2Offer } from "../session/sasl2.js";
import { runScheduled } from "./schedule.js";
import { RUN_DEFAULTS } from "../cli/defaults.js";

export interface RunOptions {
  /** The target's name in the report (default: the domain). */
  name?: string;
  /** The account's bare JID, or just a domain with `register`. */
  jid: string;
  password?: string;
  /** A second account for scenarios between two users (bare JID and password). */
  peer?: { jid: string; password: string };
  register: boolean;
  host?: string;
  port?: number;
  tls: "starttls" | "direct";
  /** Path and contents of a CA file to trust. */
  ca?: { path: string; pem: string };
  insecure: boolean;
  timeoutMs: number;
  /** Deadline of one live scenario. */
  scenarioTimeoutMs: number;
  /** Live scenarios run at once against this target. */
  concurrency: number;
  /** Run the live scenarios (false: advertisements only). */
  scenarios: boolean;
  suites: string[];
  only: string[];
  skip: string[];
  /** SASL mechanisms to try, strongest first (default: all xepcheck knows). */
  mechanisms?: string[];
  /** DNS server for SRV lookups, "host" or "host:port" (default: the system's). */
  dns?: string;
  /** Transport of the main session (default tcp). */
  transport?: "tcp" | "websocket" | "bosh";
  /** URL of the WebSocket or BOSH endpoint (default: from host-meta, XEP-0156). */
  url?: string;
  /** ALPN protocols offered on direct TLS (default xmpp-client). */
  alpn?: string[];
  /** Port for the direct TLS (XEP-0368) login on --host (default: from _xmpps-client SRV records). */
  directTlsPort?: number;
  /** Largest element accepted from the server, in bytes (--max-stanza-size; default 1 MiB, DEFAULT_MAX_STANZA_BYTES). */
  maxStanzaBytes?: number;
  /** Deepest nesting accepted in a stanza (--max-xml-depth; default DEFAULT_MAX_XML_DEPTH). */
  maxXmlDepth?: number;
  /** disco#items of the domain probed at most (--max-disco-items; default DEFAULT_MAX_DISCO_ITEMS). */
  maxDiscoItems?: number;
  /**
   * Aborted on SIGINT/SIGTERM: no new scenario starts (those running finish
   * and clean up), throw-away accounts are still removed, and the report
   * says "interrupted".
   */
  signal?: AbortSignal;
  /** Connections open at once to the server, the main session included (default 8). */
  maxConnections?: number;
  /** Sessions of one account open at once, the main session included (--max-account-sessions). */
  maxAccountSessions?: number;
  /** An external component to connect as for XEP-0114 (--component). */
  component?: { domain: string; port: number; secret: string };
}

const INTERRUPTED = "not run: the run was interrupted";

export interface RunHooks {
  /** A check begins (a scenario when it leaves the queue, not when it joins it). */
  onCheckStarted?(checkId: string): void;
  onCheckDone?(result: CheckResult, done: number, total: number): void;
}

/** The run could not log in: exit code 3, with a report that says why. */
export class LoginFailure extends Error {
  override name = "LoginFailure";
  constructor(readonly report: TargetReport, override readonly cause: SessionError) {
    super(cause.message);
  }
}

export function selectChecks(only: string[], skip: string[], scenarios = true): Check[] {
  return ALL_CHECKS.filter(
    (c) => (only.length === 0 || matchesAny(c.id, only)) && !matchesAny(c.id, skip) && (scenarios || c.kind !== "scenario"),
  );
}

/**
 * The login-cost table is selected like a check, by the id "login-cost": a
 * run with --only measures it only when --only names it (`--only
 * 'xep0030.*,login-cost'`), and --skip login-cost leaves it out.
 */
export const LOGIN_COST_ID = "login-cost";

export function loginCostsSelected(only: string[], skip: string[]): boolean {
  return (only.length === 0 || matchesAny(LOGIN_COST_ID, only)) && !matchesAny(LOGIN_COST_ID, skip);
}

export function splitJid(jid: string): { local?: string; domain: string } {
  const at = jid.indexOf("@");
  return at < 0 ? { domain: jid } : { local: jid.slice(0, at), domain: jid.slice(at + 1) };
}

function resultOf(check: Check, outcome: CheckOutcome, durationMs: number): CheckResult {
  return {
    id: check.id,
    kind: check.kind,
    spec: check.spec,
    level: check.level,
    title: check.title,
    requirement: check.requirement,
    ...outcome,
    durationMs: Math.round(durationMs),
  };
}

function errorOutcome(summary: string): CheckOutcome {
  return { verdict: "error", advertised: null, works: null, summary, evidence: [] };
}

/**
 * Judges the advertisement checks (pure, in order), then runs the scenarios:
 * concurrently up to `concurrency`, exclusive ones alone afterwards. A
 * throwing check or a hanging scenario yields `error` for itself only.
 */
export async function judge(
  checks: Check[],
  ctx: CheckContext,
  options: { timeoutMs: number; concurrency: number; scenarioEnv?: Omit<ScenarioEnvironment, "ctx">; signal?: AbortSignal },
  hooks: RunHooks = {},
): Promise<{ results: CheckResult[]; cleanupProblems: string[] }> {
  const results = new Map<string, CheckResult>();
  const cleanupProblems: string[] = [];
  const done = (r: CheckResult) => {
    results.set(r.id, r);
    hooks.onCheckDone?.(r, results.size, checks.length);
  };

  for (const check of checks) {
    if (check.kind !== "advertisement") continue;
    hooks.onCheckStarted?.(check.id);
    const started = performance.now();
    let outcome: CheckOutcome;
    try {
      outcome = await withDeadline("wait", options.timeoutMs, Promise.resolve().then(() => check.run(ctx)), `check ${check.id}`);
    } catch (err) {
      outcome = errorOutcome(`the check could not complete: ${(err as Error).message}`);
    }
    done(resultOf(check, outcome, performance.now() - started));
  }

  const scenarios = checks.filter((c) => c.kind === "scenario");
  const runOne = async (check: (typeof scenarios)[number]) => {
    if (check.kind !== "scenario") return;
    hooks.onCheckStarted?.(check.id);
    const started = performance.now();
    let outcome: CheckOutcome;
    if (options.signal?.aborted) {
      outcome = errorOutcome(INTERRUPTED);
    } else if (!options.scenarioEnv) {
      outcome = errorOutcome("not run: no session environment");
    } else {
      try {
        const env = { ...options.scenarioEnv, ctx };
        const result = await traceSection(check.id, () => runScenario(check, env));
        outcome = result.outcome;
        cleanupProblems.push(...result.cleanupProblems.map((p) => `${check.id}: ${p}`));
      } catch (err) {
        outcome = errorOutcome(`the scenario could not complete: ${(err as Error).message}`);
      }
    }
    done(resultOf(check, outcome, performance.now() - started));
  };
  await runScheduled(
    scenarios.filter((c) => !(c.kind === "scenario" && c.exclusive)),
    (c) => (c.kind === "scenario" ? c.serialized : undefined),
    options.concurrency,
    runOne,
  );
  for (const c of scenarios.filter((c) => c.kind === "scenario" && c.exclusive)) await runOne(c);

  // Report in declaration order, whatever order they finished in.
  return { results: checks.map((c) => results.get(c.id)!), cleanupProblems };
}

/** --max-stanza-size and --max-xml-depth, for every connection of the run. */
function streamLimits(opts: RunOptions): StreamLimits {
  return {
    ...(opts.maxStanzaBytes ? { maxStanzaBytes: opts.maxStanzaBytes } : {}),
    ...(opts.maxXmlDepth ? { maxXmlDepth: opts.maxXmlDepth } : {}),
  };
}

/**
 * Where and how the scenarios (and the login-cost table) connect: the
 * endpoint the main session reached, with the run's TLS, deadline, ALPN and
 * limits, so that a connection a scenario opens itself is held to the same
 * settings as the main session.
 */
export function scenarioTarget(opts: RunOptions, domain: string, endpoint: Pick<Endpoint, "host" | "port">, meter: TrafficMeter): Target {
  return {
    domain,
    host: endpoint.host,
    port: endpoint.port,
    mode: opts.tls,
    tls: { ca: opts.ca?.pem, insecure: opts.insecure },
    timeoutMs: opts.timeoutMs,
    configuredHost: Boolean(opts.host),
    ...(opts.dns ? { dns: opts.dns } : {}),
    alpn: opts.alpn ?? ["xmpp-client"],
    ...(opts.directTlsPort ? { directTlsPort: opts.directTlsPort } : {}),
    // Scenario sessions speak TCP whatever the main session used (see sessionOptions).
    transport: "tcp",
    ...(opts.url ? { url: opts.url } : {}),
    ...(opts.component ? { component: opts.component } : {}),
    limits: streamLimits(opts),
    meter,
    loginCosts: new LoginCostBook(),
  };
}

function runError(err: unknown): RunError {
  if (err instanceof SessionError) {
    return { step: err.step, kind: err.kind, message: err.message, ...(err.condition ? { condition: err.condition } : {}) };
  }
  return { step: "run", kind: "internal", message: err instanceof Error ? err.message : String(err) };
}

interface Connection {
  endpoint: Endpoint;
  connect(credentials: Credentials, resource?: string): Promise<Session>;
  /** SASL2 with Bind 2 (see cheapestLogin). */
  connectBind2(credentials: Credentials, resource?: string): Promise<Session>;
  openStream(): Promise<XmppStream>;
}

async function firstReachable(endpoints: Endpoint[], open: (e: Endpoint) => Promise<Session>): Promise<{ session: Session; endpoint: Endpoint }> {
  let lastError: unknown;
  for (const endpoint of endpoints) {
    try {
      return { session: await open(endpoint), endpoint };
    } catch (err) {
      lastError = err;
      // Only an unreachable endpoint makes the next one worth trying (RFC 6120 §3.2.1).
      if (!(err instanceof SessionError && err.step === "tcp-connect")) throw err;
    }
  }
  throw lastError;
}

export async function runTarget(opts: RunOptions, hooks: RunHooks = {}): Promise<TargetReport> {
  const started = new Date();
  const suites = opts.suites.map(loadSuite); // a broken suite is a usage error before any traffic
  const checks = selectChecks(opts.only, opts.skip, opts.scenarios);
  const { local, domain } = splitJid(opts.jid);
  const meter = new TrafficMeter();
  const errors: RunError[] = [];
  let session: Session | undefined;
  let endpoint: Endpoint | undefined;
  let probe: ProbeResult | null = null;
  let results: CheckResult[] = [];
  let loginCosts: LoginCost[] | undefined;
  const registered: Credentials[] = [];
  const needsPeer = checks.some((c) => c.needs.includes("peer"));
  const account: Credentials = opts.register ? throwAwayCredentials() : { username: local ?? "", password: opts.password ?? "" };
  const peer: Credentials | undefined = opts.register
    ? needsPeer
      ? throwAwayCredentials()
      : undefined
    : opts.peer
      ? { username: splitJid(opts.peer.jid).local ?? "", password: opts.peer.password }
      : undefined;

  // --transport chooses the main session's transport; registration, scenarios
  // and raw protocol checks speak TCP (the web transports have scenarios of their own).
  const sessionOptions = (e: Endpoint, transport: "tcp" | "websocket" | "bosh" = "tcp") => ({
    domain,
    host: e.host,
    port: e.port,
    mode: opts.tls,
    tls: { ca: opts.ca?.pem, insecure: opts.insecure },
    timeoutMs: opts.timeoutMs,
    meter,
    mechanisms: opts.mechanisms,
    // Without --url, WebSocket and BOSH take their URL from host-meta.
    transport,
    ...(opts.url ? { url: opts.url } : {}),
    configuredHost: Boolean(opts.host),
    ...(opts.alpn ? { alpn: opts.alpn } : {}),
    ...streamLimits(opts),
  });
  const connection = (e: Endpoint, transport: "tcp" | "websocket" | "bosh" = "tcp"): Connection => ({
    endpoint: e,
    connect: (credentials, resource) => {
      meter.add("logins");
      return login({ ...sessionOptions(e, transport), credentials, resource });
    },
    connectBind2: (credentials, resource) => {
      meter.add("logins");
      return loginBind2({ ...sessionOptions(e, transport), credentials, ...(resource ? { resource } : {}) });
    },
    openStream: () => XmppStream.open(sessionOptions(e)),
  });
  /**
   * The scenarios' logins: where the server offers Bind 2 inside SASL2 (and
   * --mechanisms does not restrict the choice), the sessions whose login is
   * not under test log in that way, two round trips fewer than RFC 6120's.
   */
  const cheapestLogin = (c: Connection, probed: ProbeResult): ScenarioEnvironment["connect"] => {
    const snapshot = featuresAt(probed.streamFeatures, "before-auth");
    const bind2 = !opts.mechanisms && snapshot !== undefined && Boolean(sasl2Offer(parse(snapshot.xml))?.bind);
    return async (credentials, resource, how) => {
      if (!bind2 || how?.fresh) return c.connect(credentials, resource);
      try {
        return await c.connectBind2(credentials, resource);
      } catch (err) {
        // Offered before authentication as the probe saw it, but not on this stream: RFC 6120's login.
        if (err instanceof Sasl2NotOffered) return c.connect(credentials, resource);
        throw err;
      }
    };
  };

  const finish = (outcome: TargetReport["outcome"]): TargetReport => {
    const finished = new Date();
    return {
      name: opts.name ?? domain,
      outcome,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      settings: {
        tls: opts.tls,
        ...(opts.host ? { host: opts.host } : {}),
        ...(opts.port ? { port: opts.port } : {}),
        insecure: opts.insecure,
        ...(opts.ca ? { ca: opts.ca.path } : {}),
        register: opts.register,
        timeoutMs: opts.timeoutMs,
        scenarioTimeoutMs: opts.scenarioTimeoutMs,
        concurrency: opts.concurrency,
        scenarios: opts.scenarios,
        transport: opts.transport ?? "tcp",
        ...(opts.url ? { url: opts.url } : {}),
        ...(opts.maxStanzaBytes ? { maxStanzaBytes: opts.maxStanzaBytes } : {}),
        ...(opts.maxXmlDepth ? { maxXmlDepth: opts.maxXmlDepth } : {}),
        ...(opts.maxDiscoItems ? { maxDiscoItems: opts.maxDiscoItems } : {}),
        ...(opts.maxConnections ? { maxConnections: opts.maxConnections } : {}),
        ...(opts.maxAccountSessions ? { maxAccountSessions: opts.maxAccountSessions } : {}),
        ...(opts.component ? { component: `${opts.component.domain}:${opts.component.port}` } : {}),
        suites: opts.suites,
        only: opts.only,
        skip: opts.skip,
      },
      target: {
        domain,
        account: `${account.username}@${domain}`,
        ...(peer ? { peer: `${peer.username}@${domain}` } : {}),
        ...(endpoint ? { endpoint: { host: endpoint.host, port: endpoint.port } } : {}),
        software: probe?.software.name ? { name: probe.software.name, version: probe.software.version, os: probe.software.os } : null,
      },
      probe,
      checks: results,
      specs: summarizeSpecs(results),
      suites: suites.map((s) => scoreSuite(s, results)),
      traffic: meter.totals(),
      ...(loginCosts ? { loginCosts } : {}),
      errors,
    };
  };

  if (opts.signal?.aborted) {
    // Interrupted before this target's turn: nothing was sent to it.
    results = checks.map((c) => resultOf(c, errorOutcome(INTERRUPTED), 0));
    return finish("interrupted");
  }

  let conn: Connection | undefined;
  try {
    const endpoints = await resolveEndpoints(domain, opts.tls, { host: opts.host, port: opts.port }, { dns: opts.dns, timeoutMs: opts.timeoutMs });
    if (opts.register) {
      for (const creds of [account, ...(peer ? [peer] : [])]) {
        await registerAccount(sessionOptions(endpoints[0]!), creds);
        registered.push(creds);
      }
    }
    ({ session, endpoint } = await firstReachable(endpoints, (e) => connection(e, opts.transport ?? "tcp").connect(account)));
    conn = connection(endpoint);
  } catch (err) {
    if (!(err instanceof SessionError)) throw err;
    errors.push(runError(err));
    for (const creds of registered) {
      errors.push({ step: "register", kind: "cleanup", message: `the throw-away account ${creds.username}@${domain} was registered but could not be removed: logging in failed` });
    }
    results = checks.map((c) => resultOf(c, errorOutcome(`not run: ${err.message}`), 0));
    throw new LoginFailure(finish("login-failed"), err);
  }

  let measuringLoginCosts: Promise<void> = Promise.resolve();
  try {
    probe = await runProbe(session, domain, opts.maxDiscoItems);
    if (probe.componentsNotProbed) {
      errors.push({
        step: "probe",
        kind: "note",
        message: `the domain lists ${probe.components.length + probe.componentsNotProbed} disco#items; the disco#info of the first ${probe.components.length} was asked for, ${probe.componentsNotProbed} were left alone (--max-disco-items)`,
      });
    }
    const target = scenarioTarget(opts, domain, conn.endpoint, meter);
    // The main session stays open while scenarios connect.
    const connectionLimit = new ConnectionLimit({
      max: (opts.maxConnections ?? RUN_DEFAULTS.maxConnections) - 1,
      perAccount: opts.maxAccountSessions ?? RUN_DEFAULTS.maxAccountSessions,
      outside: [account.username],
    });
    // The ways in that no selected scenario logs in itself, each logged in once and measured,
    // alongside the scenarios: they are independent of them, and hold one of the connections
    // the limit allows (one login at a time; a session to resume is dropped before the login
    // that resumes it). The scenarios' own logins fill the other rows (LoginCostBook).
    const wantLoginCosts = opts.scenarios && !opts.signal?.aborted && loginCostsSelected(opts.only, opts.skip);
    const byScenarios = new Set(checks.flatMap((c) => (c.kind === "scenario" ? (c.measuresLogin ?? []) : [])));
    const allFlavours = Object.keys(LOGIN_FLAVOURS) as LoginFlavour[];
    const measured: LoginCost[] = [];
    const measureFlavours = async (flavours: LoginFlavour[]) => {
      if (flavours.length === 0) return;
      const release = await connectionLimit.reserve(1);
      try {
        measured.push(...(await measureLoginCosts(target, account, { flavours })));
      } catch (err) {
        errors.push({ ...runError(err), step: "login-cost", message: `measuring login costs failed: ${(err as Error).message}` });
      } finally {
        release();
      }
    };
    measuringLoginCosts = wantLoginCosts ? measureFlavours(allFlavours.filter((f) => !byScenarios.has(f))) : Promise.resolve();
    const { results: judged, cleanupProblems } = await judge(
      checks,
      { domain, probe, tlsMode: opts.tls },
      {
        timeoutMs: opts.timeoutMs,
        concurrency: opts.concurrency,
        scenarioEnv: {
          accounts: { account, ...(peer ? { peer } : {}) },
          connect: cheapestLogin(conn, probe),
          openStream: conn.openStream,
          connectionLimit,
          target,
          waitMs: opts.timeoutMs,
          scenarioTimeoutMs: opts.scenarioTimeoutMs,
        },
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      hooks,
    );
    results = judged;
    await measuringLoginCosts;
    if (wantLoginCosts) {
      // A scenario that did not get as far as its login (skipped, failed first): measured here instead.
      const book = target.loginCosts!;
      if (!opts.signal?.aborted) await measureFlavours([...byScenarios].filter((f) => !book.has(f)));
      loginCosts = book.merged(measured);
    }
    await connectionLimit.closeIdle();
    errors.push(...connectionLimit.notes);
    for (const problem of cleanupProblems) errors.push({ step: "cleanup", kind: "cleanup", message: problem });
  } catch (err) {
    errors.push(runError(err));
    const seen = new Set(results.map((r) => r.id));
    results = [...results, ...checks.filter((c) => !seen.has(c.id)).map((c) => resultOf(c, errorOutcome(`not run: ${(err as Error).message}`), 0))];
  } finally {
    await measuringLoginCosts; // it never throws: its failure is a run error
    await removeRegistered(registered.filter((c) => c !== account), conn, errors, domain);
    if (registered.includes(account)) await removeAccount(session, account, errors, domain);
    await session.stream.close();
  }
  return finish(opts.signal?.aborted ? "interrupted" : "completed");
}

async function removeAccount(session: Session, creds: Credentials, errors: RunError[], domain: string): Promise<void> {
  try {
    await unregisterAccount(session.stream);
  } catch (err) {
    errors.push({ ...runError(err), step: "register", message: `could not remove the throw-away account ${creds.username}@${domain}: ${(err as Error).message}` });
  }
}

async function removeRegistered(list: Credentials[], conn: Connection | undefined, errors: RunError[], domain: string): Promise<void> {
  for (const creds of list) {
    try {
      if (!conn) throw new Error("no connection");
      const s = await conn.connect(creds);
      await removeAccount(s, creds, errors, domain);
      await s.stream.close();
    } catch (err) {
      errors.push({ ...runError(err), step: "register", message: `could not remove the throw-away account ${creds.username}@${domain}: ${(err as Error).message}` });
    }
  }
}
