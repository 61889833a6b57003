/**
 * The server requirements of RFC 6120 and RFC 6121, one row each, as data:
 * suites/rfc/rfc6120-6121-server-requirements.csv (its README says how it
 * was made and where the sections contradict each other). A check claims
 * the rows it tests by key, "6120/4.7.3#4" being the fourth row of §4.7.3,
 * and quotes the row's sentence as its requirement. The file's rows are
 * never reordered, so keys stay stable.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "../paths.js";
import type { Scenario } from "../scenario/scenario.js";
import { defineCheck, defineScenario, type CheckContext, type CheckDefinition, type CheckOutcome, type Level, type ScenarioDefinition, type SpecRef } from "./types.js";

export interface RequirementRow {
  key: string;
  rfc: "6120" | "6121";
  section: string;
  /** MUST, MUST NOT, SHOULD, SHOULD NOT, MAY, REQUIRED or RECOMMENDED, as the RFC says it. */
  keyword: string;
  actor: string;
  /** Whether one or two client accounts can observe it (see the README). */
  testable: "yes" | "partly" | "no";
  requirement: string;
  /** How to probe it, or why it cannot be. */
  notes: string;
}

let rows: RequirementRow[] | undefined;
let byKey: Map<string, RequirementRow> | undefined;

export function requirementRows(): RequirementRow[] {
  if (rows) return rows;
  const file = path.join(projectRoot(), "suites", "rfc", "rfc6120-6121-server-requirements.csv");
  const [header, ...records] = parseCsv(readFileSync(file, "utf8"));
  const at = (name: string) => {
    const i = header!.indexOf(name);
    if (i < 0) throw new Error(`${file}: no column "${name}"`);
    return i;
  };
  const col = { rfc: at("rfc"), section: at("section"), level: at("level"), actor: at("actor"), testable: at("testable_from_client"), requirement: at("requirement"), notes: at("notes") };
  const seen = new Map<string, number>();
  rows = records.map((r) => {
    const rfc = r[col.rfc] as RequirementRow["rfc"];
    const section = r[col.section]!;
    const ordinal = (seen.get(`${rfc}/${section}`) ?? 0) + 1;
    seen.set(`${rfc}/${section}`, ordinal);
    return {
      key: `${rfc}/${section}#${ordinal}`,
      rfc,
      section,
      keyword: r[col.level]!,
      actor: r[col.actor]!,
      testable: r[col.testable] as RequirementRow["testable"],
      requirement: r[col.requirement]!,
      notes: r[col.notes]!,
    };
  });
  return rows;
}

/** The row of `key`; an unknown key is a bug in the check that names it. */
export function requirementRow(key: string): RequirementRow {
  byKey ??= new Map(requirementRows().map((r) => [r.key, r]));
  const row = byKey.get(key);
  if (!row) throw new Error(`no RFC requirement row ${key} in suites/rfc/rfc6120-6121-server-requirements.csv`);
  return row;
}

/** The check level of an RFC keyword: MUST (NOT) and REQUIRED fail, SHOULD (NOT) and RECOMMENDED warn, MAY informs. */
export function levelOf(keyword: string): Level {
  if (keyword.startsWith("MUST") || keyword === "REQUIRED") return "MUST";
  if (keyword.startsWith("SHOULD") || keyword === "RECOMMENDED") return "SHOULD";
  return "MAY";
}

/** What a check of `key` (and of the rows in `also`) takes from the rows: where, at which level, the sentence. */
function fromRows(key: string, also: string[] = []) {
  const row = requirementRow(key);
  for (const other of also) requirementRow(other);
  return { spec: rowSpec(row), level: levelOf(row.keyword), requirement: row.requirement, covers: [key, ...also] };
}

/** A scenario checking one row (and the rows it also settles), quoting the first row's sentence at its level. */
export function rowCheck(key: string, def: { id: string; title: string; also?: string[]; needs?: ScenarioDefinition["needs"]; run(s: Scenario): Promise<void> }): ScenarioDefinition {
  return defineScenario({ id: def.id, title: def.title, needs: def.needs ?? [], ...fromRows(key, def.also), advertised: () => null, run: def.run });
}

/** The same for a row the probe's facts settle: a pure judgement, no traffic. */
export function rowJudgement(key: string, def: { id: string; title: string; also?: string[]; run(ctx: CheckContext): CheckOutcome }): CheckDefinition {
  return defineCheck({ id: def.id, title: def.title, needs: ["account"], ...fromRows(key, def.also), run: def.run });
}

/** Where a row's sentence stands. */
export function rowSpec(row: RequirementRow): SpecRef {
  const anchor = /^[A-Z]/.test(row.section) ? `appendix-${row.section}` : `section-${row.section}`;
  return { doc: `RFC ${row.rfc}`, version: "", section: row.section, url: `https://www.rfc-editor.org/rfc/rfc${row.rfc}#${anchor}` };
}

/**
 * Every row with what covers it, as `xepcheck checks --rfc` prints it: the
 * checks that claim it, or "not observable" and the reason the CSV gives,
 * or "not yet", and a count per RFC at the end.
 */
export function rfcCoverage(checks: readonly { id: string; covers?: string[] }[]): string {
  const by = new Map<string, string[]>();
  for (const c of checks) for (const key of c.covers ?? []) by.set(key, [...(by.get(key) ?? []), c.id]);
  const lines = requirementRows().map((r) => {
    const covered = by.get(r.key);
    const what = covered ? covered.join(", ") : r.testable === "no" ? `not observable: ${r.notes}` : "not yet";
    return `${r.key.padEnd(16)} ${r.keyword.padEnd(11)} ${r.testable.padEnd(6)} ${what}`;
  });
  const totals = (["6120", "6121"] as const).map((rfc) => {
    const rows = requirementRows().filter((r) => r.rfc === rfc);
    const observable = rows.filter((r) => r.testable !== "no");
    const covered = observable.filter((r) => by.has(r.key)).length;
    return `RFC ${rfc}: ${covered} of ${observable.length} observable rows covered (${Math.round((100 * covered) / observable.length)}%), ${rows.length - observable.length} not observable`;
  });
  return `${["row              level       client covered by", ...lines, "", ...totals].join("\n")}\n`;
}

/** RFC 4180 CSV: fields in double quotes may hold commas, newlines and "" for a quote. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') (field += '"'), i++;
      else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ",") record.push(field), (field = "");
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      field = "";
      if (record.length > 1 || record[0] !== "") records.push(record);
      record = [];
    } else field += c;
  }
  if (field !== "" || record.length) records.push([...record, field]);
  return records;
}
