/**
 * XEP-0114 against real Prosody 13 and ejabberd 24.12: xepcheck connects as
 * the external component the harness configures (test/servers/harness.ts),
 * completes the handshake, routes a message each way, and sees a wrong
 * secret refused. Without --component both checks skip, saying what to give.
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";
import { readTargetReport, runCli } from "../cli.js";

const servers = inject("servers");
const tmp = mkdtempSync(path.join(os.tmpdir(), "xepcheck-component-"));

for (const kind of ["prosody", "ejabberd"] as const) {
  describe.runIf(servers[kind])(`XEP-0114 against ${kind}`, () => {
    const base = () => {
      const s = servers[kind]!;
      return ["run", s.accounts[0]!.jid, "--host", "127.0.0.1", "--port", String(s.ports.c2s), "--ca", s.caFile, "--only", "xep0114.*"];
    };

    it("connects as the component, routes messages both ways, and is refused with a wrong secret", async () => {
      const s = servers[kind]!;
      const json = path.join(tmp, `${kind}.json`);
      const result = await runCli([...base(), "--component", `${s.component.domain}:${s.ports.component}`, "--json", json], {
        XEPCHECK_PASSWORD: s.accounts[0]!.password,
        XEPCHECK_COMPONENT_SECRET: s.component.secret,
      });
      expect(result.code, result.stderr).toBe(0);
      const report = readTargetReport(json);
      const check = (id: string) => report.checks.find((c) => c.id === id)!;
      expect(check("xep0114.component"), check("xep0114.component").summary).toMatchObject({ verdict: "pass", works: true });
      expect(check("xep0114.wrong-secret-refused"), check("xep0114.wrong-secret-refused").summary).toMatchObject({ verdict: "pass" });
      expect(report.settings.component).toBe(`${s.component.domain}:${s.ports.component}`);
      const transcript = check("xep0114.component").evidence.find((e) => e.type === "transcript");
      const xmlText = transcript?.type === "transcript" ? transcript.entries.map((e) => e.xml).join("\n") : "";
      expect(xmlText).toContain("<handshake xmlns=\"jabber:component:accept\">[redacted]</handshake>");
      expect(JSON.stringify(report)).not.toContain(s.component.secret);
      expect(report.errors).toEqual([]);
    }, 120_000);

    it("without --component both checks skip, naming the option", async () => {
      const s = servers[kind]!;
      const json = path.join(tmp, `${kind}-none.json`);
      const result = await runCli([...base(), "--json", json], { XEPCHECK_PASSWORD: s.accounts[0]!.password });
      expect(result.code, result.stderr).toBe(0);
      for (const c of readTargetReport(json).checks) {
        expect(c.verdict).toBe("skip");
        expect(c.summary).toMatch(/--component DOMAIN:PORT/);
      }
    }, 120_000);
  });
}
