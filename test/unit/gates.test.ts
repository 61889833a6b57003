/**
 * Gates (--require), baselines (--baseline) and `xepcheck diff`: pure
 * functions of report JSON, each tested for pass and for fail on a real
 * Prosody 13 report (test/fixtures/report-gates-prosody.json, trimmed: no
 * probe, no transcripts) and variants of it built here.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Verdict } from "../../src/checks/types.js";
import { baselineFromReport, BaselineError, evaluateBaseline, loadBaseline, parseBaseline } from "../../src/gates/baseline.js";
import { applyGates, GateInputError, prepareGates } from "../../src/gates/cli.js";
import { diffReports, formatDiff, readReportFile, ReportFileError } from "../../src/gates/diff.js";
import { evaluateRequireGate, formatGateResults, GateUsageError, parseRequireGate } from "../../src/gates/require.js";
import { reportProblems } from "../../src/report/schema.js";
import type { Report, TargetReport } from "../../src/report/types.js";
import { scoreSuite } from "../../src/scoring/score.js";
import { loadSuite } from "../../src/scoring/suite.js";
import { runCli } from "../cli.js";

const FIXTURE = new URL("../fixtures/report-gates-prosody.json", import.meta.url).pathname;
const base: Report = JSON.parse(readFileSync(FIXTURE, "utf8"));
const tmp = mkdtempSync(path.join(os.tmpdir(), "xepcheck-gates-"));

/** The report's one target. */
const t0 = (r: Report): TargetReport => r.targets[0]!;
const TARGET = "prosody.test";

/** The report with some verdicts changed and its suites re-scored, as the runner would. */
function withVerdicts(report: Report, verdicts: Record<string, Verdict>): Report {
  const copy: Report = structuredClone(report);
  const t = t0(copy);
  for (const c of t.checks) if (verdicts[c.id]) c.verdict = verdicts[c.id]!;
  t.suites = t.settings.suites.map((id) => scoreSuite(loadSuite(id), t.checks));
  return copy;
}

/** The fixture's skips that keep cs2023 from being decided: a direct TLS port was not given, components are not testable. */
const UNDECIDED: Record<string, Verdict> = { "xep0368.direct-tls": "pass", "xep0114.component": "pass" };

function write(name: string, data: unknown): string {
  const file = path.join(tmp, name);
  writeFileSync(file, typeof data === "string" ? data : JSON.stringify(data));
  return file;
}

describe("the fixture", () => {
  it("is a valid report with two failures and cs2023 undetermined", () => {
    expect(reportProblems(base)).toEqual([]);
    expect(t0(base).checks.filter((c) => c.verdict === "fail").map((c) => c.id).sort()).toEqual([
      "xep0359.forged-stanza-id-removed",
      "xep0386.inline-csi",
    ]);
    expect(t0(base).suites[0]!.results.find((r) => r.category === "im" && r.level === "advanced")!.status).toBe("undetermined");
  });
});

