/**
 * Which rows of suites/rfc/rfc6120-6121-server-requirements.csv the checks
 * test (their `covers`). The bar is a check for 90% of the rows a
 * client can observe; until then this is a ratchet: coverage may only grow.
 */
import { describe, expect, it } from "vitest";
import { ALL_CHECKS } from "../../src/checks/index.js";
import { levelOf, parseCsv, requirementRow, requirementRows, rfcCoverage } from "../../src/checks/rfc-requirements.js";

/** Rows covered when this was last raised; raise it with every check added. */
const COVERED_AT_LEAST = 94;

describe("RFC 6120 / 6121 requirement rows", () => {
  it("are read whole from the CSV: 472 rows, keys unique and stable by section and order", () => {
    const rows = requirementRows();
    expect(rows).toHaveLength(472);
    expect(new Set(rows.map((r) => r.key)).size).toBe(472);
    expect(requirementRow("6120/4.7.3#4").requirement).toBe("For response stream headers, the receiving entity MUST include the 'id' attribute.");
    expect(rows.filter((r) => r.testable === "yes")).toHaveLength(374);
    expect(rows.filter((r) => r.testable === "partly")).toHaveLength(88);
  });

  it("parses quoted fields with commas, doubled quotes and line breaks", () => {
    expect(parseCsv('"a","b, c","say ""hi"""\r\n"multi\nline",""\n')).toEqual([
      ["a", "b, c", 'say "hi"'],
      ["multi\nline", ""],
    ]);
  });

  it("each check claims rows that exist and that a client can observe, and quotes the first at its level", () => {
    for (const check of ALL_CHECKS.filter((c) => c.covers)) {
      const rows = check.covers!.map(requirementRow);
      for (const row of rows) expect(row.testable, `${check.id} claims ${row.key}`).not.toBe("no");
      expect(check.requirement, check.id).toBe(rows[0]!.requirement);
      expect(check.level, check.id).toBe(levelOf(rows[0]!.keyword));
      expect(check.id.startsWith(`rfc${rows[0]!.rfc}.${rows[0]!.section}.`), `${check.id} is named after §${rows[0]!.section}`).toBe(true);
    }
  });

  it("lists every row with what covers it, the reason where nothing can, and the totals (xepcheck checks --rfc)", () => {
    const text = rfcCoverage(ALL_CHECKS);
    const lines = text.trimEnd().split("\n");
    expect(lines.filter((l) => /^61\d\d\//.test(l))).toHaveLength(472);
    expect(lines.find((l) => l.startsWith("6120/4.7.3#4 "))).toMatch(/rfc6120\.4\.7\.3\.response-id$/);
    expect(lines.find((l) => l.startsWith("6120/4.7.2#3 "))).toMatch(/ no +not observable: s2s only$/);
    expect(lines.at(-2)).toMatch(/^RFC 6120: \d+ of 250 observable rows covered \(\d+%\), 7 not observable$/);
    expect(lines.at(-1)).toMatch(/^RFC 6121: \d+ of 212 observable rows covered \(\d+%\), 3 not observable$/);
  });

  it(`covers at least ${COVERED_AT_LEAST} of the rows a client can observe (the ratchet)`, () => {
    const observable = requirementRows().filter((r) => r.testable !== "no");
    const covered = new Set(ALL_CHECKS.flatMap((c) => c.covers ?? []));
    const count = observable.filter((r) => covered.has(r.key)).length;
    expect(count).toBeGreaterThanOrEqual(COVERED_AT_LEAST);
  });
});
