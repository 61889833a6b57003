/**
 * Remediation hints (suites/remediation/hints.json, validated against
 * suites/remediation/hints.schema.json when loaded): what to switch on in Prosody,
 * ejabberd, Openfire, Tigase or MongooseIM to offer a spec or pass a check,
 * each with the software's documentation that says so. Data, like the suites.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv } from "ajv";
import { suitesDir } from "../scoring/suite.js";
import type { Verdict } from "../checks/types.js";
import type { CheckResult, SpecSummary } from "./types.js";

export const SOFTWARE = ["prosody", "ejabberd", "openfire", "tigase", "mongooseim"] as const;
export type Software = (typeof SOFTWARE)[number];

export interface Hint {
  text: string;
  /** The software's documentation backing the hint. */
  docs: string;
}

export interface Remediation {
  remediationVersion: 1;
  /** By spec doc ("XEP-0313") or check id ("xep0313.muc-archive"), then by software. */
  hints: Record<string, Partial<Record<Software, Hint>>>;
}

export class RemediationError extends Error {
  override name = "RemediationError";
}

const SOFTWARE_NAMES: Record<Software, string> = {
  prosody: "Prosody",
  ejabberd: "ejabberd",
  openfire: "Openfire",
  tigase: "Tigase",
  mongooseim: "MongooseIM",
};

export function softwareTitle(s: Software): string {
  return SOFTWARE_NAMES[s];
}

/** The software a XEP-0092 name ("Prosody", "ejabberd", "Tigase XMPP Server", "MongooseIM") is, if it is one we have hints for. */
export function softwareOf(name: string | undefined): Software | undefined {
  const n = (name ?? "").toLowerCase();
  return SOFTWARE.find((s) => n.includes(s === "mongooseim" ? "mongoose" : s));
}

/** Validates remediation data; throws RemediationError naming each problem. */
export function parseRemediation(data: unknown, source: string): Remediation {
  const schema = JSON.parse(readFileSync(path.join(suitesDir(), "remediation", "hints.schema.json"), "utf8"));
  const validate = new Ajv({ allErrors: true }).compile(schema);
  if (!validate(data)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || "(top level)"} ${e.message}`).join("; ");
    throw new RemediationError(`remediation hints ${source} are invalid: ${problems}`);
  }
  return data as Remediation;
}

let loaded: Remediation | undefined;

/** The installed hints (suites/remediation/hints.json), loaded once. */
export function loadRemediation(): Remediation {
  if (loaded) return loaded;
  const file = path.join(suitesDir(), "remediation", "hints.json");
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new RemediationError(`cannot read remediation hints ${file}: ${(err as Error).message}`);
  }
  loaded = parseRemediation(data, file);
  return loaded;
}

/** The hints of one key for a software, or for every software when it is not known. */
function pick(entry: Partial<Record<Software, Hint>> | undefined, software: Software | undefined): [Software, Hint][] {
  if (!entry) return [];
  const all = SOFTWARE.filter((s) => entry[s]).map((s): [Software, Hint] => [s, entry[s]!]);
  return software ? all.filter(([s]) => s === software) : all;
}

/** Verdicts a configuration change can answer; skip and error mean "not determined", which a hint would misread. */
const ACTIONABLE = new Set<Verdict>(["fail", "warn", "na"]);

/** A check that failed, warned or found its feature not offered, and was not seen working: the hints keyed by its id. */
export function checkHints(r: Remediation, check: CheckResult, software: Software | undefined): [Software, Hint][] {
  if (!ACTIONABLE.has(check.verdict) || check.works === true) return [];
  return pick(r.hints[check.id], software);
}

/**
 * A spec neither advertised nor seen working that failed, warned or is not
 * offered (its module is probably missing): the hints keyed by the spec.
 * Advertised or working, the module is there and "enable it" would mislead.
 */
export function specHints(r: Remediation, doc: string, summary: SpecSummary | undefined, software: Software | undefined): [Software, Hint][] {
  if (!summary || !ACTIONABLE.has(summary.verdict) || summary.advertised === true || summary.works === true) return [];
  return pick(r.hints[doc], software);
}
