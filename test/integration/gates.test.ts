/**
 * --require, --baseline and `xepcheck diff` through the built CLI against real
 * Prosody 13 and ejabberd 24.12 (advertisement checks only: deterministic).
 * The gate and baseline logic itself is tested in test/unit/gates.test.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";
import type { TargetReport } from "../../src/report/types.js";
import { runCli, readTargetReport } from "../cli.js";
import type { ServerInfo } from "../servers/harness.js";

const servers = inject("servers");
const tmp = mkdtempSync(path.join(os.tmpdir(), "xepcheck-gates-"));

for (const kind of ["prosody", "ejabberd"] as const) {
  const server = servers[kind];
  describe.runIf(server)(`gates against ${kind}`, () => {
    const s = server as ServerInfo;
    const alice = s.accounts[0]!;
    const env = { XEPCHECK_PASSWORD: alice.password };
    const run = (...args: string[]) =>
      runCli(["run", alice.jid, "--host", "127.0.0.1", "--port", String(s.ports.c2s), "--ca", s.caFile, "--no-scenarios", ...args], env);

    it("--require fails an unmet gate, --baseline accepts a previous report, diff finds no change", async () => {
      const first = path.join(tmp, `${kind}-1.json`);
      const gated = await run("--json", first, "--require", "cs2023:core:core");
      expect(gated.stderr).toBe("");
      // Without live scenarios (and with components not testable) Core cannot be proven.
      expect(gated.code).toBe(1);
      expect(gated.stdout).toContain("gate cs2023:core:core: NOT MET (undetermined)");
      expect(gated.stdout).toContain("undetermined: core.server-extensibility.xep0114 (undetermined): xep0114.component skip");
      expect(gated.stdout).toContain("gates: NOT MET (exit 1)");
      const report: TargetReport = readTargetReport(first);

      const second = path.join(tmp, `${kind}-2.json`);
      const baselined = await run("--json", second, "--baseline", first);
      expect(baselined.code, baselined.stdout).toBe(0);
      expect(baselined.stdout).toContain(`baseline ${first}: no new failure`);
      expect(baselined.stdout).toContain("gates: all met");

      // An empty baseline accepts nothing: every fail/error of this server is new.
      const empty = path.join(tmp, "empty-baseline.json");
      writeFileSync(empty, JSON.stringify({ baselineVersion: 1, accept: [] }));
      const failures = report.checks.filter((c) => c.verdict === "fail" || c.verdict === "error");
      const strict = await run("--baseline", empty);
      expect(strict.code).toBe(failures.length ? 1 : 0);
      for (const f of failures) expect(strict.stdout).toContain(`new ${f.verdict}: ${f.id}:`);

      const diff = await runCli(["diff", first, second]);
      expect(diff.code, diff.stdout).toBe(0);
      expect(diff.stdout).toContain("regressions: 0");
    });
  });
}
