/**
 * DNS SRV (RFC 6120 §3.2, RFC 2782), direct TLS (XEP-0368) and the TLS facts
 * of RFC 7590, for real:
 *  - SRV lookups against dnsmasq on loopback (test/servers/dns.ts): order by
 *    priority and weight, fallback to the domain, "." meaning "not offered";
 *  - `xepcheck run --dns` against Prosody 13 and ejabberd 24.12 found through
 *    SRV records only (a dead endpoint first, then the server), with the
 *    direct TLS login found through _xmpps-client records;
 *  - servers with an expired certificate, one for another name, and one
 *    about to expire: exit 3 with the reason, and under --insecure the run
 *    goes on and the RFC 7590 checks fail (or warn) with the reason.
 *
 * Ports: XEPCHECK_DNS_PORT (default 25801; uses it and the next four) and
 * XEPCHECK_CERT_BASE_PORT (default 25900; five servers, 100 ports apart).
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { CheckResult, TargetReport } from "../../src/report/types.js";
import { resolveEndpoints } from "../../src/session/resolve.js";
import { runCli, type CliResult, readTargetReport } from "../cli.js";
import { startDns, type DnsServer } from "../servers/dns.js";
import { startServer, WRONG_CERT_NAME, type CertificateKind, type ServerInfo, type StartedServer } from "../servers/harness.js";

const servers = inject("servers");
const tmp = mkdtempSync(path.join(os.tmpdir(), "xepcheck-dns-tls-"));
const DNS_PORT = Number(process.env.XEPCHECK_DNS_PORT || 25801);
const CERT_BASE = Number(process.env.XEPCHECK_CERT_BASE_PORT || 25900);
const KINDS = ["prosody", "ejabberd"] as const;

/** A direct TLS login: TCP, TLS 1.3, stream header, SCRAM (2), restart, bind. */
const DIRECT_TLS_LOGIN_ROUND_TRIPS = 7;

const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

async function run(args: string[], account: { jid: string; password: string }, name: string): Promise<{ result: CliResult; report: TargetReport }> {
  const json = path.join(tmp, `${name}.json`);
  const result = await runCli(["run", account.jid, ...args, "--json", json], { XEPCHECK_PASSWORD: account.password });
  let report: TargetReport;
  try {
    report = readTargetReport(json);
  } catch (e) {
    throw new Error(`no JSON report (exit ${result.code}): ${result.stderr}\n${(e as Error).message}`);
  }
  return { result, report };
}

