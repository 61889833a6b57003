/**
 * The vocabulary of judging: a check is data (id, spec, level, requirement)
 * plus one function from gathered facts to a verdict with evidence.
 */
import type { ProbeResult } from "../probe/probe.js";
import type { TranscriptEntry } from "../session/transcript.js";

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

/** What the runner must provide before a check can run. */
export type Need = "account";

/** Facts the runner hands to checks. */
export interface CheckContext {
  domain: string;
  probe: ProbeResult;
  /** How the main session connected: "starttls" or "direct" (XEP-0368). */
  tlsMode: "starttls" | "direct";
}

export interface CheckDefinition {
  /** Stable forever, never a position: "xep0313.advertised". */
  id: string;
  spec: SpecRef;
  level: Level;
  /** Verbatim sentence from the spec. */
  requirement: string;
  title: string;
  needs: Need[];
  run(ctx: CheckContext): CheckOutcome | Promise<CheckOutcome>;
}

export function defineCheck(check: CheckDefinition): CheckDefinition {
  if (!/^[a-z0-9]+(\.[a-z0-9-]+)+$/.test(check.id)) {
    throw new Error(`check id "${check.id}" must look like "xep0313.archive-query"`);
  }
  return check;
}
