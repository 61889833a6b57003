/** Reading a saved report back (xepcheck report, diff, baselines): validated, or an error naming the file and the problem. */
import { readFileSync } from "node:fs";
import { reportProblems } from "./schema.js";
import { REPORT_VERSION, type Report } from "./types.js";
import { upgradeReport } from "./upgrade.js";

/** A problem the user can fix (a file that cannot be read or written, a report that is not one): exit 2. */
export class ReportFileError extends Error {
  override name = "ReportFileError";
}

/** Reads, upgrades (older versions) and validates a saved report; throws ReportFileError naming what is wrong. */
export function readReportFile(file: string): Report {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ReportFileError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ReportFileError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const version = (data as { reportVersion?: unknown } | null)?.reportVersion;
  if (typeof version === "number" && version > REPORT_VERSION) {
    throw new ReportFileError(
      `${file} is a version ${version} report, newer than this xepcheck understands (version ${REPORT_VERSION}): upgrade xepcheck`,
    );
  }
  data = upgradeReport(data);
  const problems = reportProblems(data);
  if (problems.length) {
    const shown = problems.slice(0, 5).join("; ");
    throw new ReportFileError(`${file} is not a valid xepcheck report: ${shown}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ""}`);
  }
  return data as Report;
}
