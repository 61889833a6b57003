/**
 * Many servers in one report: the targets file, --shard, `xepcheck merge`
 * (with the upgrade of older reports), and what reporters and gates make of
 * several targets. Pure functions and the built CLI; no server is contacted
 * (the real multi-server run is test/integration/many.test.ts).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import parse from "@xmpp/xml/lib/parse.js";
import { describe, expect, it } from "vitest";
import { badgeFiles } from "../../src/cli/report-outputs.js";
import { loadTargetsFile, TargetsFileError } from "../../src/cli/targets-file.js";
import { applyGates, gateSummary, prepareGates } from "../../src/gates/cli.js";
import { diffReports } from "../../src/gates/diff.js";
import { parseBaseline } from "../../src/gates/baseline.js";
import { renderJunit } from "../../src/report/junit.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { mergeReports } from "../../src/report/merge.js";
import { readReportFile } from "../../src/report/read.js";
import { reportProblems } from "../../src/report/schema.js";
import { summarizeSpecs } from "../../src/report/summary.js";
import type { Report, TargetReport } from "../../src/report/types.js";
import { parseShard, shardSlice } from "../../src/runner/shard.js";
import { scoreSuite } from "../../src/scoring/score.js";
import { loadSuite } from "../../src/scoring/suite.js";
import { runCli } from "../cli.js";

const FIXTURE = new URL("../fixtures/report-gates-prosody.json", import.meta.url).pathname;
const V1_FIXTURE = new URL("../fixtures/report-v1-prosody.json", import.meta.url).pathname;
const tmp = mkdtempSync(path.join(os.tmpdir(), "xepcheck-many-"));

function write(name: string, data: unknown): string {
  const file = path.join(tmp, name);
  writeFileSync(file, typeof data === "string" ? data : JSON.stringify(data));
  return file;
}

/** A target of the fixture under another name, with some verdicts changed and re-scored. */
function target(name: string, verdicts: Record<string, TargetReport["checks"][number]["verdict"]> = {}): TargetReport {
  const t: TargetReport = structuredClone(readReportFile(FIXTURE).targets[0]!);
  t.name = name;
  for (const c of t.checks) if (verdicts[c.id]) c.verdict = verdicts[c.id]!;
  t.suites = t.settings.suites.map((id) => scoreSuite(loadSuite(id), t.checks));
  t.specs = summarizeSpecs(t.checks);
  return t;
}

function report(targets: TargetReport[], run: Partial<Report["run"]> = {}): Report {
  return { ...readReportFile(FIXTURE), run: { interrupted: false, ...run }, targets };
}

/** The cs2023 checks a full run cannot decide from a client; passing them makes gates decidable. */
const DECIDED = { "xep0368.direct-tls": "pass", "xep0114.component": "pass", "xep0359.forged-stanza-id-removed": "pass", "xep0386.inline-csi": "pass" } as const;

describe("reading older reports", () => {
  it("upgrades a version 1 report to one target named after its domain", () => {
    const upgraded = readReportFile(V1_FIXTURE);
    expect(upgraded.reportVersion).toBe(2);
    expect(upgraded.targets).toHaveLength(1);
    expect(upgraded.targets[0]).toMatchObject({ name: "prosody.test", outcome: "completed" });
    expect(reportProblems(upgraded)).toEqual([]);
    const v1 = JSON.parse(readFileSync(V1_FIXTURE, "utf8"));
    expect(upgraded.targets[0]!.checks).toEqual(v1.checks);
    expect(upgraded.startedAt).toBe(v1.startedAt);
  });

  it("marks an upgraded version 1 report of a failed login as login-failed", () => {
    const v1 = JSON.parse(readFileSync(V1_FIXTURE, "utf8"));
    v1.probe = null;
    v1.checks = v1.checks.map((c: { verdict: string }) => ({ ...c, verdict: "error" }));
    v1.errors = [{ step: "sasl", kind: "auth", message: "not-authorized" }];
    expect(readReportFile(write("v1-failed.json", v1)).targets[0]!.outcome).toBe("login-failed");
  });
});

