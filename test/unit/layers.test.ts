/**
 * The layers keep to their lanes: a check module holds checks and imports
 * helpers (protocol clients, scenario helpers, the shared judging helpers),
 * never another check module, so a newcomer finds a spec's checks in one
 * file and can copy its shape.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const CHECKS = new URL("../../src/checks/", import.meta.url).pathname;
/** Modules of src/checks that hold no checks: the definitions, shared judging helpers, the RFC requirement rows and the list. */
const HELPERS = new Set(["types.ts", "advertisement.ts", "pep.ts", "index.ts", "rfc-requirements.ts"]);

describe("src/checks", () => {
  it("no check module imports another check module", () => {
    const offences: string[] = [];
    for (const file of readdirSync(CHECKS).filter((f) => f.endsWith(".ts") && f !== "index.ts")) {
      const text = readFileSync(path.join(CHECKS, file), "utf8");
      for (const m of text.matchAll(/from "\.\/([^"]+)\.js"/g)) {
        if (!HELPERS.has(`${m[1]}.ts`)) offences.push(`${file} imports ./${m[1]}.js`);
      }
    }
    expect(offences).toEqual([]);
  });
});

describe("src/report/types.ts", () => {
  it("the report's contract imports nothing from the layers that talk to servers (session, probe, runner)", () => {
    const text = readFileSync(new URL("../../src/report/types.ts", import.meta.url), "utf8");
    const imports = [...text.matchAll(/from "([^"]+)"/g)].map((m) => m[1]!);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((i) => /\/(session|probe|runner)\//.test(i))).toEqual([]);
  });
});
