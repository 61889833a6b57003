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
import type { Report } from "../report/types.js";

export { ReportFileError, readReportFile } from "../report/read.js";

export const VERDICT_ORDER: readonly Verdict[] = ["pass", "warn", "na", "skip", "error", "fail"];
export const COMPLIANCE_ORDER = ["compliant", "undetermined", "not-compliant"] as const;

export interface Change {
  kind: "check" | "spec" | "suite";
  /** Check id, spec ("XEP-0313") or "suite:category:level". */
  id: string;
  old: string;
  new: string;
}

export interface ReportDiff {
  old: { domain: string; startedAt: string; version: string };
  new: { domain: string; startedAt: string; version: string };
  regressions: Change[];
  improvements: Change[];
  /** In the new report only. */
  added: { kind: "check" | "spec"; id: string; verdict: string }[];
  /** In the old report only. */
  removed: { kind: "check" | "spec"; id: string; verdict: string }[];
}

function compare<T extends string>(order: readonly T[], a: T, b: T): number {
  return order.indexOf(b) - order.indexOf(a); // > 0: b is worse
}

export function diffReports(oldReport: Report, newReport: Report): ReportDiff {
  const regressions: Change[] = [];
  const improvements: Change[] = [];
  const added: ReportDiff["added"] = [];
  const removed: ReportDiff["removed"] = [];

  const judge = (kind: Change["kind"], id: string, a: string, b: string, order: readonly string[]) => {
    const d = compare(order, a, b);
    if (d > 0) regressions.push({ kind, id, old: a, new: b });
    else if (d < 0) improvements.push({ kind, id, old: a, new: b });
  };
  const pairs = (kind: "check" | "spec", oldMap: Map<string, Verdict>, newMap: Map<string, Verdict>) => {
    for (const [id, a] of oldMap) {
      const b = newMap.get(id);
      if (b === undefined) removed.push({ kind, id, verdict: a });
      else judge(kind, id, a, b, VERDICT_ORDER);
    }
    for (const [id, b] of newMap) if (!oldMap.has(id)) added.push({ kind, id, verdict: b });
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
  const meta = (r: Report) => ({ domain: r.target.domain, startedAt: r.startedAt, version: r.tool.version });
  return { old: meta(oldReport), new: meta(newReport), regressions, improvements, added, removed };
}

export function formatDiff(d: ReportDiff): string {
  const lines = [`old: ${d.old.domain} at ${d.old.startedAt} (xepcheck ${d.old.version})`, `new: ${d.new.domain} at ${d.new.startedAt} (xepcheck ${d.new.version})`];
  if (d.old.domain !== d.new.domain) lines.push(`note: the reports are of different domains`);
  const section = (title: string, changes: Change[]) => {
    lines.push(`${title}: ${changes.length}`);
    for (const c of changes) lines.push(`  ${c.kind.padEnd(5)} ${c.id.padEnd(44)} ${c.old} → ${c.new}`);
  };
  section("regressions", d.regressions);
  section("improvements", d.improvements);
  if (d.added.length) lines.push(`only in new: ${d.added.map((a) => `${a.id} (${a.verdict})`).join(", ")}`);
  if (d.removed.length) lines.push(`only in old: ${d.removed.map((a) => `${a.id} (${a.verdict})`).join(", ")}`);
  return lines.join("\n") + "\n";
}
