/** Combines the verdicts of one spec's checks into the spec's summary. */
import { VERDICTS, type Verdict } from "../checks/types.js";
import type { CheckResult, SpecSummary, TargetReport } from "./types.js";

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

/** How many checks got each verdict. */
export function verdictCounts(checks: CheckResult[]): Record<Verdict, number> {
  const out = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const c of checks) out[c.verdict]++;
  return out;
}

/** "Prosody 13.0.1", or "unknown software" when the server did not say (XEP-0092). */
export function softwareName(t: TargetReport["target"]): string {
  const s = t.software;
  return s?.name ? [s.name, s.version].filter(Boolean).join(" ") : "unknown software";
}
