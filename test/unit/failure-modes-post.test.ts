/**
 * Failure modes after a successful login, against the scriptable fake
 * server (test/fakes/fake-xmpp.ts): an iq never answered, answered with
 * another id or from another JID, a TCP reset, a flood of unsolicited
 * stanzas, an HTTP upload endpoint that never answers, and a server asking
 * us to slow down. Each run completes (exit 0), the affected check says
 * `error` with the precise reason, every other check keeps the verdict it
 * has against the well-behaved fake, and nothing crashes.
 *
 * Then the pieces on their own: the back-off, the transcript cap and the
 * per-server connection limit.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ALL_CHECKS } from "../../src/checks/index.js";
import type { CheckResult } from "../../src/report/types.js";
import { probe } from "../../src/probe/probe.js";
import { judge } from "../../src/runner/run.js";
import { ConnectionLimit, ConnectionsExhausted, type Connector, type ScenarioConnections, type SessionPool } from "../../src/scenario/connection-limit.js";
import { ScenarioSkip } from "../../src/scenario/outcome.js";
import type { ScenarioEnvironment } from "../../src/scenario/scenario.js";
import { DEFAULT_BACKOFF, backoffDelay, stanzaSlowDown, streamSlowDown, type BackoffPolicy } from "../../src/scenario/slow-down.js";
import { SessionError, StanzaError } from "../../src/session/errors.js";
import { login, type Credentials, type Session } from "../../src/session/login.js";
import { XmppStream } from "../../src/session/stream.js";
import { TrafficMeter } from "../../src/session/traffic.js";
import { Transcript } from "../../src/session/transcript.js";
import { runCli, type CliResult } from "../cli.js";
import {
  NS_DISCO_INFO,
  NS_PING,
  iqOf,
  onNth,
  startFakeXmpp,
  type FakeXmpp,
  type FakeXmppOptions,
  type StanzaHook,
} from "../fakes/fake-xmpp.js";

/** A CLI run against the fake takes a few seconds; the real back-off of one test adds 3.5 s. */
const CLI_TIMEOUT = 30_000;
const ONLY = "xep0030.*,xep0049.advertised,xep0092.*,xep0199.*,xep0363.*";
const ACCOUNT: Credentials = { username: "alice", password: "secret" };
const PEER: Credentials = { username: "bob", password: "secret" };
const UPLOAD = { maxFileSize: 1000, http: "store" } as const;

interface TargetLike {
  checks: CheckResult[];
  traffic: { stanzasIn: number };
  errors: { step: string; kind: string; message: string; condition?: string }[];
}

interface Run {
  result: CliResult;
  target: TargetLike;
  fake: FakeXmpp;
  check(id: string): CheckResult;
}

/** Runs the built CLI against a fake started with `options`, and reads its JSON report. */
async function runAgainst(options: FakeXmppOptions, extra: string[] = [], env: Record<string, string> = {}): Promise<Run> {
  const fake = await startFakeXmpp({ upload: UPLOAD, ...options });
  try {
    const args = ["run", "alice@fake.test", "--host", "127.0.0.1", "--port", String(fake.port), "--insecure"];
    const result = await runCli([...args, "--timeout", "1", "--only", ONLY, "--json", "-", ...extra], { XEPCHECK_PASSWORD: "secret", ...env });
    expect(result.stderr).not.toMatch(/Unhandled|\n\s+at /);
    const report = JSON.parse(result.stdout);
    // Report v2 holds targets[]; until the runner writes it, v1 is the target itself.
    const target: TargetLike = report.targets?.[0] ?? report;
    const check = (id: string) => {
      const found = target.checks.find((c) => c.id === id);
      if (!found) throw new Error(`no check ${id} in the report`);
      return found;
    };
    return { result, target, fake, check };
  } finally {
    await fake.close();
  }
}

const verdicts = (target: TargetLike) => Object.fromEntries(target.checks.map((c) => [c.id, c.verdict]));

let control: Record<string, string>;
let controlMostOpen: number;

beforeAll(async () => {
  const run = await runAgainst({});
  expect(run.result.code).toBe(0);
  control = verdicts(run.target);
  controlMostOpen = run.fake.mostOpen;
}, 60_000);

/** Every check but `affected` has the verdict it has against the well-behaved fake. */
function expectOthersUnchanged(run: Run, affected: string[]): void {
  const others = (v: Record<string, string>) => Object.fromEntries(Object.entries(v).filter(([id]) => !affected.includes(id)));
  expect(others(verdicts(run.target))).toEqual(others(control));
}

describe("the well-behaved fake (the control run)", () => {
  it("passes every selected check but the one about Private XML Storage, which it does not offer", () => {
    expect(control).toMatchObject({
      "xep0030.server-info": "pass",
      "xep0030.account-info": "pass",
      "xep0049.advertised": "na",
      "xep0092.version": "pass",
      "xep0092.query": "pass",
      "xep0199.advertised": "pass",
      "xep0199.server-ping": "pass",
      "xep0363.advertised": "pass",
      "xep0363.upload-roundtrip": "pass",
      "xep0363.file-too-large": "pass",
    });
  });
});

