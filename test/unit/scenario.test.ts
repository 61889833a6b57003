/**
 * The scenario framework without a server: how a scenario ends becomes its
 * verdict, cleanups always run, and one scenario's hang or failure never
 * touches another's verdict.
 */
import { describe, expect, it } from "vitest";
import { defineScenario, type ScenarioDefinition } from "../../src/checks/types.js";
import { judge, scenarioTarget, type RunOptions } from "../../src/runner/run.js";
import { ScenarioFailure } from "../../src/scenario/outcome.js";
import { endpointOf, runScenario, verdictFor, type ScenarioEnvironment } from "../../src/scenario/scenario.js";
import { SessionError, StanzaError } from "../../src/session/errors.js";
import { TrafficMeter } from "../../src/session/traffic.js";
import { context } from "./fixtures.js";

const env = (overrides: Partial<ScenarioEnvironment> = {}): ScenarioEnvironment => ({
  ctx: context(),
  accounts: { account: { username: "alice", password: "pw" } },
  connect: async () => {
    throw new Error("no server in unit tests");
  },
  openStream: async () => {
    throw new Error("no server in unit tests");
  },
  target: {
    domain: "example.org",
    host: "127.0.0.1",
    port: 5222,
    mode: "starttls",
    tls: {},
    timeoutMs: 200,
    configuredHost: true,
    alpn: ["xmpp-client"],
    transport: "tcp",
    limits: {},
    meter: new TrafficMeter(),
  },
  waitMs: 200,
  scenarioTimeoutMs: 300,
  ...overrides,
});

