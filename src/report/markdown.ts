/**
 * A Markdown summary for a CI job summary (GitHub's $GITHUB_STEP_SUMMARY,
 * GitLab, Gitea): the server, the suite's category × level table, the
 * failing checks with requirement, expected and actual, and the counts.
 * A pure function of the report JSON.
 */
import { VERDICTS, type Verdict } from "../checks/types.js";
import type { ComplianceStatus } from "../scoring/score.js";
import { categoryStandings, suiteLabels } from "./badge.js";
import { checksBySpec } from "./junit.js";
import { softwareName, verdictCounts } from "./summary.js";
import type { CheckResult, GateSummary, Report, TargetReport } from "./types.js";

/** Escapes text so Markdown and the HTML renderers of CI systems show it literally (also inside table cells). */
export function mdText(text: string): string {
  return text
    .replace(/\r?\n/g, " ")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/([\\`*_{}[\]()#+!|~])/g, "\\$1");
}

/** An inline code span that survives backticks in the text. */
export function mdCode(text: string): string {
  const oneLine = text.replace(/\r?\n/g, " ");
  const longest = Math.max(0, ...(oneLine.match(/`+/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(longest + 1);
  const pad = oneLine.startsWith("`") || oneLine.endsWith("`") || oneLine === "" ? " " : "";
  return `${fence}${pad}${oneLine}${pad}${fence}`;
}

const STATUS: Record<ComplianceStatus, string> = {
  compliant: "✅ compliant",
  "not-compliant": "❌ not compliant",
  undetermined: "❔ undetermined",
};

const VERDICT: Record<Verdict, string> = {
  pass: "✅ pass",
  warn: "⚠️ warn",
  fail: "❌ fail",
  na: "➖ n/a",
  skip: "⏭️ skip",
  error: "💥 error",
};

const yesNo = (v: boolean | null) => (v === null ? "–" : v ? "yes" : "no");

function failureLines(check: CheckResult): string[] {
  const lines = [
    `#### ${VERDICT[check.verdict]} \`${check.id}\` — ${mdText(check.title)}`,
    "",
    // The summary repeats expected and actual, which follow as code: show it only without them.
    ...(check.evidence.some((e) => e.type === "expectedActual") ? [] : [mdText(check.summary), ""]),
    `> ${mdText(`"${check.requirement}"`)} — [${mdText(`${check.spec.doc} §${check.spec.section}`)}](${check.spec.url}) (${check.level})`,
    "",
  ];
  for (const e of check.evidence) {
    if (e.type === "expectedActual") lines.push(`- expected: ${mdCode(e.expected)}`, `- actual: ${mdCode(e.actual)}`);
  }
  if (check.evidence.some((e) => e.type === "expectedActual")) lines.push("");
  return lines;
}

const OUTCOME: Record<TargetReport["outcome"], string> = {
  completed: "",
  "login-failed": " — **could not log in: no check ran**",
  interrupted: " — **interrupted: checks not finished are errors**",
};

/** The whole report: an overview of the targets when there are several, the gates, then each target. */
export function renderMarkdown(report: Report): string {
  const lines: string[] = [];
  if (report.run.interrupted) lines.push("> **The run was interrupted**: what did not finish is reported as an error.", "");
  if (report.targets.length > 1) {
    lines.push(`## xepcheck: ${report.targets.length} servers`, "", "| Server | Software | Outcome | Checks | Levels reached |", "| --- | --- | --- | --- | --- |");
    for (const t of report.targets) {
      const n = verdictCounts(t.checks);
      const reached = t.suites.flatMap((s) => categoryLevels(s)).join(", ") || "–";
      lines.push(`| ${mdText(t.name)} | ${mdText(softwareName(t.target))} | ${mdText(t.outcome)}${t.settings.insecure ? " (**--insecure**)" : ""} | ${n.pass} pass · ${n.fail} fail · ${n.error} error | ${mdText(reached)} |`);
    }
    lines.push("");
  }
  if (report.run.gates) lines.push(...gateLines(report.run.gates));
  for (const target of report.targets) lines.push(...targetLines(report, target, report.targets.length > 1 ? "###" : "##"));
  return lines.join("\n");
}

/** "CS2023 IM: Advanced" per category that reached a level. */
function categoryLevels(suite: TargetReport["suites"][number]): string[] {
  const labels = suiteLabels(suite);
  return categoryStandings(suite)
    .filter((s) => s.level)
    .map((s) => `${labels.short} ${labels.category(s.category)}: ${labels.level(s.level!)}`);
}

function gateLines(g: GateSummary): string[] {
  const lines = [`### Gates: ${g.met ? "✅ met" : "❌ NOT met"}`, ""];
  for (const r of g.require) {
    lines.push(`- ${r.met ? "✅" : "❌"} \`${r.gate}\` on ${mdText(r.target)}${r.blocking.length ? `: blocked by ${r.blocking.map((b) => `\`${b.id}\` (${mdText(b.status)})`).join(", ")}` : ""}`);
  }
  if (g.baseline) {
    const b = g.baseline;
    lines.push(`- ${b.ok ? "✅" : "❌"} baseline ${mdText(b.source)}: ${b.newFailures.length} new failure(s)${b.newFailures.length ? ` (${b.newFailures.map((f) => `\`${f}\``).join(", ")})` : ""}, ${b.fixed.length} fixed${b.fixed.length ? ` (${b.fixed.map((f) => `\`${f}\``).join(", ")})` : ""}`);
  }
  lines.push("");
  return lines;
}

function targetLines(report: Report, target: TargetReport, h: "##" | "###"): string[] {
  const t = target.target;
  const sub = h === "##" ? "###" : "####";
  const n = verdictCounts(target.checks);
  const lines: string[] = [
    `${h} xepcheck: ${mdText(t.domain)} (${mdText(softwareName(t))})${OUTCOME[target.outcome]}`,
    "",
    `Tested as ${mdText(t.account)}${t.endpoint ? ` via ${mdText(`${t.endpoint.host}:${t.endpoint.port}`)}` : ""} on ${mdText(target.startedAt)} with xepcheck ${mdText(report.tool.version)}` +
      `${target.settings.insecure ? " — **TLS certificate NOT verified (--insecure)**" : ""}.`,
    "",
    `**${target.checks.length} checks:** ${VERDICTS.map((v) => `${n[v]} ${v}`).join(" · ")} — ${(target.durationMs / 1000).toFixed(1)} s, ${target.traffic.roundTrips} round trips`,
    "",
  ];

  for (const suite of target.suites) {
    const labels = suiteLabels(suite);
    const levels = [...new Set(suite.results.map((r) => r.level))];
    const categories = [...new Set(suite.results.map((r) => r.category))];
    lines.push(`${sub} ${mdText(suite.title)}`, "");
    lines.push(`| Category | ${levels.map((l) => mdText(labels.level(l))).join(" | ")} |`);
    lines.push(`| --- | ${levels.map(() => "---").join(" | ")} |`);
    for (const category of categories) {
      const cells = levels.map((level) => {
        const r = suite.results.find((x) => x.category === category && x.level === level);
        return r ? STATUS[r.status] : "–";
      });
      lines.push(`| ${mdText(labels.category(category))} | ${cells.join(" | ")} |`);
    }
    lines.push("");
    const failing = [...new Set(suite.results.flatMap((r) => r.failing))];
    const undetermined = [...new Set(suite.results.flatMap((r) => r.undetermined))];
    if (failing.length) lines.push(`**Not met:** ${failing.map((f) => `\`${f}\``).join(", ")}`, "");
    if (undetermined.length) lines.push(`**Not determined:** ${undetermined.map((f) => `\`${f}\``).join(", ")}`, "");
  }

  if (target.errors.length) {
    lines.push(`${sub} Problems of the run`, "");
    for (const e of target.errors) lines.push(`- **${mdText(e.step)}** (${mdText(e.kind)}): ${mdText(e.message)}`);
    lines.push("");
  }

  const bad = target.checks.filter((c) => c.verdict === "fail" || c.verdict === "error");
  if (bad.length) {
    lines.push(`${sub} Failing checks (${n.fail} failed, ${n.error} ${n.error === 1 ? "error" : "errors"})`, "");
    const ordered = checksBySpec(target).flatMap(([, checks]) => checks);
    // Many errors with one cause (e.g. none ran after a failed login) are listed once.
    const errorGroups = new Map<string, CheckResult[]>();
    for (const c of ordered.filter((x) => x.verdict === "error")) errorGroups.set(c.summary, [...(errorGroups.get(c.summary) ?? []), c]);
    const grouped = new Set([...errorGroups.values()].filter((g) => g.length >= 3).flat());
    for (const c of ordered) if ((c.verdict === "fail" || c.verdict === "error") && !grouped.has(c)) lines.push(...failureLines(c));
    for (const [summary, group] of errorGroups) {
      if (group.length < 3) continue;
      lines.push(`#### ${VERDICT.error}: ${group.length} checks — ${mdText(summary)}`, "");
      lines.push(`<details><summary>Checks</summary>`, "", group.map((c) => `\`${c.id}\``).join(", "), "", "</details>", "");
    }
  } else {
    lines.push(`${sub} No failing checks`, "");
  }

  lines.push("<details><summary>Every spec</summary>", "");
  lines.push("| Spec | Verdict | Advertised | Works | Checks |", "| --- | --- | --- | --- | --- |");
  for (const [doc, checks] of checksBySpec(target)) {
    const s = target.specs[doc];
    const verdict = s?.verdict ?? "skip";
    const per = checks.map((c) => `${VERDICT[c.verdict].split(" ")[0]} \`${c.id}\``).join("<br>");
    lines.push(`| ${mdText(doc)} | ${VERDICT[verdict]} | ${yesNo(s?.advertised ?? null)} | ${yesNo(s?.works ?? null)} | ${per} |`);
  }
  lines.push("", "</details>", "");
  return lines;
}
