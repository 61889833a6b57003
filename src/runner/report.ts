/** Puts target reports together into the report JSON that every reporter reads. */
import { REPORT_VERSION, type Report, type TargetReport } from "../report/types.js";
import { TOOL_VERSION } from "../version.js";

export function assembleReport(targets: TargetReport[], started: Date, run: Partial<Report["run"]> = {}): Report {
  const finished = new Date();
  return {
    reportVersion: REPORT_VERSION,
    tool: { name: "xepcheck", version: TOOL_VERSION },
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: Math.max(0, finished.getTime() - started.getTime()),
    run: { interrupted: false, ...run },
    targets,
  };
}
