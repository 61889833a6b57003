import { describe, expect, it } from "vitest";
import { scoreSuite, type ScoredResult } from "../../src/scoring/score.js";
import { loadSuite, parseSuite, SuiteError, type Suite } from "../../src/scoring/suite.js";

const cs2023 = loadSuite("cs2023");
const allIds = (suite: Suite) => suite.requirements.flatMap((r) => r.specs.flatMap((s) => s.checks.map((c) => c.replace("*", "x"))));
const allPass = (suite: Suite): ScoredResult[] => allIds(suite).map((id) => ({ id, verdict: "pass" }));
const withVerdict = (results: ScoredResult[], prefix: string, verdict: ScoredResult["verdict"]) =>
  results.map((r) => (r.id.startsWith(prefix) ? { ...r, verdict } : r));
const cell = (score: ReturnType<typeof scoreSuite>, category: string, level: string) =>
  score.results.find((r) => r.category === category && r.level === level)!;

describe("cs2023 suite data", () => {
  it("loads and covers every required server row of XEP-0479", () => {
    expect(cs2023.categories.map((c) => c.id)).toEqual(["core", "web", "im", "mobile", "av"]);
    expect(cs2023.levels.map((l) => l.id)).toEqual(["core", "advanced"]);
    const specs = new Set(cs2023.requirements.flatMap((r) => r.specs.map((s) => s.spec)));
    for (const spec of ["RFC 6120", "RFC 7590", "XEP-0368", "XEP-0030", "XEP-0115", "XEP-0114", "XEP-0163", "RFC 7395", "XEP-0206",
      "RFC 6121", "XEP-0398", "XEP-0153", "XEP-0054", "XEP-0280", "XEP-0191", "XEP-0045", "XEP-0249", "XEP-0048", "XEP-0313",
      "XEP-0402", "XEP-0410", "XEP-0223", "XEP-0049", "XEP-0198", "XEP-0363", "XEP-0352", "XEP-0357", "XEP-0215"]) {
      expect(specs.has(spec), spec).toBe(true);
    }
    // Advanced-only rows do not apply at the Core level.
    expect(cs2023.requirements.find((r) => r.id === "core.direct-tls.xep0368")!.levels).toEqual(["advanced"]);
    expect(cs2023.requirements.find((r) => r.id === "im.group-chat.xep0045")!.component).toBe(true);
  });
});

describe("scoring", () => {
  it("everything met: every category x level is compliant", () => {
    const score = scoreSuite(cs2023, allPass(cs2023));
    expect(score.results.every((r) => r.status === "compliant" && r.compliant)).toBe(true);
  });

  it("a required spec not offered makes its category not compliant, and every category requiring Core too", () => {
    const score = scoreSuite(cs2023, withVerdict(allPass(cs2023), "xep0030", "na"));
    expect(cell(score, "core", "core")).toMatchObject({ status: "not-compliant", failing: ["core.feature-discovery.xep0030"] });
    expect(cell(score, "im", "advanced").status).toBe("not-compliant");
    expect(cell(score, "im", "advanced").failing).toContain("core.feature-discovery.xep0030");
    expect(score.requirements.find((r) => r.id === "core.feature-discovery.xep0030")!.status).toBe("not-offered");
  });

  it("an advanced-only failure leaves the Core level compliant", () => {
    const score = scoreSuite(cs2023, withVerdict(allPass(cs2023), "xep0191", "fail"));
    expect(cell(score, "im", "core").status).toBe("compliant");
    expect(cell(score, "im", "advanced")).toMatchObject({ status: "not-compliant", failing: ["im.user-blocking.xep0191"] });
  });

  it("skip and error are undetermined and keep a category from being compliant", () => {
    const score = scoreSuite(cs2023, withVerdict(withVerdict(allPass(cs2023), "rfc6121", "skip"), "xep0280", "error"));
    expect(cell(score, "im", "core")).toMatchObject({
      status: "undetermined",
      compliant: false,
      undetermined: ["im.core-features.rfc6121", "im.outbound-message-synchronization.xep0280"],
    });
    expect(cell(score, "mobile", "core").status).toBe("compliant");
  });

  it("a requirement whose checks were not run is undetermined", () => {
    const score = scoreSuite(cs2023, allPass(cs2023).filter((r) => !r.id.startsWith("xep0352")));
    expect(cell(score, "mobile", "core")).toMatchObject({ status: "undetermined", undetermined: ["mobile.client-state-indication.xep0352"] });
  });

  it("a fail outweighs an undetermined requirement", () => {
    const score = scoreSuite(cs2023, withVerdict(withVerdict(allPass(cs2023), "xep0280", "skip"), "xep0054", "fail"));
    expect(cell(score, "im", "core").status).toBe("not-compliant");
  });

  it("rule any: one met spec is enough; rule all: each must be met", () => {
    const suite = parseSuite(
      JSON.stringify({
        id: "t", title: "t", spec: { doc: "X", version: "1", url: "u" }, role: "server",
        levels: [{ id: "l", title: "L" }],
        categories: [{ id: "c", title: "C" }],
        requirements: [
          { id: "any", category: "c", feature: "f", levels: ["l"], rule: "any", specs: [{ spec: "A", checks: ["a.*"] }, { spec: "B", checks: ["b.*"] }] },
        ],
      }),
      "inline",
    );
    expect(scoreSuite(suite, [{ id: "a.x", verdict: "na" }, { id: "b.x", verdict: "pass" }]).results[0]!.status).toBe("compliant");
    expect(scoreSuite(suite, [{ id: "a.x", verdict: "na" }, { id: "b.x", verdict: "fail" }]).results[0]!.status).toBe("not-compliant");
    const all = { ...suite, requirements: [{ ...suite.requirements[0]!, rule: "all" as const }] };
    expect(scoreSuite(all, [{ id: "a.x", verdict: "na" }, { id: "b.x", verdict: "pass" }]).results[0]!.status).toBe("not-compliant");
  });
});

describe("broken suite files are clear errors", () => {
  const base = { id: "t", title: "t", spec: { doc: "X", version: "1", url: "u" }, role: "server", levels: [{ id: "l", title: "L" }], categories: [{ id: "c", title: "C" }], requirements: [] };

  it("not JSON", () => {
    expect(() => parseSuite("{", "bad.json")).toThrow(SuiteError);
    expect(() => parseSuite("{", "bad.json")).toThrow(/bad.json is not valid JSON/);
  });

  it("schema violation names the field", () => {
    expect(() => parseSuite(JSON.stringify({ ...base, role: "robot" }), "bad.json")).toThrow(/\/role must be equal to one of the allowed values/);
    const { levels: _, ...noLevels } = base;
    expect(() => parseSuite(JSON.stringify(noLevels), "bad.json")).toThrow(/must have required property 'levels'/);
  });

  it("references to unknown categories and levels", () => {
    const bad = { ...base, requirements: [{ id: "r", category: "nope", feature: "f", levels: ["zzz"], rule: "all", specs: [{ spec: "A", checks: ["a.*"] }] }] };
    expect(() => parseSuite(JSON.stringify(bad), "bad.json")).toThrow(/unknown category nope.*unknown level zzz/);
  });

  it("an unknown suite id lists the known ones", () => {
    expect(() => loadSuite("cs1999")).toThrow(/unknown suite "cs1999": available: cs2023/);
  });
});
