/** Validates report JSON against reports/report.schema.json. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv } from "ajv";
import { projectRoot } from "../paths.js";

let validator: ReturnType<Ajv["compile"]> | undefined;

/** Returns the problems found, each naming the JSON path; empty when valid. */
export function reportProblems(data: unknown): string[] {
  if (!validator) {
    const schema = JSON.parse(readFileSync(path.join(projectRoot(), "reports", "report.schema.json"), "utf8"));
    validator = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(schema);
  }
  if (validator(data)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || "(top level)"} ${e.message}`);
}
