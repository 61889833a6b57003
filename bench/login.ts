/**
 * bench/login: how long one login takes with xmpp.js's built-in SCRAM-SHA-1
 * and with xepcheck's (node:crypto), both against the same local Prosody in
 * the same run. Prints a Markdown table for the README.
 *
 *   npm run build && node dist/bench/login.js [rounds]
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startServer } from "../test/servers/harness.js";

const rounds = Number(process.argv[2] ?? 15);
const here = path.dirname(fileURLToPath(import.meta.url));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const server = await startServer("prosody", { basePort: 27200 });
try {
  const [user, domain] = server.accounts[0]!.jid.split("@") as [string, string];
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [path.join(here, "login-worker.js"), JSON.stringify({ domain, port: server.ports.c2s, username: user, password: server.accounts[0]!.password, rounds })],
    { env: { ...process.env, NODE_EXTRA_CA_CERTS: server.caFile }, maxBuffer: 1 << 20 },
  );
  const { xmppjs, xmppjsFailed, xepcheck } = JSON.parse(stdout) as { xmppjs: number[]; xmppjsFailed: number; xepcheck: number[] };
  const a = median(xmppjs);
  const b = median(xepcheck);
  // A whole small run through the built CLI, process start to exit: login, probe, the XEP-0030 checks.
  const cli = path.join(here, "..", "bundle", "xepcheck.js");
  const onlyDisco: number[] = [];
  for (let i = 0; i < Math.min(rounds, 9); i++) {
    const started = performance.now();
    await promisify(execFile)(
      process.execPath,
      [cli, "run", server.accounts[0]!.jid, "--host", "127.0.0.1", "--port", String(server.ports.c2s), "--ca", server.caFile, "--only", "xep0030.*", "--quiet"],
      { env: { ...process.env, XEPCHECK_PASSWORD: server.accounts[0]!.password }, maxBuffer: 1 << 22 },
    );
    onlyDisco.push(performance.now() - started);
  }
  const c = median(onlyDisco);
  const version = (await promisify(execFile)("prosody", ["--version"]).catch(() => ({ stdout: "Prosody" }))).stdout.split("\n")[0];
  process.stdout.write(
    [
      `Login (STARTTLS + SCRAM-SHA-1 + bind) against local ${version.trim()}, ${rounds} rounds each, alternating, median:`,
      "",
      "| client | median | min | max |",
      "|---|---:|---:|---:|",
      `| xmpp.js 0.14 built-in SCRAM-SHA-1 | ${a.toFixed(1)} ms | ${Math.min(...xmppjs).toFixed(1)} ms | ${Math.max(...xmppjs).toFixed(1)} ms |`,
      `| xepcheck (node:crypto SCRAM-SHA-1) | ${b.toFixed(1)} ms | ${Math.min(...xepcheck).toFixed(1)} ms | ${Math.max(...xepcheck).toFixed(1)} ms |`,
      "",
      `Median ratio: **${(a / b).toFixed(1)}×** faster.${xmppjsFailed ? ` (${xmppjsFailed} of ${rounds} xmpp.js logins did not finish within its own deadlines and are left out.)` : ""}`,
      "",
      `\`xepcheck run --only 'xep0030.*'\` through the built CLI, process start to exit (median of ${onlyDisco.length}): ${c.toFixed(0)} ms, ${(c / a).toFixed(2)}× one xmpp.js login.`,
      "",
    ].join("\n"),
  );
} finally {
  await server.stop();
}
