/**
 * Vitest globalSetup for the `integration` project: starts the real servers
 * (both by default, in parallel; XEPCHECK_SERVERS=prosody or =ejabberd or
 * =prosody,ejabberd limits which) and provides them to tests as
 * inject("servers"). Teardown stops them.
 * XEPCHECK_PROSODY_BASE_PORT / XEPCHECK_EJABBERD_BASE_PORT move a server off its
 * default ports (25200 / 25300), e.g. to run two test runs side by side.
 */
import type { TestProject } from "vitest/node";
import { serverInfo, startServer, type ServerInfo, type ServerKind, type StartedServer } from "./harness.js";

export type ProvidedServers = Partial<Record<ServerKind, ServerInfo>>;

declare module "vitest" {
  export interface ProvidedContext {
    servers: ProvidedServers;
  }
}

const ALL: ServerKind[] = ["prosody", "ejabberd"];

export function selectedKinds(env = process.env.XEPCHECK_SERVERS): ServerKind[] {
  if (!env || env.trim() === "" || env.trim() === "all") return ALL;
  const wanted = env.split(/[,\s]+/).filter(Boolean);
  for (const w of wanted) {
    if (!ALL.includes(w as ServerKind)) throw new Error(`XEPCHECK_SERVERS: unknown server "${w}" (use prosody, ejabberd)`);
  }
  return ALL.filter((k) => wanted.includes(k));
}

function basePortFromEnv(kind: ServerKind): number | undefined {
  const v = process.env[`XEPCHECK_${kind.toUpperCase()}_BASE_PORT`];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1024 || n > 65400) throw new Error(`XEPCHECK_${kind.toUpperCase()}_BASE_PORT: bad port ${v}`);
  return n;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const kinds = selectedKinds();
  const results = await Promise.allSettled(kinds.map((k) => startServer(k, { basePort: basePortFromEnv(k) })));
  const started: StartedServer[] = [];
  const errors: string[] = [];
  for (const r of results) {
    if (r.status === "fulfilled") started.push(r.value);
    else errors.push(r.reason instanceof Error ? r.reason.message : String(r.reason));
  }
  const teardown = async () => {
    await Promise.allSettled(started.map((s) => s.stop()));
  };
  if (errors.length > 0) {
    await teardown();
    throw new Error(`could not start test servers:\n${errors.join("\n\n")}`);
  }
  const provided: ProvidedServers = {};
  for (const s of started) {
    provided[s.kind] = serverInfo(s);
    process.stderr.write(`[xepcheck] ${s.kind} ready on 127.0.0.1:${s.ports.c2s} in ${s.startupMs} ms (dir ${s.dir})\n`);
  }
  project.provide("servers", provided);
  return teardown;
}
