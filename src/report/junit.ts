/**
 * JUnit XML for CI systems (GitHub Actions test reporters, GitLab, Jenkins):
 * a <testsuite> per spec, a <testcase> per check. fail → <failure>, error →
 * <error>, skip and na → <skipped>, warn → passed with a "verdict" property.
 * Follows the structure of the widely used JUnit XSD (Ant/Jenkins): suites
 * carry name, tests, failures, errors, skipped, time, timestamp, hostname, id
 * and package; cases carry classname, name and time.
 * A pure function of the report JSON.
 */
import type { Evidence } from "../checks/types.js";
import type { CheckResult, Report, TargetReport } from "./types.js";
import { escapeXml as esc, escapeXmlAttr as attr } from "./xml-text.js";

/** Orders specs as people read them: RFCs, then XEPs by number. */
export function specOrder(a: string, b: string): number {
  const key = (s: string) => (s.startsWith("RFC") ? 0 : 1) * 100000 + Number(s.replace(/\D/g, ""));
  return key(a) - key(b) || a.localeCompare(b);
}

/** Checks grouped by spec doc, in reading order. */
export function checksBySpec(report: TargetReport): [string, CheckResult[]][] {
  const byDoc = new Map<string, CheckResult[]>();
  for (const c of report.checks) byDoc.set(c.spec.doc, [...(byDoc.get(c.spec.doc) ?? []), c]);
  return [...byDoc.entries()].sort(([a], [b]) => specOrder(a, b));
}

const seconds = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

/** The XSD's timestamp: ISO 8601 date-time without fraction or zone (UTC here). */
function timestamp(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "1970-01-01T00:00:00" : d.toISOString().slice(0, 19);
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => ` ${k}="${attr(String(v))}"`)
    .join("");
}

function properties(indent: string, props: [string, string][]): string[] {
  if (props.length === 0) return [];
  return [
    `${indent}<properties>`,
    ...props.map(([name, value]) => `${indent}  <property${attrs({ name, value })}/>`),
    `${indent}</properties>`,
  ];
}

const MAX_TRANSCRIPT = 200;

/** What a reader of a failing test needs: the requirement, expected, actual, where it is specified. */
function failureBody(check: CheckResult): string {
  const lines = [
    check.summary,
    "",
    `${check.spec.doc} §${check.spec.section} (${check.level}): "${check.requirement}"`,
    check.spec.url,
  ];
  for (const e of check.evidence) lines.push(...evidenceLines(e));
  return lines.join("\n");
}

function evidenceLines(e: Evidence): string[] {
  switch (e.type) {
    case "expectedActual":
      return ["", `expected: ${e.expected}`, `actual:   ${e.actual}`];
    case "advertisement":
      return ["", `looked for ${e.looked}: ${e.foundAt.length ? `found at ${e.foundAt.join(", ")}` : `not found in ${e.searched.join(", ")}`}`];
    case "note":
      return ["", `note: ${e.text}`];
    default:
      return [];
  }
}

/** The transcript(s) of a check as system-out, so CI shows the exchange next to the failure. */
function transcriptText(check: CheckResult): string {
  const out: string[] = [];
  for (const e of check.evidence) {
    if (e.type !== "transcript") continue;
    if (e.title) out.push(`-- ${e.title}`);
    for (const entry of e.entries.slice(0, MAX_TRANSCRIPT)) {
      const who = entry.actor ? `${entry.actor} ` : "";
      out.push(`${who}${entry.dir === "out" ? "->" : entry.dir === "in" ? "<-" : "--"} ${entry.xml}`);
    }
    if (e.entries.length > MAX_TRANSCRIPT) out.push(`… ${e.entries.length - MAX_TRANSCRIPT} more entries in the JSON report`);
  }
  return out.join("\n");
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  ms: number;
}

function count(checks: CheckResult[]): Counts {
  return {
    tests: checks.length,
    failures: checks.filter((c) => c.verdict === "fail").length,
    errors: checks.filter((c) => c.verdict === "error").length,
    skipped: checks.filter((c) => c.verdict === "skip" || c.verdict === "na").length,
    ms: checks.reduce((sum, c) => sum + c.durationMs, 0),
  };
}

function testcase(check: CheckResult, prefix = ""): string[] {
  const head = `    <testcase${attrs({ classname: `${prefix}${check.spec.doc}`, name: `${check.id}: ${check.title}`, time: seconds(check.durationMs) })}>`;
  const props: [string, string][] = [
    ["verdict", check.verdict],
    ["spec", `${check.spec.doc} §${check.spec.section}`],
    ["level", check.level],
    ["kind", check.kind],
  ];
  const lines = [head, ...properties("      ", props)];
  if (check.verdict === "fail") {
    lines.push(`      <failure${attrs({ message: check.summary, type: check.level })}>${esc(failureBody(check))}</failure>`);
  } else if (check.verdict === "error") {
    lines.push(`      <error${attrs({ message: check.summary, type: "error" })}>${esc(failureBody(check))}</error>`);
  } else if (check.verdict === "skip" || check.verdict === "na") {
    const why = check.verdict === "na" && !/^not offered/i.test(check.summary) ? `not offered: ${check.summary}` : check.summary;
    lines.push(`      <skipped${attrs({ message: why })}/>`);
  }
  if (check.verdict === "fail" || check.verdict === "error") {
    const transcript = transcriptText(check);
    if (transcript) lines.push(`      <system-out>${esc(transcript)}</system-out>`);
  }
  lines.push("    </testcase>");
  return lines;
}

