/**
 * Writing the CI-facing renderings of a report (JUnit XML, Markdown, SVG
 * badges) and reading a saved report back for `xepcheck report`.
 */
import { writeFileSync } from "node:fs";
import { renderBadges, renderBadgeSheet } from "../report/badge.js";
import { renderJunit } from "../report/junit.js";
import { renderMarkdown } from "../report/markdown.js";
import { ReportFileError } from "../report/read.js";
import type { Report } from "../report/types.js";

export { ReportFileError, readReportFile } from "../report/read.js";

export interface OutputFlags {
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
 */
export function badgeFiles(report: Report, pattern: string): { file: string; svg: string }[] {
  if (!pattern.includes("{category}")) return [{ file: pattern, svg: renderBadgeSheet(report) }];
  const suites = new Set(report.suites.map((s) => s.suite));
  if (suites.size > 1 && !pattern.includes("{suite}")) {
    throw new ReportFileError(`--badge ${pattern}: the report scores ${suites.size} suites; add {suite} to the file name`);
  }
  return renderBadges(report).map((b) => ({
    file: pattern.replaceAll("{suite}", b.suite).replaceAll("{category}", b.category),
    svg: b.svg,
  }));
}

/** Writes the requested renderings; `badge: false` leaves the badge alone (e.g. after a failed login). */
export function writeReportOutputs(report: Report, flags: OutputFlags, options: { badge?: boolean } = {}): string[] {
  const written: string[] = [];
  if (flags.junit) {
    write("--junit", flags.junit, renderJunit(report));
    written.push(flags.junit);
  }
  if (flags.markdown) {
    write("--markdown", flags.markdown, renderMarkdown(report));
    written.push(flags.markdown);
  }
  if (flags.badge && options.badge !== false) {
    for (const { file, svg } of badgeFiles(report, flags.badge)) {
      write("--badge", file, svg);
      written.push(file);
    }
  }
  return written;
}