describe("--require gates", () => {
  it("validates suite:category:level against the suite data, naming what is unknown", () => {
    expect(parseRequireGate("cs2023:im:advanced", loadSuite)).toEqual({ text: "cs2023:im:advanced", suite: "cs2023", category: "im", level: "advanced" });
    expect(() => parseRequireGate("cs2023:im", loadSuite)).toThrow(/not suite:category:level/);
    expect(() => parseRequireGate("cs2023::core", loadSuite)).toThrow(GateUsageError);
    expect(() => parseRequireGate("cs2099:im:core", loadSuite)).toThrow(/unknown suite "cs2099"/);
    expect(() => parseRequireGate("cs2023:chat:core", loadSuite)).toThrow(/no category "chat" \(categories: core, web, im, mobile, av\)/);
    expect(() => parseRequireGate("cs2023:im:expert", loadSuite)).toThrow(/no level "expert" \(levels: core, advanced\)/);
    expect(() => prepareGates(["cs2023:im:expert"])).toThrow(GateInputError);
  });

  it("is met when the category and level are compliant", () => {
    const report = withVerdicts(base, UNDECIDED);
    const gates = prepareGates(["cs2023:im:advanced", "cs2023:core:core"]);
    const outcome = applyGates(report, gates);
    expect(outcome.gates.map((g) => [g.status, g.met])).toEqual([["compliant", true], ["compliant", true]]);
    expect(outcome.met).toBe(true);
    expect(outcome.text).toContain("gate cs2023:im:advanced: met");
    expect(outcome.text).toContain("gates: all met");
  });

  it("is not met when a requirement fails, and says which and why", () => {
    const report = withVerdicts(base, { ...UNDECIDED, "xep0280.copies": "fail" });
    const outcome = applyGates(report, prepareGates(["cs2023:im:core", "cs2023:core:core"]));
    expect(outcome.met).toBe(false);
    const [im, core] = outcome.gates;
    expect(im!.met).toBe(false);
    expect(im!.status).toBe("not-compliant");
    expect(im!.failing.map((f) => f.id)).toEqual(["im.outbound-message-synchronization.xep0280"]);
    expect(im!.failing[0]!.checks).toEqual([{ id: "xep0280.copies", verdict: "fail" }]);
    expect(core!.met).toBe(true);
    expect(outcome.text).toContain("gate cs2023:im:core: NOT MET (not-compliant)");
    expect(outcome.text).toContain("failing: im.outbound-message-synchronization.xep0280 (failed): xep0280.copies fail");
    expect(outcome.text).toContain("gates: NOT MET (exit 1)");
  });

  it("is not met when a requirement is undetermined, and names it", () => {
    const result = evaluateRequireGate(t0(base), parseRequireGate("cs2023:im:advanced", loadSuite));
    expect(result.met).toBe(false);
    expect(result.status).toBe("undetermined");
    expect(result.failing).toEqual([]);
    expect(result.undetermined.map((u) => u.id)).toEqual(["core.direct-tls.xep0368", "core.server-extensibility.xep0114"]);
    expect(formatGateResults([result])).toContain("undetermined: core.direct-tls.xep0368 (undetermined): xep0368.direct-tls skip");
  });

  it("is not met when the report did not score the suite", () => {
    const report = { ...t0(base), suites: [] };
    const result = evaluateRequireGate(report, parseRequireGate("cs2023:im:core", loadSuite));
    expect(result).toMatchObject({ met: false, status: "not-scored" });
    expect(formatGateResults([result])).toContain("NOT MET: the report has no score for suite cs2023");
  });

  it("is met when everything in its way is accepted by the baseline", () => {
    const baseline = parseBaseline(
      {
        accept: [
          { check: "xep0368.direct-tls", verdict: "skip", reason: "no direct TLS port in CI" },
          { check: "xep0114.*", reason: "components are not testable from a client" },
          { check: "xep0359.forged-stanza-id-removed", reason: "known" },
          { check: "xep0386.inline-csi", verdict: "fail", reason: "known" },
        ],
      },
      "inline",
    );
    const gate = parseRequireGate("cs2023:im:advanced", loadSuite);
    const result = evaluateRequireGate(t0(base), gate, baseline);
    expect(result.met).toBe(true);
    expect(result.undetermined.every((u) => u.accepted)).toBe(true);
    expect(formatGateResults([result])).toContain("met (2 requirement(s) not met but accepted by the baseline)");
    // Only the listed verdict is accepted: a direct TLS failure is not.
    const failing = withVerdicts(base, { "xep0368.direct-tls": "fail" });
    expect(evaluateRequireGate(t0(failing), gate, baseline).met).toBe(false);
  });
});

