/**
 * What a run measured about each spec, in DOAP's terms: complete (every
 * check passes or warns), partial (some do), failing (none works and some
 * fail), not offered (every check says so) or undetermined. A pure function
 * of one target of the report; "could not tell" (error, skip) never counts
 * as failing.
 */
import type { Verdict } from "../checks/types.js";
import type { TargetReport } from "../report/types.js";
import { compareDocs } from "./vocabulary.js";

export type MeasuredStatus = "complete" | "partial" | "failing" | "not-offered" | "undetermined";

export interface MeasuredSpec {
  /** "XEP-0313", "RFC 6120". */
  doc: string;
  /** The spec version the checks were written against ("" for RFCs). */
  version: string;
  status: MeasuredStatus;
  /** Check ids by verdict. */
  checks: Record<Verdict, string[]>;
  total: number;
}

const WORKING: Verdict[] = ["pass", "warn"];

function statusOf(checks: Record<Verdict, string[]>, total: number): MeasuredStatus {
  const working = checks.pass.length + checks.warn.length;
  if (working === total) return "complete";
  if (working > 0) return "partial";
  if (checks.fail.length > 0) return "failing";
  if (checks.na.length === total) return "not-offered";
  return "undetermined";
}

/** One entry per spec with at least one check in the target, RFCs first, then XEPs by number. */
export function measureSpecs(target: TargetReport): MeasuredSpec[] {
  const bySpec = new Map<string, { version: string; checks: Record<Verdict, string[]>; total: number }>();
  for (const c of target.checks) {
    let entry = bySpec.get(c.spec.doc);
    if (!entry) {
      entry = { version: c.spec.version, checks: { pass: [], warn: [], fail: [], na: [], skip: [], error: [] }, total: 0 };
      bySpec.set(c.spec.doc, entry);
    }
    if (!entry.version) entry.version = c.spec.version;
    entry.checks[c.verdict].push(c.id);
    entry.total++;
  }
  return [...bySpec.entries()]
    .sort(([a], [b]) => compareDocs(a, b))
    .map(([doc, e]) => ({ doc, version: e.version, status: statusOf(e.checks, e.total), checks: e.checks, total: e.total }));
}

export function workingCount(spec: MeasuredSpec): number {
  return WORKING.reduce((n, v) => n + spec.checks[v].length, 0);
}

/** "3 of 4 checks pass; failing: xep0359.forged-stanza-id-removed". */
export function describeMeasurement(spec: MeasuredSpec): string {
  const warned = spec.checks.warn.length ? ` (${spec.checks.warn.length} with a warning)` : "";
  const parts = [`${workingCount(spec)} of ${spec.total} check${spec.total === 1 ? "" : "s"} pass${warned}`];
  const named: [string, string[]][] = [
    ["failing", spec.checks.fail],
    ["not offered", spec.checks.na],
    ["not determined", [...spec.checks.skip, ...spec.checks.error]],
  ];
  for (const [label, ids] of named) if (ids.length) parts.push(`${label}: ${ids.join(", ")}`);
  return parts.join("; ");
}
