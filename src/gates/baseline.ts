/**
 * Baselines: accepted failures. A baseline is either a small JSON file
 * (reports/baseline.schema.json):
 *
 *   { "baselineVersion": 1,
 *     "accept": [ { "check": "xep0359.forged-stanza-id-removed", "verdict": "fail", "reason": "prosody#1234" } ] }
 *
 * or a previous report, whose fail/error/na/skip checks are all accepted
 * (each for its own target). An entry with "target" applies to that target
 * of a many-server report only.
 * Failures (verdict fail or error) not accepted are new and fail the run;
 * accepted entries whose checks now pass or warn are reported as fixed.
 * Pure functions of the report JSON, apart from loadBaseline reading the file.
 */
import { GateInputError } from "./errors.js";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv } from "ajv";
import type { Verdict } from "../checks/types.js";
import { projectRoot } from "../paths.js";
import { reportProblems } from "../report/schema.js";
import type { Report, TargetReport } from "../report/types.js";
import { upgradeReport } from "../report/upgrade.js";
import { globToRegExp } from "../scoring/glob.js";

/** Verdicts that fail a run with --baseline unless accepted. */
export const FAILING_VERDICTS: readonly Verdict[] = ["fail", "error"];
/** Verdicts a baseline entry may accept (na/skip matter to --require gates). */
export const ACCEPTABLE_VERDICTS: readonly Verdict[] = ["fail", "error", "na", "skip"];

export interface BaselineEntry {
  check: string;
  /** A target's name; without it, the entry applies to every target. */
  target?: string;
  verdict?: "fail" | "error" | "na" | "skip";
  reason: string;
}

export interface Baseline {
  /** Where it came from, for messages. */
  source: string;
  entries: BaselineEntry[];
}

export class BaselineError extends GateInputError {
  override name = "BaselineError";
}

let validator: ReturnType<Ajv["compile"]> | undefined;

function baselineProblems(data: unknown): string[] {
  if (!validator) {
    const schema = JSON.parse(readFileSync(path.join(projectRoot(), "reports", "baseline.schema.json"), "utf8"));
    validator = new Ajv({ allErrors: true }).compile(schema);
  }
  if (validator(data)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || "(top level)"} ${e.message}`);
}

/** A baseline made of a previous report: everything not pass/warn in it is accepted. */
export function baselineFromReport(report: Report, source: string): Baseline {
  return {
    source,
    entries: report.targets.flatMap((t) =>
      t.checks
        .filter((c) => (ACCEPTABLE_VERDICTS as Verdict[]).includes(c.verdict))
        .map((c) => ({ check: c.id, target: t.name, verdict: c.verdict as BaselineEntry["verdict"], reason: `${c.verdict} in the report of ${report.startedAt}` })),
    ),
  };
}

/** Validates parsed JSON as a baseline file or a report; throws BaselineError naming the problem. */
export function parseBaseline(data: unknown, source: string): Baseline {
  if (data !== null && typeof data === "object" && "reportVersion" in data) {
    data = upgradeReport(data);
    const problems = reportProblems(data);
    if (problems.length) throw new BaselineError(`baseline ${source} is a report but not a valid one: ${problems.slice(0, 5).join("; ")}`);
    return baselineFromReport(data as Report, source);
  }
  const problems = baselineProblems(data);
  if (problems.length) throw new BaselineError(`baseline ${source} is invalid: ${problems.slice(0, 5).join("; ")}`);
  return { source, entries: (data as { accept: BaselineEntry[] }).accept };
}

export function loadBaseline(file: string): Baseline {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new BaselineError(`cannot read baseline ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new BaselineError(`baseline ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseBaseline(data, file);
}

function idMatches(entry: BaselineEntry, id: string, target: string): boolean {
  if (entry.target !== undefined && entry.target !== target) return false;
  return entry.check.includes("*") ? globToRegExp(entry.check).test(id) : entry.check === id;
}

/** The entry accepting this check result of `target`, if any. */
export function acceptingEntry(baseline: Baseline, check: { id: string; verdict: Verdict }, target: string): BaselineEntry | undefined {
  if (!(ACCEPTABLE_VERDICTS as Verdict[]).includes(check.verdict)) return undefined;
  return baseline.entries.find((e) => idMatches(e, check.id, target) && (e.verdict === undefined || e.verdict === check.verdict));
}

export interface BaselineResult {
  source: string;
  /** fail/error checks no entry accepts: they fail the run. */
  newFailures: { target: string; id: string; verdict: Verdict; summary: string }[];
  /** fail/error checks an entry accepts. */
  accepted: { target: string; id: string; verdict: Verdict; reason: string }[];
  /** Entries whose checks all pass or warn now. */
  fixed: { entry: BaselineEntry; now: { target: string; id: string; verdict: Verdict }[] }[];
  /** Entries matching no check of this run (not run, or renamed). */
  notRun: BaselineEntry[];
  /** No new failure. */
  ok: boolean;
}

export function evaluateBaseline(report: Report, baseline: Baseline): BaselineResult {
  const newFailures: BaselineResult["newFailures"] = [];
  const accepted: BaselineResult["accepted"] = [];
  const all = report.targets.flatMap((t: TargetReport) => t.checks.map((c) => ({ target: t.name, check: c })));
  for (const { target, check: c } of all) {
    if (!(FAILING_VERDICTS as Verdict[]).includes(c.verdict)) continue;
    const entry = acceptingEntry(baseline, c, target);
    if (entry) accepted.push({ target, id: c.id, verdict: c.verdict, reason: entry.reason });
    else newFailures.push({ target, id: c.id, verdict: c.verdict, summary: c.summary });
  }
  const fixed: BaselineResult["fixed"] = [];
  const notRun: BaselineEntry[] = [];
  for (const entry of baseline.entries) {
    const matching = all.filter(({ target, check }) => idMatches(entry, check.id, target));
    if (matching.length === 0) notRun.push(entry);
    else if (matching.every(({ check }) => check.verdict === "pass" || check.verdict === "warn")) {
      fixed.push({ entry, now: matching.map(({ target, check }) => ({ target, id: check.id, verdict: check.verdict })) });
    }
  }
  return { source: baseline.source, newFailures, accepted, fixed, notRun, ok: newFailures.length === 0 };
}

export function formatBaselineResult(r: BaselineResult): string {
  const targets = new Set([...r.newFailures, ...r.accepted, ...r.fixed.flatMap((f) => f.now)].map((x) => x.target));
  const several = targets.size > 1;
  const lines = [
    `baseline ${r.source}: ${r.ok ? "no new failure" : `${r.newFailures.length} NEW FAILURE(S)`}; ${r.accepted.length} accepted, ${r.fixed.length} fixed`,
  ];
  const on = (target: string) => (several ? ` on ${target}` : "");
  for (const f of r.newFailures) lines.push(`  new ${f.verdict}: ${f.id}${on(f.target)}: ${f.summary}`);
  for (const a of r.accepted) lines.push(`  accepted ${a.verdict}: ${a.id}${on(a.target)} (${a.reason})`);
  for (const f of r.fixed) {
    lines.push(`  fixed: ${f.entry.check}${f.entry.target ? ` on ${f.entry.target}` : ""} now ${f.now.map((n) => `${n.id}${on(n.target)} ${n.verdict}`).join(", ")}: remove it from the baseline`);
  }
  for (const e of r.notRun) lines.push(`  not in this run: ${e.check}${e.target ? ` on ${e.target}` : ""}`);
  return lines.join("\n") + "\n";
}
