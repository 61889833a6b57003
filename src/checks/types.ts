/**
 * The vocabulary of judging: a check is data (id, spec, level, requirement)
 * plus one function from gathered facts to a verdict with evidence.
 */
import type { ProbeResult } from "../probe/probe.js";
import type { Scenario } from "../scenario/scenario.js";
import type { TranscriptEntry } from "../session/transcript.js";
import type { LoginFlavour } from "../probe/login-cost.js";

/**
 * pass: requirement met. warn: a SHOULD not met, or works but not advertised.
 * fail: a MUST violated. na: not offered. skip: could not be tested here (reason given).
 * error: harness, network or timeout: we could not tell.
 */
export const VERDICTS = ["pass", "warn", "fail", "na", "skip", "error"] as const;
export type Verdict = (typeof VERDICTS)[number];

export type Level = "MUST" | "SHOULD" | "MAY" | "INFO";

export interface SpecRef {
  /** "XEP-0313", "RFC 6120". */
  doc: string;
  version: string;
  section: string;
  url: string;
}

/** Where and how a feature was (or was not) advertised. */
export interface AdvertisementEvidence {
  type: "advertisement";
  /** What was looked for: a disco feature var, or a stream feature as <name xmlns='…'/>. */
  looked: string;
  /** Places that advertise it ("disco#info of example.org", "stream features after-auth"). */
  foundAt: string[];
  /** Every place that was searched. */
  searched: string[];
}

export type Evidence =
  | AdvertisementEvidence
  | { type: "transcript"; title?: string; entries: TranscriptEntry[] }
  | { type: "expectedActual"; expected: string; actual: string }
  | { type: "table"; title?: string; columns: string[]; rows: string[][] }
  | { type: "note"; text: string };

export interface CheckOutcome {
  verdict: Verdict;
  /** Does the server say it offers this (disco / stream features)? null: not applicable. */
  advertised: boolean | null;
  /** Did a live exchange prove it works? null: not tested (yet). */
  works: boolean | null;
  /** One sentence: why this verdict. */
  summary: string;
  evidence: Evidence[];
}

/** What the runner must provide before a check can run: the main account, a second one. */
export type Need = "account" | "peer";

/** Facts the runner hands to checks. */
export interface CheckContext {
  domain: string;
  probe: ProbeResult;
  /** How the main session connected: "starttls" or "direct" (XEP-0368). */
  tlsMode: "starttls" | "direct";
}

interface CheckMeta {
  /** Stable forever, never a position: "xep0313.archive-query". */
  id: string;
  spec: SpecRef;
  level: Level;
  /** Verbatim sentence from the spec. */
  requirement: string;
  title: string;
  needs: Need[];
  /** Rows of suites/rfc/rfc6120-6121-server-requirements.csv this check tests ("6120/4.7.3#4"). */
  covers?: string[];
}

/** Judges the probe alone: what the server advertises. */
export interface CheckDefinition extends CheckMeta {
  kind: "advertisement";
  run(ctx: CheckContext): CheckOutcome | Promise<CheckOutcome>;
}

/**
 * Proves a feature works with a live exchange. `run` throws (a failed
 * expectation, an unexpected error reply) when it does not; the runner
 * combines that with `advertised` into the verdict.
 */
export interface ScenarioDefinition extends CheckMeta {
  kind: "scenario";
  /** Run alone, not alongside other scenarios (it blocks a contact, goes offline, …). */
  exclusive?: boolean;
  /**
   * State of the accounts this scenario changes and other scenarios naming
   * the same state depend on ("roster": the account's roster and its
   * subscriptions with the peer; "profile": the vCard and the avatar nodes;
   * "bookmarks": both bookmark stores). Such scenarios run one after
   * another, but alongside the scenarios that leave that state alone.
   */
  serialized?: "roster" | "profile" | "bookmarks";
  /**
   * The most connections this scenario holds at once, its cleanups' logins
   * included (default 2, what most hold). The connection limit plans with
   * it: a scenario that asks for more still gets them, but may wait longer.
   */
  connections?: number;
  /**
   * Rows of the login-cost table that this scenario's own logins measure
   * (Scenario.loginCost): the table does not log in again for them.
   */
  measuresLogin?: LoginFlavour[];
  /** Does the server advertise what this exercises? null: nothing can advertise it. */
  advertised(ctx: CheckContext): boolean | null;
  run(s: Scenario): Promise<void>;
}

export type Check = CheckDefinition | ScenarioDefinition;

const ID = /^[a-z0-9]+(\.[a-z0-9-]+)+$/;

function checkId(id: string): void {
  if (!ID.test(id)) throw new Error(`check id "${id}" must look like "xep0313.archive-query"`);
}

export function defineCheck(check: Omit<CheckDefinition, "kind">): CheckDefinition {
  checkId(check.id);
  return { ...check, kind: "advertisement" };
}

export function defineScenario(scenario: Omit<ScenarioDefinition, "kind">): ScenarioDefinition {
  checkId(scenario.id);
  return { ...scenario, kind: "scenario" };
}
