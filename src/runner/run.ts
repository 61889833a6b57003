/**
 * Runs xepcheck against one target: log in (or register a throw-away
 * account), probe, judge every selected check, score, and build the report.
 * Gathering and judging stay apart: checks only read the probe.
 */
import { ALL_CHECKS } from "../checks/index.js";
import type { CheckContext, CheckDefinition } from "../checks/types.js";
import { probe as runProbe, type ProbeResult } from "../probe/probe.js";
import { summarizeSpecs } from "../report/summary.js";
import { REPORT_VERSION, type CheckResult, type Report, type RunError } from "../report/types.js";
import { matchesAny } from "../scoring/glob.js";
import { scoreSuite } from "../scoring/score.js";
import { loadSuite } from "../scoring/suite.js";
import { SessionError, withDeadline } from "../session/errors.js";
import { login, type Credentials, type Session } from "../session/login.js";
import { registerAccount, throwAwayCredentials, unregisterAccount } from "../session/register.js";
import { resolveEndpoints, type Endpoint } from "../session/resolve.js";
import { TrafficMeter } from "../session/traffic.js";
import { TOOL_VERSION } from "../version.js";

export interface RunOptions {
  /** The account's bare JID, or just a domain with `register`. */
  jid: string;
  password?: string;
  register: boolean;
  host?: string;
  port?: number;
  tls: "starttls" | "direct";
  /** Path and contents of a CA file to trust. */
  ca?: { path: string; pem: string };
  insecure: boolean;
  timeoutMs: number;
  suites: string[];
  only: string[];
  skip: string[];
  /** SASL mechanisms to try, strongest first (default: all xepcheck knows). */
  mechanisms?: string[];
}

export interface RunHooks {
  onCheckDone?(result: CheckResult, done: number, total: number): void;
}

/** The run could not log in: exit code 3, with a report that says why. */
export class LoginFailure extends Error {
  override name = "LoginFailure";
  constructor(readonly report: Report, override readonly cause: SessionError) {
    super(cause.message);
  }
}

export function selectChecks(only: string[], skip: string[]): CheckDefinition[] {
  return ALL_CHECKS.filter((c) => (only.length === 0 || matchesAny(c.id, only)) && !matchesAny(c.id, skip));
}

export function splitJid(jid: string): { local?: string; domain: string } {
  const at = jid.indexOf("@");
  return at < 0 ? { domain: jid } : { local: jid.slice(0, at), domain: jid.slice(at + 1) };
}

/** Judges every check against the probe; a throwing check yields `error`, never a crash. */
export async function judge(
  checks: CheckDefinition[],
  ctx: CheckContext,
  timeoutMs: number,
  hooks: RunHooks = {},
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    const started = performance.now();
    let outcome;
    try {
      outcome = await withDeadline("wait", timeoutMs, Promise.resolve().then(() => check.run(ctx)), `check ${check.id}`);
    } catch (err) {
      outcome = {
        verdict: "error" as const,
        advertised: null,
        works: null,
        summary: `the check could not complete: ${(err as Error).message}`,
        evidence: [],
      };
    }
    const result: CheckResult = {
      id: check.id,
      spec: check.spec,
      level: check.level,
      title: check.title,
      requirement: check.requirement,
      ...outcome,
      durationMs: Math.round(performance.now() - started),
    };
    results.push(result);
    hooks.onCheckDone?.(result, results.length, checks.length);
  }
  return results;
}

function runError(err: unknown): RunError {
  if (err instanceof SessionError) {
    return { step: err.step, kind: err.kind, message: err.message, ...(err.condition ? { condition: err.condition } : {}) };
  }
  return { step: "run", kind: "internal", message: err instanceof Error ? err.message : String(err) };
}

