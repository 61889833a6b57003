/**
 * bench/many: how a list of servers scales. Starts the test Prosody and
 * ejabberd, and runs `xepcheck run --targets` (the built CLI, as a list
 * publisher would) over N targets per server, each a full run with
 * throw-away accounts (--register, so targets do not share state), first
 * one target at a time, then with the limits loosened (parallel 4, two
 * targets per server at once). Prints wall time and targets per minute.
 *
 *   npm run build && node dist/bench/many.js [N per server, default 2]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, type StartedServer } from "../test/servers/harness.js";

const perServer = Math.max(1, Number(process.argv[2] ?? 2));
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "bundle", "xepcheck.js");
const dir = mkdtempSync(path.join(os.tmpdir(), "xepcheck-bench-many-"));
const servers: StartedServer[] = [];
try {
  servers.push(await startServer("prosody", { basePort: 27400 }), await startServer("ejabberd", { basePort: 27500 }));
  const env: Record<string, string> = {};
  const targets = servers.flatMap((s) =>
    Array.from({ length: perServer }, (_, i) => {
      env[`COMPONENT_${s.kind.toUpperCase()}`] = s.component.secret;
      return {
        name: `${s.kind}-${i + 1}`,
        jid: s.domain,
        register: true,
        host: "127.0.0.1",
        port: s.ports.c2s,
        ca: s.caFile,
        directTlsPort: s.ports.directTls,
        component: { domain: s.component.domain, port: s.ports.component, secretEnv: `COMPONENT_${s.kind.toUpperCase()}` },
      };
    }),
  );
  const rows: string[] = [];
  for (const limits of [{ parallel: 1, perServer: 1 }, { parallel: 4, perServer: 2 }]) {
    const file = path.join(dir, `targets-${limits.parallel}.json`);
    const json = path.join(dir, `report-${limits.parallel}.json`);
    writeFileSync(file, JSON.stringify({ ...limits, targets }));
    const t0 = performance.now();
    const run = spawnSync(process.execPath, [cli, "run", "--targets", file, "--json", json, "--quiet"], { env: { ...process.env, ...env }, encoding: "utf8" });
    const wall = (performance.now() - t0) / 1000;
    if (run.status !== 0) throw new Error(`run failed (${run.status}): ${run.stderr}`);
    const report = JSON.parse(readFileSync(json, "utf8")) as { targets: { outcome: string; checks: unknown[]; traffic: { logins: number } }[] };
    const checks = report.targets.reduce((n, t) => n + t.checks.length, 0);
    const logins = report.targets.reduce((n, t) => n + t.traffic.logins, 0);
    const outcomes = [...new Set(report.targets.map((t) => t.outcome))].join(", ");
    rows.push(
      `| ${limits.parallel} | ${limits.perServer} | ${targets.length} | ${wall.toFixed(1)} s | ${(targets.length / (wall / 60)).toFixed(1)} | ${checks} | ${logins} | ${outcomes} |`,
    );
  }
  process.stdout.write(
    [
      `${targets.length} targets (${perServer} per server, full runs with --register, --component, --direct-tls-port), ${os.cpus().length} cores:`,
      "",
      "| parallel | perServer | targets | wall time | targets per minute | checks | logins | outcomes |",
      "|---:|---:|---:|---:|---:|---:|---:|---|",
      ...rows,
      "",
    ].join("\n"),
  );
} finally {
  await Promise.allSettled(servers.map((s) => s.stop()));
}
