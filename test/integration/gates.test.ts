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
      // Without live scenarios (a component handshake among them) Core cannot be proven.
      expect(gated.code).toBe(1);
      expect(gated.stdout).toContain("gate cs2023:core:core: NOT MET (undetermined)");
      expect(gated.stdout).toContain("undetermined: core.server-extensibility.xep0114 (undetermined): no check of it ran");
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

    it("a full run proving everything a client can reach meets Core Advanced; IM Advanced is met unless a known finding blocks it", async () => {
      const bob = s.accounts[1]!;
      const json = path.join(tmp, `${kind}-full.json`);
      const result = await runCli(
        [
          "run", alice.jid, "--peer", bob.jid, "--host", "127.0.0.1", "--port", String(s.ports.c2s), "--ca", s.caFile,
          "--direct-tls-port", String(s.ports.directTls), "--component", `${s.component.domain}:${s.ports.component}`,
          "--require", "cs2023:core:advanced", "--require", "cs2023:im:advanced", "--json", json,
        ],
        { ...env, XEPCHECK_PEER_PASSWORD: bob.password, XEPCHECK_COMPONENT_SECRET: s.component.secret },
      );
      expect(result.stdout).toContain("gate cs2023:core:advanced: met");
      const gates = JSON.parse(readFileSync(json, "utf8")).run.gates;
      expect(gates.require.find((g: { gate: string }) => g.gate === "cs2023:core:advanced").met).toBe(true);
      if (kind === "ejabberd") {
        // ejabberd 24.12 lets occupants into a room before it is configured (XEP-0045 §7.2.10).
        expect(result.code).toBe(1);
        expect(result.stdout).toContain("gate cs2023:im:advanced: NOT MET (not-compliant)");
        expect(result.stdout).toMatch(/failing: im\.group-chat\.xep0045 .*xep0045\.locked-until-configured fail/);
        expect(gates.met).toBe(false);
      } else {
        expect(result.code, result.stdout).toBe(0);
        expect(result.stdout).toContain("gate cs2023:im:advanced: met");
        expect(gates.met).toBe(true);
      }
    }, 180_000);
  });
}
