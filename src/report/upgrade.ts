/**
 * Upgrades reports written by older xepcheck versions to the current
 * REPORT_VERSION, so `report`, `diff`, `merge` and baselines read old runs.
 * Each step is a pure function from version n to n + 1.
 */
import { REPORT_VERSION } from "./types.js";

type Json = Record<string, unknown>;

/**
 * Version 1: one server, its fields at the top level. Version 2 moves them
 * into targets[0] (named after the domain), with the outcome the v1 report
 * implied: a failed login left every check an error and a login-step error.
 */
function v1ToV2(v1: Json): Json {
  const { reportVersion: _version, tool, startedAt, finishedAt, durationMs, ...target } = v1;
  const errors = Array.isArray(target.errors) ? (target.errors as Json[]) : [];
  const checks = Array.isArray(target.checks) ? (target.checks as Json[]) : [];
  const loginFailed = target.probe === null && checks.every((c) => c.verdict === "error") && errors.length > 0;
  const domain = (target.target as Json | undefined)?.domain;
  return {
    reportVersion: 2,
    tool,
    startedAt,
    finishedAt,
    durationMs,
    run: { interrupted: false },
    targets: [{ name: typeof domain === "string" ? domain : "unknown", outcome: loginFailed ? "login-failed" : "completed", startedAt, finishedAt, durationMs, ...target }],
  };
}

const STEPS: Record<number, (report: Json) => Json> = { 1: v1ToV2 };

/**
 * Returns `data` upgraded to REPORT_VERSION (unchanged when it is current or
 * not a report at all: validation names what is wrong). Reports newer than
 * this xepcheck are the caller's to refuse.
 */
export function upgradeReport(data: unknown): unknown {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return data;
  let report = data as Json;
  while (typeof report.reportVersion === "number" && report.reportVersion < REPORT_VERSION && STEPS[report.reportVersion]) {
    report = STEPS[report.reportVersion]!(report);
  }
  return report;
}
