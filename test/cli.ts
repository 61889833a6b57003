/** Test helpers: the built CLI run as a user would, and logins to the test servers. */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { login, type Session } from "../src/session/login.js";

export const CLI = new URL("../dist/src/cli/main.js", import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: "1", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
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
