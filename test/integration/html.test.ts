/**
 * The HTML report of a real two-server run (Prosody 13 and ejabberd 24.12,
 * one `xepcheck run --targets` with live scenarios, HTML written by the CLI) as Chromium shows it,
 * with JavaScript off: the matrix with a column per server and a verdict in
 * every cell, a failing check of each server reached from its cell with the
 * requirement, expected and actual visible and the transcript opening, a
 * phone-width layout that does not overflow, dark mode, and no request
 * leaving the file. Screenshots go to test-results/html/.
 *
 * Chromium is Debian's (/usr/bin/chromium, driven by playwright-core), never
 * a downloaded browser.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { anchor, targetIds } from "../../src/report/html/markup.js";
import type { Report, TargetReport } from "../../src/report/types.js";
import { runCli } from "../cli.js";
import type { ServerInfo } from "../servers/harness.js";

const servers = inject("servers");
const CHROMIUM = "/usr/bin/chromium";
const OUT = path.resolve("test-results/html");
const tmp = path.join(os.tmpdir(), `xepcheck-html-${process.pid}`);

/** Known failures of the harness servers (see scenarios-muc.test.ts): one per server, reached from its matrix cell. */
const FAILING = {
  prosody: { spec: "XEP-0359", check: "xep0359.forged-stanza-id-removed", expected: "forged <stanza-id", actual: "forged-" },
  ejabberd: { spec: "XEP-0045", check: "xep0045.locked-until-configured", expected: "the locked room refuses entry", actual: "entered the unconfigured room" },
} as const;

const VERDICT_TEXT = { pass: "✓ pass", warn: "! warn", fail: "✗ fail", na: "– n/a", skip: "↷ skip", error: "? error" } as const;

/** Both servers in one targets file: one run, one combined report, the HTML written by the CLI. */
async function runBoth(html: string, json: string): Promise<void> {
  const entry = (s: ServerInfo) => ({
    name: s.domain,
    jid: s.accounts[0]!.jid,
    passwordEnv: `PW_${s.kind.toUpperCase()}_0`,
    peer: { jid: s.accounts[1]!.jid, passwordEnv: `PW_${s.kind.toUpperCase()}_1` },
    host: "127.0.0.1",
    port: s.ports.c2s,
    ca: s.caFile,
    directTlsPort: s.ports.directTls,
    component: { domain: s.component.domain, port: s.ports.component, secretEnv: `COMPONENT_${s.kind.toUpperCase()}` },
  });
  const both = [servers.prosody!, servers.ejabberd!];
  const targets = path.join(tmp, "targets.json");
  writeFileSync(targets, JSON.stringify({ parallel: 2, targets: both.map(entry) }));
  const env = Object.fromEntries(
    both.flatMap((s) => [
      ...s.accounts.slice(0, 2).map((a, i) => [`PW_${s.kind.toUpperCase()}_${i}`, a.password]),
      [`COMPONENT_${s.kind.toUpperCase()}`, s.component.secret],
    ]),
  );
  const result = await runCli(["run", "--targets", targets, "--json", json, "--html", html], env);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
}

