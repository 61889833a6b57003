/**
 * bench/startup: how long `xepcheck --version` and `xepcheck checks` take,
 * process start to exit, against a bare `node -e 0` on the same machine
 * (median of 15, alternating).
 *
 *   npm run build && node dist/bench/startup.js
 */
import { spawnSync } from "node:child_process";
import { CLI } from "../test/cli.js";

function ms(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: "ignore" });
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}`);
  return performance.now() - t0;
}

const runs: Record<string, number[]> = { "node -e 0": [], "xepcheck --version": [], "xepcheck checks": [] };
for (let i = 0; i < 15; i++) {
  runs["node -e 0"]!.push(ms(["-e", "0"]));
  runs["xepcheck --version"]!.push(ms([CLI, "--version"]));
  runs["xepcheck checks"]!.push(ms([CLI, "checks"]));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const bare = median(runs["node -e 0"]!);
process.stdout.write(
  [
    "| command | median | × node -e 0 |",
    "|---|---:|---:|",
    ...Object.entries(runs).map(([name, xs]) => `| ${name} | ${median(xs).toFixed(0)} ms | ${(median(xs) / bare).toFixed(2)} |`),
    "",
  ].join("\n"),
);
