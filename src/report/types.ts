/**
 * The report JSON: the contract between a run and every reporter, and what
 * list publishers build on. Its JSON Schema is reports/report.schema.json;
 * change both together and bump REPORT_VERSION on incompatible changes.
 */
import type { Evidence, Level, SpecRef, Verdict } from "../checks/types.js";
import type { LoginCost, ProbeResult, TrafficTotals } from "../facts.js";
import type { SuiteScore } from "../scoring/score.js";

/**
 * Version 2 (this one) holds any number of targets; version 1 held one
 * target at the top level and is upgraded on reading (src/report/upgrade.ts).
 */
export const REPORT_VERSION = 2;

export interface CheckResult {
  id: string;
  /** "advertisement": judged from the probe; "scenario": a live exchange. */
  kind: "advertisement" | "scenario";
  spec: SpecRef;
  level: Level;
  title: string;
  requirement: string;
  verdict: Verdict;
  advertised: boolean | null;
  works: boolean | null;
  summary: string;
  durationMs: number;
  evidence: Evidence[];
}

export interface SpecSummary {
  advertised: boolean | null;
  works: boolean | null;
  verdict: Verdict;
}

export interface RunError {
  step: string;
  kind: string;
  message: string;
  condition?: string;
}

/** How a target's run ended. */
export type TargetOutcome =
  /** Logged in and judged every selected check. */
  | "completed"
  /** Could not connect or log in: every check is an error saying why (exit 3 for a single target). */
  | "login-failed"
  /** Stopped by SIGINT/SIGTERM: checks not finished are errors saying so. */
  | "interrupted";

/** Everything measured about one server. */
export interface TargetReport {
  /** Unique within a report: the targets file's "name", else the domain. */
  name: string;
  outcome: TargetOutcome;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** How the run was configured; never a password. */
  settings: {
    tls: "starttls" | "direct";
    host?: string;
    port?: number;
    insecure: boolean;
    ca?: string;
    register: boolean;
    timeoutMs: number;
    scenarioTimeoutMs: number;
    concurrency: number;
    scenarios: boolean;
    /** Transport of the main session; scenarios use TCP. */
    transport: "tcp" | "websocket" | "bosh";
    url?: string;
    /** Largest stanza accepted from the server (--max-stanza-size). */
    maxStanzaBytes?: number;
    /** Deepest nesting accepted in a stanza (--max-xml-depth). */
    maxXmlDepth?: number;
    /** disco#items of the domain probed at most (--max-disco-items). */
    maxDiscoItems?: number;
    /** Connections open at once to the server (--max-connections). */
    maxConnections?: number;
    /** Sessions of one account open at once (--max-account-sessions). */
    maxAccountSessions?: number;
    /** The external component tested as, DOMAIN:PORT (--component; never its secret). */
    component?: string;
    suites: string[];
    only: string[];
    skip: string[];
  };
  target: {
    domain: string;
    /** The account the checks ran as (a throw-away one with --register). */
    account: string;
    /** The second account scenarios used, if any. */
    peer?: string;
    /** Where we actually connected. */
    endpoint?: { host: string; port: number };
    software: { name?: string; version?: string; os?: string } | null;
  };
  /** Everything the probe gathered, so a report can be re-judged offline. */
  probe: ProbeResult | null;
  checks: CheckResult[];
  /** Per spec ("XEP-0313"): advertised, works and the combined verdict of its checks. */
  specs: Record<string, SpecSummary>;
  suites: SuiteScore[];
  traffic: TrafficTotals;
  /** What each way of logging in costs on this server (round trips, bytes, time); absent with --no-scenarios. */
  loginCosts?: LoginCost[];
  /** Problems of the run itself (could not connect, log in, clean up). */
  errors: RunError[];
}

/** The outcome of the --require / --baseline gates, when any were given. */
export interface GateSummary {
  met: boolean;
  require: {
    gate: string;
    target: string;
    met: boolean;
    /** Requirements keeping the gate from being met: id, scored status, deciding checks. */
    blocking: { id: string; status: string; checks: { id: string; verdict: string }[] }[];
  }[];
  baseline?: {
    source: string;
    ok: boolean;
    /** "target: check" failing and not accepted. */
    newFailures: string[];
    /** Accepted by the baseline but passing now. */
    fixed: string[];
  };
}

export interface Report {
  reportVersion: typeof REPORT_VERSION;
  tool: { name: "xepcheck"; version: string };
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  run: {
    /** A signal stopped the run: some targets or checks did not finish. */
    interrupted: boolean;
    /** This report holds only slice `index` (1-based) of `count` of the targets (--shard). */
    shard?: { index: number; count: number };
    /** Set by `xepcheck merge`: how many reports were combined. */
    mergedFrom?: number;
    gates?: GateSummary;
  };
  /** In the order of the targets file (or the one target of `xepcheck run JID`). */
  targets: TargetReport[];
}