function check(report: TargetReport, id: string): CheckResult {
  const c = report.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id} in the report: ${report.checks.map((x) => x.id).join(", ")}`);
  return c;
}

function transcriptOf(c: CheckResult) {
  const t = c.evidence.find((e) => e.type === "transcript");
  return t && t.type === "transcript" ? t.entries : [];
}

function table(c: CheckResult, title: RegExp): string[][] {
  const t = c.evidence.find((e) => e.type === "table" && title.test(e.title ?? ""));
  return t && t.type === "table" ? t.rows : [];
}

function alice(s: Pick<ServerInfo, "accounts">) {
  return s.accounts[0]!;
}

// ---------------------------------------------------------------------------

describe("SRV lookups against a real DNS server (dnsmasq on loopback)", () => {
  let dns: DnsServer;
  const zone = "srv-test.example";
  beforeAll(async () => {
    dns = await startDns({
      port: DNS_PORT,
      zones: [zone],
      srv: [
        { name: `_xmpp-client._tcp.order.${zone}`, target: `c.${zone}`, port: 5003, priority: 20, weight: 0 },
        { name: `_xmpp-client._tcp.order.${zone}`, target: `a.${zone}`, port: 5001, priority: 10, weight: 10 },
        { name: `_xmpp-client._tcp.order.${zone}`, target: `b.${zone}`, port: 5002, priority: 10, weight: 90 },
        { name: `_xmpps-client._tcp.order.${zone}`, target: `a.${zone}`, port: 5223, priority: 0, weight: 0 },
        { name: `_xmpp-client._tcp.dot.${zone}` },
        { name: `_xmpps-client._tcp.dot.${zone}` },
      ],
      hosts: [
        { name: `a.${zone}`, addresses: ["127.0.0.11"] },
        { name: `b.${zone}`, addresses: ["127.0.0.12", "127.0.0.22"] },
        { name: `c.${zone}`, addresses: ["::1"] },
        { name: `fallback.${zone}`, addresses: ["127.0.0.30"] },
      ],
    });
  });
  afterAll(async () => {
    await dns?.stop();
  });

  const opts = (random: () => number) => ({ dns: dns.server, timeoutMs: 3000, random });

  it("priority first; within a priority the weighted pick decides; targets resolved through the same server", async () => {
    // Priority 10: a (10) and b (90), running sums 10 and 100: a pick of 0..10 takes a, 11..100 takes b.
    const low = await resolveEndpoints(`order.${zone}`, "starttls", {}, opts(sequence(0.05)));
    expect(low.map((e) => `${e.name}:${e.port}`)).toEqual([`a.${zone}:5001`, `b.${zone}:5002`, `b.${zone}:5002`, `c.${zone}:5003`]);
    // Each target's addresses, in the order the DNS server gave them (it may rotate them).
    expect(low.map((e) => e.host).slice(0, 1)).toEqual(["127.0.0.11"]);
    expect(low.map((e) => e.host).slice(1, 3).sort()).toEqual(["127.0.0.12", "127.0.0.22"]);
    expect(low.at(-1)!.host).toBe("::1");
    const high = await resolveEndpoints(`order.${zone}`, "starttls", {}, opts(sequence(0.5)));
    expect(high.map((e) => `${e.name}:${e.port}`)).toEqual([`b.${zone}:5002`, `b.${zone}:5002`, `a.${zone}:5001`, `c.${zone}:5003`]);
    expect(high.every((e) => e.source === "srv" && e.service === "_xmpp-client._tcp")).toBe(true);
  });

  it("direct TLS uses the _xmpps-client records", async () => {
    expect(await resolveEndpoints(`order.${zone}`, "direct", {}, opts(Math.random))).toEqual([
      { host: "127.0.0.11", port: 5223, source: "srv", service: "_xmpps-client._tcp", name: `a.${zone}` },
    ]);
  });

  it("no SRV record: the domain itself on 5222 (its address from the same server); none for direct TLS", async () => {
    expect(await resolveEndpoints(`fallback.${zone}`, "starttls", {}, opts(Math.random))).toEqual([
      { host: "127.0.0.30", port: 5222, source: "fallback", name: `fallback.${zone}` },
    ]);
    await expect(resolveEndpoints(`fallback.${zone}`, "direct", {}, opts(Math.random))).rejects.toThrow(
      `fallback.${zone} has no _xmpps-client._tcp.fallback.${zone} SRV record (DNS server ${dns.server})`,
    );
    await expect(resolveEndpoints(`nothing.${zone}`, "starttls", {}, opts(Math.random))).rejects.toThrow(
      `no address for nothing.${zone} (DNS server ${dns.server}): nothing.${zone} has no A or AAAA record`,
    );
  });

  it('a "." target: not offered, and no fallback to the domain', async () => {
    for (const mode of ["starttls", "direct"] as const) {
      const service = mode === "direct" ? "_xmpps-client._tcp" : "_xmpp-client._tcp";
      await expect(resolveEndpoints(`dot.${zone}`, mode, {}, opts(Math.random))).rejects.toThrow(
        `dot.${zone} says by its ${service}.dot.${zone} SRV record (target ".") that the service ${service} is not offered`,
      );
    }
  });

  it("a DNS server that does not answer is an error naming it", async () => {
    await expect(resolveEndpoints(`order.${zone}`, "starttls", {}, { dns: "127.0.0.1:9", timeoutMs: 300 })).rejects.toThrow(
      /SRV lookup of _xmpp-client._tcp.order.srv-test.example failed \(DNS server 127.0.0.1:9\)/,
    );
  });
});

// ---------------------------------------------------------------------------

describe("xepcheck run --dns: the server found through SRV records only", () => {
  const available = KINDS.filter((k) => servers[k]);
  /** Main: a dead endpoint first (nothing listens on the dummy TURN port), then the server; direct TLS by SRV. */
  let main: DnsServer;
  /** _xmpps-client is "." (direct TLS not offered), _xmpp-client points at the server. */
  let noDirect: DnsServer;
  /** _xmpp-client is "." for prosody.test: not offered at all. */
  let noClient: DnsServer;
  /** No SRV record, only the domain's address: the fallback to port 5222. */
  let fallback: DnsServer;

  beforeAll(async () => {
    const list = available.map((k) => servers[k]!);
    const host = (s: ServerInfo, name: string) => ({ name: `${name}.${s.domain}`, addresses: ["127.0.0.1"] });
    [main, noDirect, noClient, fallback] = await Promise.all([
      startDns({
        port: DNS_PORT + 1,
        zones: list.map((s) => s.domain),
        srv: list.flatMap((s) => [
          { name: `_xmpp-client._tcp.${s.domain}`, target: `dead.${s.domain}`, port: s.ports.turn, priority: 10, weight: 0 },
          { name: `_xmpp-client._tcp.${s.domain}`, target: `xmpp.${s.domain}`, port: s.ports.c2s, priority: 20, weight: 0 },
          { name: `_xmpps-client._tcp.${s.domain}`, target: `xmpp.${s.domain}`, port: s.ports.directTls, priority: 5, weight: 0 },
        ]),
        hosts: list.flatMap((s) => [host(s, "dead"), host(s, "xmpp")]),
      }),
      startDns({
        port: DNS_PORT + 2,
        zones: list.map((s) => s.domain),
        srv: list.flatMap((s) => [
          { name: `_xmpp-client._tcp.${s.domain}`, target: `xmpp.${s.domain}`, port: s.ports.c2s, priority: 0, weight: 0 },
          { name: `_xmpps-client._tcp.${s.domain}` },
        ]),
        hosts: list.map((s) => host(s, "xmpp")),
      }),
      startDns({ port: DNS_PORT + 3, zones: ["prosody.test"], srv: [{ name: "_xmpp-client._tcp.prosody.test" }] }),
      startDns({ port: DNS_PORT + 4, zones: ["prosody.test"], hosts: [{ name: "prosody.test", addresses: ["127.0.0.1"] }] }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([main, noDirect, noClient, fallback].map((d) => d?.stop()));
  });

  for (const kind of KINDS) {
    const server = servers[kind];
    describe.runIf(server)(kind, () => {
      const s = server!;

      it("logs in at the second SRV endpoint after the first refuses; direct TLS by _xmpps-client works; RFC 7590 holds", async () => {
        const { result, report } = await run(["--dns", main.server, "--ca", s.caFile, "--only", "xep0368.*,rfc7590.*"], alice(s), `${kind}-srv`);
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        // Reached through SRV: the priority-10 target refused, the priority-20 one is the server.
        expect(report.target.endpoint).toEqual({ host: "127.0.0.1", port: s.ports.c2s });

        const direct = check(report, "xep0368.direct-tls");
        expect(direct).toMatchObject({ verdict: "pass", advertised: true, works: true });
        expect(direct.summary).toContain(`logged in over direct TLS at 127.0.0.1:${s.ports.directTls}`);
        expect(direct.summary).toContain("advertised by 1 _xmpps-client._tcp SRV record(s)");
        const entries = transcriptOf(direct);
        expect(entries.length).toBeGreaterThan(5);
        expect(entries[0]!.xml).toBe(`DNS (server ${main.server}): _xmpps-client._tcp.${s.domain}: xmpp.${s.domain}:${s.ports.directTls} (priority 5, weight 0)`);
        expect(entries.some((e) => e.dir === "out" && e.xml.includes("<bind"))).toBe(true);
        // SNI was the domain; the direct TLS login cost exactly this many round trips.
        expect(table(direct, /^TLS of the direct TLS connection/)).toContainEqual(["SNI sent", s.domain]);
        expect(table(direct, /^cost of the direct TLS login/)[0]![0]).toBe(String(DIRECT_TLS_LOGIN_ROUND_TRIPS));

        for (const id of ["rfc7590.tls-version", "rfc7590.certificate", "rfc7590.certificate-expiry", "rfc7590.tls-required"]) {
          expect(check(report, id), id).toMatchObject({ verdict: "pass", works: true });
        }
        expect(check(report, "rfc7590.certificate").summary).toBe(
          `the chain verified and the certificate is valid for ${s.domain} by DNS-ID ${s.domain} (expires in ${report.probe!.tls!.peerCertificate!.daysUntilExpiry} days)`,
        );
        expect(report.probe!.tls).toMatchObject({ protocol: "TLSv1.3", authorized: true, servername: s.domain, domainMatch: { valid: true, by: "dns" } });
        const required = check(report, "rfc7590.tls-required");
        expect(required.summary).toBe("no SASL mechanism before TLS; authentication without TLS refused with <encryption-required/>");
        expect(transcriptOf(required).some((e) => e.dir === "out" && e.xml.includes("mechanism=\"PLAIN\""))).toBe(true);
        expect(report.specs["RFC 7590"]).toMatchObject({ verdict: "pass" });
      });

      it('_xmpps-client with the target ".": direct TLS is not offered (na), the run itself goes on', async () => {
        const { result, report } = await run(["--dns", noDirect.server, "--ca", s.caFile, "--only", "xep0368.*"], alice(s), `${kind}-nodirect`);
        expect(result.code).toBe(0);
        const direct = check(report, "xep0368.direct-tls");
        expect(direct).toMatchObject({ verdict: "na", advertised: false, works: false });
        expect(direct.summary).toBe(`not offered: expected a direct TLS service (XEP-0368 §3); got _xmpps-client._tcp.${s.domain} has the target ".": direct TLS is not offered`);
        expect(transcriptOf(direct)[0]!.xml).toBe(`DNS (server ${noDirect.server}): _xmpps-client._tcp.${s.domain}: target "." (direct TLS is not offered)`);
      });

      it("--host without DNS: direct TLS on --direct-tls-port, or a skip that names the option", async () => {
        const host = ["--host", "127.0.0.1", "--port", String(s.ports.c2s), "--ca", s.caFile, "--only", "xep0368.*"];
        const withPort = await run([...host, "--direct-tls-port", String(s.ports.directTls)], alice(s), `${kind}-direct-port`);
        expect(withPort.result.code).toBe(0);
        const direct = check(withPort.report, "xep0368.direct-tls");
        expect(direct).toMatchObject({ verdict: "pass", advertised: null, works: true });
        expect(direct.summary).toContain("DNS not asked");
        expect(table(direct, /^cost of the direct TLS login/)[0]![0]).toBe(String(DIRECT_TLS_LOGIN_ROUND_TRIPS));

        const without = await run(host, alice(s), `${kind}-direct-skip`);
        expect(without.result.code).toBe(0);
        expect(check(without.report, "xep0368.direct-tls")).toMatchObject({ verdict: "skip", works: null });
        expect(check(without.report, "xep0368.direct-tls").summary).toMatch(/--direct-tls-port PORT/);
      });
    });
  }

  it.runIf(servers.prosody)('_xmpp-client with the target ".": exit 3, the reason names the service', async () => {
    const { result, report } = await run(["--dns", noClient.server, "--only", "xep0030.*"], alice(servers.prosody!), "prosody-noclient");
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      'could not log in to prosody.test (step dns): prosody.test says by its _xmpp-client._tcp.prosody.test SRV record (target ".") that the service _xmpp-client._tcp is not offered',
    );
    expect(report.errors).toEqual([expect.objectContaining({ step: "dns", kind: "network" })]);
    expect(report.traffic.roundTrips).toBe(0);
  });

  it.runIf(servers.prosody)("no SRV record: falls back to the domain on port 5222 (its address from --dns)", async () => {
    const { result, report } = await run(["--dns", fallback.server, "--only", "xep0030.*", "--timeout", "3"], alice(servers.prosody!), "prosody-fallback");
    // Nothing of the test servers listens on 5222: the attempt shows where the fallback went.
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("(step tcp-connect): cannot connect to 127.0.0.1:5222");
    expect(report.errors).toEqual([expect.objectContaining({ step: "tcp-connect" })]);
    expect(report.traffic.roundTrips).toBe(1);
  });
});

// ---------------------------------------------------------------------------

describe("bad certificates: a clear exit 3, and under --insecure a run that goes on and reports them", () => {
  const cases: { kind: "prosody" | "ejabberd"; certificate: CertificateKind }[] = [
    { kind: "prosody", certificate: "expired" },
    { kind: "prosody", certificate: "wrong-name" },
    { kind: "prosody", certificate: "expiring" },
    { kind: "ejabberd", certificate: "expired" },
    { kind: "ejabberd", certificate: "wrong-name" },
  ];
  const started = new Map<string, StartedServer>();
  const key = (c: (typeof cases)[number]) => `${c.kind}-${c.certificate}`;

  beforeAll(async () => {
    const results = await Promise.allSettled(
      cases.map((c, i) => startServer(c.kind, { basePort: CERT_BASE + i * 100, certificate: c.certificate }).then((s) => started.set(key(c), s))),
    );
    const errors = results.flatMap((r) => (r.status === "rejected" ? [String(r.reason instanceof Error ? r.reason.message : r.reason)] : []));
    if (errors.length) throw new Error(`could not start the certificate servers:\n${errors.join("\n")}`);
  });
  afterAll(async () => {
    await Promise.allSettled([...started.values()].map((s) => s.stop()));
  });

  const only = ["--only", "rfc7590.*,xep0368.*,xep0030.*"];
  const target = (s: StartedServer) => ["--host", "127.0.0.1", "--port", String(s.ports.c2s), "--direct-tls-port", String(s.ports.directTls)];

  for (const kind of KINDS) {
    describe(kind, () => {
      it("expired: exit 3 naming the expiry; with --insecure the RFC 7590 checks fail with it, the rest runs", async () => {
        const s = started.get(`${kind}-expired`)!;
        const strict = await run([...target(s), "--ca", s.caFile, ...only], alice(s), `${kind}-expired-strict`);
        expect(strict.result.code).toBe(3);
        expect(strict.result.stderr).toContain(`could not log in to ${s.domain} (step tls-handshake)`);
        expect(strict.result.stderr).toContain("CERT_HAS_EXPIRED: certificate has expired");

        const { result, report } = await run([...target(s), "--insecure", ...only], alice(s), `${kind}-expired-insecure`);
        expect(result.code).toBe(0);
        expect(result.stdout).toContain("TLS certificate NOT verified (--insecure)");
        const cert = check(report, "rfc7590.certificate");
        expect(cert).toMatchObject({ verdict: "fail", works: false });
        expect(cert.summary).toBe("the certificate has expired (CERT_HAS_EXPIRED)");
        expect(cert.evidence).toContainEqual(expect.objectContaining({ type: "note", text: expect.stringContaining("--insecure") }));
        const expiry = check(report, "rfc7590.certificate-expiry");
        expect(expiry).toMatchObject({ verdict: "fail" });
        expect(expiry.summary).toMatch(/^the certificate expired 30 day\(s\) ago/);
        expect(check(report, "rfc7590.tls-version").verdict).toBe("pass");
        expect(report.specs["RFC 7590"]).toMatchObject({ verdict: "fail" });
        // The run went on: the other checks were judged as usual.
        expect(check(report, "xep0030.server-info").verdict).toBe("pass");
        const direct = check(report, "xep0368.direct-tls");
        expect(direct).toMatchObject({ verdict: "pass", works: true });
        expect(transcriptOf(direct).some((e) => e.dir === "note" && e.xml.includes("certificate of the direct TLS port: the certificate has expired"))).toBe(true);
      });

      it("for another name: exit 3 naming the names; with --insecure RFC 7590 fails with 'not valid for <domain>'", async () => {
        const s = started.get(`${kind}-wrong-name`)!;
        const strict = await run([...target(s), "--ca", s.caFile, ...only], alice(s), `${kind}-wrong-strict`);
        expect(strict.result.code).toBe(3);
        expect(strict.result.stderr).toContain("ERR_TLS_CERT_ALTNAME_INVALID");
        expect(strict.result.stderr).toContain(`DNS:${WRONG_CERT_NAME}`);

        const { result, report } = await run([...target(s), "--insecure", ...only], alice(s), `${kind}-wrong-insecure`);
        expect(result.code).toBe(0);
        const cert = check(report, "rfc7590.certificate");
        expect(cert).toMatchObject({ verdict: "fail", works: false });
        expect(cert.summary).toContain(`the certificate is not valid for ${s.domain}: it names ${WRONG_CERT_NAME}`);
        expect(report.probe!.tls!.domainMatch).toEqual({ domain: s.domain, valid: false });
        expect(check(report, "rfc7590.certificate-expiry").verdict).toBe("pass");
        expect(check(report, "xep0030.server-info").verdict).toBe("pass");
      });
    });
  }

  it("about to expire (prosody): the certificate passes, its expiry warns", async () => {
    const s = started.get("prosody-expiring")!;
    const { result, report } = await run([...target(s), "--ca", s.caFile, ...only], alice(s), "prosody-expiring");
    expect(result.code).toBe(0);
    expect(check(report, "rfc7590.certificate").verdict).toBe("pass");
    const expiry = check(report, "rfc7590.certificate-expiry");
    expect(expiry).toMatchObject({ verdict: "warn", works: true });
    expect(expiry.summary).toMatch(/^the certificate expires in 6 day\(s\) .*: renew it$/);
  });
});
