/**
 * --require gates: "suite:category:level" (e.g. cs2023:im:advanced), checked
 * against the suite results in a report. Pure functions of the report JSON
 * and the suite data; nothing here runs a check.
 */
import { GateInputError } from "./errors.js";
import type { TargetReport } from "../report/types.js";
import type { Suite } from "../scoring/suite.js";
import type { Baseline } from "./baseline.js";
import { acceptingEntry } from "./baseline.js";

export class GateUsageError extends GateInputError {
  override name = "GateUsageError";
}

export interface RequireGate {
  /** As given: "cs2023:im:advanced". */
  text: string;
  suite: string;
  category: string;
  level: string;
}

/**
 * Parses and validates one --require value against the suite data.
 * loadSuite throws for an unknown suite; its message is kept, prefixed with the gate.
 */
export function parseRequireGate(text: string, loadSuite: (id: string) => Suite): RequireGate {
  const parts = text.split(":").map((p) => p.trim());
  if (parts.length !== 3 || parts.some((p) => p === "")) {
    throw new GateUsageError(`--require "${text}" is not suite:category:level (e.g. cs2023:im:advanced)`);
  }
  const [suiteId, category, level] = parts as [string, string, string];
  let suite: Suite;
  try {
    suite = loadSuite(suiteId);
  } catch (err) {
    throw new GateUsageError(`--require "${text}": ${(err as Error).message}`);
  }
  if (!suite.categories.some((c) => c.id === category)) {
    throw new GateUsageError(
      `--require "${text}": suite ${suite.id} has no category "${category}" (categories: ${suite.categories.map((c) => c.id).join(", ")})`,
    );
  }
  if (!suite.levels.some((l) => l.id === level)) {
    throw new GateUsageError(`--require "${text}": suite ${suite.id} has no level "${level}" (levels: ${suite.levels.map((l) => l.id).join(", ")})`);
  }
  return { text, suite: suite.id, category, level };
}

/** A requirement that keeps a gate from being met, with the checks that decided it. */
export interface GateRequirement {
  id: string;
  feature: string;
  /** failed / not-offered / undetermined, as scored. */
  status: string;
  /** The checks (of the specs not met) that are not pass/warn. */
  checks: { id: string; verdict: string }[];
  /** Every one of those checks is accepted by the baseline. */
  accepted: boolean;
}

export interface GateResult {
  gate: RequireGate;
  /** The target's name: a gate holds for every target of a report. */
  target: string;
  /** met: compliant (or everything in the way is accepted by the baseline). */
  met: boolean;
  /** compliant / not-compliant / undetermined as the report scored it; "not-scored" when the report lacks the suite. */
  status: "compliant" | "not-compliant" | "undetermined" | "not-scored";
  failing: GateRequirement[];
  undetermined: GateRequirement[];
}

export function evaluateRequireGate(report: TargetReport, gate: RequireGate, baseline?: Baseline): GateResult {
  const target = report.name;
  const suite = report.suites.find((s) => s.suite === gate.suite);
  const result = suite?.results.find((r) => r.category === gate.category && r.level === gate.level);
  if (!suite || !result) return { gate, target, met: false, status: "not-scored", failing: [], undetermined: [] };
  const describe = (id: string): GateRequirement => {
    const req = suite.requirements.find((r) => r.id === id);
    const checks = (req?.specs ?? [])
      .filter((s) => s.status !== "met")
      .flatMap((s) => s.checks)
      .filter((c) => c.verdict !== "pass" && c.verdict !== "warn");
    const accepted = baseline !== undefined && checks.length > 0 && checks.every((c) => acceptingEntry(baseline, c, target) !== undefined);
    return { id, feature: req?.feature ?? id, status: req?.status ?? "undetermined", checks, accepted };
  };
  const failing = result.failing.map(describe);
  const undetermined = result.undetermined.map(describe);
  const met = [...failing, ...undetermined].every((r) => r.accepted);
  return { gate, target, met, status: result.status, failing, undetermined };
}

function requirementLine(r: GateRequirement): string {
  const checks = r.checks.length
    ? `: ${r.checks.map((c) => `${c.id} ${c.verdict}`).join(", ")}`
    : r.status === "undetermined" ? ": no check of it ran" : "";
  return `${r.id} (${r.status}${r.accepted ? ", accepted by baseline" : ""})${checks}`;
}

/** Plain text, one block per gate (and target, when there are several). */
export function formatGateResults(results: GateResult[]): string {
  const lines: string[] = [];
  const several = new Set(results.map((r) => r.target)).size > 1;
  for (const r of results) {
    const gate = `gate ${r.gate.text}${several ? ` on ${r.target}` : ""}`;
    if (r.status === "not-scored") {
      lines.push(`${gate}: NOT MET: the report has no score for suite ${r.gate.suite} ${r.gate.category} ${r.gate.level}`);
      continue;
    }
    const accepted = [...r.failing, ...r.undetermined].filter((x) => x.accepted).length;
    if (r.met) {
      lines.push(`${gate}: met${accepted ? ` (${accepted} requirement(s) not met but accepted by the baseline)` : ""}`);
    } else {
      lines.push(`${gate}: NOT MET (${r.status})`);
    }
    for (const f of r.failing) lines.push(`  failing: ${requirementLine(f)}`);
    for (const u of r.undetermined) lines.push(`  undetermined: ${requirementLine(u)}`);
  }
  return lines.join("\n") + (lines.length ? "\n" : "");
}