function scenario(run: ScenarioDefinition["run"], advertised: boolean | null = true, extra: Partial<ScenarioDefinition> = {}): ScenarioDefinition {
  return defineScenario({
    id: "test.scenario",
    spec: { doc: "XEP-9999", version: "1", section: "1", url: "https://example.org" },
    level: "MUST",
    requirement: "A test requirement that is long enough.",
    title: "A test scenario",
    needs: ["account"],
    advertised: () => advertised,
    run,
    ...extra,
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe("verdicts from advertised x works", () => {
  it("follows the table", () => {
    expect(verdictFor(true, true)).toBe("pass");
    expect(verdictFor(true, null)).toBe("pass");
    expect(verdictFor(true, false)).toBe("warn");
    expect(verdictFor(false, true)).toBe("fail");
    expect(verdictFor(false, null)).toBe("fail");
    expect(verdictFor(false, false)).toBe("na");
    // A SHOULD (or MAY) not met is a warning; not offered stays not offered.
    expect(verdictFor(false, true, "SHOULD")).toBe("warn");
    expect(verdictFor(false, null, "MAY")).toBe("warn");
    expect(verdictFor(false, false, "SHOULD")).toBe("na");
  });

  it("a failed expectation is 'advertised but broken', with expected and actual", async () => {
    const { outcome } = await runScenario(scenario(async (s) => s.fail("a copy at A", "nothing")), env());
    expect(outcome).toMatchObject({ verdict: "fail", advertised: true, works: false });
    expect(outcome.summary).toMatch(/^advertised but broken: expected a copy at A; got nothing/);
    expect(outcome.evidence).toContainEqual({ type: "expectedActual", expected: "a copy at A", actual: "nothing" });
    expect(outcome.evidence.at(-1)).toMatchObject({ type: "transcript" });
  });

  it("an error reply where a result was needed means it does not work; not advertised then reads na", async () => {
    const { outcome } = await runScenario(
      scenario(async () => {
        throw new StanzaError("service-unavailable", "cancel", undefined, "<iq/>");
      }, false),
      env(),
    );
    expect(outcome).toMatchObject({ verdict: "na", works: false });
  });

  it("works but not advertised is a warning", async () => {
    const { outcome } = await runScenario(scenario(async () => {}, false), env());
    expect(outcome).toMatchObject({ verdict: "warn", works: true });
    expect(outcome.summary).toMatch(/not advertised/);
  });

  it("a network problem or an unanswered iq is 'could not tell', never a fail", async () => {
    const { outcome } = await runScenario(
      scenario(async () => {
        throw new SessionError("timeout", "iq", "timed out after 200 ms waiting for iq");
      }),
      env(),
    );
    expect(outcome).toMatchObject({ verdict: "error", works: null });
  });

  it("a stream error while a scenario's connection is set up (STARTTLS), or one reporting the server's trouble, is 'could not tell', never 'not offered'", async () => {
    for (const err of [
      new SessionError("stream-error", "starttls", "stream error internal-server-error during starttls", "internal-server-error"),
      new SessionError("stream-error", "sasl", "stream error not-authorized during sasl", "not-authorized"),
      new SessionError("stream-error", "wait", "stream error internal-server-error", "internal-server-error"),
    ]) {
      const { outcome } = await runScenario(scenario(async () => Promise.reject(err), false), env());
      expect(outcome, err.message).toMatchObject({ verdict: "error", works: null });
      expect(outcome.summary).toBe(`could not tell: ${err.message}`);
    }
    // In answer to what the scenario sent, a stream error is a refusal: not offered when not advertised.
    const refused = new SessionError("stream-error", "wait", "stream error unsupported-stanza-type", "unsupported-stanza-type");
    const { outcome } = await runScenario(scenario(async () => Promise.reject(refused), false), env());
    expect(outcome).toMatchObject({ verdict: "na", works: false });
  });

  it("a failed precondition skips (the server did not set the stage) or errs (could not tell), naming it; never a fail", async () => {
    const setStage = (err: Error) =>
      scenario(async (s) => {
        await s.precondition("bob available", () => Promise.reject(err));
        s.fail("never reached", "");
      });
    const skipped = await runScenario(setStage(new ScenarioFailure("bob's own presence reflected", "nothing arrived at bob within 200 ms")), env());
    expect(skipped.outcome).toMatchObject({ verdict: "skip", works: null });
    expect(skipped.outcome.summary).toBe("precondition not met: bob available: expected bob's own presence reflected; got nothing arrived at bob within 200 ms");
    const refused = await runScenario(setStage(new StanzaError("forbidden", "auth", undefined, "<iq/>")), env());
    expect(refused.outcome).toMatchObject({ verdict: "skip" });
    expect(refused.outcome.summary).toMatch(/^precondition not met: bob available: stanza error: forbidden/);
    const lost = await runScenario(setStage(new SessionError("stream-error", "wait", "stream error conflict", "conflict")), env());
    expect(lost.outcome).toMatchObject({ verdict: "error", works: null });
    expect(lost.outcome.summary).toBe("could not tell: precondition not met: bob available: stream error conflict");
  });

  it("a missing second account skips with the reason", async () => {
    const { outcome } = await runScenario(scenario(async (s) => void (await s.login("peer"))), env());
    expect(outcome.verdict).toBe("skip");
    expect(outcome.summary).toMatch(/no second account/);
  });
});

describe("cleanups", () => {
  it("run last-first even when the scenario fails", async () => {
    const order: string[] = [];
    const { outcome } = await runScenario(
      scenario(async (s) => {
        s.cleanup("first", async () => void order.push("first"));
        s.cleanup("second", async () => void order.push("second"));
        throw new ScenarioFailure("x", "y");
      }),
      env(),
    );
    expect(outcome.verdict).toBe("fail");
    expect(order).toEqual(["second", "first"]);
  });

  it("run when the scenario hangs past its deadline, which is an error", async () => {
    let cleaned = false;
    const { outcome } = await runScenario(
      scenario(async (s) => {
        s.cleanup("undo", async () => void (cleaned = true));
        await new Promise(() => {}); // never settles
      }),
      env(),
    );
    expect(outcome.verdict).toBe("error");
    expect(outcome.summary).toMatch(/timed out after 300 ms waiting for scenario test.scenario to finish/);
    expect(cleaned).toBe(true);
  });

  it("a failing cleanup is reported, not hidden", async () => {
    const result = await runScenario(
      scenario(async (s) => {
        s.cleanup("restore the vCard", async () => {
          throw new Error("forbidden");
        });
      }),
      env(),
    );
    expect(result.outcome.verdict).toBe("pass");
    expect(result.cleanupProblems).toEqual(["restore the vCard: forbidden"]);
    expect(result.outcome.evidence).toContainEqual({ type: "note", text: "cleanup failed: restore the vCard: forbidden" });
  });
});

describe("running many scenarios", () => {
  it("runs independent scenarios concurrently and exclusive ones alone; a hang affects only itself", async () => {
    const spans: Record<string, [number, number]> = {};
    const timed = (id: string, body: () => Promise<void>, extra: Partial<ScenarioDefinition> = {}) =>
      scenario(
        async () => {
          const start = performance.now();
          try {
            await body();
          } finally {
            spans[id] = [start, performance.now()];
          }
        },
        true,
        { id, ...extra },
      );
    const checks = [
      timed("t.a", () => sleep(100)),
      timed("t.b", () => sleep(100)),
      timed("t.hang", () => new Promise<void>(() => {})),
      timed("t.alone", () => sleep(20), { exclusive: true }),
    ];
    const { results } = await judge(checks, context(), { timeoutMs: 200, concurrency: 4, scenarioEnv: env() });
    expect(results.map((r) => [r.id, r.verdict])).toEqual([
      ["t.a", "pass"],
      ["t.b", "pass"],
      ["t.hang", "error"],
      ["t.alone", "pass"],
    ]);
    const [a, b, alone] = [spans["t.a"]!, spans["t.b"]!, spans["t.alone"]!];
    expect(b[0]).toBeLessThan(a[1]); // b started before a ended: they overlapped
    expect(alone[0]).toBeGreaterThanOrEqual(Math.max(a[1], b[1])); // the exclusive one ran after the others
  });

  it("runs scenarios serialized on the same state one after another, alongside the others", async () => {
    const spans: Record<string, [number, number]> = {};
    const timed = (id: string, extra: Partial<ScenarioDefinition> = {}) =>
      scenario(
        async () => {
          const start = performance.now();
          await sleep(60);
          spans[id] = [start, performance.now()];
        },
        true,
        { id, ...extra },
      );
    const checks = [timed("t.r1", { serialized: "roster" }), timed("t.r2", { serialized: "roster" }), timed("t.free")];
    const { results } = await judge(checks, context(), { timeoutMs: 500, concurrency: 4, scenarioEnv: env() });
    expect(results.map((r) => r.verdict)).toEqual(["pass", "pass", "pass"]);
    const [r1, r2, free] = [spans["t.r1"]!, spans["t.r2"]!, spans["t.free"]!];
    expect(r2[0]).toBeGreaterThanOrEqual(r1[1]); // the second roster scenario waited for the first
    expect(free[0]).toBeLessThan(r1[1]); // the other one did not
  });

  it("gives a free slot to a started chain's next scenario before the independent ones, and waiting for a chain holds no slot", async () => {
    const order: string[] = [];
    const timed = (id: string, extra: Partial<ScenarioDefinition> = {}) =>
      scenario(
        async () => {
          order.push(id);
          await sleep(extra.serialized ? 10 : 60);
        },
        true,
        { id, ...extra },
      );
    // Declared last, the chain's second scenario still goes before the free ones once the first is done.
    const checks = [timed("t.p1", { serialized: "profile" }), timed("t.f1"), timed("t.f2"), timed("t.f3"), timed("t.p2", { serialized: "profile" })];
    const { results } = await judge(checks, context(), { timeoutMs: 500, concurrency: 2, scenarioEnv: env() });
    expect(results.map((r) => r.verdict)).toEqual(["pass", "pass", "pass", "pass", "pass"]);
    expect(order).toEqual(["t.p1", "t.f1", "t.p2", "t.f2", "t.f3"]);
  });
});

describe("the connections scenarios open themselves", () => {
  const opts: RunOptions = {
    jid: "alice@example.org",
    register: false,
    tls: "direct",
    insecure: true,
    timeoutMs: 3000,
    scenarioTimeoutMs: 30_000,
    concurrency: 1,
    scenarios: true,
    suites: [],
    only: [],
    skip: [],
    alpn: ["xmpp-client", "xmpp-test"],
    maxStanzaBytes: 4096,
    maxXmlDepth: 12,
  };

  it("are held to the run's settings: endpoint, TLS, deadline, ALPN, --max-stanza-size and --max-xml-depth", () => {
    const target = scenarioTarget(opts, "example.org", { host: "xmpp.example.org", port: 5223 }, new TrafficMeter());
    expect(endpointOf(target)).toEqual({
      domain: "example.org",
      host: "xmpp.example.org",
      port: 5223,
      mode: "direct",
      tls: { ca: undefined, insecure: true },
      timeoutMs: 3000,
      alpn: ["xmpp-client", "xmpp-test"],
      maxStanzaBytes: 4096,
      maxXmlDepth: 12,
    });
  });

  it("keep the defaults where the run set no limit", () => {
    const target = scenarioTarget({ ...opts, maxStanzaBytes: undefined, maxXmlDepth: undefined, alpn: undefined }, "example.org", { host: "h", port: 5222 }, new TrafficMeter());
    expect(endpointOf(target)).not.toHaveProperty("maxStanzaBytes");
    expect(endpointOf(target)).not.toHaveProperty("maxXmlDepth");
    expect(endpointOf(target).alpn).toEqual(["xmpp-client"]);
  });
});
