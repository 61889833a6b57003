import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Element } from "@xmpp/xml";
import parse from "@xmpp/xml/lib/parse.js";
import { describe, expect, it } from "vitest";
import { badgeFiles, readReportFile, ReportFileError } from "../../src/cli/report-outputs.js";
import { main } from "../../src/cli/program.js";
import { categoryStandings, renderBadges, renderBadgeSheet } from "../../src/report/badge.js";
import { renderJunit } from "../../src/report/junit.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { reportProblems } from "../../src/report/schema.js";
import type { CheckResult, Report, TargetReport } from "../../src/report/types.js";
import type { CategoryLevelScore } from "../../src/scoring/score.js";

/** A real Prosody 13 run (trimmed: a few specs, transcripts cut to 4 entries). */
const FIXTURE = new URL("../fixtures/report-prosody.json", import.meta.url).pathname;
const fixture = (): Report => JSON.parse(readFileSync(FIXTURE, "utf8")) as Report;

const children = (el: Element, name: string) => el.getChildElements().filter((c) => c.name === name);
const T = (r: Report): TargetReport => r.targets[0]!;
const check = (r: Report, id: string) => T(r).checks.find((c) => c.id === id)!;

/** The fixture with some verdicts changed, to cover every verdict. */
function varied(): Report {
  const r = fixture();
  const warn = check(r, "xep0030.server-info");
  warn.verdict = "warn";
  const error = check(r, "xep0280.copies");
  error.verdict = "error";
  error.summary = "timed out after 10 s waiting for the carbon";
  return r;
}

// The XSD pattern of JUnit timestamps (ISO 8601 without zone).
const XSD_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

