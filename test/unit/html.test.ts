/**
 * The single-file HTML report on the real Prosody fixture: escaping,
 * anchors, self-containment (no script, nothing fetched), dark mode, the
 * many-servers matrix, run problems, and the remediation hints and their
 * data. The page as a browser shows it: test/integration/html.test.ts.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ALL_CHECKS } from "../../src/checks/index.js";
import { renderHtml } from "../../src/report/html.js";
import { anchor, targetIds } from "../../src/report/html/markup.js";
import { matrixGroups } from "../../src/report/html/matrix.js";
import { checkHints, loadRemediation, parseRemediation, RemediationError, softwareOf, specHints } from "../../src/report/remediation.js";
import type { CheckResult, Report, TargetReport } from "../../src/report/types.js";
import { upgradeReport } from "../../src/report/upgrade.js";

/** A real Prosody 13 run (trimmed), upgraded should it still be a version 1 report. */
const FIXTURE = new URL("../fixtures/report-prosody.json", import.meta.url).pathname;
const fixture = (): Report => upgradeReport(JSON.parse(readFileSync(FIXTURE, "utf8"))) as Report;

const HOSTILE = `<script>alert("x")</script> & 'quoted' "double"`;

const ids = (html: string) => [...html.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1]!);
const hrefs = (html: string) => [...html.matchAll(/\shref="#([^"]*)"/g)].map((m) => m[1]!);
const check = (t: TargetReport, id: string) => t.checks.find((c) => c.id === id)!;

/**
 * Two servers: the fixture, and a copy as ejabberd with --insecure, a run
 * problem, an unknown evidence type and hostile text wherever text goes.
 */
function twoServers(): Report {
  const r = fixture();
  const second: TargetReport = structuredClone(r.targets[0]!);
  second.name = `ejabberd "lab" <2>`;
  second.target.domain = "ejabberd.test";
  second.target.software = { name: "ejabberd", version: "24.12" };
  second.settings.insecure = true;
  second.outcome = "interrupted";
  second.errors = [{ step: "cleanup", kind: "timeout", message: `room ${HOSTILE} not destroyed` }];
  // A summary shows where no expected/actual repeats it.
  check(second, "xep0313.account-query").summary = `summary ${HOSTILE}`;
  const forged = check(second, "xep0359.forged-stanza-id-removed");
  forged.title = `title ${HOSTILE}`;
  forged.evidence.push({ type: "note", text: `note ${HOSTILE}` });
  forged.evidence.push({ type: "table", title: `table ${HOSTILE}`, columns: ["col <th>"], rows: [[`cell ${HOSTILE}`]] });
  forged.evidence.push({ type: "screenshot", path: "/x.png" } as unknown as CheckResult["evidence"][number]);
  return { ...r, targets: [...r.targets, second] };
}

