/**
 * Many servers in one run against real Prosody 13 and ejabberd 24.12: a
 * targets file, one combined report, and the same list run as two shards
 * and merged, which must equal the unsharded run verdict for verdict.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import parse from "@xmpp/xml/lib/parse.js";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { reportProblems } from "../../src/report/schema.js";
import type { Report } from "../../src/report/types.js";
import type { ServerInfo } from "../servers/harness.js";
import { runCli, type CliResult } from "../cli.js";

const servers = inject("servers");
const both = servers.prosody && servers.ejabberd ? [servers.prosody, servers.ejabberd] : [];
const tmp = mkdtempSync(path.join(os.tmpdir(), "xepcheck-many-"));

function entry(s: ServerInfo) {
  const [alice, bob] = s.accounts;
  const env = s.kind.toUpperCase();
  return {
    name: s.kind,
    jid: alice!.jid,
    passwordEnv: `PW_${env}_ALICE`,
    peer: { jid: bob!.jid, passwordEnv: `PW_${env}_BOB` },
    port: s.ports.c2s,
    ca: s.caFile,
    directTlsPort: s.ports.directTls,
    component: { domain: s.component.domain, port: s.ports.component, secretEnv: `COMPONENT_${env}` },
  };
}

const env = Object.fromEntries(
  both.flatMap((s) => [
    [`PW_${s.kind.toUpperCase()}_ALICE`, s.accounts[0]!.password],
    [`PW_${s.kind.toUpperCase()}_BOB`, s.accounts[1]!.password],
    [`COMPONENT_${s.kind.toUpperCase()}`, s.component.secret],
  ]),
);

const verdicts = (r: Report) => r.targets.map((t) => ({ name: t.name, checks: Object.fromEntries(t.checks.map((c) => [c.id, c.verdict])) }));

describe.runIf(both.length === 2)("xepcheck run --targets against Prosody and ejabberd", () => {
  let targetsFile: string;
  let whole: Report;
  let result: CliResult;
  const out = (name: string) => path.join(tmp, name);

  beforeAll(async () => {
    targetsFile = out("targets.json");
    writeFileSync(targetsFile, JSON.stringify({ parallel: 2, defaults: { host: "127.0.0.1" }, targets: both.map(entry) }, null, 2));
    result = await runCli(
      ["run", "--targets", targetsFile, "--json", out("all.json"), "--junit", out("all.xml"), "--markdown", out("all.md"), "--badge", out("badge-{target}.svg")],
      env,
    );
    whole = JSON.parse(readFileSync(out("all.json"), "utf8"));
  }, 300_000);

  it("tests both servers into one valid report, in the file's order", () => {
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    expect(reportProblems(whole)).toEqual([]);
    expect(whole.targets.map((t) => [t.name, t.outcome, t.target.software?.name])).toEqual([
      ["prosody", "completed", "Prosody"],
      ["ejabberd", "completed", "ejabberd"],
    ]);
    for (const t of whole.targets) expect(t.errors, t.name).toEqual([]);
    expect(result.stdout).toContain("2 servers");
  });

  it("keeps each server's known findings apart", () => {
    const check = (target: string, id: string) => whole.targets.find((t) => t.name === target)!.checks.find((c) => c.id === id)!.verdict;
    // Prosody 13.0.1 keeps a forged stanza-id; ejabberd 24.12 does not lock a new MUC room.
    expect(check("prosody", "xep0359.forged-stanza-id-removed")).toBe("fail");
    expect(check("ejabberd", "xep0359.forged-stanza-id-removed")).toBe("pass");
    expect(check("ejabberd", "xep0045.locked-until-configured")).toBe("fail");
    expect(check("prosody", "xep0045.locked-until-configured")).toBe("pass");
  });

  it("writes JUnit with both servers' suites, a badge per server, and Markdown with an overview", () => {
    const junit = parse(readFileSync(out("all.xml"), "utf8"));
    const names = junit.getChildElements().map((s) => s.attrs.name as string);
    expect(names).toContain("prosody · XEP-0313");
    expect(names).toContain("ejabberd · XEP-0313");
    for (const name of ["prosody", "ejabberd"]) expect(parse(readFileSync(out(`badge-${name}.svg`), "utf8")).name).toBe("svg");
    expect(readFileSync(out("all.md"), "utf8")).toMatch(/## xepcheck: 2 servers\n\n\| Server \|/);
  });

  it("run as two shards and merged, equals the unsharded run verdict for verdict", async () => {
    const shards: string[] = [];
    for (const i of [1, 2]) {
      const file = out(`shard-${i}.json`);
      const r = await runCli(["run", "--targets", targetsFile, "--shard", `${i}/2`, "--json", file], env);
      expect(r.code, r.stderr).toBe(0);
      shards.push(file);
    }
    const shard2: Report = JSON.parse(readFileSync(shards[1]!, "utf8"));
    expect(shard2.run.shard).toEqual({ index: 2, count: 2 });
    expect(shard2.targets.map((t) => t.name)).toEqual(["ejabberd"]);
    // Given in reverse: merge restores the targets file's order.
    const merged = await runCli(["merge", shards[1]!, shards[0]!, "--json", out("merged.json")]);
    expect(merged.code, merged.stderr).toBe(0);
    const m: Report = JSON.parse(readFileSync(out("merged.json"), "utf8"));
    expect(reportProblems(m)).toEqual([]);
    expect(m.run).toEqual({ interrupted: false, mergedFrom: 2 });
    expect(verdicts(m)).toEqual(verdicts(whole));
  }, 300_000);
});
