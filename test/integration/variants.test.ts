/**
 * xepcheck judged against Prosody variants (test/servers/variants.ts):
 *  - "minimal" lacks carbons, blocking, vCard, private XML, MAM, SM, CSI, push,
 *    upload and extdisco: those must come out `na` (not advertised, not working),
 *    while MUC, PEP and the core still pass.
 *  - "liar" is minimal plus a module that advertises carbons, blocking,
 *    vcard-temp, private XML, extdisco, MAM, CSI and SM without implementing them:
 *    those must come out `fail` (advertised but broken), never pass.
 * The expectations are the contract (VARIANT_EXPECTED); they are not adjusted to
 * what the current scenarios manage.
 *
 * Ports: XEPCHECK_MINIMAL_BASE_PORT (default 25600), XEPCHECK_LIAR_BASE_PORT (default 25700).
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { xml } from "@xmpp/xml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TargetReport } from "../../src/report/types.js";
import { runCli, type CliResult, loginAs, readTargetReport } from "../cli.js";
import { startServer, type StartedServer } from "../servers/harness.js";
import { DEFAULT_VARIANT_BASE, VARIANT_EXPECTED } from "../servers/variants.js";

type Variant = "minimal" | "liar";
const VARIANTS: Variant[] = ["minimal", "liar"];
const tmp = mkdtempSync(path.join(os.tmpdir(), "xepcheck-variants-"));

function basePort(v: Variant): number {
  const env = process.env[`XEPCHECK_${v.toUpperCase()}_BASE_PORT`];
  return env ? Number(env) : DEFAULT_VARIANT_BASE[v];
}

const started: Partial<Record<Variant, StartedServer>> = {};
const runs: Partial<Record<Variant, { result: CliResult; report: TargetReport }>> = {};

async function fullRun(v: Variant, s: StartedServer): Promise<{ result: CliResult; report: TargetReport }> {
  const json = path.join(tmp, `${v}.json`);
  const [alice, bob] = s.accounts;
  const result = await runCli(
    ["run", alice!.jid, "--peer", bob!.jid, "--host", "127.0.0.1", "--port", String(s.ports.c2s), "--ca", s.caFile, "--json", json],
    { XEPCHECK_PASSWORD: alice!.password, XEPCHECK_PEER_PASSWORD: bob!.password },
  );
  let report: TargetReport;
  try {
    report = readTargetReport(json);
  } catch (e) {
    throw new Error(`no JSON report from the run against ${v} (exit ${result.code}): ${result.stderr}\n${(e as Error).message}`);
  }
  return { result, report };
}

beforeAll(async () => {
  const servers = await Promise.allSettled(VARIANTS.map((v) => startServer("prosody", { basePort: basePort(v), variant: v })));
  const errors: string[] = [];
  servers.forEach((r, i) => {
    if (r.status === "fulfilled") started[VARIANTS[i]!] = r.value;
    else errors.push(String(r.reason instanceof Error ? r.reason.message : r.reason));
  });
  if (errors.length) throw new Error(`could not start the variants:\n${errors.join("\n")}`);
  const results = await Promise.all(VARIANTS.map((v) => fullRun(v, started[v]!)));
  VARIANTS.forEach((v, i) => (runs[v] = results[i]));
}, 900_000);

afterAll(async () => {
  await Promise.allSettled(Object.values(started).map((s) => s.stop()));
});

/** What the report says about one spec, with its checks, for failure messages. */
function explain(report: TargetReport, doc: string): string {
  const checks = report.checks
    .filter((c) => c.spec.doc === doc)
    .map((c) => `  ${c.kind} ${c.id}: ${c.verdict} (advertised ${c.advertised}, works ${c.works}) ${c.summary}`);
  return `${doc} is ${JSON.stringify(report.specs[doc])}; its checks:\n${checks.join("\n") || "  (none)"}`;
}

/** Raw disco#info features and post-auth stream features, with the project's session layer. */
async function rawAdvertisements(s: StartedServer): Promise<{ domain: string[]; account: string[]; streamFeatures: string }> {
  const alice = s.accounts[0]!;
  const session = await loginAs(s, alice);
  const st = session.stream;
  try {
    const features = async (to: string) => {
      const r = await st.iq(xml("iq", { type: "get", to, id: st.nextId() }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
      return (r.getChild("query")?.getChildren("feature") ?? []).map((f) => f.attrs.var ?? "");
    };
    return { domain: await features(s.domain), account: await features(alice.jid), streamFeatures: st.features.toString() };
  } finally {
    st.destroy();
  }
}

const LIES = {
  domain: ["urn:xmpp:carbons:2", "urn:xmpp:blocking", "vcard-temp", "jabber:iq:private", "urn:xmpp:extdisco:2"],
  account: ["urn:xmpp:mam:2", "urn:xmpp:mam:2#extended"],
  streamFeatures: [/<csi [^>]*xmlns="urn:xmpp:csi:0"/, /<sm [^>]*xmlns="urn:xmpp:sm:3"/],
};

describe("the variants advertise what they should (raw disco and stream features)", () => {
  it("minimal advertises none of the removed features", async () => {
    const adv = await rawAdvertisements(started.minimal!);
    for (const f of LIES.domain) expect(adv.domain, f).not.toContain(f);
    for (const f of LIES.account) expect(adv.account, f).not.toContain(f);
    for (const re of LIES.streamFeatures) expect(adv.streamFeatures).not.toMatch(re);
    expect(adv.domain).toContain("jabber:iq:roster");
    expect(adv.account).toContain("http://jabber.org/protocol/pubsub#publish");
  });

  it("liar advertises carbons, blocking, vcard-temp, private, extdisco, MAM, CSI and SM", async () => {
    const adv = await rawAdvertisements(started.liar!);
    for (const f of LIES.domain) expect(adv.domain, f).toContain(f);
    for (const f of LIES.account) expect(adv.account, f).toContain(f);
    for (const re of LIES.streamFeatures) expect(adv.streamFeatures).toMatch(re);
  });
});

for (const v of VARIANTS) {
  describe(`xepcheck against the ${v} Prosody`, () => {
    it("completes the run without run errors", () => {
      const { result, report } = runs[v]!;
      expect(result.code, result.stderr).toBe(0);
      expect(report.errors).toEqual([]);
    });

    for (const [doc, expected] of Object.entries(VARIANT_EXPECTED[v])) {
      it(`${doc}: ${expected.verdict}${expected.advertised === undefined ? "" : `, advertised ${expected.advertised}`}${
        expected.works === undefined ? "" : `, works ${expected.works}`
      }`, () => {
        const { report } = runs[v]!;
        expect(report.specs[doc], explain(report, doc)).toMatchObject(expected);
      });
    }
  });
}
