/**
 * Writing the renderings of a report (HTML, JUnit XML, Markdown, SVG badges,
 * JSON) and reading a saved report back for `xepcheck report`.
 */
import { writeFileSync } from "node:fs";
import { renderBadges, renderBadgeSheet } from "../report/badge.js";
import { ReportFileError } from "../report/read.js";
import type { Report } from "../report/types.js";

export { ReportFileError, readReportFile } from "../report/read.js";

export interface OutputFlags {
  html?: string;
  junit?: string;
  markdown?: string;
  badge?: string;
}

function write(flag: string, file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (err) {
    throw new ReportFileError(`cannot write ${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * Badge files: with "{category}" (and "{suite}") in the name, one SVG per
 * suite category; otherwise one SVG with every category's badge stacked.
 * A report of several targets needs "{target}" in the name. Targets that
 * could not be logged in to get no badge (an old one is not overwritten).
 */
export function badgeFiles(report: Report, pattern: string): { file: string; svg: string }[] {
  if (report.targets.length > 1 && !pattern.includes("{target}")) {
    throw new ReportFileError(`--badge ${pattern}: the report has ${report.targets.length} targets; add {target} to the file name`);
  }
  return report.targets
    .filter((t) => t.outcome !== "login-failed")
    .flatMap((t) => {
      const named = pattern.replaceAll("{target}", t.name);
      if (!named.includes("{category}")) return [{ file: named, svg: renderBadgeSheet(t) }];
      const suites = new Set(t.suites.map((s) => s.suite));
      if (suites.size > 1 && !named.includes("{suite}")) {
        throw new ReportFileError(`--badge ${pattern}: the report scores ${suites.size} suites; add {suite} to the file name`);
      }
      return renderBadges(t).map((b) => ({ file: named.replaceAll("{suite}", b.suite).replaceAll("{category}", b.category), svg: b.svg }));
    });
}

/** The JSON report to FILE, or stdout for "-". */
export function writeJsonReport(report: Report, target: string): void {
  const text = JSON.stringify(report, null, 2) + "\n";
  if (target === "-") process.stdout.write(text);
  else write("--json", target, text);
}

/** Writes the requested renderings (each renderer is loaded only when asked for: a run starts faster). */
export async function writeReportOutputs(report: Report, flags: OutputFlags): Promise<string[]> {
  const written: string[] = [];
  if (flags.html) {
    const { renderHtml } = await import("../report/html.js");
    write("--html", flags.html, renderHtml(report));
    written.push(flags.html);
  }
  if (flags.junit) {
    const { renderJunit } = await import("../report/junit.js");
    write("--junit", flags.junit, renderJunit(report));
    written.push(flags.junit);
  }
  if (flags.markdown) {
    const { renderMarkdown } = await import("../report/markdown.js");
    write("--markdown", flags.markdown, renderMarkdown(report));
    written.push(flags.markdown);
  }
  if (flags.badge) {
    for (const { file, svg } of badgeFiles(report, flags.badge)) {
      write("--badge", file, svg);
      written.push(file);
    }
  }
  return written;
}
