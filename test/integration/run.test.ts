/**
 * `xepcheck run --no-scenarios` (the built CLI) against real Prosody 13 and
 * ejabberd 24.12: the report validates, and each spec's `advertised` matches
 * what that server really advertises — both the true and the false cases.
 * (The live scenarios have their own tests: scenarios-*.test.ts.)
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { reportProblems } from "../../src/report/schema.js";
import type { TargetReport } from "../../src/report/types.js";
import { runCli, readTargetReport } from "../cli.js";
import { accountExists, type ServerInfo } from "../servers/harness.js";

const servers = inject("servers");
const tmp = mkdtempSync(path.join(os.tmpdir(), "xepcheck-run-"));

function target(s: ServerInfo, port = s.ports.c2s): string[] {
  return ["--host", "127.0.0.1", "--port", String(port), "--ca", s.caFile];
}

function alice(s: ServerInfo) {
  return s.accounts[0]!;
}

/**
 * What each server advertises, as observed on the servers the harness
 * configures (see test/servers/harness.ts). `true`: advertised; `false`: not.
 */
const ADVERTISED: Record<"prosody" | "ejabberd", Record<string, boolean>> = {
  prosody: {
    "XEP-0012": true, "XEP-0030": true, "XEP-0045": true, "XEP-0048": true, "XEP-0049": true, "XEP-0054": true,
    "XEP-0065": true, "XEP-0077": true, "XEP-0092": true, "XEP-0115": true, "XEP-0153": true, "XEP-0157": true,
    "XEP-0160": true, "XEP-0163": true, "XEP-0191": true, "XEP-0198": true, "XEP-0199": true, "XEP-0202": true,
    "XEP-0215": true, "XEP-0223": true, "XEP-0280": true, "XEP-0313": true, "XEP-0352": true, "XEP-0357": true,
    "XEP-0359": true, "XEP-0363": true, "XEP-0386": true, "XEP-0388": true, "XEP-0398": true, "XEP-0402": true,
    "XEP-0484": true,
    // Not advertised by Prosody: no MIX; invitations, self-ping (on rooms only) and the open PEP access model are not listed.
    "XEP-0369": false, "XEP-0249": false, "XEP-0410": false, "XEP-0384": false,
  },
  ejabberd: {
    "XEP-0012": true, "XEP-0030": true, "XEP-0045": true, "XEP-0048": true, "XEP-0054": true, "XEP-0065": true,
    "XEP-0077": true, "XEP-0092": true, "XEP-0115": true, "XEP-0153": true, "XEP-0157": true, "XEP-0160": true,
    "XEP-0163": true, "XEP-0191": true, "XEP-0198": true, "XEP-0199": true, "XEP-0202": true, "XEP-0215": true,
    "XEP-0223": true, "XEP-0280": true, "XEP-0313": true, "XEP-0352": true, "XEP-0357": true, "XEP-0359": true,
    "XEP-0363": true, "XEP-0369": true, "XEP-0386": true, "XEP-0388": true, "XEP-0398": true, "XEP-0402": true,
    "XEP-0484": true,
    // ejabberd serves private XML storage without listing jabber:iq:private; self-ping is answered but not listed.
    "XEP-0049": false, "XEP-0249": false, "XEP-0410": false, "XEP-0384": false,
  },
};

/** Specs neither an advertisement nor (yet) a scenario shows: reported "not determined yet", never passed. */
/** Specs whose checks are all live scenarios (XEP-0114: connecting as a component). */
const NEEDS_SCENARIOS = ["XEP-0114"];

