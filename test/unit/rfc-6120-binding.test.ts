/**
 * The resource-binding checks of RFC 6120 §7 fail where a server breaks the
 * rule: the probe's features judged from literals, the bind requests
 * against the scripted fake (test/fakes/scripted-server.ts), which binds
 * every session to the same resource and goes on after anything.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import bindingChecks from "../../src/checks/rfc-6120-binding.js";
import type { CheckDefinition, ScenarioDefinition } from "../../src/checks/types.js";
import type { CheckResult } from "../../src/report/types.js";
import { judge } from "../../src/runner/run.js";
import type { ScenarioEnvironment } from "../../src/scenario/scenario.js";
import { makeCertificate, type Certificate } from "../fakes/certificate.js";
import { FAKE_DOMAIN, startScriptedServer, type Act, type Script, type ScriptedServer } from "../fakes/scripted-server.js";
import { context, fakeTarget } from "./fixtures.js";

const judgement = (id: string) => bindingChecks.find((c) => c.id === id) as CheckDefinition;

describe("RFC 6120 §7 from the probe's stream features", () => {
  const features = (beforeAuth: string, afterAuth: string) =>
    context({ streamFeatures: [{ stage: "after-starttls", xml: beforeAuth }, { stage: "after-auth", xml: afterAuth }] });
  const BIND = "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>";
  const SASL = "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>";

  it("pass where <bind/> comes after SASL only; fail where it is missing after SASL or offered before", async () => {
    const verdict = async (id: string, before: string, after: string) => (await judgement(id).run(features(before, after))).verdict;
    expect(await verdict("rfc6120.7.4.bind-offered", `<stream:features xmlns:stream='http://etherx.jabber.org/streams'>${SASL}</stream:features>`, `<stream:features xmlns:stream='http://etherx.jabber.org/streams'>${BIND}</stream:features>`)).toBe("pass");
    expect(await verdict("rfc6120.7.4.bind-offered", `<stream:features xmlns:stream='http://etherx.jabber.org/streams'>${SASL}</stream:features>`, "<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>")).toBe("fail");
    expect(await verdict("rfc6120.7.4.no-bind-before-auth", `<stream:features xmlns:stream='http://etherx.jabber.org/streams'>${SASL}</stream:features>`, `<stream:features xmlns:stream='http://etherx.jabber.org/streams'>${BIND}</stream:features>`)).toBe("pass");
    expect(await verdict("rfc6120.7.4.no-bind-before-auth", `<stream:features xmlns:stream='http://etherx.jabber.org/streams'>${SASL}${BIND}</stream:features>`, `<stream:features xmlns:stream='http://etherx.jabber.org/streams'>${BIND}</stream:features>`)).toBe("fail");
  });
});

describe("RFC 6120 §7 bind requests against a server that binds every session to the same resource", { timeout: 60_000 }, () => {
  let certificate: Certificate;
  beforeAll(() => {
    certificate = makeCertificate(FAKE_DOMAIN);
  });
  afterAll(() => certificate?.remove());

  async function judgeOn(script: Omit<Script, "certificate">): Promise<Record<string, CheckResult>> {
    const fake: ScriptedServer = await startScriptedServer({ certificate, ...script });
    try {
      const env: Omit<ScenarioEnvironment, "ctx"> = {
        accounts: { account: { username: "alice", password: "unused" }, peer: { username: "bob", password: "unused" } },
        connect: async () => {
          throw new Error("the §7 checks log in themselves");
        },
        openStream: async () => {
          throw new Error("the §7 checks log in themselves");
        },
        target: fakeTarget(FAKE_DOMAIN, fake.port, certificate.cert),
        waitMs: 800,
        scenarioTimeoutMs: 10_000,
      };
      const scenarios = bindingChecks.filter((c) => c.kind === "scenario") as ScenarioDefinition[];
      const { results } = await judge(scenarios, { ...context(), domain: FAKE_DOMAIN }, { timeoutMs: 800, concurrency: 4, scenarioEnv: env });
      return Object.fromEntries(results.map((r) => [r.id, r]));
    } finally {
      await fake.close();
    }
  }

  it("one resource for every session, whatever was asked, and stanzas before binding let through: the checks fail", async () => {
    const results = await judgeOn({});
    expect(Object.fromEntries(Object.entries(results).map(([id, r]) => [id, r.verdict]))).toEqual({
      "rfc6120.7.6.generated-resource": "fail", // the same resource twice
      "rfc6120.7.7.1.submitted-resource": "warn", // overridden: a SHOULD not met
      // Overriding the requested resource is the first of §7.7.2.2's three answers.
      "rfc6120.7.7.2.2.resource-conflict": "pass",
      "rfc6120.7.1.stanza-before-bind": "fail",
    });
    expect(results["rfc6120.7.1.stanza-before-bind"]!.summary).toMatch(/went on: it answered the bind request sent after the message/);
  });

  it("a resource in use given again while the first session stays: the conflict check fails", async () => {
    // Each bind is answered with the resource asked for; nothing more is answered after it.
    const echo: Act = (peer, request) => {
      const resource = /<resource>([^<]*)<\/resource>/.exec(request)?.[1] ?? "generated";
      const id = /\sid=['"]([^'"]*)['"]/.exec(request)?.[1] ?? "";
      peer.write(`<iq type='result' id='${id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@${FAKE_DOMAIN}/${resource}</jid></bind></iq>`);
    };
    const results = await judgeOn({ misbehave: { at: "bind", act: echo } });
    expect(results["rfc6120.7.7.2.2.resource-conflict"]!.verdict).toBe("fail");
  });
});