describe("a server that misbehaves after the login", { timeout: CLI_TIMEOUT }, () => {
  it("never answers a ping: that scenario is an error naming the iq and the deadline", async () => {
    const run = await runAgainst({ onStanza: onNth(iqOf(NS_PING), 1, "ignore") });
    expect(run.result.code).toBe(0);
    expect(run.check("xep0199.server-ping")).toMatchObject({ verdict: "error", works: null });
    expect(run.check("xep0199.server-ping").summary).toMatch(
      /^could not tell: alice\/A: timed out after 1000 ms waiting for the answer to iq get <ping xmlns='urn:xmpp:ping'\/> to fake\.test \(id [^)]+\)$/,
    );
    expectOthersUnchanged(run, ["xep0199.server-ping"]);
  });

  it("answers a ping with another id: not taken as the answer, and the error names the reply", async () => {
    const run = await runAgainst({ onStanza: onNth(iqOf(NS_PING), 1, "wrong-id") });
    expect(run.result.code).toBe(0);
    const ping = run.check("xep0199.server-ping");
    expect(ping.verdict).toBe("error");
    expect(ping.summary).toMatch(/timed out after 1000 ms waiting for the answer to iq get <ping/);
    expect(ping.summary).toMatch(/replies that do not answer it were ignored: <iq type='result' id='(xc-[^']+)-not-yours' from='fake\.test'>: another id$/);
    expectOthersUnchanged(run, ["xep0199.server-ping"]);
  });

  it("answers a ping from a JID it was not sent to: not taken as the answer (RFC 6120 §8.1.2.1)", async () => {
    const run = await runAgainst({ onStanza: onNth(iqOf(NS_PING), 1, "wrong-from") });
    expect(run.result.code).toBe(0);
    const ping = run.check("xep0199.server-ping");
    expect(ping.verdict).toBe("error");
    expect(ping.summary).toMatch(
      /<iq type='result' id='xc-[^']+' from='intruder\.example'>: from intruder\.example, but the answer must come from fake\.test \(RFC 6120 §8\.1\.2\.1\)$/,
    );
    expectOthersUnchanged(run, ["xep0199.server-ping"]);
  });

  it("resets the TCP connection when a ping arrives: that scenario is an error naming the session and what it waited for", async () => {
    const run = await runAgainst({ onStanza: onNth(iqOf(NS_PING), 1, "reset") });
    expect(run.result.code).toBe(0);
    const ping = run.check("xep0199.server-ping");
    expect(ping.verdict).toBe("error");
    expect(ping.summary).toMatch(/^could not tell: alice\/A lost its stream while waiting for the answer to iq get <ping xmlns='urn:xmpp:ping'\/> to fake\.test .*ECONNRESET/);
    expectOthersUnchanged(run, ["xep0199.server-ping"]);
  });

  it("never answers disco#info of the account: what is looked for there is 'could not tell', not 'not offered'", async () => {
    const silentAccount: StanzaHook = (el) => (iqOf(NS_DISCO_INFO)(el) && el.attrs.to === "alice@fake.test" ? "ignore" : "answer");
    const run = await runAgainst({ onStanza: silentAccount });
    expect(run.result.code).toBe(0);
    expect(run.check("xep0049.advertised")).toMatchObject({ verdict: "error", advertised: null });
    expect(run.check("xep0049.advertised").summary).toMatch(
      /^could not tell whether Private XML Storage is advertised: no answer from disco#info of alice@fake\.test \(timed out after 1000 ms/,
    );
    expect(run.check("xep0030.account-info").verdict).toBe("error");
    expectOthersUnchanged(run, ["xep0049.advertised", "xep0030.account-info"]);
  });

  it("gives an HTTP upload slot whose server accepts and never answers: the round trip is an error naming the PUT", async () => {
    const run = await runAgainst({ upload: { maxFileSize: 1000, http: "silent" } });
    expect(run.result.code).toBe(0);
    const upload = run.check("xep0363.upload-roundtrip");
    expect(upload.verdict).toBe("error");
    expect(upload.summary).toMatch(/^could not tell: no HTTP answer to PUT http:\/\/127\.0\.0\.1:\d+\/slot\/\d+\/xepcheck-xc-[0-9a-f]+\.txt within 1000 ms$/);
    expect(run.fake.uploadRequests.some((r) => r.startsWith("PUT /slot/"))).toBe(true);
    expectOthersUnchanged(run, ["xep0363.upload-roundtrip"]);
  });

  for (const kind of ["message", "presence"] as const) {
    it(`floods every session with 30000 unsolicited ${kind}s before its answers: verdicts unchanged, transcripts capped, memory bounded`, async () => {
      // A 64 MB heap: keeping every stanza of the flood (30000 on each of the run's connections) does not fit.
      const run = await runAgainst({ flood: { count: 30_000, kind } }, ["--timeout", "10"], { NODE_OPTIONS: "--max-old-space-size=64" });
      expect(run.result.code).toBe(0);
      expectOthersUnchanged(run, []);
      expect(run.target.traffic.stanzasIn).toBeGreaterThan(4 * 30_000);
      const transcripts = run.target.checks.flatMap((c) => c.evidence.flatMap((e) => (e.type === "transcript" ? [e] : [])));
      expect(transcripts).toHaveLength(5); // one per scenario
      // A scenario that took a parked session (logged in, and flooded, in an earlier scenario) sees no flood of its own.
      const flooded = transcripts.filter((t) => t.entries.length > 100);
      expect(flooded.length).toBeGreaterThan(0);
      for (const t of transcripts) expect(t.entries.length).toBeLessThanOrEqual(2001);
      for (const t of flooded) {
        expect(t.entries.length).toBe(2001);
        const omitted = t.entries.filter((e) => / entries omitted here \(the transcript keeps its first 1500 and its last 500 entries\)$/.test(e.xml));
        expect(omitted).toHaveLength(1);
        expect(Number(omitted[0]!.xml.split(" ")[0])).toBeGreaterThan(25_000);
      }
    });
  }
});

