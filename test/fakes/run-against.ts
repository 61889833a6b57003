/**
 * The built CLI run against a scripted fake server, and what every failed
 * login must look like: exit 3, the step and the reason on stderr and in
 * the JSON report, every check `error` with that reason, no crash.
 */
import { expect } from "vitest";
import type { Report, TargetReport } from "../../src/report/types.js";
import { runCli, singleTarget, type CliResult } from "../cli.js";
import type { Certificate } from "./certificate.js";
import { FAKE_DOMAIN, startScriptedServer, type Script, type ScriptedServer } from "./scripted-server.js";

export const PASSWORD = "S3cr3t-fake-pw";

export interface FakeRun extends CliResult {
  fake: ScriptedServer;
  /** The JSON report (--json -). */
  report: Report;
  /** Its one target. */
  target: TargetReport;
}

/**
 * Starts the fake, runs `xepcheck run` against it, stops the fake. The step
 * deadline is 5 s unless `args` say otherwise: tests of a timeout pass
 * --timeout 1; the others must not depend on a loaded machine's speed.
 */
export async function runAgainst(script: Omit<Script, "certificate">, certificate: Certificate, args: string[] = []): Promise<FakeRun> {
  const fake = await startScriptedServer({ ...script, certificate });
  try {
    const result = await runCli(
      ["run", `alice@${FAKE_DOMAIN}`, "--host", "127.0.0.1", "--port", String(fake.port), "--ca", certificate.certFile, "--timeout", "5", "--json", "-", ...args],
      { XEPCHECK_PASSWORD: PASSWORD },
    );
    expect(result.stderr).not.toMatch(/Unhandled|internal error|\n\s+at /);
    const report = JSON.parse(result.stdout) as Report;
    return { ...result, fake, report, target: singleTarget(report) };
  } finally {
    await fake.close();
  }
}

/** A failed login: exit 3, `step` and `reason` named on stderr and in the report, all checks `error` for that reason. */
export function expectLoginFailure(run: FakeRun, step: string, reason: RegExp, error: { kind?: string; condition?: string } = {}): void {
  expect(run.code, run.stderr).toBe(3);
  expect(run.target.outcome).toBe("login-failed");
  expect(run.stderr).toContain(`could not log in to ${FAKE_DOMAIN} (step ${step}): `);
  expect(run.stderr).toMatch(reason);
  expect(run.target.errors?.[0], run.stdout.slice(0, 500)).toMatchObject({ step, ...error });
  expect(run.target.errors[0].message).toMatch(reason);
  expect(run.target.checks.length).toBeGreaterThan(30);
  const notError = run.target.checks.filter((c) => c.verdict !== "error" || !reason.test(c.summary));
  expect(notError).toEqual([]);
  expect(run.stdout + run.stderr).not.toContain(PASSWORD);
}
