/**
 * `xepcheck diff old.json new.json`: what got worse and what got better
 * between two reports, per check, per spec and per suite category x level.
 *
 * Verdicts are ordered best to worst:
 *   pass > warn > na > skip > error > fail
 * (works; works with a SHOULD issue or unadvertised; not offered; could not be
 * tested here; could not tell; advertised but broken). A change down that
 * order is a regression (pass→warn, pass→na, na→fail, skip→error, …), up it an
 * improvement. Suite results: compliant > undetermined > not-compliant.
 * Checks or specs present in only one report are listed, not judged.
 */
import type { Verdict } from "../checks/types.js";
import type { Report, TargetReport } from "../report/types.js";

export { ReportFileError, readReportFile } from "../report/read.js";

export const VERDICT_ORDER: readonly Verdict[] = ["pass", "warn", "na", "skip", "error", "fail"];
export const COMPLIANCE_ORDER = ["compliant", "undetermined", "not-compliant"] as const;

export interface Change {
  /** The target's name (reports are compared target by target). */
  target: string;
  kind: "check" | "spec" | "suite";
  /** Check id, spec ("XEP-0313") or "suite:category:level". */
  id: string;
  old: string;
  new: string;
}

export interface ReportDiff {
  old: { targets: string[]; startedAt: string; version: string };
  new: { targets: string[]; startedAt: string; version: string };
  regressions: Change[];
  improvements: Change[];
  /** In the new report only (a whole target: kind "target", verdict "-"). */
  added: { target: string; kind: "target" | "check" | "spec"; id: string; verdict: string }[];
  /** In the old report only. */
  removed: { target: string; kind: "target" | "check" | "spec"; id: string; verdict: string }[];
}

function compare<T extends string>(order: readonly T[], a: T, b: T): number {
  return order.indexOf(b) - order.indexOf(a); // > 0: b is worse
}

/**
 * Compares two reports target by target (matched by name; a one-target
 * report also matches the other's single target when the names differ, so
 * renaming a server does not hide its history).
 */
export function diffReports(oldReport: Report, newReport: Report): ReportDiff {
  const regressions: Change[] = [];
  const improvements: Change[] = [];
  const added: ReportDiff["added"] = [];
  const removed: ReportDiff["removed"] = [];
  const single = oldReport.targets.length === 1 && newReport.targets.length === 1;
  for (const oldTarget of oldReport.targets) {
    const newTarget = single ? newReport.targets[0] : newReport.targets.find((t) => t.name === oldTarget.name);
    if (!newTarget) removed.push({ target: oldTarget.name, kind: "target", id: oldTarget.name, verdict: "-" });
    else diffTarget(oldTarget, newTarget, { regressions, improvements, added, removed });
  }
  if (!single) {
    for (const t of newReport.targets) {
      if (!oldReport.targets.some((o) => o.name === t.name)) added.push({ target: t.name, kind: "target", id: t.name, verdict: "-" });
    }
  }
  const meta = (r: Report) => ({ targets: r.targets.map((t) => t.name), startedAt: r.startedAt, version: r.tool.version });
  return { old: meta(oldReport), new: meta(newReport), regressions, improvements, added, removed };
}

function diffTarget(
  oldReport: TargetReport,
  newReport: TargetReport,
  out: Pick<ReportDiff, "regressions" | "improvements" | "added" | "removed">,
): void {
  const target = newReport.name;
  const judge = (kind: Change["kind"], id: string, a: string, b: string, order: readonly string[]) => {
    const d = compare(order, a, b);
    if (d > 0) out.regressions.push({ target, kind, id, old: a, new: b });
    else if (d < 0) out.improvements.push({ target, kind, id, old: a, new: b });
  };
  const pairs = (kind: "check" | "spec", oldMap: Map<string, Verdict>, newMap: Map<string, Verdict>) => {
    for (const [id, a] of oldMap) {
      const b = newMap.get(id);
      if (b === undefined) out.removed.push({ target, kind, id, verdict: a });
      else judge(kind, id, a, b, VERDICT_ORDER);
    }
    for (const [id, b] of newMap) if (!oldMap.has(id)) out.added.push({ target, kind, id, verdict: b });
  };

  pairs("check", new Map(oldReport.checks.map((c) => [c.id, c.verdict])), new Map(newReport.checks.map((c) => [c.id, c.verdict])));
  pairs(
    "spec",
    new Map(Object.entries(oldReport.specs).map(([k, v]) => [k, v.verdict])),
    new Map(Object.entries(newReport.specs).map(([k, v]) => [k, v.verdict])),
  );
  for (const oldSuite of oldReport.suites) {
    const newSuite = newReport.suites.find((s) => s.suite === oldSuite.suite);
    if (!newSuite) continue;
    for (const a of oldSuite.results) {
      const b = newSuite.results.find((r) => r.category === a.category && r.level === a.level);
      if (b) judge("suite", `${oldSuite.suite}:${a.category}:${a.level}`, a.status, b.status, COMPLIANCE_ORDER);
    }
  }
}

export function formatDiff(d: ReportDiff): string {
  const lines = [
    `old: ${d.old.targets.join(", ")} at ${d.old.startedAt} (xepcheck ${d.old.version})`,
    `new: ${d.new.targets.join(", ")} at ${d.new.startedAt} (xepcheck ${d.new.version})`,
  ];
  if (d.old.targets.length === 1 && d.new.targets.length === 1 && d.old.targets[0] !== d.new.targets[0]) lines.push(`note: the reports are of different targets`);
  const several = new Set([...d.old.targets, ...d.new.targets]).size > 1 && !(d.old.targets.length === 1 && d.new.targets.length === 1);
  const on = (target: string) => (several ? `${target}: ` : "");
  const section = (title: string, changes: Change[]) => {
    lines.push(`${title}: ${changes.length}`);
    for (const c of changes) lines.push(`  ${c.kind.padEnd(5)} ${(on(c.target) + c.id).padEnd(44)} ${c.old} → ${c.new}`);
  };
  section("regressions", d.regressions);
  section("improvements", d.improvements);
  const item = (a: ReportDiff["added"][number]) => (a.kind === "target" ? `server ${a.id}` : `${on(a.target)}${a.id} (${a.verdict})`);
  if (d.added.length) lines.push(`only in new: ${d.added.map(item).join(", ")}`);
  if (d.removed.length) lines.push(`only in old: ${d.removed.map(item).join(", ")}`);
  return lines.join("\n") + "\n";
}