describe("fixture", () => {
  it("is a valid report holding fail, na, skip and pass verdicts and no password", () => {
    const r = fixture();
    expect(reportProblems(r)).toEqual([]);
    const verdicts = new Set(T(r).checks.map((c) => c.verdict));
    for (const v of ["pass", "fail", "na", "skip"]) expect(verdicts.has(v as CheckResult["verdict"]), v).toBe(true);
    expect(readFileSync(FIXTURE, "utf8")).not.toMatch(/password"\s*:/i);
  });
});

describe("JUnit XML", () => {
  const report = varied();
  const root = parse(renderJunit(report));
  const suites = children(root, "testsuite");

  it("has a testsuite per spec and a testcase per check, named as CI shows them", () => {
    expect(root.name).toBe("testsuites");
    const docs = [...new Set(T(report).checks.map((c) => c.spec.doc))];
    expect(suites.map((s) => s.attrs.name).sort()).toEqual([...docs].sort());
    const cases = suites.flatMap((s) => children(s, "testcase"));
    expect(cases).toHaveLength(T(report).checks.length);
    for (const s of suites) {
      for (const tc of children(s, "testcase")) {
        expect(tc.attrs.classname).toBe(s.attrs.name);
        const c = T(report).checks.find((x) => tc.attrs.name === `${x.id}: ${x.title}`);
        expect(c, tc.attrs.name).toBeDefined();
        expect(c!.spec.doc).toBe(s.attrs.name);
      }
    }
    const xep0313 = suites.find((s) => s.attrs.name === "XEP-0313")!;
    expect(children(xep0313, "testcase").map((t) => t.attrs.name)).toContain(`xep0313.account-query: ${check(report, "xep0313.account-query").title}`);
  });

  it("carries the attributes the JUnit XSD requires, with counts that match the testcases", () => {
    let totals = { tests: 0, failures: 0, errors: 0, skipped: 0 };
    for (const s of suites) {
      for (const a of ["name", "tests", "failures", "errors", "skipped", "time", "timestamp", "hostname", "id", "package"]) {
        expect(s.attrs[a], `${s.attrs.name} @${a}`).toBeDefined();
      }
      expect(s.attrs.timestamp).toMatch(XSD_TIMESTAMP);
      expect(Number(s.attrs.time)).toBeGreaterThanOrEqual(0);
      const cases = children(s, "testcase");
      const withChild = (n: string) => cases.filter((c) => children(c, n).length > 0).length;
      expect(Number(s.attrs.tests), s.attrs.name).toBe(cases.length);
      expect(Number(s.attrs.failures), s.attrs.name).toBe(withChild("failure"));
      expect(Number(s.attrs.errors), s.attrs.name).toBe(withChild("error"));
      expect(Number(s.attrs.skipped), s.attrs.name).toBe(withChild("skipped"));
      for (const tc of cases) {
        for (const a of ["name", "classname", "time"]) expect(tc.attrs[a]).toBeDefined();
        expect(tc.attrs.time).toMatch(/^\d+\.\d{3}$/);
        // At most one outcome element per testcase.
        expect(["failure", "error", "skipped"].filter((n) => children(tc, n).length).length).toBeLessThanOrEqual(1);
      }
      totals = {
        tests: totals.tests + cases.length,
        failures: totals.failures + withChild("failure"),
        errors: totals.errors + withChild("error"),
        skipped: totals.skipped + withChild("skipped"),
      };
    }
    expect(totals).toEqual({
      tests: T(report).checks.length,
      failures: T(report).checks.filter((c) => c.verdict === "fail").length,
      errors: T(report).checks.filter((c) => c.verdict === "error").length,
      skipped: T(report).checks.filter((c) => c.verdict === "skip" || c.verdict === "na").length,
    });
    expect(totals.failures).toBe(2);
    expect(totals.errors).toBe(1);
    expect({
      tests: Number(root.attrs.tests),
      failures: Number(root.attrs.failures),
      errors: Number(root.attrs.errors),
      skipped: Number(root.attrs.skipped),
    }).toEqual(totals);
    expect(root.attrs.time).toBe((report.durationMs / 1000).toFixed(3));
  });

  const testcase = (id: string) =>
    suites.flatMap((s) => children(s, "testcase")).find((t) => t.attrs.name!.startsWith(`${id}: `))!;
  const props = (el: Element) =>
    Object.fromEntries(el.getChild("properties")!.getChildren("property").map((p) => [p.attrs.name, p.attrs.value]));

  it("fail → <failure> with the summary as message and requirement, expected, actual in the body", () => {
    const c = check(report, "xep0359.forged-stanza-id-removed");
    const failure = testcase(c.id).getChild("failure")!;
    expect(failure.attrs.message).toBe(c.summary);
    const body = failure.text();
    expect(body).toContain(c.requirement);
    const ea = c.evidence.find((e) => e.type === "expectedActual")!;
    if (ea.type !== "expectedActual") throw new Error("no expected/actual");
    expect(body).toContain(`expected: ${ea.expected}`);
    expect(body).toContain(`actual:   ${ea.actual}`);
    expect(body).toContain(c.spec.url);
    // The transcript goes along as system-out.
    expect(testcase(c.id).getChildText("system-out")).toContain("->");
    expect(props(testcase(c.id))).toMatchObject({ spec: `XEP-0359 §${c.spec.section}`, level: c.level, verdict: "fail" });
  });

  it("error → <error>; skip and na → <skipped message>; warn → passed with a verdict property", () => {
    expect(testcase("xep0280.copies").getChild("error")!.attrs.message).toBe("timed out after 10 s waiting for the carbon");
    const na = T(report).checks.find((c) => c.verdict === "na")!;
    const skip = T(report).checks.find((c) => c.verdict === "skip")!;
    expect(testcase(na.id).getChild("skipped")!.attrs.message).toContain(na.summary.replace(/^not offered: /, ""));
    expect(testcase(skip.id).getChild("skipped")!.attrs.message).toBe(skip.summary);
    const warn = testcase("xep0030.server-info");
    expect(warn.getChildElements().map((e) => e.name)).toEqual(["properties"]);
    expect(props(warn).verdict).toBe("warn");
    const pass = testcase("xep0313.account-query");
    expect(pass.getChildElements().map((e) => e.name)).toEqual(["properties"]);
    expect(props(pass).verdict).toBe("pass");
  });

  it("puts spec and level on the suite as properties", () => {
    const s = suites.find((x) => x.attrs.name === "XEP-0313")!;
    const p = Object.fromEntries(s.getChild("properties")!.getChildren("property").map((x) => [x.attrs.name, x.attrs.value]));
    expect(p.spec).toBe("XEP-0313");
    expect(p.level).toContain("MUST");
    expect(p.verdict).toBe(T(report).specs["XEP-0313"]!.verdict);
  });

  it("escapes markup, quotes and characters XML cannot carry", () => {
    const r = fixture();
    const c = check(r, "xep0359.forged-stanza-id-removed");
    c.title = `a <b> & "c" 'd' ]]> e\u0001`;
    c.summary = `line one\nline "two" <x/>`;
    const xml = renderJunit(r);
    const el = parse(xml);
    const tc = children(el, "testsuite").flatMap((s) => children(s, "testcase")).find((t) => t.attrs.name!.startsWith(c.id))!;
    expect(tc.attrs.name).toBe(`${c.id}: a <b> & "c" 'd' ]]> e\uFFFD`);
    expect(tc.getChild("failure")!.attrs.message).toBe(`line one\nline "two" <x/>`);
    expect(xml).not.toContain("\u0001");
  });

  it("reports a run that could not log in as an error testcase", () => {
    const r = fixture();
    T(r).checks = [];
    T(r).specs = {};
    T(r).errors = [{ step: "sasl", kind: "auth", message: "not-authorized: <bad> password", condition: "not-authorized" }];
    const el = parse(renderJunit(r));
    expect(el.attrs).toMatchObject({ tests: "1", errors: "1", failures: "0" });
    const tc = children(children(el, "testsuite")[0]!, "testcase")[0]!;
    expect(tc.getChild("error")!.attrs.message).toBe("not-authorized: <bad> password");
  });
});

/** Sets a suite's cells: category → [core status, advanced status]. */
function withCells(r: Report, cells: Record<string, [CategoryLevelScore["status"], CategoryLevelScore["status"]]>): Report {
  for (const res of T(r).suites[0]!.results) {
    const s = cells[res.category];
    if (!s) continue;
    res.status = res.level === "core" ? s[0] : s[1];
    res.compliant = res.status === "compliant";
    if (res.status === "not-compliant") res.failing = [`${res.category}.something.xep0000`];
  }
  return r;
}

describe("Markdown summary", () => {
  it("shows the server, the category × level table, the failing checks and the counts", () => {
    const r = withCells(varied(), { im: ["compliant", "not-compliant"] });
    const md = renderMarkdown(r);
    expect(md).toMatch(/^## xepcheck: prosody\.test \(Prosody 13\.0\.1\)/);
    expect(md).toContain("| Category | Core | Advanced |");
    expect(md).toContain("| IM | ✅ compliant | ❌ not compliant |");
    expect(md).toContain("| Core | ❔ undetermined | ❔ undetermined |");
    expect(md).toContain("`im.something.xep0000`");
    const n = (v: string) => T(r).checks.filter((c) => c.verdict === v).length;
    expect(md).toContain(`**${T(r).checks.length} checks:** ${n("pass")} pass · 1 warn · 2 fail · ${n("na")} na · ${n("skip")} skip · 1 error`);
    const failed = check(r, "xep0359.forged-stanza-id-removed");
    const section = md.slice(md.indexOf("### Failing checks"));
    expect(section).toContain("`xep0359.forged-stanza-id-removed`");
    expect(section).toContain("MUST delete that element even if they are not adding their own stanza ID");
    expect(section).toContain(`](${failed.spec.url})`);
    expect(section).toContain("- expected: `the forged <stanza-id by='alice@prosody.test' id='forged-50e4e46c'/> removed`");
    expect(section).toMatch(/- actual: `<message /);
    expect(section).toContain("`xep0280.copies`"); // errors are listed too
    expect(section.slice(0, section.indexOf("<details>"))).not.toContain("`xep0313.account-query`");
  });

  it("after a failed login, names the problem first and lists the not-run checks once", () => {
    const r = fixture();
    for (const c of T(r).checks) {
      c.verdict = "error";
      c.summary = "not run: cannot connect to 127.0.0.1:5222";
    }
    T(r).errors = [{ step: "tcp-connect", kind: "network", message: "cannot connect to 127.0.0.1:5222" }];
    const md = renderMarkdown(r);
    expect(md.indexOf("### Problems of the run")).toBeGreaterThan(0);
    expect(md.indexOf("### Problems of the run")).toBeLessThan(md.indexOf("### Failing checks"));
    expect(md).toContain(`#### 💥 error: ${T(r).checks.length} checks — not run: cannot connect to 127.0.0.1:5222`);
    expect(md.match(/^#### /gm)).toHaveLength(1);
  });

  it("keeps table rows intact and markup inert when texts contain | and <", () => {
    const r = fixture();
    T(r).target.software = { name: "Evil | <script>alert(1)</script>", version: "1" };
    const md = renderMarkdown(r);
    expect(md).not.toContain("<script>");
    expect(md).toContain("Evil \\| &lt;script&gt;");
    // Every row of the spec table has the header's 5 cells.
    const rows = md.split("\n").filter((l) => l.startsWith("| ") && l.includes("`"));
    for (const row of rows.filter((l) => /^\| (RFC|XEP)/.test(l))) expect(row.split(/(?<!\\)\|/).length - 2, row).toBe(5);
  });
});

describe("SVG badges", () => {
  it("gives per category the highest level reached, else not compliant or undetermined", () => {
    const r = withCells(fixture(), {
      core: ["compliant", "compliant"],
      im: ["compliant", "not-compliant"],
      web: ["not-compliant", "not-compliant"],
      mobile: ["undetermined", "not-compliant"],
    });
    const byCategory = Object.fromEntries(categoryStandings(T(r).suites[0]!).map((s) => [s.category, s]));
    expect(byCategory.core).toMatchObject({ level: "advanced", status: "compliant" });
    expect(byCategory.im).toMatchObject({ level: "core", status: "compliant" });
    expect(byCategory.web).toMatchObject({ status: "not-compliant" });
    expect(byCategory.web!.level).toBeUndefined();
    expect(byCategory.mobile).toMatchObject({ status: "undetermined" });
    const badges = Object.fromEntries(renderBadges(T(r)).map((b) => [b.category, b]));
    expect([badges.core!.label, badges.core!.message]).toEqual(["XMPP CS2023 · Core", "Advanced"]);
    expect([badges.im!.label, badges.im!.message]).toEqual(["XMPP CS2023 · IM", "Core"]);
    expect(badges.web!.message).toBe("not compliant");
    expect(badges.mobile!.message).toBe("undetermined");
    expect(badges.av!.label).toBe("XMPP CS2023 · A/V Calling");
    expect(badges.core!.color).not.toBe(badges.web!.color);
  });

  it("is valid, self-contained SVG with the text escaped", () => {
    const r = withCells(fixture(), { im: ["compliant", "compliant"] });
    T(r).target.domain = `a<b>&"c".example`;
    for (const svg of [...renderBadges(T(r)).map((b) => b.svg), renderBadgeSheet(T(r))]) {
      const el = parse(svg);
      expect(el.name).toBe("svg");
      expect(el.attrs.xmlns).toBe("http://www.w3.org/2000/svg");
      expect(Number(el.attrs.width)).toBeGreaterThan(0);
      expect(el.getChildText("title")).toContain(`a<b>&"c".example`);
      expect(svg).not.toMatch(/href|url\(|@import|<script|<image|<foreignObject/i);
    }
    const im = parse(renderBadges(T(r)).find((b) => b.category === "im")!.svg);
    const texts: string[] = [];
    const walk = (e: Element) => {
      if (e.name === "text") texts.push(e.text());
      e.getChildElements().forEach(walk);
    };
    walk(im);
    expect(texts).toEqual(["XMPP CS2023 · IM", "Advanced"]);
    const sheet = parse(renderBadgeSheet(T(r)));
    expect(sheet.getChildElements().filter((e) => e.name === "g")).toHaveLength(5);
  });

  it("names one file per category with {category}, else one sheet", () => {
    const r = fixture();
    expect(badgeFiles(r, "out/b-{category}.svg").map((f) => f.file)).toEqual(
      ["core", "web", "im", "mobile", "av"].map((c) => `out/b-${c}.svg`),
    );
    expect(badgeFiles(r, "badge.svg")).toHaveLength(1);
    T(r).suites.push({ ...T(r).suites[0]!, suite: "other" });
    expect(() => badgeFiles(r, "b-{category}.svg")).toThrow(/\{suite\}/);
  });
});

describe("xepcheck report", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "xepcheck-reporters-"));

  it("re-renders a saved report into JUnit, Markdown and badges", async () => {
    const junit = path.join(dir, "j.xml");
    const md = path.join(dir, "s.md");
    const code = await main(["node", "xepcheck", "report", FIXTURE, "--junit", junit, "--markdown", md, "--badge", path.join(dir, "b-{category}.svg")]);
    expect(code).toBe(0);
    expect(readFileSync(junit, "utf8")).toBe(renderJunit(fixture()));
    expect(readFileSync(md, "utf8")).toBe(renderMarkdown(fixture()));
    expect(readdirSync(dir).filter((f) => f.startsWith("b-")).sort()).toEqual(["b-av.svg", "b-core.svg", "b-im.svg", "b-mobile.svg", "b-web.svg"]);
  });

  it("rejects a newer or invalid report as a usage error naming the problem", async () => {
    const newer = path.join(dir, "newer.json");
    writeFileSync(newer, JSON.stringify({ ...fixture(), reportVersion: 3 }));
    expect(() => readReportFile(newer)).toThrow(/version 3 report, newer than this xepcheck understands/);
    const broken = fixture() as unknown as { targets: { checks: { verdict: string }[] }[] };
    broken.targets[0]!.checks[0]!.verdict = "maybe";
    const invalid = path.join(dir, "invalid.json");
    writeFileSync(invalid, JSON.stringify(broken));
    expect(() => readReportFile(invalid)).toThrow(ReportFileError);
    expect(() => readReportFile(invalid)).toThrow(/\/targets\/0\/checks\/0\/verdict/);
    const out = path.join(dir, "never.xml");
    expect(await main(["node", "xepcheck", "report", newer, "--junit", out])).toBe(2);
    expect(await main(["node", "xepcheck", "report", invalid, "--junit", out])).toBe(2);
    expect(await main(["node", "xepcheck", "report", path.join(dir, "missing.json")])).toBe(2);
    expect(readdirSync(dir)).not.toContain("never.xml");
  });
});
