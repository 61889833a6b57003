/**
 * bench/full-run: a full `xepcheck run` (probe, every advertisement check,
 * every live scenario) against a local Prosody: wall time, logins, and how
 * much the scenarios overlap (their summed durations against the wall time),
 * at the default concurrency and one at a time on loopback, and at the
 * default concurrency through bench/latency's relay adding 50 ms of round
 * trip time (25 ms each way) to the client and direct TLS ports.
 *
 *   npm run build && node dist/bench/full-run.js [prosody|ejabberd]
 */
import { readFileSync } from "node:fs";
import { ALL_CHECKS } from "../src/checks/index.js";
import { RUN_DEFAULTS } from "../src/cli/defaults.js";
import { runTarget } from "../src/runner/run.js";
import { startServer } from "../test/servers/harness.js";
import { startDelayRelay } from "./latency.js";

const kind = process.argv.includes("ejabberd") ? "ejabberd" : "prosody";
// --slowest: also list each path's ten slowest scenarios (where the wall time goes).
const slowest = process.argv.includes("--slowest");
// --quick: the default concurrency only, loopback and 50 ms RTT.
const quick = process.argv.includes("--quick");
// --concurrency N: the concurrency of the two default-concurrency paths (default: the CLI's).
const concurrencyAt = process.argv.indexOf("--concurrency");
const defaultConcurrency = concurrencyAt > 0 ? Number(process.argv[concurrencyAt + 1]) : RUN_DEFAULTS.concurrency;
const server = await startServer(kind, { basePort: kind === "prosody" ? 27200 : 27300 });
try {
  const [alice, bob] = server.accounts as [{ jid: string; password: string }, { jid: string; password: string }];
  const rows: string[] = [];
  /** Wall time of each path at the default concurrency, for the critical path below. */
  const wall: Record<string, number> = {};
  const exclusive = new Set(ALL_CHECKS.filter((c) => c.kind === "scenario" && c.exclusive).map((c) => c.id));
  const c2sRelay = await startDelayRelay({ host: "127.0.0.1", port: server.ports.c2s, delayMs: 25 });
  const directRelay = await startDelayRelay({ host: "127.0.0.1", port: server.ports.directTls, delayMs: 25 });
  const paths = [
    { label: "loopback", concurrency: defaultConcurrency, port: server.ports.c2s, directTlsPort: server.ports.directTls },
    { label: "loopback", concurrency: 1, port: server.ports.c2s, directTlsPort: server.ports.directTls },
    { label: "50 ms RTT", concurrency: defaultConcurrency, port: c2sRelay.port, directTlsPort: directRelay.port },
  ].filter((p) => !quick || p.concurrency === defaultConcurrency);
  const details: string[] = [];
  for (const { label, concurrency, port, directTlsPort } of paths) {
    // Completion times: the concurrent phase runs from the last advertisement
    // check to the last non-exclusive scenario; the exclusive ones follow, alone.
    const t0 = performance.now();
    let advertisementsDone = 0;
    let concurrentDone = 0;
    let exclusiveDone = 0;
    const report = await runTarget({
      jid: alice.jid,
      password: alice.password,
      peer: bob,
      register: false,
      host: "127.0.0.1",
      port,
      directTlsPort,
      tls: "starttls",
      ca: { path: server.caFile, pem: readFileSync(server.caFile, "utf8") },
      insecure: false,
      timeoutMs: 10_000,
      scenarioTimeoutMs: 60_000,
      concurrency,
      scenarios: true,
      suites: ["cs2023"],
      only: [],
      skip: [],
    }, {
      onCheckDone: (c) => {
        const t = performance.now() - t0;
        if (c.kind === "advertisement") advertisementsDone = t;
        else if (!exclusive.has(c.id)) concurrentDone = t;
        else exclusiveDone = t;
      },
    });
    const scenarios = report.checks.filter((c) => c.kind === "scenario");
    if (slowest) {
      const top = [...scenarios].sort((a, b) => b.durationMs - a.durationMs).slice(0, 10);
      details.push(`Slowest scenarios, ${label}, concurrency ${concurrency}:`, ...top.map((c) => `  ${(c.durationMs / 1000).toFixed(2)} s  ${c.id}${exclusive.has(c.id) ? " (exclusive)" : ""}`), "");
    }
    const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    details.push(
      `Phases, ${label}, concurrency ${concurrency}: login and probe ${seconds(advertisementsDone)}, ` +
        `independent scenarios ${seconds(concurrentDone - advertisementsDone)}, exclusive ${seconds(exclusiveDone - concurrentDone)}, ` +
        `the rest (login costs, closing) ${seconds(report.durationMs - exclusiveDone)}`,
      "",
    );
    const sum = scenarios.reduce((t, c) => t + c.durationMs, 0);
    const concurrent = scenarios.filter((c) => !exclusive.has(c.id));
    const concurrentSum = concurrent.reduce((t, c) => t + c.durationMs, 0);
    const verdicts = scenarios.reduce<Record<string, number>>((acc, c) => ({ ...acc, [c.verdict]: (acc[c.verdict] ?? 0) + 1 }), {});
    if (concurrency === defaultConcurrency) wall[label] = report.durationMs;
    rows.push(
      `| ${label} | ${concurrency} | ${(report.durationMs / 1000).toFixed(2)} s | ${scenarios.length} | ${(sum / 1000).toFixed(2)} s | ` +
        `${concurrent.length}: ${((concurrentDone - advertisementsDone) / 1000).toFixed(2)} s for ${(concurrentSum / 1000).toFixed(2)} s | ` +
        `${report.traffic.logins} | ${report.traffic.roundTrips} | ${Object.entries(verdicts).map(([v, n]) => `${n} ${v}`).join(", ")} |`,
    );
  }
  const version = server.kind === "prosody" ? "Prosody 13" : "ejabberd 24.12";
  process.stdout.write(
    [
      `Full run against a local ${version} (alice + peer bob):`,
      "",
      "| path | concurrency | wall time | scenarios | sum of scenario durations | independent scenarios: wall for summed durations | logins | round trips | scenario verdicts |",
      "|---|---:|---:|---:|---:|---|---:|---:|---|",
      ...rows,
      "",
      // Each sequential round trip costs 50 ms more through the relay: the difference counts them.
      ...(wall["loopback"] !== undefined && wall["50 ms RTT"] !== undefined
        ? [`Critical path: about ${Math.round((wall["50 ms RTT"] - wall["loopback"]) / 50)} round trips in sequence ((wall at 50 ms RTT - wall on loopback) / 50 ms).`, ""]
        : []),
      ...details,
    ].join("\n"),
  );
  await Promise.all([c2sRelay.close(), directRelay.close()]);
} finally {
  await server.stop();
}