/**
 * One <testsuites> for the whole report. With several targets each suite
 * name starts with the target's name, so every testcase stays unique.
 */
export function renderJunit(report: Report): string {
  const ts = timestamp(report.startedAt);
  const suites: string[] = [];
  const total: Counts = { tests: 0, failures: 0, errors: 0, skipped: 0, ms: 0 };
  const add = (c: Counts) => {
    total.tests += c.tests;
    total.failures += c.failures;
    total.errors += c.errors;
    total.skipped += c.skipped;
    total.ms += c.ms;
  };
  const several = report.targets.length > 1;
  let id = 0;
  for (const target of report.targets) {
    const t = target.target;
    const prefix = several ? `${target.name} · ` : "";
    const tts = timestamp(target.startedAt);
    for (const [doc, checks] of checksBySpec(target)) {
      const c = count(checks);
      add(c);
      const summary = target.specs[doc];
      const props: [string, string][] = [["spec", doc]];
      const version = checks[0]!.spec.version;
      if (version) props.push(["spec.version", version]);
      if (summary) {
        props.push(["verdict", summary.verdict]);
        props.push(["advertised", String(summary.advertised)]);
        props.push(["works", String(summary.works)]);
      }
      const levels = [...new Set(checks.map((x) => x.level))];
      props.push(["level", levels.join(",")]);
      if (several) props.push(["target", target.name]);
      if (target.settings.insecure) props.push(["tls.certificate", "NOT verified (--insecure)"]);
      suites.push(
        `  <testsuite${attrs({ name: `${prefix}${doc}`, tests: c.tests, failures: c.failures, errors: c.errors, skipped: c.skipped, time: seconds(c.ms), timestamp: tts, hostname: t.domain, id: id++, package: "xepcheck" })}>`,
        ...properties("    ", props),
        ...checks.flatMap((check) => testcase(check, prefix)),
        "  </testsuite>",
      );
    }
    // Problems of the run itself (could not log in, could not clean up) fail the job too;
    // a pause the server asked for (slow-down) and a note (items left unprobed) are not problems.
    const problems = target.errors.filter((e) => e.kind !== "slow-down" && e.kind !== "note");
    if (problems.length) {
      const c: Counts = { tests: problems.length, failures: 0, errors: problems.length, skipped: 0, ms: 0 };
      add(c);
      const name = `${prefix}xepcheck run`;
      suites.push(
        `  <testsuite${attrs({ name, tests: c.tests, failures: 0, errors: c.errors, skipped: 0, time: seconds(0), timestamp: tts, hostname: t.domain, id: id++, package: "xepcheck" })}>`,
        ...problems.flatMap((e) => [
          `    <testcase${attrs({ classname: name, name: `run: ${e.step}`, time: seconds(0) })}>`,
          `      <error${attrs({ message: e.message, type: e.kind })}>${esc(`${e.step}: ${e.message}${e.condition ? ` (${e.condition})` : ""}`)}</error>`,
          "    </testcase>",
        ]),
        "  </testsuite>",
      );
    }
  }
  // The gates' verdict (--require, --baseline), as CI shows any other failing test.
  const gates = report.run.gates;
  if (gates) {
    const cases = [
      ...gates.require.map((g) => ({
        name: `require ${g.gate}${several ? ` on ${g.target}` : ""}`,
        failure: g.met ? undefined : `not met: ${g.blocking.map((b) => `${b.id} (${b.status}: ${b.checks.map((c) => `${c.id} ${c.verdict}`).join(", ") || "no check ran"})`).join("; ")}`,
      })),
      ...(gates.baseline
        ? [{ name: `baseline ${gates.baseline.source}`, failure: gates.baseline.ok ? undefined : `new failures: ${gates.baseline.newFailures.join(", ")}` }]
        : []),
    ];
    const failures = cases.filter((c) => c.failure).length;
    add({ tests: cases.length, failures, errors: 0, skipped: 0, ms: 0 });
    suites.push(
      `  <testsuite${attrs({ name: "xepcheck gates", tests: cases.length, failures, errors: 0, skipped: 0, time: seconds(0), timestamp: ts, hostname: "xepcheck", id: id++, package: "xepcheck" })}>`,
      ...cases.flatMap((c) => [
        `    <testcase${attrs({ classname: "xepcheck gates", name: c.name, time: seconds(0) })}>`,
        ...(c.failure ? [`      <failure${attrs({ message: c.failure, type: "gate" })}>${esc(c.failure)}</failure>`] : []),
        "    </testcase>",
      ]),
      "  </testsuite>",
    );
  }
  const insecure = report.targets.some((t) => t.settings.insecure) ? " (TLS certificate NOT verified: --insecure)" : "";
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites${attrs({ name: `xepcheck ${reportTitle(report)}${insecure}`, tests: total.tests, failures: total.failures, errors: total.errors, skipped: total.skipped, time: seconds(report.durationMs), timestamp: ts })}>`,
    ...suites,
    "</testsuites>",
    "",
  ].join("\n");
}

/** "example.org (Prosody 13.0.1)" for one target; "3 servers: a, b, c" for several. */
export function reportTitle(report: Report): string {
  if (report.targets.length === 1) {
    const t = report.targets[0]!.target;
    const software = t.software?.name ? ` (${[t.software.name, t.software.version].filter(Boolean).join(" ")})` : "";
    return `${t.domain}${software}`;
  }
  return `${report.targets.length} servers: ${report.targets.map((t) => t.name).join(", ")}`;
}
