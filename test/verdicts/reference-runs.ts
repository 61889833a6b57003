/**
 * The verdict reference: every check's verdict in a full run (alice with
 * --peer bob, direct TLS, the external component) against each test server
 * and Prosody variant. test/verdicts/reference.json records them;
 * test/integration/verdicts.test.ts runs the same and names every difference;
 * a deliberate change is made in reference.json with its reason in "changes".
 */
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Verdict } from "../../src/checks/types.js";
import { readTargetReport, runCli } from "../cli.js";
import type { ServerInfo } from "../servers/harness.js";

export type VerdictMap = Record<string, Verdict>;

export interface VerdictChange {
  target: string;
  check: string;
  from: Verdict | "absent";
  to: Verdict | "absent";
  reason: string;
}

export interface VerdictReference {
  /** Per target ("prosody", "ejabberd", "prosody-minimal", "prosody-liar"), check id → verdict. */
  targets: Record<string, VerdictMap>;
  /** Deliberate changes, newest last: what changed and why. */
  changes: VerdictChange[];
}

/** The source tree's file, also when this runs compiled from dist/. */
export const REFERENCE_FILE = new URL("./reference.json", import.meta.url).pathname.replace("/dist/test/verdicts/", "/test/verdicts/");

export function readReference(): VerdictReference {
  return JSON.parse(readFileSync(REFERENCE_FILE, "utf8")) as VerdictReference;
}

/** A full run of the built CLI against `server`; its verdicts by check id. */
export async function fullRunVerdicts(server: ServerInfo): Promise<VerdictMap> {
  const json = path.join(mkdtempSync(path.join(os.tmpdir(), "xepcheck-verdicts-")), "report.json");
  const [alice, bob] = server.accounts;
  const result = await runCli(
    [
      "run", alice!.jid, "--peer", bob!.jid, "--host", "127.0.0.1", "--port", String(server.ports.c2s), "--ca", server.caFile,
      "--direct-tls-port", String(server.ports.directTls), "--component", `${server.component.domain}:${server.ports.component}`,
      "--json", json, "--quiet",
    ],
    { XEPCHECK_PASSWORD: alice!.password, XEPCHECK_PEER_PASSWORD: bob!.password, XEPCHECK_COMPONENT_SECRET: server.component.secret },
  );
  if (result.code !== 0) throw new Error(`the full run against ${server.kind} exited ${result.code}: ${result.stderr}`);
  const report = readTargetReport(json);
  return Object.fromEntries(report.checks.map((c) => [c.id, c.verdict]));
}

/** Lines naming each check whose verdict differs from the reference ("absent" where one side has no such check). */
export function differences(target: string, expected: VerdictMap, actual: VerdictMap): string[] {
  const ids = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  return ids
    .filter((id) => expected[id] !== actual[id])
    .map((id) => `${target}: ${id} was ${expected[id] ?? "absent"}, is ${actual[id] ?? "absent"}`);
}
