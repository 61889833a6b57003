/**
 * `xepcheck merge`: combines reports (the shards of one targets file, or
 * runs of different servers) into one. Older report versions are upgraded
 * by the reader; newer ones are refused there. Shards are put back in the
 * targets file's order, so merged shards equal the unsharded run.
 */
import { ReportFileError } from "./read.js";
import { REPORT_VERSION, type Report, type TargetReport } from "./types.js";
import { unshardedPosition } from "../runner/shard.js";

export interface NamedReport {
  file: string;
  report: Report;
}

export function mergeReports(inputs: NamedReport[]): Report {
  if (inputs.length === 0) throw new ReportFileError("merge needs at least one report");
  const sharded = inputs.filter((i) => i.report.run.shard);
  if (sharded.length > 0 && sharded.length < inputs.length) {
    const plain = inputs.find((i) => !i.report.run.shard)!;
    throw new ReportFileError(`cannot merge shards with a report that is not one: ${plain.file} has no shard, ${sharded[0]!.file} is shard ${shardText(sharded[0]!.report)}`);
  }
  const targets = sharded.length ? mergeShards(inputs) : inputs.flatMap((i) => i.report.targets);
  const seen = new Map<string, string>();
  for (const input of inputs) {
    for (const t of input.report.targets) {
      const other = seen.get(t.name);
      if (other) throw new ReportFileError(`target "${t.name}" is in both ${other} and ${input.file}: a merged report names each target once`);
      seen.set(t.name, input.file);
    }
  }
  const started = Math.min(...inputs.map((i) => Date.parse(i.report.startedAt)));
  const finished = Math.max(...inputs.map((i) => Date.parse(i.report.finishedAt)));
  return {
    reportVersion: REPORT_VERSION,
    tool: inputs[inputs.length - 1]!.report.tool,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: Math.max(0, finished - started),
    // Gates are a verdict on one run; apply them to the merged report with `xepcheck report --require`.
    run: { interrupted: inputs.some((i) => i.report.run.interrupted), mergedFrom: inputs.length },
    targets,
  };
}

function shardText(r: Report): string {
  return `${r.run.shard!.index}/${r.run.shard!.count}`;
}

/** Every shard of one count exactly once; targets back in file order. */
function mergeShards(inputs: NamedReport[]): TargetReport[] {
  const count = inputs[0]!.report.run.shard!.count;
  const byIndex = new Map<number, NamedReport>();
  for (const input of inputs) {
    const shard = input.report.run.shard!;
    if (shard.count !== count) throw new ReportFileError(`${input.file} is shard ${shardText(input.report)} but ${inputs[0]!.file} is of ${count} shards`);
    const twin = byIndex.get(shard.index);
    if (twin) throw new ReportFileError(`${twin.file} and ${input.file} are both shard ${shardText(input.report)}`);
    byIndex.set(shard.index, input);
  }
  const missing = Array.from({ length: count }, (_, k) => k + 1).filter((k) => !byIndex.has(k));
  if (missing.length) throw new ReportFileError(`shard(s) ${missing.map((k) => `${k}/${count}`).join(", ")} missing: give every shard of the run`);
  const placed: { at: number; target: TargetReport }[] = [];
  for (const input of inputs) {
    input.report.targets.forEach((target, position) => placed.push({ at: unshardedPosition(input.report.run.shard!, position), target }));
  }
  return placed.sort((a, b) => a.at - b.at).map((p) => p.target);
}
