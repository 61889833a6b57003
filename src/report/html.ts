/**
 * The single-file HTML report: one self-contained page (inline CSS, no
 * script, nothing fetched: its Content-Security-Policy forbids it), rendered
 * from the report JSON alone, so `xepcheck report run.json --html out.html`
 * re-renders an old run. With several servers it opens on the specs ×
 * servers matrix; then a section per server (src/report/html/target.ts).
 * Readable on a phone and in dark mode; verdicts need no JavaScript.
 */
import { loadSuite } from "../scoring/suite.js";
import { renderMatrix } from "./html/matrix.js";
import { duration, esc, OWN_ID, targetIds, when } from "./html/markup.js";
import { STYLE } from "./html/style.js";
import { INSECURE, renderTarget } from "./html/target.js";
import { reportTitle } from "./junit.js";
import { loadRemediation } from "./remediation.js";
import type { GateSummary, Report } from "./types.js";

/** No network, no script: styles inline, links only navigate. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/** Spec names from the suites the report was scored against (a suite this installation lacks just gives none). */
function specNames(report: Report): Map<string, string> {
  const names = new Map<string, string>();
  for (const id of new Set(report.targets.flatMap((t) => t.suites.map((s) => s.suite)))) {
    try {
      for (const spec of loadSuite(id).requirements.flatMap((r) => r.specs)) {
        if (spec.name && spec.name !== spec.spec && !names.has(spec.spec)) names.set(spec.spec, spec.name);
      }
    } catch {
      // The report still reads well with the spec ids alone.
    }
  }
  return names;
}

function gates(g: GateSummary): string {
  const items = g.require.map((r) => {
    const blocking = r.blocking.map((b) => `${esc(b.id)} (${esc(b.status)}: ${b.checks.map((c) => `${esc(c.id)} ${esc(c.verdict)}`).join(", ")})`);
    return `<li>${r.met ? "✓" : "✗"} <code>${esc(r.gate)}</code> on ${esc(r.target)}${blocking.length ? `: blocked by ${blocking.join("; ")}` : ""}</li>`;
  });
  if (g.baseline) {
    const b = g.baseline;
    const list = (xs: string[]) => (xs.length ? ` (${xs.map(esc).join(", ")})` : "");
    items.push(`<li>${b.ok ? "✓" : "✗"} baseline ${esc(b.source)}: ${b.newFailures.length} new failure(s)${list(b.newFailures)}, ${b.fixed.length} fixed${list(b.fixed)}</li>`);
  }
  return `<div class="banner ${g.met ? "banner-info" : "banner-fail"}"><strong>Gates: ${g.met ? "met" : "NOT met"}</strong><ul>${items.join("")}</ul></div>`;
}

function runBanners(report: Report): string {
  const out: string[] = [];
  const names = (ts: Report["targets"]) => ts.map((t) => esc(t.name)).join(", ");
  if (report.run.interrupted) {
    out.push(`<div class="banner banner-fail" role="alert"><strong>The run was interrupted.</strong> Checks and servers that did not finish are reported as errors.</div>`);
  }
  const failed = report.targets.filter((t) => t.outcome === "login-failed");
  if (failed.length) out.push(`<div class="banner banner-fail" role="alert"><strong>Could not log in</strong> to ${names(failed)}: no check ran there.</div>`);
  const insecure = report.targets.filter((t) => t.settings.insecure);
  if (insecure.length) out.push(`<div class="banner banner-warn" role="alert">${INSECURE} On: ${names(insecure)}.</div>`);
  if (report.run.shard) out.push(`<div class="banner banner-info">Shard ${report.run.shard.index} of ${report.run.shard.count}: this report holds only part of the servers.</div>`);
  if (report.run.mergedFrom) out.push(`<div class="banner banner-info">Merged from ${report.run.mergedFrom} reports.</div>`);
  if (report.run.gates) out.push(gates(report.run.gates));
  return out.join("\n");
}

export function renderHtml(report: Report): string {
  const ids = targetIds(report.targets.map((t) => t.name));
  const names = specNames(report);
  const remediation = loadRemediation();
  const several = report.targets.length > 1;
  const title = `xepcheck: ${reportTitle(report)}`;
  const nav = several
    ? `<nav class="targets" aria-label="Servers"><ul>${report.targets.map((t, i) => `<li><a href="#${esc(ids[i]!)}">${esc(t.name)}</a></li>`).join("")}</ul></nav>`
    : "";
  return [
    `<!doctype html>`,
    `<html lang="en">`,
    `<head>`,
    `<meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    `<meta name="color-scheme" content="light dark">`,
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    `</head>`,
    `<body>`,
    `<header class="top" id="${OWN_ID}top">`,
    `<h1>${esc(title)}</h1>`,
    `<p class="meta">Started ${esc(when(report.startedAt))} · took ${esc(duration(report.durationMs))} · xepcheck ${esc(report.tool.version)}</p>`,
    runBanners(report),
    nav,
    `</header>`,
    `<main>`,
    several ? renderMatrix(report.targets, ids, names) : "",
    ...report.targets.map((t, i) => renderTarget({ id: ids[i]!, remediation, specNames: names }, t)),
    `</main>`,
    `<footer>Rendered by xepcheck ${esc(report.tool.version)} from its JSON report (version ${report.reportVersion}). No scripts; nothing is loaded from the network.</footer>`,
    `</body>`,
    `</html>`,
    ``,
  ].join("\n");
}
