/**
 * The RFC 6120 and carbons scenarios against real Prosody 13 and ejabberd
 * 24.12: each proven by a live exchange, with its transcript.
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import type { TargetReport } from "../../src/report/types.js";
import { runCli, readTargetReport } from "../cli.js";

const servers = inject("servers");
const tmp = mkdtempSync(path.join(os.tmpdir(), "xepcheck-core-"));
const IDS = ["rfc6120.bind-full-jid", "rfc6120.unknown-iq-error", "rfc6120.stream-from-accepted", "rfc6120.starttls-required", "xep0280.copies"];

for (const kind of ["prosody", "ejabberd"] as const) {
  const server = servers[kind];
  describe.runIf(server)(`core scenarios against ${kind}`, () => {
    const s = server!;
    let report: TargetReport;

    beforeAll(async () => {
      const [alice, bob] = s.accounts;
      const json = path.join(tmp, `${kind}.json`);
      const result = await runCli(
        ["run", alice!.jid, "--peer", bob!.jid, "--host", "127.0.0.1", "--port", String(s.ports.c2s), "--ca", s.caFile, "--only", IDS.join(","), "--json", json],
        { XEPCHECK_PASSWORD: alice!.password, XEPCHECK_PEER_PASSWORD: bob!.password },
      );
      expect(result.code).toBe(0);
      report = readTargetReport(json);
      expect(report.errors).toEqual([]);
    });

    for (const id of IDS) {
      it(`${id} works, with its transcript`, () => {
        const check = report.checks.find((c) => c.id === id)!;
        expect(check, id).toMatchObject({ kind: "scenario", verdict: "pass", works: true });
        const transcript = check.evidence.find((e) => e.type === "transcript");
        expect(transcript?.type === "transcript" && transcript.entries.length).toBeGreaterThan(1);
      });
    }

    it("RFC 6120 is scored from the scenarios, and carbons from its live copies", () => {
      expect(report.specs["RFC 6120"]).toMatchObject({ verdict: "pass", works: true });
      expect(report.specs["XEP-0280"]).toMatchObject({ verdict: "pass", advertised: true, works: true });
      const requirement = report.suites[0]!.requirements.find((r) => r.id === "core.core-features.rfc6120")!;
      expect(requirement.status).toBe("met");
      expect(requirement.specs[0]!.checks.map((c) => c.id).sort()).toEqual(IDS.filter((i) => i.startsWith("rfc6120")).sort());
    });

    it("the carbons transcript shows who received what", () => {
      const check = report.checks.find((c) => c.id === "xep0280.copies")!;
      const transcript = check.evidence.find((e) => e.type === "transcript");
      const entries = transcript?.type === "transcript" ? transcript.entries : [];
      const atA = entries.filter((e) => e.dir === "in" && e.actor?.endsWith("/A"));
      expect(atA.some((e) => e.xml.includes("<sent xmlns=\"urn:xmpp:carbons:2\""))).toBe(true);
      expect(atA.some((e) => e.xml.includes("<received xmlns=\"urn:xmpp:carbons:2\""))).toBe(true);
    });
  });
}