describe.runIf(servers.prosody && servers.ejabberd)("the HTML report of a real Prosody + ejabberd run, in Chromium", () => {
  let report: Report;
  let file: string;
  let browser: Browser;
  let ids: string[];
  const requests: string[] = [];

  const target = (kind: "prosody" | "ejabberd"): [TargetReport, string] => {
    const i = report.targets.findIndex((t) => t.target.domain === servers[kind]!.domain);
    expect(i).toBeGreaterThanOrEqual(0);
    return [report.targets[i]!, ids[i]!];
  };

  /** A page without JavaScript: the verdicts must read without it. Every request that is not the file itself is recorded. */
  async function open(viewport: { width: number; height: number }, colorScheme: "light" | "dark" = "light"): Promise<Page> {
    const context = await browser.newContext({ viewport, colorScheme, javaScriptEnabled: false });
    const page = await context.newPage();
    page.on("request", (r) => {
      if (!r.url().startsWith("file://")) requests.push(r.url());
    });
    await page.goto(`file://${file}`);
    return page;
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)`);
    mkdirSync(tmp, { recursive: true });
    mkdirSync(OUT, { recursive: true });
    const all = path.join(tmp, "all.json");
    file = path.join(OUT, "report.html");
    await runBoth(file, all);
    report = JSON.parse(readFileSync(all, "utf8"));
    expect(report.targets.map((t) => t.target.software?.name)).toEqual(["Prosody", "ejabberd"]);
    ids = targetIds(report.targets.map((t) => t.name));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("opens on the matrix: a column per server with its software and levels, a verdict in every cell", async () => {
    const page = await open({ width: 1280, height: 900 });
    const headers = page.locator("table.matrix thead th.server");
    await expect.poll(() => headers.count()).toBe(2);
    for (const [i, t] of report.targets.entries()) {
      const h = headers.nth(i);
      expect(await h.isVisible()).toBe(true);
      expect(await h.locator("a").innerText()).toBe(t.name);
      expect(await h.locator(".sw").innerText()).toBe(`${t.target.software!.name} ${t.target.software!.version}`);
      expect(await h.locator("ul.levels li").count()).toBe(5); // Core, Web, IM, Mobile, A/V Calling
    }
    const rows = page.locator("table.matrix tbody tr:not(.group)");
    const docs = new Set(report.targets.flatMap((t) => Object.keys(t.specs)));
    expect(await rows.count()).toBe(docs.size);
    const mam = rows.filter({ has: page.locator("th.spec", { hasText: /^XEP-0313/ }) });
    expect(await mam.count()).toBe(1);
    expect(await mam.locator("th.spec .name").innerText()).toBe("Message Archive Management");
    for (const [i, t] of report.targets.entries()) {
      const cell = mam.locator("td.cell").nth(i);
      expect(await cell.locator(".v").isVisible()).toBe(true);
      expect(await cell.locator(".v").innerText()).toBe(VERDICT_TEXT[t.specs["XEP-0313"]!.verdict]);
      expect(await cell.locator("a").getAttribute("href")).toBe(`#${anchor(ids[i]!, "XEP-0313")}`);
    }
    // Every spec row has one verdict per server, as the report says.
    for (let r = 0; r < (await rows.count()); r++) {
      const row = rows.nth(r);
      const doc = (await row.locator("th.spec").innerText()).split("\n")[0]!.trim();
      const cells = row.locator("td");
      expect(await cells.count(), doc).toBe(2);
      for (const [i, t] of report.targets.entries()) {
        const want = t.specs[doc] ? VERDICT_TEXT[t.specs[doc]!.verdict] : "not run";
        expect(await cells.nth(i).innerText(), `${doc} on ${t.name}`).toContain(want);
      }
    }
    await page.locator("#xc-matrix").screenshot({ path: path.join(OUT, "matrix-desktop.png") });
    await page.context().close();
  });

  for (const kind of ["prosody", "ejabberd"] as const) {
    it(`${kind}: a failing check is one tap from its matrix cell, requirement, expected and actual in view`, async () => {
      const [t, id] = target(kind);
      const known = FAILING[kind];
      const c = t.checks.find((x) => x.id === known.check)!;
      expect(c.verdict, c.summary).toBe("fail");
      const page = await open({ width: 375, height: 812 });
      const row = page.locator("table.matrix tbody tr", { has: page.locator("th.spec", { hasText: new RegExp(`^${known.spec}`) }) });
      const column = report.targets.indexOf(t);
      await row.locator("td.cell a").nth(column).click();
      await expect.poll(() => page.evaluate(() => location.hash)).toBe(`#${anchor(id, known.spec)}`);

      const details = page.locator(`[id="${anchor(id, c.id)}"]`);
      expect(await details.getAttribute("open")).not.toBeNull();
      await details.scrollIntoViewIfNeeded();
      expect(await details.locator("summary .v").innerText()).toBe("✗ fail");
      const requirement = details.locator("blockquote.req");
      expect(await requirement.isVisible()).toBe(true);
      expect(await requirement.locator("p").innerText()).toBe(`“${c.requirement}”`);
      expect(await requirement.locator("a").getAttribute("href")).toBe(c.spec.url);
      expect(await details.locator("dd.expected").isVisible()).toBe(true);
      expect(await details.locator("dd.expected").innerText()).toContain(known.expected);
      expect(await details.locator("dd.actual").isVisible()).toBe(true);
      expect(await details.locator("dd.actual").innerText()).toContain(known.actual);
      await details.screenshot({ path: path.join(OUT, `failing-check-${kind}-phone.png`) });

      // The transcript is collapsed until asked for.
      const transcript = details.locator("details.transcript");
      expect(await transcript.locator("ol.transcript").isVisible()).toBe(false);
      await transcript.locator("summary").click();
      expect(await transcript.locator("ol.transcript").isVisible()).toBe(true);
      expect(await transcript.locator("li.dir-out pre").first().innerText()).toMatch(/^</);
      await page.context().close();
    });
  }

  it("says how to fix a missing module in the server's own software, and nothing where the feature works", async () => {
    const page = await open({ width: 1280, height: 900 });
    const fix = (kind: "prosody" | "ejabberd", doc: string) => page.locator(`[id="${anchor(target(kind)[1], doc)}"] > .fix`);
    // host-meta is not served at https://<domain>/ on either test server (their HTTP ports are not 443).
    for (const kind of ["prosody", "ejabberd"] as const) expect(target(kind)[0].specs["XEP-0156"]).toMatchObject({ verdict: "na", advertised: false, works: false });
    expect(await fix("prosody", "XEP-0156").innerText()).toMatch(/^How to fix\nProsody: Add "http_altconnect" to modules_enabled/);
    expect(await fix("ejabberd", "XEP-0156").innerText()).toMatch(/^How to fix\nejabberd: Enable mod_host_meta/);
    // ejabberd serves private XML storage without advertising it: works, so no "enable mod_private".
    expect(target("ejabberd")[0].specs["XEP-0049"]).toMatchObject({ verdict: "warn", works: true });
    expect(await fix("ejabberd", "XEP-0049").count()).toBe(0);
    await page.context().close();
  });

  it("fits a phone: only the matrix scrolls sideways, with the spec column sticky", async () => {
    const page = await open({ width: 375, height: 812 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    const spec = page.locator("table.matrix th.spec").first();
    expect(await spec.evaluate((el) => [getComputedStyle(el).position, getComputedStyle(el).left])).toEqual(["sticky", "0px"]);
    expect(await page.locator("#xc-matrix .scroll").evaluate((el) => getComputedStyle(el).overflowX)).toBe("auto");
    await page.goto(`file://${file}#xc-matrix`);
    await page.screenshot({ path: path.join(OUT, "matrix-phone.png") });
    await page.context().close();
  });

  it("follows dark mode", async () => {
    const light = await open({ width: 1280, height: 900 }, "light");
    const dark = await open({ width: 1280, height: 900 }, "dark");
    const bg = (p: Page) => p.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(await bg(light)).toBe("rgb(255, 255, 255)");
    expect(await bg(dark)).toBe("rgb(13, 17, 23)");
    const [, id] = target("ejabberd");
    await dark.goto(`file://${file}#${anchor(id, FAILING.ejabberd.check)}`);
    await dark.screenshot({ path: path.join(OUT, "failing-check-ejabberd-dark.png") });
    await light.context().close();
    await dark.context().close();
  });

  it("loads nothing but the file", () => {
    expect(requests).toEqual([]);
  });
});