describe("a server whose answers are as large as allowed (CLI, bounded heap)", { timeout: CLI_TIMEOUT }, () => {
  it("lists 30 000 components (under 1 MiB): 200 are probed, at most 8 queries at a time, the rest counted in a note", async () => {
    const run = await runAgainst({ components: { count: 30_000, delayMs: 1 } }, [], { NODE_OPTIONS: "--max-old-space-size=128" });
    expect(run.result.code).toBe(0);
    expect(run.fake.componentQueries).toBe(199); // the upload service is the first of the 200
    expect(run.fake.mostComponentQueriesInFlight).toBeLessThanOrEqual(8);
    expect(run.target.errors).toContainEqual({
      step: "probe",
      kind: "note",
      message: "the domain lists 30001 disco#items; the disco#info of the first 200 was asked for, 29801 were left alone (--max-disco-items)",
    });
    expectOthersUnchanged(run, []);
  });

  it("--max-disco-items 20 probes 20", async () => {
    const run = await runAgainst({ components: { count: 100 } }, ["--max-disco-items", "20"]);
    expect(run.result.code).toBe(0);
    expect(run.fake.componentQueries).toBe(19); // the upload service is the first of the 20
  });

  it("answers every session's disco#info with 1 000 000 bytes: verdicts unchanged in a 64 MB heap", async () => {
    const run = await runAgainst({ discoInfoBytes: 1_000_000 }, [], { NODE_OPTIONS: "--max-old-space-size=64" });
    expect(run.result.code).toBe(0);
    expect(run.target.traffic.stanzasIn).toBeGreaterThan(0);
    expectOthersUnchanged(run, []);
  });
});

describe("what a server does not offer reads 'not offered', not 'could not tell'", { timeout: CLI_TIMEOUT }, () => {
  it("no SASL2 on the stream: the Bind 2 scenarios are na, not error", async () => {
    const run = await runAgainst({}, ["--only", "xep0386.*"]);
    expect(run.result.code).toBe(0);
    for (const id of ["xep0386.bind", "xep0386.inline-sm", "xep0386.inline-carbons", "xep0386.inline-csi"]) {
      expect(run.check(id), id).toMatchObject({ verdict: "na", advertised: false, works: false });
    }
    expect(run.check("xep0386.bind").summary).toMatch(/^not offered: expected <authentication xmlns='urn:xmpp:sasl:2'\/> in the stream features after TLS; got the server does not offer SASL2 on this stream$/);
  });

  it("host-meta refused at the domain's origin: XEP-0156 not offered, and WebSocket and BOSH not advertised (na), not skipped", async () => {
    const run = await runAgainst({}, ["--only", "xep0156.xrd,rfc7395.websocket,xep0206.bosh"]);
    expect(run.result.code).toBe(0);
    expect(run.check("xep0156.xrd")).toMatchObject({ verdict: "na", advertised: false });
    for (const id of ["rfc7395.websocket", "xep0206.bosh"]) {
      expect(run.check(id), id).toMatchObject({ verdict: "na", advertised: false, works: false });
      expect(run.check(id).summary, id).toMatch(/^not offered: expected a (WebSocket|BOSH) endpoint listed in host-meta \(XEP-0156\), or given with --url .*; got none: https:\/\/fake\.test\/\.well-known\/host-meta at 127\.0\.0\.1/);
    }
  });
});

