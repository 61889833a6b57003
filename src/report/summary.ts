/** Combines the verdicts of one spec's checks into the spec's summary. */
import type { Verdict } from "../checks/types.js";
import type { CheckResult, SpecSummary } from "./types.js";

function anyOf(values: (boolean | null)[]): boolean | null {
  const known = values.filter((v): v is boolean => v !== null);
  if (known.length === 0) return null;
  return known.some(Boolean);
}

export function combineVerdicts(verdicts: Verdict[]): Verdict {
  const has = (v: Verdict) => verdicts.includes(v);
  if (has("fail")) return "fail";
  if (has("error")) return "error";
  if (has("warn")) return "warn";
  if (has("pass")) return "pass";
  // A determined "not offered" says more than "could not determine".
  if (has("na")) return "na";
  return "skip";
}

export function summarizeSpecs(checks: CheckResult[]): Record<string, SpecSummary> {
  const bySpec = new Map<string, CheckResult[]>();
  for (const c of checks) bySpec.set(c.spec.doc, [...(bySpec.get(c.spec.doc) ?? []), c]);
  return Object.fromEntries(
    [...bySpec.entries()].map(([doc, list]) => [
      doc,
      {
        advertised: anyOf(list.map((c) => c.advertised)),
        works: anyOf(list.map((c) => c.works)),
        verdict: combineVerdicts(list.map((c) => c.verdict)),
      },
    ]),
  );
}
