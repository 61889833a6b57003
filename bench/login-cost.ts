/**
 * bench/login-cost: what each login flavour costs against the local Prosody
 * and ejabberd: round trips the client waits for, bytes of XML out and in,
 * and the median time over N runs. Prints one Markdown table per server
 * (for the README). Round trips are deterministic; times are this machine's.
 *
 *   npm run build && node dist/bench/login-cost.js [runs]
 */
import { readFileSync } from "node:fs";
import { LOGIN_FLAVOURS, measureLoginCosts, type LoginCost } from "../src/probe/login-cost.js";
import type { Target } from "../src/scenario/scenario.js";
import { TrafficMeter } from "../src/session/traffic.js";
import { startServer, type ServerKind } from "../test/servers/harness.js";

const runs = Number(process.argv[2] ?? 9);
const BASE_PORTS: Record<ServerKind, number> = { prosody: 27600, ejabberd: 27700 };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function bench(kind: ServerKind): Promise<string> {
  const server = await startServer(kind, { basePort: BASE_PORTS[kind] });
  try {
    const [username] = server.accounts[0]!.jid.split("@") as [string];
    const target: Target & { directTlsPort: number } = {
      domain: server.domain,
      host: "127.0.0.1",
      port: server.ports.c2s,
      mode: "starttls",
      tls: { ca: readFileSync(server.caFile, "utf8") },
      timeoutMs: 10_000,
      configuredHost: true,
      alpn: ["xmpp-client"],
      transport: "tcp",
      limits: {},
      meter: new TrafficMeter(),
      directTlsPort: server.ports.directTls,
    };
    const credentials = { username, password: server.accounts[0]!.password };
    await measureLoginCosts(target, credentials); // warm-up: module loading, TLS contexts, server caches
    const all: LoginCost[][] = [];
    for (let i = 0; i < runs; i++) all.push(await measureLoginCosts(target, credentials));
    const rows = Object.values(LOGIN_FLAVOURS).flatMap((flavour) => {
      const samples = all.map((r) => r.find((c) => c.flavour === flavour)).filter((c): c is LoginCost => c !== undefined);
      if (samples.length === 0) return [];
      const failed = samples.filter((c) => !c.ok);
      if (failed.length) return [`| ${flavour} | failed: ${failed[0]!.note ?? ""} | | | |`];
      const trips = [...new Set(samples.map((c) => c.roundTrips))].join("/");
      return [
        `| ${flavour} | ${trips} | ${Math.round(median(samples.map((c) => c.bytesOut)))} | ${Math.round(median(samples.map((c) => c.bytesIn)))} | ${median(samples.map((c) => c.ms)).toFixed(1)} ms |`,
      ];
    });
    const version = server.kind === "prosody" ? "Prosody 13" : "ejabberd 24.12";
    const notes = all[0]!.map((c) => `- ${c.flavour}: ${c.note ?? ""}`);
    return [
      `Login cost against local ${version} (STARTTLS on loopback, TLS 1.3), median of ${runs} runs:`,
      "",
      "| flavour | round trips | bytes out | bytes in | median time |",
      "|---|---:|---:|---:|---:|",
      ...rows,
      "",
      ...notes,
      "",
    ].join("\n");
  } finally {
    await server.stop();
  }
}

for (const kind of ["prosody", "ejabberd"] as const) {
  process.stdout.write(`${await bench(kind)}\n`);
}
