/**
 * Scores check results against a suite: for each category x level, compliant
 * or not, which requirements fail and which could not be determined.
 * Pure function of the results; the suite is data.
 */
import type { Verdict } from "../checks/types.js";
import { matchesAny } from "./glob.js";
import type { Suite, SuiteRequirement, SuiteSpec } from "./suite.js";

/** What scoring needs of a check result. */
export interface ScoredResult {
  id: string;
  verdict: Verdict;
  /** Where a live scenario exists for a spec, its verdicts decide, not the advertisement's. */
  kind?: "advertisement" | "scenario";
}

/**
 * met: proven. failed: a check failed. not-offered: the spec is not offered
 * (all its checks say na). undetermined: skipped, errored, or not run.
 */
export type RequirementStatus = "met" | "failed" | "not-offered" | "undetermined";

export interface SpecScore {
  spec: string;
  status: RequirementStatus;
  /** The check results that decided it. */
  checks: { id: string; verdict: Verdict }[];
}

export interface RequirementScore {
  id: string;
  category: string;
  feature: string;
  status: RequirementStatus;
  specs: SpecScore[];
}

export type ComplianceStatus = "compliant" | "not-compliant" | "undetermined";

export interface CategoryLevelScore {
  category: string;
  level: string;
  status: ComplianceStatus;
  compliant: boolean;
  /** Requirement ids not met (failed or not offered), including those of required categories. */
  failing: string[];
  /** Requirement ids that could not be determined; they keep the category from being compliant. */
  undetermined: string[];
  /** Categories this one requires (XEP-0479: Core), at the same level. */
  requires: string[];
}

export interface SuiteScore {
  suite: string;
  title: string;
  requirements: RequirementScore[];
  results: CategoryLevelScore[];
}

function scoreSpec(spec: SuiteSpec, results: ScoredResult[]): SpecScore {
  const matched = results.filter((r) => matchesAny(r.id, spec.checks));
  const live = matched.filter((r) => r.kind === "scenario");
  const checks = (live.length ? live : matched).map(({ id, verdict }) => ({ id, verdict }));
  const has = (v: Verdict) => checks.some((c) => c.verdict === v);
  let status: RequirementStatus;
  if (checks.length === 0) status = "undetermined";
  else if (has("fail")) status = "failed";
  else if (has("na")) status = "not-offered";
  else if (has("error") || has("skip")) status = "undetermined";
  else status = "met";
  return { spec: spec.spec, status, checks };
}

const ALL_ORDER: RequirementStatus[] = ["failed", "not-offered", "undetermined", "met"];
const ANY_ORDER: RequirementStatus[] = ["met", "undetermined", "failed", "not-offered"];

export function scoreRequirement(req: SuiteRequirement, results: ScoredResult[]): RequirementScore {
  const specs = req.specs.map((s) => scoreSpec(s, results));
  const order = req.rule === "all" ? ALL_ORDER : ANY_ORDER;
  const status = order.find((o) => specs.some((s) => s.status === o)) ?? "undetermined";
  return { id: req.id, category: req.category, feature: req.feature, status, specs };
}

export function scoreSuite(suite: Suite, results: ScoredResult[]): SuiteScore {
  const requirements = suite.requirements.map((r) => scoreRequirement(r, results));
  const own = (category: string, level: string) =>
    requirements.filter((r, i) => r.category === category && suite.requirements[i]!.levels.includes(level));

  const scores: CategoryLevelScore[] = [];
  for (const category of suite.categories) {
    for (const level of suite.levels) {
      const requires = category.requires ?? [];
      const applicable = [category.id, ...requires].flatMap((c) => own(c, level.id));
      const failing = applicable.filter((r) => r.status === "failed" || r.status === "not-offered").map((r) => r.id);
      const undetermined = applicable.filter((r) => r.status === "undetermined").map((r) => r.id);
      const status: ComplianceStatus = failing.length ? "not-compliant" : undetermined.length ? "undetermined" : "compliant";
      scores.push({
        category: category.id,
        level: level.id,
        status,
        compliant: status === "compliant",
        failing,
        undetermined,
        requires,
      });
    }
  }
  return { suite: suite.id, title: suite.title, requirements, results: scores };
}
