/**
 * The gates as the command line uses them: validated before a run starts
 * (bad input is a usage error, exit 2), applied after the report is built.
 */
import type { Report } from "../report/types.js";
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

export function applyGates(report: Report, g: PreparedGates): GateOutcome {
  const gates = g.require.map((r) => evaluateRequireGate(report, r, g.baseline));
  const baseline = g.baseline ? evaluateBaseline(report, g.baseline) : undefined;
  const met = gates.every((r) => r.met) && (baseline?.ok ?? true);
  let text = formatGateResults(gates) + (baseline ? formatBaselineResult(baseline) : "");
  if (gatesActive(g)) text += met ? "gates: all met\n" : "gates: NOT MET (exit 1)\n";
  return { met, gates, ...(baseline ? { baseline } : {}), text };
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
