/**
 * The web ways in against real Prosody 13 and ejabberd 24.12: host-meta
 * (XEP-0156), logins over WebSocket (RFC 7395) and BOSH (XEP-0206) with their
 * round trips, the web scenarios through the built CLI, and whole runs whose
 * main session goes over WebSocket or BOSH (--transport).
 *
 * The harness serves both on its https port (test/servers/harness.ts, `urls`);
 * host-meta is asked for the XMPP domain at 127.0.0.1 (Host: <domain>).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { xml } from "@xmpp/xml";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { REL_BOSH, REL_WEBSOCKET, discoverWeb, served, type WebDiscovery } from "../../src/probe/host-meta.js";
import type { TargetReport } from "../../src/report/types.js";
import { login, type Session } from "../../src/session/login.js";
import type { TrafficTotals } from "../../src/session/traffic.js";
import { runCli, readTargetReport } from "../cli.js";
import type { ServerInfo } from "../servers/harness.js";

const servers = inject("servers");
const tmp = mkdtempSync(path.join(os.tmpdir(), "xepcheck-web-"));
const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";

/**
 * Round trips of a login, TLS 1.3 on loopback. WebSocket: TCP connect, TLS,
 * HTTP upgrade, <open/>, SCRAM (2), <open/> after auth, bind. BOSH: TCP
 * connect, TLS, session creation, SCRAM (2), restart, bind — every HTTP
 * request/response one round trip, one keep-alive connection.
 */
const LOGIN_ROUND_TRIPS = { websocket: 8, bosh: 7 };

/** Advertisement verdicts that differ from the TCP run's, by server: ejabberd offers SASL2 (with Bind 2 and FAST) on TCP only. */
const WEB_DIFFERENCES: Record<"prosody" | "ejabberd", Record<string, string>> = {
  prosody: {},
  ejabberd: { "xep0386.advertised": "na", "xep0388.advertised": "na", "xep0484.advertised": "na" },
};

function ca(s: ServerInfo): string {
  return readFileSync(s.caFile, "utf8");
}

async function webLogin(s: ServerInfo, transport: "websocket" | "bosh", url: string, connectHost?: string): Promise<{ session: Session; cost: TrafficTotals }> {
  const account = s.accounts[2]!; // carol: the CLI runs below use alice and bob
  const session = await login({
    domain: s.domain,
    host: "127.0.0.1",
    port: s.ports.c2s,
    mode: "starttls",
    tls: { ca: ca(s) },
    timeoutMs: 10_000,
    transport,
    url,
    ...(connectHost ? { connectHost } : {}),
    credentials: { username: account.jid.split("@")[0]!, password: account.password },
  });
  return { session, cost: session.stream.meter.totals() };
}

async function discoInfo(s: ServerInfo, session: Session) {
  const result = await session.stream.iq(xml("iq", { type: "get", to: s.domain }, xml("query", { xmlns: NS_DISCO_INFO })));
  return result.getChild("query", NS_DISCO_INFO)!;
}

async function cli(s: ServerInfo, name: string, args: string[]): Promise<TargetReport> {
  const [alice, bob] = s.accounts;
  const json = path.join(tmp, `${s.kind}-${name}.json`);
  const result = await runCli(
    ["run", alice!.jid, "--peer", bob!.jid, "--host", "127.0.0.1", "--port", String(s.ports.c2s), "--ca", s.caFile, "--json", json, ...args],
    { XEPCHECK_PASSWORD: alice!.password, XEPCHECK_PEER_PASSWORD: bob!.password },
  );
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  const report: TargetReport = readTargetReport(json);
  expect(report.errors).toEqual([]);
  return report;
}

function check(report: TargetReport, id: string) {
  const found = report.checks.find((c) => c.id === id);
  expect(found, id).toBeDefined();
  return found!;
}

function transcriptOf(report: TargetReport, id: string) {
  const evidence = check(report, id).evidence.find((e) => e.type === "transcript");
  return evidence?.type === "transcript" ? evidence.entries : [];
}