describe("--shard", () => {
  it("parses i/n and names what is wrong", () => {
    expect(parseShard("2/5")).toEqual({ index: 2, count: 5 });
    expect(parseShard("0/3")).toMatch(/from 1 to 3/);
    expect(parseShard("4/3")).toMatch(/from 1 to 3/);
    expect(parseShard("1/0")).toMatch(/at least 1/);
    expect(parseShard("half")).toMatch(/not i\/n/);
  });

  it("deals targets round-robin: every target in exactly one shard", () => {
    const items = ["a", "b", "c", "d", "e", "f", "g"];
    const shards = [1, 2, 3].map((index) => shardSlice(items, { index, count: 3 }));
    expect(shards).toEqual([["a", "d", "g"], ["b", "e"], ["c", "f"]]);
    expect(shards.flat().sort()).toEqual(items);
  });
});

describe("xepcheck merge", () => {
  const names = ["a", "b", "c", "d", "e"];
  const whole = report(names.map((n) => target(n)));
  const shard = (index: number, count: number) =>
    report(shardSlice(whole.targets, { index, count }), { shard: { index, count } });

  it("puts shards back in the targets file's order, whatever order they are given in", () => {
    const merged = mergeReports([3, 1, 2].map((i) => ({ file: `s${i}.json`, report: shard(i, 3) })));
    expect(merged.targets.map((t) => t.name)).toEqual(names);
    expect(merged.targets).toEqual(whole.targets);
    expect(merged.run).toEqual({ interrupted: false, mergedFrom: 3 });
    expect(reportProblems(merged)).toEqual([]);
  });

  it("refuses missing, duplicate and mixed shards, and a target twice", () => {
    expect(() => mergeReports([{ file: "s1.json", report: shard(1, 3) }, { file: "s3.json", report: shard(3, 3) }])).toThrow(/shard\(s\) 2\/3 missing/);
    expect(() => mergeReports([{ file: "x.json", report: shard(1, 2) }, { file: "y.json", report: shard(1, 2) }])).toThrow(/x\.json and y\.json are both shard 1\/2/);
    expect(() => mergeReports([{ file: "x.json", report: shard(1, 2) }, { file: "y.json", report: shard(2, 3) }])).toThrow(/of 2 shards/);
    expect(() => mergeReports([{ file: "x.json", report: shard(1, 2) }, { file: "p.json", report: whole }])).toThrow(/p\.json has no shard/);
    expect(() => mergeReports([{ file: "x.json", report: whole }, { file: "y.json", report: whole }])).toThrow(/target "a" is in both x\.json and y\.json/);
  });

  it("merges reports of different runs in the order given, interrupted if any was", () => {
    const merged = mergeReports([
      { file: "p.json", report: report([target("prosody")]) },
      { file: "e.json", report: report([target("ejabberd")], { interrupted: true }) },
    ]);
    expect(merged.targets.map((t) => t.name)).toEqual(["prosody", "ejabberd"]);
    expect(merged.run.interrupted).toBe(true);
  });

  it("through the CLI: upgrades a version 1 report, refuses a newer one (exit 2)", async () => {
    const other = write("other.json", report([target("other")]));
    const out = path.join(tmp, "merged.json");
    const ok = await runCli(["merge", V1_FIXTURE, other, "--json", out]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("merged 2 report(s): 2 target(s)");
    const merged = readReportFile(out);
    expect(merged.targets.map((t) => t.name)).toEqual(["prosody.test", "other"]);
    const newer = write("newer.json", { ...report([target("n")]), reportVersion: 3 });
    const refused = await runCli(["merge", newer, other, "--json", path.join(tmp, "never.json")]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/newer\.json is a version 3 report, newer than this xepcheck understands/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("the targets file", () => {
  const env = { PW_A: "secret-a-7f3", PW_B: "secret-b-9c1" };
  const file = (data: unknown) => write(`targets-${Math.random().toString(36).slice(2)}.json`, data);
  const good = {
    parallel: 2,
    defaults: { host: "127.0.0.1", timeout: 5, insecure: true },
    targets: [
      { name: "prosody", jid: "alice@prosody.test", passwordEnv: "PW_A", port: 25222, peer: { jid: "bob@prosody.test", passwordEnv: "PW_B" } },
      { name: "ejabberd", jid: "ejabberd.test", register: true, host: "localhost", port: 25322, scenarios: false },
    ],
  };

  it("becomes run options per target: defaults inherited, passwords from the named variables", () => {
    const plan = loadTargetsFile(file(good), env, ["cs2023"]);
    expect(plan).toMatchObject({ parallel: 2, perServer: 1 });
    const [p, e] = plan.targets;
    expect(p).toMatchObject({ name: "prosody", server: "127.0.0.1", options: { name: "prosody", jid: "alice@prosody.test", password: "secret-a-7f3", host: "127.0.0.1", port: 25222, timeoutMs: 5000, insecure: true } });
    expect(p!.options.peer).toEqual({ jid: "bob@prosody.test", password: "secret-b-9c1" });
    expect(e).toMatchObject({ name: "ejabberd", server: "localhost", options: { register: true, scenarios: false, password: undefined } });
  });

  it("names the target and field of every problem", () => {
    const bad = (data: unknown, e: NodeJS.ProcessEnv = env) => () => loadTargetsFile(file(data), e, ["cs2023"]);
    expect(bad({ targets: [{ name: "x", jid: "a@b", passwordEnv: "PW_A", prot: 5222 }] })).toThrow(/\/targets\/0: unknown field "prot"/);
    expect(bad({ targets: [{ name: "x", jid: "a@b", passwordEnv: "PW_A", port: 70000 }] })).toThrow(/\/targets\/0\/port must be <= 65535/);
    expect(bad({ targets: [] })).toThrow(/\/targets must NOT have fewer than 1 items/);
    expect(bad({ targets: [{ name: "x", jid: "a@b" }] })).toThrow(/\/targets\/0 \("x"\): no "passwordEnv"/);
    expect(bad({ targets: [{ name: "x", jid: "a@b", passwordEnv: "PW_NONE" }] })).toThrow(/"passwordEnv": environment variable PW_NONE is not set/);
    expect(bad({ targets: [{ name: "x", jid: "a@b", passwordEnv: "PW_A" }, { name: "x", jid: "c@d", passwordEnv: "PW_A" }] })).toThrow(/\/targets\/1 \("x"\): the name is used twice/);
    expect(bad({ defaults: { jid: "a@b" }, targets: [{ name: "x", jid: "a@b", passwordEnv: "PW_A" }] })).toThrow(/\/defaults: "jid" belongs to each target/);
    expect(bad({ targets: [{ name: "x", jid: "a@b", passwordEnv: "PW_A", port: 5222 }] })).toThrow(/\/targets\/0 \("x"\): --port needs --host/);
    expect(bad("{ targets: ")).toThrow(/is not valid JSON/);
    expect(() => loadTargetsFile(path.join(tmp, "none.json"), env, [])).toThrow(TargetsFileError);
  });

  it("through the CLI: problems are usage errors (exit 2) that never show a password", async () => {
    const f = file(good);
    const conflict = await runCli(["run", "--targets", f, "--host", "x.example"], env);
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toContain("--host describe(s) one server: with --targets, set it in the targets file");
    const both = await runCli(["run", "alice@example.org", "--targets", f], env);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/either a JID or --targets/);
    const shardAlone = await runCli(["run", "alice@example.org", "--shard", "1/2"], env);
    expect(shardAlone.code).toBe(2);
    expect(shardAlone.stderr).toMatch(/--shard slices a targets file/);
    const badShard = await runCli(["run", "--targets", f, "--shard", "3/2"], env);
    expect(badShard.code).toBe(2);
    expect(badShard.stderr).toMatch(/--shard "3\/2": the shard number must be from 1 to 2/);
    const missing = await runCli(["run", "--targets", f], { PW_A: "secret-a-7f3" });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/"peer\.passwordEnv": environment variable PW_B is not set/);
    for (const r of [conflict, both, shardAlone, badShard, missing]) {
      expect(r.stderr + r.stdout).not.toMatch(/secret-[ab]/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe("reporters and gates over several targets", () => {
  const two = report([target("prosody", DECIDED), target("ejabberd", { ...DECIDED, "xep0280.copies": "fail" })]);

  it("JUnit: each target's suites and cases, names unique", () => {
    const root = parse(renderJunit(two));
    const suites = root.getChildElements().filter((e) => e.name === "testsuite");
    const names = suites.map((s) => s.attrs.name as string);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain("prosody · XEP-0280");
    expect(names).toContain("ejabberd · XEP-0280");
    const ej = suites.find((s) => s.attrs.name === "ejabberd · XEP-0280")!;
    expect(ej.attrs.failures).toBe("1");
    expect(root.attrs.name).toBe("xepcheck 2 servers: prosody, ejabberd");
    expect(Number(root.attrs.tests)).toBe(two.targets[0]!.checks.length * 2);
  });

  it("JUnit: the gates' result as a suite of its own, and --insecure in the name and properties", () => {
    const gated = structuredClone(two);
    gated.run.gates = gateSummary(applyGates(gated, prepareGates(["cs2023:im:core"])));
    gated.targets[1]!.settings.insecure = true;
    const root = parse(renderJunit(gated));
    expect(root.attrs.name).toContain("(TLS certificate NOT verified: --insecure)");
    const gates = root.getChildElements().find((e) => e.attrs.name === "xepcheck gates")!;
    expect(gates.attrs).toMatchObject({ tests: "2", failures: "1" });
    const failing = gates.getChildElements().find((c) => c.attrs.name === "require cs2023:im:core on ejabberd")!;
    expect(failing.getChild("failure")!.attrs.message).toMatch(/not met: .*xep0280\.copies fail/);
    const passing = gates.getChildElements().find((c) => c.attrs.name === "require cs2023:im:core on prosody")!;
    expect(passing.getChild("failure")).toBeUndefined();
    const insecureSuite = root.getChildElements().find((e) => e.attrs.name === "ejabberd · XEP-0313")!;
    const props = insecureSuite.getChild("properties")!.getChildElements().map((p) => [p.attrs.name, p.attrs.value]);
    expect(props).toContainEqual(["tls.certificate", "NOT verified (--insecure)"]);
  });

  it("Markdown: an overview row per server, then each server", () => {
    const md = renderMarkdown(two);
    expect(md).toContain("## xepcheck: 2 servers");
    expect(md).toMatch(/\| prosody \| .* \| completed \|/);
    expect(md).toMatch(/\| ejabberd \| .*\| \d+ pass · 1 fail · 0 error \| /);
    expect(md.match(/^### xepcheck: prosody\.test/gm)).toHaveLength(2);
  });

  it("badges need {target} in the name with several targets", () => {
    expect(() => badgeFiles(two, "badge.svg")).toThrow(/add \{target\}/);
    expect(badgeFiles(two, "badge-{target}.svg").map((b) => b.file)).toEqual(["badge-prosody.svg", "badge-ejabberd.svg"]);
  });

  it("a gate must hold for every target, and the failing one is named in the report", () => {
    const outcome = applyGates(two, prepareGates(["cs2023:im:core"]));
    expect(outcome.met).toBe(false);
    expect(outcome.text).toContain("gate cs2023:im:core on prosody: met");
    expect(outcome.text).toContain("gate cs2023:im:core on ejabberd: NOT MET (not-compliant)");
    const summary = gateSummary(outcome);
    expect(summary.require.map((r) => [r.target, r.met])).toEqual([["prosody", true], ["ejabberd", false]]);
    expect(summary.require[1]!.blocking[0]!.checks).toContainEqual({ id: "xep0280.copies", verdict: "fail" });
    expect(reportProblems({ ...two, run: { ...two.run, gates: summary } })).toEqual([]);
  });

  it("a baseline entry with a target accepts that target's failure only", () => {
    const baseline = parseBaseline({ accept: [{ check: "xep0280.copies", target: "ejabberd", reason: "known" }] }, "b.json");
    expect(applyGates(two, { require: [], baseline }).met).toBe(true);
    const both = report([target("prosody", { ...DECIDED, "xep0280.copies": "fail" }), two.targets[1]!]);
    const outcome = applyGates(both, { require: [], baseline });
    expect(outcome.met).toBe(false);
    expect(outcome.text).toContain("new fail: xep0280.copies on prosody");
  });

  it("diff compares target by target and lists servers only in one report", () => {
    const before = report([target("prosody", DECIDED), target("ejabberd", DECIDED), target("gone")]);
    const d = diffReports(before, two);
    expect(d.regressions).toContainEqual({ target: "ejabberd", kind: "check", id: "xep0280.copies", old: "pass", new: "fail" });
    expect(d.regressions.every((r) => r.target === "ejabberd")).toBe(true);
    expect(d.removed).toContainEqual({ target: "gone", kind: "target", id: "gone", verdict: "-" });
  });
});