for (const kind of ["prosody", "ejabberd"] as const) {
  const server = servers[kind];
  describe.runIf(server)(`xepcheck run against ${kind}`, () => {
    const s = server!;
    let report: TargetReport;
    let whole: unknown;
    let stdout: string;

    beforeAll(async () => {
      const json = path.join(tmp, `${kind}.json`);
      const result = await runCli(["run", alice(s).jid, ...target(s), "--no-scenarios", "--json", json], { XEPCHECK_PASSWORD: alice(s).password });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      stdout = result.stdout;
      report = readTargetReport(json);
      whole = JSON.parse(readFileSync(json, "utf8"));
    });

    it("writes a report that validates against reports/report.schema.json", () => {
      expect(reportProblems(whole)).toEqual([]);
      expect(report.target.domain).toBe(s.domain);
      expect(report.target.software?.name?.toLowerCase()).toContain(kind);
      expect(report.errors).toEqual([]);
    });

    it("reports exactly what the server advertises, true and false", () => {
      const actual = Object.fromEntries(Object.keys(ADVERTISED[kind]).map((doc) => [doc, report.specs[doc]?.advertised]));
      expect(actual).toEqual(ADVERTISED[kind]);
    });

    it("names where a feature is advertised", () => {
      const muc = report.checks.find((c) => c.id === "xep0045.advertised")!;
      expect(muc.evidence[0]).toMatchObject({ type: "advertisement", foundAt: [`disco#info of ${s.services.muc}`] });
      const sm = report.checks.find((c) => c.id === "xep0198.advertised")!;
      expect(sm.evidence[0]).toMatchObject({ looked: "<sm xmlns='urn:xmpp:sm:3'/>", foundAt: ["stream features after-auth"] });
    });

    it("never passes what it could not determine", () => {
      // --no-scenarios: what only a live exchange proves is not judged at all, and its requirements stay undetermined.
      for (const doc of NEEDS_SCENARIOS) expect(report.specs[doc], doc).toBeUndefined();
      const core = report.suites[0]!.results.find((r) => r.category === "core" && r.level === "core")!;
      expect(core.compliant).toBe(false);
      expect(core.undetermined).toContain("core.core-features.rfc6120");
      expect(core.undetermined).toContain("core.server-extensibility.xep0114");
    });

    it("records stream features per stream restart, TLS facts, SASL and traffic", () => {
      expect(report.probe!.streamFeatures.map((f) => f.stage)).toEqual(["initial", "after-starttls", "after-auth"]);
      expect(report.probe!.streamFeatures[0]!.xml).toContain("starttls");
      expect(report.probe!.tls).toMatchObject({ protocol: "TLSv1.3", authorized: true });
      expect(report.probe!.sasl.used).toMatch(/^SCRAM-SHA-/);
      expect(report.traffic.roundTrips).toBeGreaterThan(8);
      expect(report.traffic.bytesIn).toBeGreaterThan(report.traffic.bytesOut);
    });

    it("prints a line per spec and the category x level table", () => {
      expect(stdout).toMatch(/PASS\s+XEP-0045\s+adv yes/);
      expect(stdout).toMatch(/PASS\s+RFC 7590/);
      expect(stdout).toContain("XMPP Compliance Suites 2023 (servers)");
      expect(stdout).toMatch(/^\s+im\s+(undetermined|not-compliant|compliant)\s+/m);
      expect(stdout).not.toContain(alice(s).password);
    });

    it("logs in over direct TLS (XEP-0368) and says it worked", async () => {
      const json = path.join(tmp, `${kind}-direct.json`);
      const result = await runCli(
        ["run", alice(s).jid, ...target(s, s.ports.directTls), "--tls", "direct", "--only", "xep0368.*", "--json", json],
        { XEPCHECK_PASSWORD: alice(s).password },
      );
      expect(result.code).toBe(0);
      const direct: TargetReport = readTargetReport(json);
      expect(direct.checks).toHaveLength(1);
      expect(direct.checks[0]).toMatchObject({ id: "xep0368.direct-tls", verdict: "pass", works: true });
      expect(direct.probe!.streamFeatures.map((f) => f.stage)).toEqual(["initial", "after-auth"]);
    });

    it("a wrong password: exit 3 with the SASL condition, one attempt only", async () => {
      const json = path.join(tmp, `${kind}-wrong.json`);
      const result = await runCli(["run", alice(s).jid, ...target(s), "--json", json], { XEPCHECK_PASSWORD: "wrong-password" });
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/step sasl\).*failed: not-authorized/);
      const failed: TargetReport = readTargetReport(json);
      expect(failed.errors).toEqual([expect.objectContaining({ step: "sasl", kind: "auth", condition: "not-authorized" })]);
      // One connection, one SASL exchange: no reconnect loop.
      expect(failed.traffic.roundTrips).toBeLessThan(10);
      expect(result.ms).toBeLessThan(15_000);
    });

    it("an untrusted certificate: a clear error naming --ca and --insecure; --insecure goes on and says so", async () => {
      const untrusted = await runCli(["run", alice(s).jid, "--host", "127.0.0.1", "--port", String(s.ports.c2s)], {
        XEPCHECK_PASSWORD: alice(s).password,
      });
      expect(untrusted.code).toBe(3);
      expect(untrusted.stderr).toMatch(/step tls-handshake/);
      expect(untrusted.stderr).toMatch(/not trusted/);
      expect(untrusted.stderr).toMatch(/--ca FILE/);
      expect(untrusted.stderr).toMatch(/--insecure/);

      const json = path.join(tmp, `${kind}-insecure.json`);
      const insecure = await runCli(
        ["run", alice(s).jid, "--host", "127.0.0.1", "--port", String(s.ports.c2s), "--insecure", "--only", "xep0030.*", "--json", json],
        { XEPCHECK_PASSWORD: alice(s).password },
      );
      expect(insecure.code).toBe(0);
      expect(insecure.stdout).toContain("TLS certificate NOT verified (--insecure)");
      const report: TargetReport = readTargetReport(json);
      expect(report.settings.insecure).toBe(true);
      expect(report.probe!.tls!.authorized).toBe(false);
    });

    it("reads the password from --password-file", async () => {
      const file = path.join(tmp, `${kind}-pw`);
      writeFileSync(file, `${alice(s).password}\n`);
      const result = await runCli(["run", alice(s).jid, ...target(s), "--password-file", file, "--only", "xep0030.*"], { XEPCHECK_PASSWORD: "" });
      expect(result.code).toBe(0);
    });

    it("--register: a throw-away account is created, used and removed again", async () => {
      const json = path.join(tmp, `${kind}-register.json`);
      const result = await runCli(["run", s.domain, ...target(s), "--register", "--only", "xep0030.*,xep0163.*", "--json", json]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const report: TargetReport = readTargetReport(json);
      expect(report.errors).toEqual([]);
      const user = report.target.account.split("@")[0]!;
      expect(user).toMatch(/^xepcheck-[0-9a-f]{10}$/);
      expect(report.checks.find((c) => c.id === "xep0163.advertised")!.verdict).toBe("pass");
      expect(report.target.peer).toMatch(/^xepcheck-[0-9a-f]{10}@/); // a throw-away peer for the two-user PEP scenario
      expect(await accountExists(s, report.target.peer!.split("@")[0]!)).toBe(false);
      expect(await accountExists(s, user)).toBe(false);
    });
  });
}