describe("--baseline", () => {
  const knownBoth = {
    baselineVersion: 1,
    accept: [
      { check: "xep0359.forged-stanza-id-removed", verdict: "fail", reason: "Prosody keeps a forged stanza-id by the account" },
      { check: "xep0386.inline-csi", verdict: "fail", reason: "known" },
    ],
  };

  it("accepts the listed failures: no new failure", () => {
    const result = evaluateBaseline(base, parseBaseline(knownBoth, "known.json"));
    expect(result.ok).toBe(true);
    expect(result.newFailures).toEqual([]);
    expect(result.accepted.map((a) => a.id).sort()).toEqual(["xep0359.forged-stanza-id-removed", "xep0386.inline-csi"]);
    expect(result.fixed).toEqual([]);
    const outcome = applyGates(base, { require: [], baseline: parseBaseline(knownBoth, "known.json") });
    expect(outcome.met).toBe(true);
    expect(outcome.text).toContain("baseline known.json: no new failure; 2 accepted, 0 fixed");
  });

  it("fails on a failure it does not list, or with another verdict", () => {
    const one = parseBaseline({ accept: [knownBoth.accept[0]] }, "one.json");
    const result = evaluateBaseline(base, one);
    expect(result.ok).toBe(false);
    expect(result.newFailures.map((f) => f.id)).toEqual(["xep0386.inline-csi"]);
    const errored = withVerdicts(base, { "xep0359.forged-stanza-id-removed": "error" });
    const r2 = evaluateBaseline(errored, parseBaseline(knownBoth, "known.json"));
    expect(r2.ok).toBe(false);
    expect(r2.newFailures).toMatchObject([{ id: "xep0359.forged-stanza-id-removed", verdict: "error" }]);
    const outcome = applyGates(base, { require: [], baseline: one });
    expect(outcome.met).toBe(false);
    expect(outcome.text).toContain("1 NEW FAILURE(S)");
    expect(outcome.text).toContain("new fail: xep0386.inline-csi");
  });

  it("reports fixed entries (listed, now passing) and entries not in the run", () => {
    const baseline = parseBaseline(
      { accept: [...knownBoth.accept, { check: "xep0280.copies", verdict: "fail", reason: "was broken" }, { check: "xep9999.*", reason: "gone" }] },
      "known.json",
    );
    const result = evaluateBaseline(base, baseline);
    expect(result.ok).toBe(true);
    expect(result.fixed).toEqual([{ entry: baseline.entries[2], now: [{ target: TARGET, id: "xep0280.copies", verdict: "pass" }] }]);
    expect(result.notRun.map((e) => e.check)).toEqual(["xep9999.*"]);
    const text = applyGates(base, { require: [], baseline }).text;
    expect(text).toContain("fixed: xep0280.copies now xep0280.copies pass: remove it from the baseline");
    expect(text).toContain("not in this run: xep9999.*");
  });

  it("takes a previous report as baseline: its failures are accepted, new ones are not", () => {
    const baseline = parseBaseline(JSON.parse(readFileSync(FIXTURE, "utf8")), "old.json");
    expect(baseline.entries.some((e) => e.check === "xep0386.inline-csi" && e.verdict === "fail")).toBe(true);
    expect(evaluateBaseline(base, baseline).ok).toBe(true);
    const worse = withVerdicts(base, { "xep0280.copies": "fail", "xep0386.inline-csi": "pass" });
    const result = evaluateBaseline(worse, baselineFromReport(base, "old.json"));
    expect(result.ok).toBe(false);
    expect(result.newFailures.map((f) => f.id)).toEqual(["xep0280.copies"]);
    expect(result.fixed.map((f) => f.entry.check)).toEqual(["xep0386.inline-csi"]);
  });

  it("rejects a broken baseline, naming the problem", () => {
    expect(() => parseBaseline({ accept: [{ check: "xep0359.x", verdict: "fail" }] }, "b.json")).toThrow(/b.json is invalid: \/accept\/0 must have required property 'reason'/);
    expect(() => parseBaseline({ accept: [{ check: "xep0359.x", verdict: "pass", reason: "r" }] }, "b.json")).toThrow(/\/accept\/0\/verdict must be equal to one of the allowed values/);
    expect(() => parseBaseline([], "b.json")).toThrow(BaselineError);
    expect(() => parseBaseline({ reportVersion: 1 }, "r.json")).toThrow(/r.json is a report but not a valid one/);
    expect(() => loadBaseline(write("broken.json", "{ accept: "))).toThrow(/is not valid JSON/);
    expect(() => loadBaseline(path.join(tmp, "missing.json"))).toThrow(/cannot read baseline .*missing.json: ENOENT/);
    const file = write("ok.json", knownBoth);
    expect(loadBaseline(file).entries).toHaveLength(2);
  });
});

