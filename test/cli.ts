/** Test helpers: the built CLI run as a user would, and logins to the test servers. */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Report, TargetReport } from "../src/report/types.js";
import { login, type Session } from "../src/session/login.js";

/** The built CLI; XEPCHECK_CLI points the helpers at another build (test/verdicts/record.ts compares builds with it). */
export const CLI = process.env.XEPCHECK_CLI || new URL("../dist/bundle/xepcheck.js", import.meta.url).pathname.replace("/dist/dist/", "/dist/");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    // CI=… would turn on plain progress lines on stderr; tests that want them say so.
    const { CI: _ci, ...base } = process.env;
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...base, NO_COLOR: "1", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

/**
 * Runs the built CLI and sends it `signal` once its stderr matches `when`
 * (e.g. a progress line, with CI=1 so that plain progress lines are written).
 * `signalled` says whether the signal was sent before the CLI exited.
 */
export function runCliInterrupted(
  args: string[],
  env: Record<string, string>,
  interrupt: { when: RegExp; signal?: NodeJS.Signals },
): Promise<CliResult & { signalled: boolean }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const { CI: _ci, ...base } = process.env;
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...base, NO_COLOR: "1", CI: "1", ...env } });
    let stdout = "";
    let stderr = "";
    let signalled = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      if (!signalled && interrupt.when.test(stderr)) {
        signalled = true;
        child.kill(interrupt.signal ?? "SIGINT");
      }
    });
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started, signalled }));
  });
}

/** Logs in to a test server as one of its accounts, with the project's own session layer. */
export function loginAs(
  server: { domain: string; ports: { c2s: number }; caFile: string },
  account: { jid: string; password: string },
): Promise<Session> {
  return login({
    domain: server.domain,
    host: "127.0.0.1",
    port: server.ports.c2s,
    mode: "starttls",
    tls: { ca: readFileSync(server.caFile, "utf8") },
    timeoutMs: 10_000,
    credentials: { username: account.jid.split("@")[0]!, password: account.password },
  });
}

/** The one target of a `xepcheck run JID --json` report (report version 2). */
export function readTargetReport(file: string): TargetReport {
  return singleTarget(JSON.parse(readFileSync(file, "utf8")));
}

export function singleTarget(report: Report): TargetReport {
  if (report.reportVersion !== 2 || report.targets.length !== 1) {
    throw new Error(`expected a version 2 report with one target, got version ${report.reportVersion} with ${report.targets?.length} targets`);
  }
  return report.targets[0]!;
}
