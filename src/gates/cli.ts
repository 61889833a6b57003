/**
 * The gates as the command line uses them: validated before a run starts
 * (bad input is a usage error, exit 2), applied after the report is built.
 */
import type { GateSummary, Report } from "../report/types.js";
import { loadSuite } from "../scoring/suite.js";
import { evaluateBaseline, formatBaselineResult, loadBaseline, type Baseline, type BaselineResult } from "./baseline.js";
import { diffReports, formatDiff, readReportFile, type ReportDiff } from "./diff.js";
import { evaluateRequireGate, formatGateResults, parseRequireGate, type GateResult, type RequireGate } from "./require.js";

export { GateInputError } from "./errors.js";

export interface PreparedGates {
  require: RequireGate[];
  baseline?: Baseline;
}

/** Validates --require values against the suites and loads --baseline; throws GateInputError. */
export function prepareGates(require: string[], baselineFile?: string): PreparedGates {
  return {
    require: require.map((r) => parseRequireGate(r, loadSuite)),
    ...(baselineFile ? { baseline: loadBaseline(baselineFile) } : {}),
  };
}

export function gatesActive(g: PreparedGates): boolean {
  return g.require.length > 0 || g.baseline !== undefined;
}

export interface GateOutcome {
  /** Every --require gate met and no new failure against the baseline. */
  met: boolean;
  gates: GateResult[];
  baseline?: BaselineResult;
  text: string;
}

/** Every --require gate must hold for every target; the baseline covers them all. */
export function applyGates(report: Report, g: PreparedGates): GateOutcome {
  const gates = g.require.flatMap((r) => report.targets.map((t) => evaluateRequireGate(t, r, g.baseline)));
  const baseline = g.baseline ? evaluateBaseline(report, g.baseline) : undefined;
  const met = gates.every((r) => r.met) && (baseline?.ok ?? true);
  let text = formatGateResults(gates) + (baseline ? formatBaselineResult(baseline) : "");
  if (gatesActive(g)) text += met ? "gates: all met\n" : "gates: NOT MET (exit 1)\n";
  return { met, gates, ...(baseline ? { baseline } : {}), text };
}

/** What the report JSON (and so every reporter) records of the gates. */
export function gateSummary(outcome: GateOutcome): GateSummary {
  const b = outcome.baseline;
  const severalTargets = new Set([...(b?.newFailures ?? []), ...(b?.fixed.flatMap((f) => f.now) ?? [])].map((x) => x.target)).size > 1;
  const name = (x: { target: string; id: string }) => (severalTargets ? `${x.target}: ${x.id}` : x.id);
  return {
    met: outcome.met,
    require: outcome.gates.map((r) => ({
      gate: r.gate.text,
      target: r.target,
      met: r.met,
      blocking: [...r.failing, ...r.undetermined]
        .filter((x) => !x.accepted)
        .map((x) => ({ id: x.id, status: x.status, checks: x.checks.map((c) => ({ id: c.id, verdict: c.verdict })) })),
    })),
    ...(b
      ? { baseline: { source: b.source, ok: b.ok, newFailures: b.newFailures.map(name), fixed: b.fixed.flatMap((f) => f.now.map(name)) } }
      : {}),
  };
}

export interface DiffOutcome {
  diff: ReportDiff;
  regressed: boolean;
  text: string;
}

/** Reads, validates and compares two report files; throws GateInputError on bad input. */
export function diffFiles(oldFile: string, newFile: string): DiffOutcome {
  const diff = diffReports(readReportFile(oldFile), readReportFile(newFile));
  return { diff, regressed: diff.regressions.length > 0, text: formatDiff(diff) };
}