for (const kind of ["prosody", "ejabberd"] as const) {
  const server = servers[kind];
  describe.runIf(server)(`web transports against ${kind}`, () => {
    const s = server!;

    describe("host-meta (XEP-0156)", () => {
      let found: WebDiscovery;
      beforeAll(async () => {
        found = await discoverWeb({ domain: s.domain, host: "127.0.0.1", configuredHost: true, tls: { ca: ca(s) }, timeoutMs: 10_000, url: s.urls.websocketTls });
      });

      it("serves XRD and JRD for the domain, with the WebSocket and BOSH endpoints and CORS", () => {
        const { xrd, jrd } = found.hostMeta;
        for (const doc of [xrd, jrd]) {
          expect(served(doc), `${doc.url}: ${doc.error}`).toBe(true);
          expect(doc.url).toBe(`https://${s.domain}:${s.ports.https}/.well-known/host-meta${doc.format === "jrd" ? ".json" : ""}`);
          expect(doc.connectedTo).toBe(`127.0.0.1:${s.ports.https}`);
          expect(doc.cors["access-control-allow-origin"]).toBe("*");
          expect(doc.links.map((l) => l.rel).sort()).toEqual([REL_BOSH, REL_WEBSOCKET].sort());
        }
        expect(found.websocket).toEqual({ url: s.urls.websocketTls, source: "--url" });
        expect(found.bosh).toMatchObject({ source: "host-meta", connectHost: "127.0.0.1" });
        expect(found.bosh!.url).toBe(`https://${s.domain}:${s.ports.https}${new URL(s.urls.boshTls).pathname}`);
      });

      it("a BOSH endpoint found in host-meta works, connected at --host with the domain's name", async () => {
        const { session, cost } = await webLogin(s, "bosh", found.bosh!.url, found.bosh!.connectHost);
        expect(session.jid.startsWith(`${s.accounts[2]!.jid}/`)).toBe(true);
        expect(session.stream.tlsInfo).toMatchObject({ protocol: "TLSv1.3", authorized: true, servername: s.domain });
        expect(cost.roundTrips).toBe(LOGIN_ROUND_TRIPS.bosh);
        await session.stream.close();
      });
    });

    for (const transport of ["websocket", "bosh"] as const) {
      it(`logs in over ${transport}, binds, gets disco#info answered, closes (${LOGIN_ROUND_TRIPS[transport]} round trips)`, async () => {
        const url = transport === "websocket" ? s.urls.websocketTls : s.urls.boshTls;
        const { session, cost } = await webLogin(s, transport, url);
        const { stream } = session;
        expect(stream.transport).toBe(transport);
        expect(session.jid.startsWith(`${s.accounts[2]!.jid}/`)).toBe(true);
        expect(session.mechanism).toMatch(/^SCRAM-SHA-/);
        expect(cost.roundTrips).toBe(LOGIN_ROUND_TRIPS[transport]);
        expect(cost.bytesOut).toBeGreaterThan(0);
        expect(cost.bytesIn).toBeGreaterThan(0);
        // No STARTTLS on web transports: the stages are the first stream and the one after authentication.
        expect(stream.featureLog.map((f) => f.stage)).toEqual(["initial", "after-auth"]);
        expect(stream.featureLog[0]!.xml).not.toContain("urn:ietf:params:xml:ns:xmpp-tls");
        expect(stream.tlsInfo).toMatchObject({ protocol: "TLSv1.3", authorized: true });
        const query = await discoInfo(s, session);
        expect(query.getChildren("identity").some((i) => i.attrs.category === "server")).toBe(true);
        const facts = stream.transportFacts;
        if (transport === "websocket") {
          expect(facts.subprotocol).toBe("xmpp");
        } else {
          expect(facts.attributes).toMatchObject({ hold: "1", requests: "2" });
          expect(facts.cors?.["access-control-allow-origin"]).toBeDefined();
        }
        await stream.close();
        expect(stream.serverClosed).toBe(true);
      });
    }

    describe("the web scenarios (built CLI, TCP main session, --url)", () => {
      let report: TargetReport;
      beforeAll(async () => {
        report = await cli(s, "scenarios", ["--only", "rfc7395.*,xep0206.*,xep0156.*", "--url", s.urls.websocketTls]);
      });

      it("RFC 7395: the WebSocket login, no STARTTLS, <close/> answered", () => {
        for (const id of ["rfc7395.websocket", "rfc7395.no-starttls", "rfc7395.close"]) {
          expect(check(report, id), id).toMatchObject({ kind: "scenario", verdict: "pass", works: true });
          expect(transcriptOf(report, id).length, id).toBeGreaterThan(2);
        }
        const login = check(report, "rfc7395.websocket");
        expect(login.advertised).toBe(true); // host-meta lists the endpoint
        expect(login.summary).toContain(`(${LOGIN_ROUND_TRIPS.websocket} round trips)`);
        const facts = login.evidence.find((e) => e.type === "table" && e.title === "WebSocket session");
        expect(facts?.type === "table" && facts.rows).toContainEqual(["URL", s.urls.websocketTls]);
        const entries = transcriptOf(report, "rfc7395.websocket");
        expect(entries.some((e) => e.dir === "out" && e.xml.startsWith("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'"))).toBe(true);
        expect(entries.some((e) => e.dir === "in" && e.xml.includes("disco#info"))).toBe(true);
      });

      it("XEP-0206: the BOSH login (endpoint from host-meta), xmpp:version, and restartlogic as each server says it", () => {
        const bosh = check(report, "xep0206.bosh");
        expect(bosh).toMatchObject({ kind: "scenario", verdict: "pass", works: true, advertised: true });
        expect(bosh.summary).toContain(`(${LOGIN_ROUND_TRIPS.bosh} round trips)`);
        const cors = bosh.evidence.find((e) => e.type === "table" && e.title?.startsWith("CORS headers"));
        expect(cors?.type === "table" && cors.rows.some((r) => r[1] === "access-control-allow-origin")).toBe(true);
        expect(transcriptOf(report, "xep0206.bosh").some((e) => e.dir === "out" && e.xml.includes("xmpp:restart='true'"))).toBe(true);
        expect(check(report, "xep0206.version")).toMatchObject({ verdict: "pass", works: true });
        // Prosody 13 restarts streams but never says xmpp:restartlogic='true' (XEP-0206 §4 MUST); ejabberd says it.
        const restartlogic = check(report, "xep0206.restartlogic");
        if (kind === "prosody") {
          expect(restartlogic).toMatchObject({ verdict: "fail", works: false });
          expect(restartlogic.summary).toContain("no restartlogic attribute");
        } else {
          expect(restartlogic).toMatchObject({ verdict: "pass", works: true });
        }
      });

      it("XEP-0156: XRD and JRD served, secure URLs only, CORS headers", () => {
        for (const id of ["xep0156.xrd", "xep0156.jrd", "xep0156.secure-urls", "xep0156.cors"]) {
          expect(check(report, id), id).toMatchObject({ kind: "scenario", verdict: "pass", works: true, advertised: true });
        }
        expect(check(report, "xep0156.xrd").summary).toContain(`WebSocket wss://${s.domain}:${s.ports.https}/`);
      });

      it("the Web category is scored from the real logins", () => {
        const requirements = report.suites[0]!.requirements;
        expect(requirements.find((r) => r.id === "web.web-connection-mechanisms.rfc7395")!.status).toBe("met");
        expect(requirements.find((r) => r.id === "web.web-connection-mechanisms.xep0206")!.status).toBe(kind === "prosody" ? "failed" : "met");
      });
    });

    it("without --url, and no host-meta at the domain's origin, the web transports are not advertised: na, saying where it looked", async () => {
      // Nothing serves host-meta on 127.0.0.1:443, where --host puts the domain.
      const report = await cli(s, "no-endpoint", ["--only", "rfc7395.websocket,xep0206.bosh,xep0156.xrd"]);
      for (const id of ["rfc7395.websocket", "xep0206.bosh"]) {
        expect(check(report, id), id).toMatchObject({ verdict: "na", advertised: false, works: false });
        expect(check(report, id).summary).toMatch(/^not offered: expected a (WebSocket|BOSH) endpoint listed in host-meta \(XEP-0156\), or given with --url .*; got none: https:\/\//);
      }
      expect(check(report, "xep0156.xrd")).toMatchObject({ verdict: "na", advertised: false, works: false });
    });

    describe("--transport: the main session over WebSocket and BOSH", () => {
      const runs: Partial<Record<"tcp" | "websocket" | "bosh", TargetReport>> = {};
      beforeAll(async () => {
        runs.tcp = await cli(s, "adv-tcp", ["--no-scenarios"]);
        runs.websocket = await cli(s, "adv-websocket", ["--no-scenarios", "--transport", "websocket", "--url", s.urls.websocketTls]);
        runs.bosh = await cli(s, "adv-bosh", ["--no-scenarios", "--transport", "bosh", "--url", s.urls.boshTls]);
      });

      for (const transport of ["websocket", "bosh"] as const) {
        it(`${transport}: logged in and probed over it; the advertisement checks judge as over TCP`, () => {
          const report = runs[transport]!;
          const tcp = runs.tcp!;
          // The probe's session had no STARTTLS stage: it went over the web transport.
          expect(report.probe!.streamFeatures.map((f) => f.stage)).toEqual(["initial", "after-auth"]);
          expect(report.probe!.tls).toMatchObject({ protocol: "TLSv1.3", authorized: true });
          expect(report.probe!.jid.startsWith(`${s.accounts[0]!.jid}/`)).toBe(true);
          expect(report.probe!.domain.features.length).toBeGreaterThan(10);
          const verdicts = (r: TargetReport) => Object.fromEntries(r.checks.map((c) => [c.id, c.verdict]));
          const expected = { ...verdicts(tcp), ...WEB_DIFFERENCES[kind] };
          expect(verdicts(report)).toEqual(expected);
          expect(report.checks.every((c) => c.kind === "advertisement")).toBe(true);
          expect(report.checks.some((c) => c.verdict === "error")).toBe(false);
        });
      }
    });
  });
}