describe("diff", () => {
  it("finds nothing between a report and itself", () => {
    const d = diffReports(base, base);
    expect(d).toMatchObject({ regressions: [], improvements: [], added: [], removed: [] });
    expect(formatDiff(d)).toContain("regressions: 0");
  });

  it("lists regressions of checks, specs and suite levels", () => {
    const compliant = withVerdicts(base, UNDECIDED);
    const worse = withVerdicts(base, { ...UNDECIDED, "xep0280.copies": "fail", "xep0199.server-ping": "na" });
    t0(worse).specs["XEP-0280"] = { ...t0(worse).specs["XEP-0280"]!, verdict: "fail" };
    const d = diffReports(compliant, worse);
    expect(d.regressions).toEqual(
      expect.arrayContaining([
        { target: TARGET, kind: "check", id: "xep0280.copies", old: "pass", new: "fail" },
        { target: TARGET, kind: "spec", id: "XEP-0280", old: "pass", new: "fail" },
        { target: TARGET, kind: "suite", id: "cs2023:im:core", old: "compliant", new: "not-compliant" },
      ]),
    );
    expect(d.improvements).toEqual([]);
    expect(formatDiff(d)).toMatch(/check +xep0280\.copies +pass → fail/);
  });

  it("lists improvements, and checks only in one report", () => {
    const old = withVerdicts(base, {});
    t0(old).checks = t0(old).checks.filter((c) => c.id !== "xep0199.server-ping");
    const better = withVerdicts(base, { "xep0386.inline-csi": "pass", ...UNDECIDED });
    t0(better).checks = t0(better).checks.filter((c) => c.id !== "xep0092.version");
    const d = diffReports(old, better);
    expect(d.regressions).toEqual([]);
    expect(d.improvements).toEqual(
      expect.arrayContaining([
        { target: TARGET, kind: "check", id: "xep0386.inline-csi", old: "fail", new: "pass" },
        { target: TARGET, kind: "check", id: "xep0368.direct-tls", old: "skip", new: "pass" },
        { target: TARGET, kind: "suite", id: "cs2023:im:advanced", old: "undetermined", new: "compliant" },
      ]),
    );
    expect(d.added.map((a) => a.id)).toEqual(["xep0199.server-ping"]);
    expect(d.removed.map((a) => a.id)).toEqual(["xep0092.version"]);
  });

  it("orders verdicts pass > warn > na > skip > error > fail", () => {
    const order: Verdict[] = ["pass", "warn", "na", "skip", "error", "fail"];
    for (let i = 0; i < order.length; i++) {
      for (let j = 0; j < order.length; j++) {
        const d = diffReports(withVerdicts(base, { "xep0199.server-ping": order[i]! }), withVerdicts(base, { "xep0199.server-ping": order[j]! }));
        const checks = (list: typeof d.regressions) => list.filter((c) => c.kind === "check").length;
        expect([checks(d.regressions), checks(d.improvements)], `${order[i]} → ${order[j]}`).toEqual([j > i ? 1 : 0, j < i ? 1 : 0]);
      }
    }
  });

  it("rejects unreadable and invalid report files", () => {
    expect(() => readReportFile(path.join(tmp, "nope.json"))).toThrow(ReportFileError);
    expect(() => readReportFile(write("text.json", "not json"))).toThrow(/is not valid JSON/);
    expect(() => readReportFile(write("other.json", { accept: [] }))).toThrow(/is not a valid xepcheck report: .*reportVersion/);
    expect(t0(readReportFile(FIXTURE)).target.domain).toBe("prosody.test");
  });
});

describe("the CLI (built)", () => {
  let worse: string;
  let better: string;
  beforeAll(() => {
    worse = write("worse.json", withVerdicts(base, { "xep0280.copies": "fail" }));
    better = write("better.json", withVerdicts(base, { "xep0386.inline-csi": "pass" }));
  });

  it("xepcheck diff exits 0 without a regression, 1 with one, 2 on bad input", async () => {
    const same = await runCli(["diff", FIXTURE, FIXTURE]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain("regressions: 0");

    const improved = await runCli(["diff", FIXTURE, better]);
    expect(improved.code, improved.stderr).toBe(0);
    expect(improved.stdout).toMatch(/improvements: 1\n +check +xep0386\.inline-csi +fail → pass/);

    const regressed = await runCli(["diff", FIXTURE, worse]);
    expect(regressed.code).toBe(1);
    expect(regressed.stdout).toMatch(/check +xep0280\.copies +pass → fail/);
    expect(regressed.stdout).toMatch(/suite +cs2023:im:core +undetermined → not-compliant/);

    const json = await runCli(["diff", FIXTURE, worse, "--json", "-"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).regressions).toContainEqual({ target: TARGET, kind: "check", id: "xep0280.copies", old: "pass", new: "fail" });

    const missing = await runCli(["diff", FIXTURE, path.join(tmp, "missing.json")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*missing\.json: ENOENT/);

    const invalid = await runCli(["diff", write("invalid.json", { reportVersion: 1 }), FIXTURE]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/invalid\.json is not a valid xepcheck report/);

    const usage = await runCli(["diff", FIXTURE]);
    expect(usage.code).toBe(2);
  }, 60_000);

  it("xepcheck run rejects a bad --require or --baseline before connecting (exit 2)", async () => {
    const env = { XEPCHECK_PASSWORD: "unused" };
    const level = await runCli(["run", "alice@example.invalid", "--require", "cs2023:im:expert"], env);
    expect(level.code).toBe(2);
    expect(level.stderr).toContain(`--require "cs2023:im:expert": suite cs2023 has no level "expert"`);
    const suite = await runCli(["run", "alice@example.invalid", "--require", "cs1999:im:core"], env);
    expect(suite.code).toBe(2);
    expect(suite.stderr).toContain(`--require "cs1999:im:core": unknown suite "cs1999"`);
    const baseline = await runCli(["run", "alice@example.invalid", "--baseline", write("bad-baseline.json", { accept: [{ check: "x" }] })], env);
    expect(baseline.code).toBe(2);
    expect(baseline.stderr).toMatch(/bad-baseline\.json is invalid: \/accept\/0 must have required property 'reason'/);
  });
});
