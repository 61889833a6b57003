/**
 * Compliance suites are data (suites/*.json), validated against
 * suites/suite.schema.json when loaded: a broken file is a clear error.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { Ajv } from "ajv";
import { projectRoot } from "../paths.js";

export interface SuiteSpec {
  spec: string;
  name?: string;
  checks: string[];
}

export interface SuiteRequirement {
  id: string;
  category: string;
  feature: string;
  levels: string[];
  rule: "all" | "any";
  component?: boolean;
  note?: string;
  specs: SuiteSpec[];
}

export interface Suite {
  id: string;
  title: string;
  spec: { doc: string; version: string; url: string };
  role: "server" | "client";
  levels: { id: string; title: string }[];
  categories: { id: string; title: string; url?: string; requires?: string[] }[];
  requirements: SuiteRequirement[];
}

export class SuiteError extends Error {
  override name = "SuiteError";
}

export function suitesDir(): string {
  return path.join(projectRoot(), "suites");
}

let validator: ReturnType<Ajv["compile"]> | undefined;

function validate(data: unknown, source: string): Suite {
  if (!validator) {
    const schema = JSON.parse(readFileSync(path.join(suitesDir(), "suite.schema.json"), "utf8"));
    validator = new Ajv({ allErrors: true }).compile(schema);
  }
  if (!validator(data)) {
    const problems = (validator.errors ?? [])
      .map((e) => `${e.instancePath || "(top level)"} ${e.message}`)
      .join("; ");
    throw new SuiteError(`suite ${source} is invalid: ${problems}`);
  }
  const suite = data as Suite;
  // What a schema cannot say: references must point at declared ids.
  const levels = new Set(suite.levels.map((l) => l.id));
  const categories = new Set(suite.categories.map((c) => c.id));
  const problems: string[] = [];
  for (const c of suite.categories) {
    for (const r of c.requires ?? []) if (!categories.has(r)) problems.push(`category ${c.id} requires unknown category ${r}`);
  }
  const ids = new Set<string>();
  for (const r of suite.requirements) {
    if (ids.has(r.id)) problems.push(`requirement id ${r.id} is used twice`);
    ids.add(r.id);
    if (!categories.has(r.category)) problems.push(`requirement ${r.id} names unknown category ${r.category}`);
    for (const l of r.levels) if (!levels.has(l)) problems.push(`requirement ${r.id} names unknown level ${l}`);
  }
  if (problems.length) throw new SuiteError(`suite ${source} is invalid: ${problems.join("; ")}`);
  return suite;
}

export function parseSuite(text: string, source: string): Suite {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new SuiteError(`suite ${source} is not valid JSON: ${(err as Error).message}`);
  }
  return validate(data, source);
}

/** Loads a suite by id (a file in suites/) or by path to a JSON file. */
export function loadSuite(idOrPath: string): Suite {
  const file = idOrPath.endsWith(".json") ? idOrPath : path.join(suitesDir(), `${idOrPath}.json`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new SuiteError(`unknown suite "${idOrPath}": available: ${listSuiteIds().join(", ")}`);
  }
  return parseSuite(text, file);
}

export function listSuiteIds(): string[] {
  return readdirSync(suitesDir())
    .filter((f) => f.endsWith(".json") && !f.includes("schema") && !f.includes(".source."))
    .map((f) => f.replace(/\.json$/, ""))
    .sort();
}