describe("HTML report of one server", () => {
  const report = fixture();
  const t = report.targets[0]!;
  const html = renderHtml(report);
  const id = targetIds([t.name])[0]!;

  it("is one self-contained document: no script, nothing fetched, a policy that forbids both", () => {
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|<embed|<base/i);
    expect(html).not.toMatch(/\s(src|srcset|poster)\s*=/i);
    expect(html).not.toMatch(/url\(|@import/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline';`);
    // An absolute URL is only ever a link to follow (specs, the servers' documentation) or text (transcripts).
    const attributes = [...html.matchAll(/\s([a-z-]+)="https?:/gi)].map((m) => m[1]);
    expect(new Set(attributes)).toEqual(new Set(["href"]));
    expect(html.match(/href="https?:/g)!.length).toBeGreaterThan(10);
  });

  it("follows the reader's dark mode and fits a phone", () => {
    expect(html).toContain("@media (prefers-color-scheme: dark)");
    expect(html).toContain(`<meta name="color-scheme" content="light dark">`);
    expect(html).toContain(`<meta name="viewport" content="width=device-width, initial-scale=1">`);
    expect(html).toMatch(/@media \(max-width: 600px\)/);
  });

  it("has no matrix for a single server, but every spec with advertised and works and every check with its anchor", () => {
    expect(html).not.toContain(`id="xc-matrix"`);
    for (const [doc, s] of Object.entries(t.specs)) {
      const section = html.slice(html.indexOf(`<section class="spec" id="${anchor(id, doc)}"`));
      expect(section.length, doc).toBeLessThan(html.length);
      expect(section).toContain(`advertised: ${s.advertised === null ? "–" : s.advertised ? "yes" : "no"} · works: ${s.works === null ? "–" : s.works ? "yes" : "no"}`);
    }
    for (const c of t.checks) expect(html, c.id).toContain(`id="${anchor(id, c.id)}"`);
    expect(anchor("prosody.test", "XEP-0313")).toBe("prosody.test-xep-0313");
    expect(anchor("prosody.test", "xep0313.account-query")).toBe("prosody.test-xep0313.account-query");
  });

  it("groups an RFC's checks under a heading per section, each with its verdicts counted, in the RFC's order", () => {
    const r = fixture();
    const target = r.targets[0]!;
    const base = check(target, "rfc6120.bind-full-jid");
    const at = (id: string, section: string, verdict: CheckResult["verdict"]): CheckResult => ({ ...base, id, verdict, spec: { ...base.spec, section } });
    target.checks = [...target.checks.filter((c) => c.spec.doc !== "RFC 6120"), at("rfc6120.11.5.c", "11.5", "warn"), at("rfc6120.4.1.a", "4.1", "pass"), at("rfc6120.4.7.3.b", "4.7.3", "fail")];
    const out = renderHtml(r);
    const section = out.slice(out.indexOf(`<section class="spec" id="${anchor(id, "RFC 6120")}"`));
    const headings = [...section.slice(0, section.indexOf("</section>")).matchAll(/<h5 class="section">([^<]*)<span class="muted">\(([^)]*)\)/g)].map((m) => `${m[1]!.trim()}: ${m[2]}`);
    expect(headings).toEqual(["§4 XML streams: 1 pass, 1 fail", "§11 XML usage: 1 warn"]);
    // A spec whose checks share one section gets no headings.
    expect(html.slice(html.indexOf(`id="${anchor(id, "XEP-0313")}"`)).split("</section>")[0]).not.toContain(`class="section"`);
  });

  it("shows a failing check open: requirement quoted and linked to its section, expected and actual, transcript collapsed", () => {
    const c = check(t, "xep0359.forged-stanza-id-removed");
    const start = html.indexOf(`<details class="check c-fail" id="${anchor(id, c.id)}" open>`);
    expect(start).toBeGreaterThan(0);
    const body = html.slice(start, html.indexOf("</details></div></details>", start));
    expect(body).toContain(`<a href="${c.spec.url}">XEP-0359 §${c.spec.section}</a>`);
    const ea = c.evidence.find((e) => e.type === "expectedActual")!;
    if (ea.type !== "expectedActual") throw new Error("fixture lost its expected/actual");
    const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
    expect(body).toContain(`“${xml(c.requirement)}”`);
    expect(body).toContain(`<dt>Expected</dt><dd class="expected"><pre>${xml(ea.expected)}</pre>`);
    expect(body).toContain(`<dt>Actual</dt><dd class="actual"><pre>${xml(ea.actual)}</pre>`);
    // The transcript is XML: escaped, inside a <details> that is not open.
    expect(body).toMatch(/<details class="ev transcript"><summary>Transcript/);
    expect(body).toContain("&lt;message to=&quot;alice@prosody.test/");
    expect(body).not.toContain("<message");
    // Passing checks start closed.
    const pass = t.checks.find((x) => x.verdict === "pass")!;
    expect(html).toContain(`<details class="check c-pass" id="${anchor(id, pass.id)}">`);
  });

  it("scores the suite as a category × level table naming what is not determined", () => {
    const suite = t.suites[0]!;
    expect(html).toContain(`<h4>${suite.title}</h4>`);
    expect(html).toMatch(/<th scope="col">Category<\/th><th scope="col">Core<\/th><th scope="col">Advanced<\/th>/);
    expect(html).toMatch(/<tr><th scope="row">IM<\/th><td><span class="v s-/);
    const undetermined = suite.results.flatMap((r) => r.undetermined);
    expect(undetermined.length).toBeGreaterThan(0);
    expect(html).toContain("Not determined (keeps the level from being claimed)");
  });

  it("gives the Prosody hint where a module is missing, and none where the spec passes or is advertised", () => {
    const hint = loadRemediation().hints["XEP-0156"]!.prosody!;
    expect(t.specs["XEP-0156"]).toMatchObject({ verdict: "na", advertised: false });
    const section = html.slice(html.indexOf(`id="${anchor(id, "XEP-0156")}"`), html.indexOf(`id="${anchor(id, "XEP-0191")}"`));
    expect(section).toContain(`<strong>Prosody</strong>: ${hint.text.replace(/"/g, "&quot;").replace(/'/g, "&apos;").replace(/</g, "&lt;").replace(/>/g, "&gt;")}`);
    expect(section).toContain(`<a href="${hint.docs}">Documentation</a>`);
    expect(section).not.toContain("<strong>ejabberd</strong>");
    // XEP-0313 passes, XEP-0359 fails while advertised (a bug, not a missing module): no hint.
    const mam = html.slice(html.indexOf(`id="${anchor(id, "XEP-0313")}"`), html.indexOf(`id="${anchor(id, "XEP-0359")}"`));
    expect(mam).not.toContain(`class="fix"`);
    expect(t.specs["XEP-0359"]).toMatchObject({ verdict: "fail", advertised: true });
    const sid = html.slice(html.indexOf(`id="${anchor(id, "XEP-0359")}"`), html.indexOf(`id="${anchor(id, "XEP-0369")}"`));
    expect(sid).not.toContain(`class="fix"`);
  });
});

describe("HTML report of two servers", () => {
  const report = twoServers();
  const html = renderHtml(report);
  const [first, second] = report.targets as [TargetReport, TargetReport];
  const [firstId, secondId] = targetIds(report.targets.map((t) => t.name)) as [string, string];

  it("escapes everything it shows: names, summaries, notes, tables, transcripts, run problems", () => {
    expect(html).not.toContain("<script");
    expect(html).not.toContain(HOSTILE);
    const escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;quoted&apos; &quot;double&quot;";
    for (const where of ["summary ", "title ", "note ", "table ", "cell ", "room "]) expect(html, where).toContain(where + escaped);
    expect(html).toContain("ejabberd &quot;lab&quot; &lt;2&gt;");
    expect(html).toContain("<th scope=\"col\">col &lt;th&gt;</th>");
    expect(secondId).toBe("ejabberd-lab-2");
  });

  it("links every anchor to an element that exists, with unique ids", () => {
    const all = ids(html);
    expect(new Set(all).size).toBe(all.length);
    const known = new Set(all);
    const links = hrefs(html);
    expect(links.length).toBeGreaterThan(40);
    for (const h of links) expect(known.has(h), h).toBe(true);
  });

  it("opens on the matrix: specs grouped by suite category, a column per server with software, levels and --insecure", () => {
    const matrix = html.slice(html.indexOf(`<section id="xc-matrix">`), html.indexOf("</section>", html.indexOf(`<section id="xc-matrix">`)));
    expect(html.indexOf(`id="xc-matrix"`)).toBeLessThan(html.indexOf(`<section class="target"`));
    const groups = matrixGroups(report.targets);
    // The fixture has no Mobile spec (XEP-0198, which IM lists first, would be shown under IM).
    expect(groups.map((g) => g.title)).toEqual(["Core", "Web", "IM", "Other specs"]);
    expect(groups.find((g) => g.title === "IM")!.rows.map((r) => r.doc)).toContain("XEP-0313");
    expect(groups.at(-1)!.rows.map((r) => r.doc)).toEqual(["XEP-0156", "XEP-0359", "XEP-0369", "XEP-0386"]);
    for (const g of groups) expect(matrix).toContain(`<th colspan="3" scope="rowgroup"><span>${g.title}</span></th>`);
    expect(matrix).toMatch(/<th scope="col" class="server"><a href="#prosody\.test">prosody\.<wbr>test<\/a><span class="sw">Prosody 13\.0\.1<\/span><ul class="levels">/);
    expect(matrix).toContain(`<a href="#${secondId}">ejabberd &quot;lab&quot; &lt;2&gt;</a><span class="sw">ejabberd 24.12</span><span class="flag flag-fail">interrupted</span><span class="flag flag-warn">TLS not verified (--insecure)</span>`);
    expect(matrix).toContain("<li>IM: <span class=\"v s-undetermined\">? undetermined</span></li>");
    // A row per spec, a cell per server linking to that server's evidence for the spec.
    for (const doc of Object.keys(first.specs)) {
      const row = matrix.slice(matrix.indexOf(`<th scope="row" class="spec">${doc}`));
      const cells = row.slice(0, row.indexOf("</tr>"));
      expect(cells, doc).toContain(`<a href="#${anchor(firstId, doc)}"`);
      expect(cells, doc).toContain(`<a href="#${anchor(secondId, doc)}"`);
      expect(cells).toContain(`<span class="v v-${first.specs[doc]!.verdict}">`);
    }
    expect(matrix).toContain(`<span class="name">Message Archive Management</span>`);
  });

  it("shows --insecure, the outcome and the run's problems prominently", () => {
    const top = html.slice(0, html.indexOf("<main>"));
    expect(top).toContain("TLS certificate NOT verified (--insecure).");
    expect(top).toContain("ejabberd &quot;lab&quot; &lt;2&gt;.</div>");
    const section = html.slice(html.indexOf(`<section class="target" id="${secondId}">`));
    expect(section).toContain(`<div class="banner banner-fail" role="alert"><strong>Interrupted.</strong>`);
    expect(section).toContain(`<div class="banner banner-warn" role="alert"><strong>TLS certificate NOT verified (--insecure).</strong>`);
    expect(section).toContain(`<div class="problems"><h3>Problems of the run</h3><ul><li><strong>cleanup</strong> (timeout): room `);
    const firstSection = html.slice(html.indexOf(`<section class="target" id="${firstId}">`), html.indexOf(`<section class="target" id="${secondId}">`));
    expect(firstSection).not.toContain("banner");
    expect(second.settings.insecure && !first.settings.insecure).toBe(true);
  });

  it("shows an evidence type it does not know plainly, as JSON", () => {
    expect(html).toContain(`<p class="muted">Evidence of type screenshot:</p><pre>{\n  &quot;type&quot;: &quot;screenshot&quot;,\n  &quot;path&quot;: &quot;/x.png&quot;\n}</pre>`);
  });

  it("names ejabberd's module for ejabberd and Prosody's for Prosody", () => {
    const hints = loadRemediation().hints["XEP-0156"]!;
    const section = html.slice(html.indexOf(`id="${anchor(secondId, "XEP-0156")}"`));
    expect(section.slice(0, section.indexOf("</section>"))).toContain(`<a href="${hints.ejabberd!.docs}">Documentation</a>`);
    expect(section.slice(0, section.indexOf("</section>"))).not.toContain(hints.prosody!.docs);
  });

  it("gives targets unique ids that never take the report's own", () => {
    expect(targetIds(["a b", "a-b", "A B", "xc-matrix", "", "服务器"])).toEqual(["a-b", "a-b-2", "a-b-3", "t-xc-matrix", "target-5", "服务器"]);
  });
});

describe("remediation hints", () => {
  const data = loadRemediation();

  it("name a spec or check xepcheck has, each with the software's documentation over https", () => {
    const docs = new Set(ALL_CHECKS.map((c) => c.spec.doc));
    const checkIds = new Set(ALL_CHECKS.map((c) => c.id));
    const keys = Object.keys(data.hints);
    expect(keys.length).toBeGreaterThan(30);
    for (const key of keys) expect(docs.has(key) || checkIds.has(key), key).toBe(true);
    for (const bySoftware of Object.values(data.hints)) {
      for (const hint of Object.values(bySoftware)) expect(hint!.docs).toMatch(/^https:\/\/[a-z0-9.-]+\//);
    }
  });

  it("apply to the software that answered, and to all when it did not say", () => {
    expect(softwareOf("Prosody")).toBe("prosody");
    expect(softwareOf("ejabberd")).toBe("ejabberd");
    expect(softwareOf("Tigase XMPP Server")).toBe("tigase");
    expect(softwareOf("MongooseIM")).toBe("mongooseim");
    expect(softwareOf("Openfire")).toBe("openfire");
    expect(softwareOf("Snikket")).toBeUndefined();
    expect(softwareOf(undefined)).toBeUndefined();
    const notOffered = { advertised: false, works: null, verdict: "na" as const };
    expect(specHints(data, "XEP-0313", notOffered, "prosody").map(([s]) => s)).toEqual(["prosody"]);
    expect(specHints(data, "XEP-0313", notOffered, undefined).map(([s]) => s)).toEqual(["prosody", "ejabberd", "openfire", "tigase", "mongooseim"]);
    // Advertised, passing, or not determined: no hint.
    expect(specHints(data, "XEP-0313", { ...notOffered, advertised: true, verdict: "fail" }, "prosody")).toEqual([]);
    expect(specHints(data, "XEP-0313", { ...notOffered, verdict: "pass" }, "prosody")).toEqual([]);
    expect(specHints(data, "XEP-0313", { ...notOffered, verdict: "skip" }, "prosody")).toEqual([]);
    // Works but not advertised (ejabberd's private XML storage): the module is there.
    expect(specHints(data, "XEP-0049", { advertised: false, works: true, verdict: "warn" }, "ejabberd")).toEqual([]);
    const muc = { id: "xep0313.muc-archive", verdict: "na" } as CheckResult;
    expect(checkHints(data, muc, "ejabberd")[0]![1].text).toContain("default_room_options");
    expect(checkHints(data, { ...muc, verdict: "pass" }, "ejabberd")).toEqual([]);
    expect(checkHints(data, { ...muc, verdict: "error" }, "ejabberd")).toEqual([]);
    expect(checkHints(data, { ...muc, verdict: "warn", works: true }, "ejabberd")).toEqual([]);
  });

  it("are validated: a broken file is an error naming what is wrong", () => {
    expect(() => parseRemediation({ remediationVersion: 1, hints: { "XEP-0313": { prosody: { text: "x", docs: "http://insecure" } } } }, "test.json")).toThrow(
      /remediation hints test\.json are invalid: \/hints\/XEP-0313\/prosody\/docs must match pattern/,
    );
    expect(() => parseRemediation({ remediationVersion: 1, hints: { "XEP-0313": { openfyre: { text: "x", docs: "https://x/" } } } }, "t")).toThrow(RemediationError);
    expect(() => parseRemediation({ remediationVersion: 1, hints: { "mam stuff": {} } }, "t")).toThrow(/property name must be valid/);
  });
});