async function loginAnywhere(
  endpoints: Endpoint[],
  opts: RunOptions,
  domain: string,
  credentials: Credentials,
  meter: TrafficMeter,
): Promise<{ session: Session; endpoint: Endpoint }> {
  let lastError: unknown;
  for (const endpoint of endpoints) {
    try {
      const session = await login({
        domain,
        host: endpoint.host,
        port: endpoint.port,
        mode: opts.tls,
        tls: { ca: opts.ca?.pem, insecure: opts.insecure },
        timeoutMs: opts.timeoutMs,
        meter,
        credentials,
        mechanisms: opts.mechanisms,
      });
      return { session, endpoint };
    } catch (err) {
      lastError = err;
      // Only an unreachable endpoint makes the next one worth trying (RFC 6120 §3.2.1).
      if (!(err instanceof SessionError && err.step === "tcp-connect")) throw err;
    }
  }
  throw lastError;
}

export async function runTarget(opts: RunOptions, hooks: RunHooks = {}): Promise<Report> {
  const started = new Date();
  const suites = opts.suites.map(loadSuite); // a broken suite is a usage error before any traffic
  const checks = selectChecks(opts.only, opts.skip);
  const { local, domain } = splitJid(opts.jid);
  const meter = new TrafficMeter();
  const errors: RunError[] = [];
  let session: Session | undefined;
  let endpoint: Endpoint | undefined;
  let probe: ProbeResult | null = null;
  let results: CheckResult[] = [];
  let registered = false;
  const credentials: Credentials = opts.register
    ? throwAwayCredentials()
    : { username: local ?? "", password: opts.password ?? "" };

  const finish = (): Report => {
    const finished = new Date();
    return {
      reportVersion: REPORT_VERSION,
      tool: { name: "xepcheck", version: TOOL_VERSION },
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
        suites: opts.suites,
        only: opts.only,
        skip: opts.skip,
      },
      target: {
        domain,
        account: `${credentials.username}@${domain}`,
        ...(endpoint ? { endpoint: { host: endpoint.host, port: endpoint.port } } : {}),
        software: probe?.software.name
          ? { name: probe.software.name, version: probe.software.version, os: probe.software.os }
          : null,
      },
      probe,
      checks: results,
      specs: summarizeSpecs(results),
      suites: suites.map((s) => scoreSuite(s, results)),
      traffic: meter.totals(),
      errors,
    };
  };

  try {
    const endpoints = await resolveEndpoints(domain, opts.tls, { host: opts.host, port: opts.port });
    if (opts.register) {
      const target = endpoints[0]!;
      await registerAccount(
        { domain, host: target.host, port: target.port, mode: opts.tls, tls: { ca: opts.ca?.pem, insecure: opts.insecure }, timeoutMs: opts.timeoutMs, meter },
        credentials,
      );
      registered = true;
    }
    ({ session, endpoint } = await loginAnywhere(endpoints, opts, domain, credentials, meter));
  } catch (err) {
    if (!(err instanceof SessionError)) throw err;
    errors.push(runError(err));
    if (registered) {
      errors.push({ step: "register", kind: "cleanup", message: `the throw-away account ${credentials.username}@${domain} was registered but could not be removed: logging in failed` });
    }
    results = checks.map((c) => notRun(c, `not run: ${err.message}`));
    throw new LoginFailure(finish(), err);
  }

  try {
    probe = await runProbe(session, domain);
    results = await judge(checks, { domain, probe, tlsMode: opts.tls }, opts.timeoutMs, hooks);
  } catch (err) {
    errors.push(runError(err));
    const done = new Set(results.map((r) => r.id));
    results = [...results, ...checks.filter((c) => !done.has(c.id)).map((c) => notRun(c, `not run: ${(err as Error).message}`))];
  } finally {
    if (registered) {
      try {
        await unregisterAccount(session.stream);
      } catch (err) {
        errors.push({ ...runError(err), step: "register", message: `could not remove the throw-away account ${credentials.username}@${domain}: ${(err as Error).message}` });
      }
    }
    await session.stream.close();
  }
  return finish();
}

function notRun(check: CheckDefinition, summary: string): CheckResult {
  return {
    id: check.id,
    spec: check.spec,
    level: check.level,
    title: check.title,
    requirement: check.requirement,
    verdict: "error",
    advertised: null,
    works: null,
    summary,
    durationMs: 0,
    evidence: [],
  };
}