describe("XEP-0352: CSI works only when the server is seen to act on it", { timeout: CLI_TIMEOUT }, () => {
  const csiRun = (csi: NonNullable<FakeXmppOptions["csi"]>) =>
    runAgainst({ routing: true, peer: { username: "bob", password: "bob-pw" }, csi }, ["--only", "xep0352.*", "--peer", `bob@fake.test`], {
      XEPCHECK_PEER_PASSWORD: "bob-pw",
    });

  for (const mode of ["hold", "drop"] as const) {
    it(`a server that ${mode === "hold" ? "holds a chat state until <active/>" : "drops a chat state while inactive"}: works, pass`, async () => {
      const run = await csiRun({ mode, advertised: true });
      expect(run.check("xep0352.state-changes")).toMatchObject({ verdict: "pass", advertised: true, works: true });
      expect(run.check("xep0352.state-changes").summary).toMatch(mode === "hold" ? /held \(not there by the answer to bob's next ping and \d+ ms more\) and delivered on <active\/>/ : /dropped \(§2\.2 allows it\)/);
    });
  }

  it("a server that ignores <inactive/> and delivers at once, not advertising CSI: works false, na (it used to read 'works, but is not advertised')", async () => {
    const run = await csiRun({ mode: "ignore", advertised: false });
    expect(run.check("xep0352.state-changes")).toMatchObject({ verdict: "na", advertised: false, works: false });
    expect(run.check("xep0352.state-changes").summary).toMatch(/^not offered: expected the chat state held back or dropped while alice is inactive; got it arrived at once \(by the answer to bob's next ping and \d+ ms more\)/);
  });

  it("the same, advertising CSI: not determined (skip), since holding is the server's choice", async () => {
    const run = await csiRun({ mode: "ignore", advertised: true });
    expect(run.check("xep0352.state-changes")).toMatchObject({ verdict: "skip", advertised: true, works: null });
  });

  it("a stream error in answer to <inactive/>, CSI advertised: advertised but broken, a warning (the check's level is INFO)", async () => {
    const run = await csiRun({ mode: "stream-error", advertised: true });
    expect(run.check("xep0352.state-changes")).toMatchObject({ verdict: "warn", advertised: true, works: false });
    expect(run.check("xep0352.state-changes").summary).toMatch(/^advertised but broken: /);
  });
});

describe("XEP-0249 on a server that does not echo a client's own presence", { timeout: CLI_TIMEOUT }, () => {
  it("the invitation is still delivered and judged: pass (the echo is an RFC 6121 matter, not a condition of XEP-0249)", async () => {
    const run = await runAgainst({ routing: true, peer: { username: "bob", password: "bob-pw" } }, ["--only", "xep0249.delivered", "--peer", "bob@fake.test"], {
      XEPCHECK_PEER_PASSWORD: "bob-pw",
    });
    expect(run.check("xep0249.delivered")).toMatchObject({ verdict: "pass", works: true });
  });
});

describe("a server that asks us to slow down (CLI, real back-off)", { timeout: CLI_TIMEOUT }, () => {
  it("keeps answering a ping with <resource-constraint/>: the scenario backs off, then says error; the others are untouched", async () => {
    const run = await runAgainst({
      onStanza: (el) => (iqOf(NS_PING)(el) ? { error: "resource-constraint", type: "wait", text: "slow down" } : "answer"),
    });
    expect(run.result.code).toBe(0);
    const ping = run.check("xep0199.server-ping");
    expect(ping.verdict).toBe("error");
    expect(ping.summary).toBe("could not tell: the server still asked us to slow down (resource-constraint) after 4 attempts and 3500 ms of back-off");
    expect(ping.evidence.filter((e) => e.type === "note").map((e) => e.text)).toEqual([
      "server asked us to slow down (resource-constraint) — backed off 500 ms",
      "server asked us to slow down (resource-constraint) — backed off 1000 ms",
      "server asked us to slow down (resource-constraint) — backed off 2000 ms",
    ]);
    expectOthersUnchanged(run, ["xep0199.server-ping"]);
  });
});

describe("the runner's connection limit and pause (--max-connections)", { timeout: CLI_TIMEOUT }, () => {
  it("--max-connections 2: never more than two connections open at the server", async () => {
    expect(controlMostOpen).toBeGreaterThan(2); // without the limit, the same run opens more
    const run = await runAgainst({}, ["--max-connections", "2"]);
    expect(run.result.code).toBe(0);
    expect(run.fake.mostOpen).toBeLessThanOrEqual(2);
    expectOthersUnchanged(run, []);
  });

  it("a stream error <policy-violation/> mid-run: that scenario is an error, the next logins wait and retry, no cascade", async () => {
    const run = await runAgainst(
      {
        onStanza: (el, _connection, server) => {
          if (!iqOf(NS_PING)(el)) return "answer";
          server.refuseNext(2, "policy-violation", "too many connections");
          return { streamError: "policy-violation", text: "too many stanzas" };
        },
      },
      ["--concurrency", "1"],
    );
    expect(run.result.code).toBe(0);
    expect(run.check("xep0199.server-ping").verdict).toBe("error");
    expect(run.check("xep0199.server-ping").summary).toMatch(/stream error policy-violation.*too many stanzas/);
    expectOthersUnchanged(run, ["xep0199.server-ping"]);
    expect(run.target.errors.filter((e) => e.kind === "slow-down").map((e) => e.message)).toEqual([
      "server asked us to slow down (policy-violation) — backed off 500 ms: the server ended a session of xep0199.server-ping; the next connection waited",
      "server asked us to slow down (policy-violation) — backed off 1000 ms: the server ended a login with a stream error; the next connection waited",
      "server asked us to slow down (policy-violation) — backed off 2000 ms: the server ended a login with a stream error; the next connection waited",
    ]);
  });
});

/** A back-off that records its waits and does not wait. */
function recordingBackoff(): BackoffPolicy & { waits: number[] } {
  const waits: number[] = [];
  return { ...DEFAULT_BACKOFF, waits, sleep: async (ms) => void waits.push(ms) };
}

/**
 * Logs in to the fake, probes it, and judges the scenarios `ids` one at a
 * time in that order, as the runner does, with `extra` in their environment.
 */
async function judgeAgainst(fake: FakeXmpp, ids: string[], extra: Partial<ScenarioEnvironment> = {}): Promise<Record<string, CheckResult>> {
  const endpoint = { domain: fake.domain, host: "127.0.0.1", port: fake.port, mode: "starttls" as const, tls: { insecure: true }, timeoutMs: 2000 };
  const meter = new TrafficMeter();
  const connect = (credentials: Credentials, resource?: string) => login({ ...endpoint, meter, credentials, ...(resource ? { resource } : {}) });
  const main = await connect(ACCOUNT);
  try {
    const ctx = { domain: fake.domain, probe: await probe(main, fake.domain), tlsMode: "starttls" as const };
    const checks = ids.map((id) => ALL_CHECKS.find((c) => c.id === id)!);
    const { results } = await judge(checks, ctx, {
      timeoutMs: 2000,
      concurrency: 1,
      scenarioEnv: {
        accounts: { account: ACCOUNT },
        connect,
        openStream: () => XmppStream.open({ ...endpoint, meter }),
        target: { ...endpoint, configuredHost: true, alpn: ["xmpp-client"], transport: "tcp", limits: {}, meter },
        waitMs: 2000,
        scenarioTimeoutMs: 30_000,
        ...extra,
      },
    });
    return Object.fromEntries(results.map((r) => [r.id, r]));
  } finally {
    await main.stream.close();
  }
}

const notes = (result: CheckResult) => result.evidence.flatMap((e) => (e.type === "note" ? [e.text] : []));

describe("a server that asks us to slow down (scenarios judged in-process, back-off recorded)", () => {
  it("<resource-constraint/> twice, then a result: the scenario backed off 500 and 1000 ms, says so, and passes", async () => {
    const pings = new Map<number, number>();
    const busy = await startFakeXmpp({
      onStanza: (el, connection) => {
        if (!iqOf(NS_PING)(el)) return "answer";
        const n = (pings.get(connection.index) ?? 0) + 1;
        pings.set(connection.index, n);
        return n <= 2 ? { error: "resource-constraint", type: "wait" } : "answer";
      },
    });
    try {
      const backoff = recordingBackoff();
      const results = await judgeAgainst(busy, ["xep0199.server-ping", "xep0092.query"], { backoff });
      expect(results["xep0199.server-ping"]!.verdict).toBe("pass");
      expect(notes(results["xep0199.server-ping"]!)).toEqual([
        "server asked us to slow down (resource-constraint) — backed off 500 ms",
        "server asked us to slow down (resource-constraint) — backed off 1000 ms",
      ]);
      expect(backoff.waits).toEqual([500, 1000]);
      expect(results["xep0092.query"]!.verdict).toBe("pass");
      expect(notes(results["xep0092.query"]!)).toEqual([]);
    } finally {
      await busy.close();
    }
  });

  it("a <policy-violation/> of type modify is a refusal, not a request to wait: no back-off, the scenario fails", async () => {
    const fake = await startFakeXmpp({ onStanza: (el) => (iqOf(NS_PING)(el) ? { error: "policy-violation", type: "modify" } : "answer") });
    try {
      const backoff = recordingBackoff();
      const results = await judgeAgainst(fake, ["xep0199.server-ping"], { backoff });
      expect(results["xep0199.server-ping"]!.verdict).toBe("fail");
      expect(results["xep0199.server-ping"]!.summary).toMatch(/the error policy-violation/);
      expect(backoff.waits).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it("a stream error <policy-violation/> ends one scenario; the next connections pause and retry, and the later scenarios keep their verdicts", async () => {
    const fake = await startFakeXmpp({
      onStanza: (el, _connection, server) => {
        if (!iqOf(NS_PING)(el)) return "answer";
        server.refuseNext(2, "policy-violation", "too many connections");
        return { streamError: "policy-violation", text: "too many stanzas" };
      },
    });
    try {
      const backoff = recordingBackoff();
      const limit = new ConnectionLimit({ max: 4, backoff });
      const results = await judgeAgainst(fake, ["xep0199.server-ping", "xep0092.query", "xep0030.account-info"], { backoff, connectionLimit: limit });
      const ping = results["xep0199.server-ping"]!;
      expect(ping.verdict).toBe("error");
      expect(ping.summary).toMatch(/^could not tell: alice\/A lost its stream while waiting for the answer to iq get <ping .*stream error policy-violation.*too many stanzas/);
      expect(notes(ping)).toEqual(["server asked us to slow down (policy-violation) — backed off 500 ms before the next connection"]);
      expect(results["xep0092.query"]!.verdict).toBe("pass");
      expect(notes(results["xep0092.query"]!)).toEqual([
        "server asked us to slow down (policy-violation) — backed off 1000 ms before connecting again",
        "server asked us to slow down (policy-violation) — backed off 2000 ms before connecting again",
      ]);
      expect(results["xep0030.account-info"]!.verdict).toBe("pass");
      expect(backoff.waits).toEqual([500, 1000, 2000]);
      expect(limit.notes.map((n) => [n.kind, n.condition])).toEqual([
        ["slow-down", "policy-violation"],
        ["slow-down", "policy-violation"],
        ["slow-down", "policy-violation"],
      ]);
      // Sessions left as they were after login stay parked for the run's next scenarios until it closes them.
      await limit.closeIdle();
      expect(limit.openConnections).toBe(0);
    } finally {
      await fake.close();
    }
  });
});

describe("the back-off", () => {
  it("doubles from 500 ms and stops at 8 s, the same every time", () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((n) => backoffDelay(DEFAULT_BACKOFF, n))).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);
    expect(backoffDelay({ ...DEFAULT_BACKOFF, initialMs: 100, maxMs: 250 }, 2)).toBe(250);
  });

  it("knows a request to slow down when it sees one", () => {
    const stanza = (condition: string, type: string) => new StanzaError(condition, type, undefined, "<iq/>");
    expect(stanzaSlowDown(stanza("resource-constraint", "wait"))).toBe("resource-constraint");
    expect(stanzaSlowDown(stanza("resource-constraint", "cancel"))).toBe("resource-constraint");
    expect(stanzaSlowDown(stanza("policy-violation", "wait"))).toBe("policy-violation, type wait");
    expect(stanzaSlowDown(stanza("internal-server-error", "wait"))).toBe("internal-server-error, type wait");
    expect(stanzaSlowDown(stanza("policy-violation", "modify"))).toBeUndefined();
    expect(stanzaSlowDown(stanza("service-unavailable", "cancel"))).toBeUndefined();
    const streamError = (condition: string) => new SessionError("stream-error", "wait", `the server sent stream error ${condition}`, condition);
    expect(streamSlowDown(streamError("policy-violation"))).toBe("policy-violation");
    expect(streamSlowDown(streamError("resource-constraint"))).toBe("resource-constraint");
    expect(streamSlowDown(streamError("conflict"))).toBeUndefined();
    expect(streamSlowDown(new SessionError("network", "wait", "reset", "policy-violation"))).toBeUndefined();
  });
});

describe("the transcript under a flood", () => {
  it("keeps its first and its latest entries, and counts what it left out between them", () => {
    const t = new Transcript(8, 2);
    for (let i = 0; i < 20; i++) t.record("in", `<message id='${i}'/>`);
    expect(t.entries.map((e) => e.xml)).toEqual([
      ...[0, 1, 2, 3, 4, 5].map((i) => `<message id='${i}'/>`),
      "12 entries omitted here (the transcript keeps its first 6 and its last 2 entries)",
      "<message id='18'/>",
      "<message id='19'/>",
    ]);
  });

  it("with keepLast 0, keeps the first entries and counts the rest", () => {
    const t = new Transcript(3, 0);
    for (let i = 0; i < 10; i++) t.note(`entry ${i}`);
    expect(t.entries.map((e) => e.xml)).toEqual(["entry 0", "entry 1", "entry 2", "7 entries omitted here (the transcript keeps its first 3 and its last 0 entries)"]);
  });
});

/** Connections that are only counted: each "stream" has close() and destroy(). */
function countingConnector(): Connector & { open: number; opened: number; mostOpen: number; mostOpenBy: Record<string, number> } {
  const state = { open: 0, opened: 0, mostOpen: 0, mostOpenBy: {} as Record<string, number> };
  const openBy: Record<string, number> = {};
  const stream = (user?: string) => {
    state.open++;
    state.opened++;
    state.mostOpen = Math.max(state.mostOpen, state.open);
    if (user) {
      openBy[user] = (openBy[user] ?? 0) + 1;
      state.mostOpenBy[user] = Math.max(state.mostOpenBy[user] ?? 0, openBy[user]);
    }
    let closed = false;
    const end = () => {
      if (!closed) {
        state.open--;
        if (user) openBy[user]!--;
      }
      closed = true;
    };
    return { close: async () => end(), destroy: end, resetForReuse: () => {}, get isClosed() { return closed; } } as unknown as XmppStream;
  };
  return Object.assign(state, {
    connect: async (credentials: Credentials) => ({ stream: stream(credentials.username), jid: `${credentials.username}@fake.test/r`, mechanism: "PLAIN", offeredMechanisms: ["PLAIN"] }),
    openStream: async () => stream(),
  });
}

/** Fails instead of hanging when the scenarios wait on each other for ever. */
async function deadlockGuard<T>(all: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("deadlock: the scenarios still wait after 1 s")), 1000)));
  try {
    return await Promise.race([all, stuck]);
  } finally {
    clearTimeout(timer);
  }
}

