/**
 * The terminal summary: a line per spec, then the suite's category x level
 * table. A pure function of the report; colour only when asked for.
 */
import { Chalk, type ChalkInstance } from "chalk";
import type { Verdict } from "../checks/types.js";
import type { ComplianceStatus } from "../scoring/score.js";
import type { CheckResult, Report, TargetReport } from "./types.js";

const VERDICT_LABEL: Record<Verdict, string> = {
  pass: "PASS",
  warn: "WARN",
  fail: "FAIL",
  na: "N/A ",
  skip: "SKIP",
  error: "ERR ",
};

function paintVerdict(c: ChalkInstance, v: Verdict, text: string): string {
  switch (v) {
    case "pass":
      return c.green(text);
    case "warn":
      return c.yellow(text);
    case "fail":
      return c.red.bold(text);
    case "error":
      return c.magenta(text);
    default:
      return c.dim(text);
  }
}

function paintStatus(c: ChalkInstance, s: ComplianceStatus): string {
  const text = s.padEnd(14);
  return s === "compliant" ? c.green(text) : s === "not-compliant" ? c.red(text) : c.yellow(text);
}

const yesNo = (v: boolean | null) => (v === null ? "–" : v ? "yes" : "no");

/** Orders specs as people read them: RFCs, then XEPs by number. */
function specOrder(a: string, b: string): number {
  const key = (s: string) => (s.startsWith("RFC") ? 0 : 1) * 100000 + Number(s.replace(/\D/g, ""));
  return key(a) - key(b);
}

/** Every target's summary in turn, then (with several) a line per target. */
export function renderTerminal(report: Report, options: { color: boolean }): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const parts = report.targets.map((t) => renderTarget(report, t, c));
  if (report.targets.length > 1) {
    const width = Math.max(...report.targets.map((t) => t.name.length));
    const overview = report.targets.map((t) => {
      const n = (v: string) => t.checks.filter((x) => x.verdict === v).length;
      const outcome = t.outcome === "completed" ? "" : c.red(` ${t.outcome}`);
      return `${t.name.padEnd(width)}  ${n("pass")} pass, ${n("fail")} fail, ${n("error")} error${outcome}${t.settings.insecure ? c.yellow(" (--insecure)") : ""}`;
    });
    parts.push([c.bold(`${report.targets.length} servers`), ...overview].join("\n") + "\n");
  }
  if (report.run.interrupted) parts.push(c.red.bold("The run was interrupted: what did not finish is reported as an error.") + "\n");
  return parts.join("\n");
}

function renderTarget(run: Report, report: TargetReport, c: ChalkInstance): string {
  const lines: string[] = [];
  const t = report.target;
  const software = t.software?.name ? ` (${t.software.name} ${t.software.version ?? ""})`.replace(" )", ")") : "";
  const p = report.probe;
  const transport =
    report.settings.transport === "tcp"
      ? report.settings.tls === "direct" ? "direct TLS" : "STARTTLS"
      : `${report.settings.transport === "websocket" ? "WebSocket" : "BOSH"}${report.settings.url ? ` ${report.settings.url}` : ""}`;
  const how = p ? ` — ${transport}, ${p.tls?.protocol ?? "?"}, ${p.sasl.used}` : "";
  lines.push(c.bold(`xepcheck ${run.tool.version} · ${t.domain}${software}`));
  lines.push(c.dim(`as ${t.account}${t.endpoint ? ` via ${t.endpoint.host}:${t.endpoint.port}` : ""}${how}`));
  if (report.settings.insecure) lines.push(c.yellow.bold("TLS certificate NOT verified (--insecure)"));
  lines.push("");

  const byDoc = new Map<string, CheckResult[]>();
  for (const check of report.checks) byDoc.set(check.spec.doc, [...(byDoc.get(check.spec.doc) ?? []), check]);
  const docWidth = Math.max(9, ...[...byDoc.keys()].map((d) => d.length));
  for (const doc of [...byDoc.keys()].sort(specOrder)) {
    const summary = report.specs[doc]!;
    const checks = byDoc.get(doc)!;
    const label = paintVerdict(c, summary.verdict, VERDICT_LABEL[summary.verdict]);
    const facts = c.dim(`adv ${yesNo(summary.advertised).padEnd(3)} works ${yesNo(summary.works).padEnd(3)}`);
    const indent = `        ${" ".repeat(docWidth)}  `;
    if (checks.length === 1) {
      lines.push(`  ${label}  ${doc.padEnd(docWidth)}  ${facts}  ${checks[0]!.summary}`);
    } else {
      lines.push(`  ${label}  ${doc.padEnd(docWidth)}  ${facts}`);
      for (const check of checks) {
        lines.push(`${indent}${paintVerdict(c, check.verdict, VERDICT_LABEL[check.verdict])} ${check.summary}`);
      }
    }
    // A failure says what the spec requires and what happened (the transcript is in the JSON).
    for (const check of checks.filter((x) => x.verdict === "fail")) {
      lines.push(c.dim(`${indent}  ${check.id} · ${check.spec.doc} §${check.spec.section} ${check.level}: "${check.requirement}"`));
      for (const e of check.evidence) {
        if (e.type === "expectedActual") lines.push(`${indent}  expected: ${e.expected}`, `${indent}  actual:   ${e.actual}`);
      }
    }
  }

  for (const suite of report.suites) {
    lines.push("", c.bold(suite.title));
    const levels = [...new Set(suite.results.map((r) => r.level))];
    const categories = [...new Set(suite.results.map((r) => r.category))];
    lines.push(`  ${"".padEnd(10)}${levels.map((l) => l.padEnd(14)).join(" ")}`);
    for (const category of categories) {
      const cells = levels.map((level) => {
        const r = suite.results.find((x) => x.category === category && x.level === level)!;
        return paintStatus(c, r.status);
      });
      lines.push(`  ${category.padEnd(10)}${cells.join(" ")}`);
    }
    const failing = new Set(suite.results.flatMap((r) => r.failing));
    if (failing.size) lines.push(c.red(`  not met: ${[...failing].join(", ")}`));
    const undetermined = new Set(suite.results.flatMap((r) => r.undetermined));
    if (undetermined.size) lines.push(c.yellow(`  not determined: ${[...undetermined].join(", ")}`));
  }

  if (report.loginCosts?.length) {
    lines.push("", c.bold("Login cost"));
    const width = Math.max(...report.loginCosts.map((l) => l.flavour.length));
    lines.push(c.dim(`  ${"flavour".padEnd(width)}  round trips  bytes out/in      time`));
    for (const l of report.loginCosts) {
      const cells = l.ok
        ? `${String(l.roundTrips).padStart(11)}  ${`${l.bytesOut}/${l.bytesIn}`.padEnd(14)} ${l.ms.toFixed(1).padStart(7)} ms`
        : c.red(`failed: ${l.note ?? "?"}`);
      lines.push(`  ${l.flavour.padEnd(width)}  ${cells}`);
    }
  }

  const tr = report.traffic;
  lines.push(
    "",
    c.dim(
      `${report.checks.length} checks in ${(report.durationMs / 1000).toFixed(1)} s · ` +
        `${tr.roundTrips} round trips, ${tr.stanzasOut}/${tr.stanzasIn} stanzas and ${tr.bytesOut}/${tr.bytesIn} bytes out/in`,
    ),
  );
  for (const e of report.errors) lines.push(c.red(`error (${e.step}): ${e.message}`));
  return lines.join("\n") + "\n";
}
