/**
 * A full `xepcheck run` (every check present, no --only) leaves the server as it
 * found it: the state the admin commands show (test/servers/state.ts) is the same
 * before and after, on Prosody and on ejabberd. Also with --register: the
 * throw-away account is gone again and nothing else changed.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";
import { login } from "../../src/session/login.js";
import { reportProblems } from "../../src/report/schema.js";
import type { TargetReport } from "../../src/report/types.js";
import { runCli, runCliInterrupted, readTargetReport } from "../cli.js";
import type { ServerInfo } from "../servers/harness.js";
import { diffStates, snapshotState, type ServerState } from "../servers/state.js";

const servers = inject("servers");
const tmp = mkdtempSync(path.join(os.tmpdir(), "xepcheck-cleanup-"));
const USERS = ["alice", "bob", "carol"];
const RUN_TIMEOUT_MS = 600_000;

function target(s: ServerInfo): string[] {
  return ["--host", "127.0.0.1", "--port", String(s.ports.c2s), "--ca", s.caFile];
}

/**
 * Logs each account in once (bind, then close). The first login of an account may
 * create server-side state by itself — Prosody's mod_bookmarks creates the legacy
 * `storage:bookmarks` PEP node on resource bind — which is the server's doing, not
 * a scenario's: the "before" snapshot is taken after it.
 */
async function warmUp(s: ServerInfo): Promise<void> {
  const ca = readFileSync(s.caFile, "utf8");
  for (const a of s.accounts) {
    const session = await login({
      domain: s.domain,
      host: "127.0.0.1",
      port: s.ports.c2s,
      mode: "starttls",
      tls: { ca },
      timeoutMs: 10_000,
      credentials: { username: a.jid.split("@")[0]!, password: a.password },
    });
    await session.stream.close();
  }
}

/**
 * The state after the run, compared with `before`. Cleanups have finished when the
 * CLI exits, but a server may apply some effects asynchronously (presence
 * subscriptions routed between two local users): retry for a few seconds until the
 * state matches, then report what still differs.
 */
async function settledDiff(s: ServerInfo, before: ServerState): Promise<{ after: ServerState; diff: string[] }> {
  const deadline = Date.now() + 6_000;
  for (;;) {
    const after = await snapshotState(s, USERS);
    const diff = diffStates(before, after);
    if (diff.length === 0 || Date.now() > deadline) return { after, diff };
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function runProblems(report: TargetReport): TargetReport["errors"] {
  return report.errors.filter((e) => e.step === "cleanup" || e.step === "register" || e.kind === "cleanup");
}

/** Scenario checks that noted a failed cleanup step in their evidence. */
function cleanupNotes(report: TargetReport): string[] {
  return report.checks.flatMap((c) =>
    c.evidence.flatMap((e) => (e.type === "note" && /cleanup failed/.test(e.text) ? [`${c.id}: ${e.text}`] : [])),
  );
}

for (const kind of ["prosody", "ejabberd"] as const) {
  const server = servers[kind];
  describe.runIf(server)(`a full run leaves ${kind} as it found it`, () => {
    const s = server!;
    // The body runs to collect the tests even when this server is not selected (XEPCHECK_SERVERS).
    const [alice, bob] = (server?.accounts ?? []) as [ServerInfo["accounts"][number], ServerInfo["accounts"][number]];

    it("alice with --peer bob: same accounts, rooms, nodes, rosters, blocklists, vCards, PEP, private XML, bookmarks", async () => {
      await warmUp(s);
      const before = await snapshotState(s, USERS);
      expect(before.accounts).toEqual(USERS.map((u) => `${u}@${s.domain}`).sort());

      const json = path.join(tmp, `${kind}-peer.json`);
      const result = await runCli(["run", alice.jid, "--peer", bob.jid, ...target(s), "--json", json], {
        XEPCHECK_PASSWORD: alice.password,
        XEPCHECK_PEER_PASSWORD: bob.password,
      });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const report: TargetReport = readTargetReport(json);
      expect(report.target.peer).toBe(bob.jid);
      const scenarios = report.checks.filter((c) => c.kind === "scenario");
      expect(scenarios.length).toBeGreaterThan(0);
      // The full report (scenario transcripts, login costs) keeps to its schema.
      expect(reportProblems(JSON.parse(readFileSync(json, "utf8")))).toEqual([]);
      expect(report.loginCosts?.length).toBeGreaterThan(0);
      expect(JSON.stringify(report)).not.toContain(alice.password);

      const { after, diff } = await settledDiff(s, before);
      expect.soft(runProblems(report), "run errors of step cleanup/register").toEqual([]);
      expect.soft(cleanupNotes(report), "scenarios whose cleanup failed").toEqual([]);
      expect(diff, `state left behind on ${kind} by a full run (${scenarios.length} scenarios)`).toEqual([]);
      expect(after).toEqual(before);
    }, RUN_TIMEOUT_MS);

    it("--register: the throw-away account is gone again and nothing else changed", async () => {
      await warmUp(s);
      const before = await snapshotState(s, USERS);

      const json = path.join(tmp, `${kind}-register.json`);
      const result = await runCli(["run", s.domain, ...target(s), "--register", "--json", json]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const report: TargetReport = readTargetReport(json);
      const user = report.target.account.split("@")[0]!;
      expect(user).toMatch(/^xepcheck-[0-9a-f]{10}$/);

      const { after, diff } = await settledDiff(s, before);
      expect.soft(runProblems(report), "run errors of step cleanup/register").toEqual([]);
      expect.soft(cleanupNotes(report), "scenarios whose cleanup failed").toEqual([]);
      expect(after.accounts, "accounts after a --register run").toEqual(before.accounts);
      expect(after.accounts).not.toContain(report.target.account);
      expect(diff, `state left behind on ${kind} by a --register run`).toEqual([]);
    }, RUN_TIMEOUT_MS);

    it("SIGINT halfway through a --register run: a partial report marked interrupted, and nothing left behind", async () => {
      await warmUp(s);
      const before = await snapshotState(s, USERS);

      const json = path.join(tmp, `${kind}-interrupted.json`);
      // Interrupted once half of the checks are done: scenarios are running then.
      const result = await runCliInterrupted(["run", s.domain, ...target(s), "--register", "--json", json], {}, { when: /\(50%\)/ });
      expect(result.signalled, result.stderr).toBe(true);
      expect(result.code, result.stderr).toBe(130);
      expect(result.stderr).toMatch(/SIGINT: finishing the running scenarios and their cleanup, then writing a partial report/);
      expect(result.stderr).not.toMatch(/\n\s+at /);

      const whole = JSON.parse(readFileSync(json, "utf8"));
      expect(reportProblems(whole)).toEqual([]);
      expect(whole.run.interrupted).toBe(true);
      const report: TargetReport = readTargetReport(json);
      expect(report.outcome).toBe("interrupted");
      const notRun = report.checks.filter((c) => c.verdict === "error" && c.summary === "not run: the run was interrupted");
      const judged = report.checks.filter((c) => c.verdict !== "error");
      expect(notRun.length, "checks left out after the interrupt").toBeGreaterThan(0);
      expect(judged.length, "checks judged before the interrupt").toBeGreaterThan(report.checks.length / 3);
      expect(result.stdout).toContain("The run was interrupted");

      const { after, diff } = await settledDiff(s, before);
      expect.soft(runProblems(report), "run errors of step cleanup/register").toEqual([]);
      expect(after.accounts, "accounts after an interrupted --register run").toEqual(before.accounts);
      expect(diff, `state left behind on ${kind} by an interrupted run`).toEqual([]);
    }, RUN_TIMEOUT_MS);
  });
}