/** How a simulated scenario ended: done, skipped (it needs more at once than the limit) or refused (past its claim). */
async function ending(mine: ScenarioConnections, body: () => Promise<void>): Promise<"done" | "skipped" | "refused"> {
  try {
    await body();
    return "done";
  } catch (err) {
    if (err instanceof ScenarioSkip) return "skipped";
    if (err instanceof ConnectionsExhausted) return "refused";
    throw err;
  } finally {
    mine.end();
  }
}

const ticks = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe("the connection limit", () => {
  it("never has more than max connections open, and every scenario finishes (no deadlock), whatever the interleaving", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 8 }),
        async (max, scenarios) => {
          const limit = new ConnectionLimit({ max });
          const server = countingConnector();
          // Each scenario opens its connections one after another (pausing `hold` ticks after each), then closes them all.
          const outcomes = await Promise.all(
            scenarios.map(async (holds, index) => {
              const mine = limit.forScenario(server);
              const streams: XmppStream[] = [];
              try {
                const sessions: Session[] = [];
                for (const hold of holds) {
                  if (index % 2) streams.push(await mine.openStream());
                  else sessions.push(await mine.connect(index % 4 ? PEER : ACCOUNT, "r"));
                  await ticks(hold);
                }
                // Logins are parked for the next scenario (every other one) or closed; streams are closed.
                await Promise.all([...streams, ...sessions.filter((s, i) => i % 2 || !mine.park(s, index % 4 ? PEER : ACCOUNT)).map((s) => s.stream)].map((s) => s.close()));
                return "done";
              } catch (err) {
                if (err instanceof ScenarioSkip) return "skipped";
                throw err;
              } finally {
                mine.end();
              }
            }),
          );
          expect(server.mostOpen).toBeLessThanOrEqual(max);
          expect(limit.mostOpen).toBeLessThanOrEqual(max);
          expect(limit.openConnections).toBe(server.open); // the parked ones
          await limit.closeIdle();
          expect(server.open).toBe(0);
          expect(limit.openConnections).toBe(0);
          // A scenario is refused only when it needs more at once than the limit allows.
          expect(outcomes).toEqual(scenarios.map((holds) => (holds.length > max ? "skipped" : "done")));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("never has more than perAccount sessions of one account open, parked ones and those outside included, and no deadlock", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 8 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.array(fc.record({ peer: fc.boolean(), hold: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 8 }),
        async (max, perAccount, scenarios) => {
          // The main session is alice's, outside the limit: one of her perAccount.
          const limit = new ConnectionLimit({ max, perAccount: perAccount + 1, outside: ["alice"] });
          const server = countingConnector();
          const outcomes = await deadlockGuard(
            Promise.all(
              scenarios.map(async (logins, index) => {
                const mine = limit.forScenario(server, undefined, Math.min(logins.length, perAccount));
                return ending(mine, async () => {
                  const sessions: [Session, Credentials][] = [];
                  for (const { peer, hold } of logins) {
                    const creds = peer ? PEER : ACCOUNT;
                    sessions.push([await mine.connect(creds, "r"), creds]);
                    await ticks(hold);
                  }
                  await Promise.all(sessions.filter(([s, c], i) => (index + i) % 2 || !mine.park(s, c)).map(([s]) => s.stream.close()));
                });
              }),
            ),
          );
          expect(server.mostOpen).toBeLessThanOrEqual(max);
          expect(server.mostOpenBy["alice"] ?? 0).toBeLessThanOrEqual(perAccount);
          expect(server.mostOpenBy["bob"] ?? 0).toBeLessThanOrEqual(perAccount + 1);
          // Only a scenario that needs more at once than a limit allows, or more than it declares, does not finish.
          outcomes.forEach((outcome, i) => {
            const logins = scenarios[i]!;
            const most = Math.max(logins.filter((l) => l.peer).length, logins.filter((l) => !l.peer).length);
            if (logins.length <= max && most <= perAccount && logins.length <= perAccount) expect(outcome).toBe("done");
          });
          await limit.closeIdle();
          expect(server.open).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  }, 60_000);

  it("with the connections each scenario declares, some of them too few: never more than max open, no deadlock, and only those past their claim refused", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 7 }),
        fc.array(fc.record({ holds: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 5 }), declared: fc.integer({ min: 1, max: 5 }) }), { minLength: 1, maxLength: 10 }),
        async (max, scenarios) => {
          const limit = new ConnectionLimit({ max });
          const server = countingConnector();
          const outcomes = await deadlockGuard(Promise.all(
            scenarios.map(async ({ holds, declared }) => {
              const mine = limit.forScenario(server, undefined, declared);
              const streams: XmppStream[] = [];
              return ending(mine, async () => {
                for (const hold of holds) {
                  streams.push(await mine.openStream());
                  await ticks(hold);
                }
                await Promise.all(streams.map((s) => s.close()));
              });
            }),
          ));
          expect(server.mostOpen).toBeLessThanOrEqual(max);
          // Only a scenario that asks for more than it declares may be refused, and then only while all wait.
          outcomes.forEach((outcome, i) => {
            const { holds, declared } = scenarios[i]!;
            const ends = [holds.length > max ? "skipped" : "done", ...(holds.length > declared ? ["refused"] : [])];
            expect(ends).toContain(outcome);
          });
          expect(server.open).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  }, 60_000);

  /** Two logins of the account by one scenario, parked in `pools` as it ends (which leaves parked sessions open). */
  async function parkTwo(max: number, pools: [SessionPool | undefined, SessionPool | undefined]) {
    const limit = new ConnectionLimit({ max });
    const server = countingConnector();
    const first = limit.forScenario(server);
    const parked = [await first.connect(ACCOUNT, "r"), await first.connect(ACCOUNT, "r")] as const;
    parked.forEach((session, i) => expect(first.park(session, ACCOUNT, pools[i])).toBe(true));
    first.end();
    return { limit, server, parked };
  }

  it("gives a parked session to the next login of its account, and closes the oldest parked one when a new connection needs its slot", async () => {
    const { limit, server, parked: [a, b] } = await parkTwo(2, [undefined, undefined]);
    expect([server.open, limit.openConnections]).toEqual([2, 2]);

    const second = limit.forScenario(server);
    const again = await second.connect(ACCOUNT, "r");
    expect(again).toBe(a); // the oldest parked, no new login
    expect(second.reused(again)).toBe(true);
    expect(server.opened).toBe(2);
    const bob = await second.connect(PEER, "r"); // another account: b's slot is given to a new login
    expect(second.reused(bob)).toBe(false);
    expect(server.opened).toBe(3);
    expect(b.stream.isClosed).toBe(true);
    expect(server.mostOpen).toBeLessThanOrEqual(2);
    expect(limit.sessionsReused).toBe(1);
    second.end();
    expect(server.open).toBe(0);
    // A closed session, or one that is not the scenario's, is not parked.
    const third = limit.forScenario(server);
    expect(third.park(a, ACCOUNT)).toBe(false);
    third.end();
  });

  it("gives a session that requested the roster only to a login that asks the roster pool, and that login a plain one when none is parked", async () => {
    const { limit, server, parked: [interested, plain] } = await parkTwo(4, ["roster", undefined]);

    const other = limit.forScenario(server);
    expect(await other.connect(ACCOUNT, "r")).toBe(plain); // never the interested one
    const fresh = await other.connect(ACCOUNT, "r");
    expect(fresh).not.toBe(interested);
    expect(other.reused(fresh)).toBe(false);
    other.end();

    const roster = limit.forScenario(server);
    expect(await roster.connect(ACCOUNT, "r", { pool: "roster" })).toBe(interested);
    expect(roster.reused(interested)).toBe(true);
    roster.end();
    expect(server.open).toBe(0);
  });

  it("a reservation outside the scenarios (the login-cost table's) counts against the limit until it is given back", async () => {
    const limit = new ConnectionLimit({ max: 2 });
    const server = countingConnector();
    const release = await limit.reserve(1);
    const mine = limit.forScenario(server);
    await mine.connect(ACCOUNT, "r");
    let second = false;
    const waiting = mine.connect(PEER, "r").then((s) => ((second = true), s));
    await ticks(3);
    expect(second).toBe(false); // one reserved + one open = the limit
    expect(limit.openConnections).toBe(2);
    release();
    await waiting;
    expect(second).toBe(true);
    expect(server.mostOpen).toBe(2);
    mine.end();
    expect(limit.openConnections).toBe(0);
  });

  it("four scenarios of three connections each finish under a limit of 8, where a plain semaphore deadlocks at two each", async () => {
    const limit = new ConnectionLimit({ max: 8, perScenario: 3 });
    const server = countingConnector();
    let firsts = 0;
    const allHaveOne = new Promise<void>((resolve) => {
      const check = setInterval(() => firsts === 4 && (clearInterval(check), resolve()), 1);
    });
    await Promise.all(
      [0, 1, 2, 3].map(async () => {
        const mine = limit.forScenario(server);
        const first = await mine.openStream();
        firsts++;
        await allHaveOne; // everyone holds one: now all ask for more at once
        const more = [await mine.openStream(), await mine.openStream()];
        await Promise.all([first, ...more].map((s) => s.close()));
        mine.end();
      }),
    );
    expect(server.opened).toBe(12);
    expect(server.mostOpen).toBeLessThanOrEqual(8);
  });

  it("waits out the pause the server asked for before opening the next connection; the waits grow while it keeps asking", async () => {
    const sleeps: { ms: number; wake: () => void }[] = [];
    const backoff: BackoffPolicy = { ...DEFAULT_BACKOFF, sleep: (ms) => new Promise<void>((wake) => void sleeps.push({ ms, wake })) };
    const limit = new ConnectionLimit({ max: 2, backoff });
    const server = countingConnector();
    expect(limit.serverAskedToSlowDown("policy-violation", "a session of test.one")).toBe(500);
    expect(limit.serverAskedToSlowDown("resource-constraint", "a session of test.two")).toBe(1000);
    const mine = limit.forScenario(server);
    const opening = mine.openStream();
    await ticks(5);
    expect(server.opened).toBe(0);
    sleeps[0]!.wake();
    await ticks(5);
    expect(server.opened).toBe(0); // the longer pause still runs
    sleeps[1]!.wake();
    await opening;
    expect(server.opened).toBe(1);
    expect(limit.notes).toEqual([
      {
        step: "connect",
        kind: "slow-down",
        condition: "policy-violation",
        message: "server asked us to slow down (policy-violation) — backed off 500 ms: the server ended a session of test.one; the next connection waited",
      },
      {
        step: "connect",
        kind: "slow-down",
        condition: "resource-constraint",
        message: "server asked us to slow down (resource-constraint) — backed off 1000 ms: the server ended a session of test.two; the next connection waited",
      },
    ]);
    // A connection that succeeded resets the growth.
    expect(limit.serverAskedToSlowDown("policy-violation", "a session of test.three")).toBe(500);
    mine.end();
  });

  it("retries a login refused with a slow-down stream error, a bounded number of times", async () => {
    const backoff = recordingBackoff();
    const refusal = () => new SessionError("stream-error", "stream-features", "the server sent stream error policy-violation", "policy-violation");
    let attempts = 0;
    const refusing = (times: number): Connector => ({
      connect: async () => {
        if (attempts++ < times) throw refusal();
        return { stream: await countingConnector().openStream(), jid: "alice@fake.test/r", mechanism: "PLAIN", offeredMechanisms: ["PLAIN"] };
      },
      openStream: async () => {
        throw new Error("not used");
      },
    });
    const said: string[] = [];
    const limit = new ConnectionLimit({ max: 2, backoff });
    const ok = limit.forScenario(refusing(2), (note) => said.push(note));
    await expect(ok.connect(ACCOUNT, "r")).resolves.toBeDefined();
    expect(said).toEqual([
      "server asked us to slow down (policy-violation) — backed off 500 ms before connecting again",
      "server asked us to slow down (policy-violation) — backed off 1000 ms before connecting again",
    ]);
    ok.end();

    attempts = 0;
    const never = limit.forScenario(refusing(Infinity));
    await expect(never.connect(ACCOUNT, "r")).rejects.toThrow("stream error policy-violation");
    expect(attempts).toBe(1 + DEFAULT_BACKOFF.retries);
    never.end();
    expect(limit.openConnections).toBe(0);
  });

  it("refuses a scenario that needs more connections at once than the limit, by skipping it with the reason", async () => {
    const limit = new ConnectionLimit({ max: 1 });
    const mine = limit.forScenario(countingConnector());
    await mine.openStream();
    await expect(mine.openStream()).rejects.toThrow(ScenarioSkip);
    await expect(mine.openStream()).rejects.toThrow("needs more than 1 connections at once");
    mine.end();
    expect(limit.openConnections).toBe(0);
  });
});
