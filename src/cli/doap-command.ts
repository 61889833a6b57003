/**
 * `xepcheck doap generate` and `xepcheck doap check`: DOAP (XEP-0453) from
 * a saved report, and a project's DOAP claims compared with it. Bad input
 * (a DOAP file or report that cannot be used, an unknown --target) is
 * exit 2 with a message naming it; a claim the measurements contradict is
 * exit 1.
 */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { DoapInputError } from "../doap/errors.js";
import type { Report, TargetReport } from "../report/types.js";

export interface DoapExitCodes {
  ok: number;
  /** Claims contradicted by the measurements. */
  gate: number;
  usage: number;
}

/** The one target to use: --target by name, or the report's only one. */
export function selectTarget(report: Report, file: string, name?: string): TargetReport {
  const names = report.targets.map((t) => t.name);
  let target: TargetReport | undefined;
  if (name !== undefined) {
    target = report.targets.find((t) => t.name === name);
    if (!target) throw new DoapInputError(`${file} has no target "${name}"; its targets: ${names.join(", ") || "none"}`);
  } else if (report.targets.length === 1) {
    target = report.targets[0]!;
  } else if (report.targets.length === 0) {
    throw new DoapInputError(`${file} holds no target`);
  } else {
    throw new DoapInputError(`${file} holds ${names.length} targets (${names.join(", ")}): choose one with --target NAME`);
  }
  if (target.outcome === "login-failed") {
    throw new DoapInputError(`${file}: target ${target.name} could not log in (outcome login-failed): nothing was measured`);
  }
  return target;
}

function writeOut(file: string, text: string, what: string): void {
  if (file === "-") {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileSync(file, text);
  } catch (err) {
    throw new DoapInputError(`cannot write ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Runs an action, turning DoapInputError into its message and the usage exit code. */
async function guarded(exit: DoapExitCodes, action: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (err) {
    if (!(err instanceof DoapInputError)) throw err;
    process.stderr.write(`xepcheck: ${err.message}\n`);
    process.exitCode = exit.usage;
  }
}

export function registerDoapCommands(program: Command, exit: DoapExitCodes): void {
  const doap = program
    .command("doap")
    .description("DOAP (XEP-0453): generate implements entries from a report, or check a project's DOAP claims against one");

  doap
    .command("generate")
    .description("write a DOAP file (RDF/XML) listing the specs a run measured working: complete or partial, with the XEP version and what was measured")
    .argument("<report.json>", "a report written by xepcheck run --json")
    .option("--target <name>", "the target to describe, when the report holds several")
    .option("-o, --output <file>", "write to FILE instead of stdout")
    .action((file: string, flags: { target?: string; output?: string }) =>
      guarded(exit, async () => {
        const { readReportFile } = await import("../report/read.js");
        const { renderDoap } = await import("../report/doap.js");
        const report = readReportFile(file);
        writeOut(flags.output ?? "-", renderDoap(selectTarget(report, file, flags.target), report.tool), "-o");
        return exit.ok;
      }),
    );

  doap
    .command("check")
    .description("compare a project's DOAP claims with a run: claimed but failing (exit 1), working but unclaimed, and more")
    .argument("<project.doap>", "the project's DOAP file (RDF/XML, XEP-0453)")
    .argument("<report.json>", "a report written by xepcheck run --json")
    .option("--target <name>", "the target to compare, when the report holds several")
    .option("--json <file>", "also write the comparison as JSON to FILE (- for stdout; the text then goes to stderr)")
    .addHelpText("after", "\nExit codes:\n  0  no claim is contradicted\n  1  a spec the DOAP file claims is failing\n  2  a file could not be read or understood")
    .action((doapFile: string, reportFile: string, flags: { target?: string; json?: string }) =>
      guarded(exit, async () => {
        const { claimsContradicted, compareDoap, formatDoapComparison } = await import("../doap/check.js");
        const { readDoapFile } = await import("../doap/read.js");
        const { readReportFile } = await import("../report/read.js");
        const project = readDoapFile(doapFile);
        const report = readReportFile(reportFile);
        const target = selectTarget(report, reportFile, flags.target);
        const comparison = compareDoap(project, target);
        if (flags.json) writeOut(flags.json, JSON.stringify(comparison, null, 2) + "\n", "--json");
        (flags.json === "-" ? process.stderr : process.stdout).write(formatDoapComparison(comparison, { file: doapFile, project, report, target }));
        return claimsContradicted(comparison) ? exit.gate : exit.ok;
      }),
    );

  // main() overrides exits on top-level commands only; these are a level deeper.
  for (const sub of [doap, ...doap.commands]) sub.exitOverride();
}
