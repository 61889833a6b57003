/**
 * The stanza checks of RFC 6120 §8 pass on the well-behaved fake server and
 * fail on one that breaks each rule (test/fakes/fake-xmpp.ts: ignoring,
 * wrong ids or senders, and `mangle`).
 */
import { describe, expect, it } from "vitest";
import stanzaChecks from "../../src/checks/rfc-6120-stanzas.js";
import type { ScenarioDefinition } from "../../src/checks/types.js";
import type { CheckResult } from "../../src/report/types.js";
import { judge } from "../../src/runner/run.js";
import { login, type Credentials } from "../../src/session/login.js";
import { XmppStream } from "../../src/session/stream.js";
import { TrafficMeter } from "../../src/session/traffic.js";
import { startFakeXmpp, type FakeXmppOptions } from "../fakes/fake-xmpp.js";
import { context } from "./fixtures.js";

const ALICE: Credentials = { username: "alice", password: "secret" };
const BOB: Credentials = { username: "bob", password: "also-secret" };

async function judgeOn(options: FakeXmppOptions): Promise<Record<string, CheckResult["verdict"]>> {
  const fake = await startFakeXmpp({ peer: BOB, routing: true, ...options });
  try {
    const endpoint = { domain: fake.domain, host: "127.0.0.1", port: fake.port, mode: "starttls" as const, tls: { insecure: true }, timeoutMs: 800 };
    const meter = new TrafficMeter();
    const { results } = await judge(stanzaChecks as ScenarioDefinition[], { ...context(), domain: fake.domain }, {
      timeoutMs: 800,
      concurrency: 4,
      scenarioEnv: {
        accounts: { account: ALICE, peer: BOB },
        connect: (credentials, resource) => login({ ...endpoint, meter, credentials, resource }),
        openStream: () => XmppStream.open({ ...endpoint, meter }),
        target: { ...endpoint, configuredHost: true, alpn: ["xmpp-client"], transport: "tcp", limits: {}, meter },
        waitMs: 800,
        scenarioTimeoutMs: 10_000,
      },
    });
    return Object.fromEntries(results.map((r) => [r.id, r.verdict]));
  } finally {
    await fake.close();
  }
}

describe("RFC 6120 §8 stanza checks", { timeout: 60_000 }, () => {
  it("a server that answers what it should, routes and stamps: the checks it can be judged on pass", async () => {
    expect(await judgeOn({})).toMatchObject({
      "rfc6120.8.2.3.no-answer-to-answers": "pass",
      "rfc6120.8.2.3.id-preserved": "pass",
      "rfc6120.8.1.2.1.from-the-domain": "pass",
      "rfc6120.8.1.2.1.from-stamped": "pass",
      "rfc6120.8.4.unknown-extension-routed": "pass",
    });
  });

  it("a server that ignores unknown types, answers empty or doubled iqs wrongly, answers answers, and mangles what it routes: they fail", async () => {
    expect(await judgeOn({ mangle: true })).toEqual({
      "rfc6120.8.2.3.unknown-iq-type": "fail", // no answer at all
      "rfc6120.8.2.3.one-child": "fail", // <service-unavailable/>, not <bad-request/>
      "rfc6120.8.2.3.no-answer-to-answers": "fail",
      "rfc6120.8.2.3.id-preserved": "pass",
      "rfc6120.8.1.2.1.from-the-domain": "pass",
      "rfc6120.8.1.2.1.from-stamped": "fail", // the forged 'from' kept
      "rfc6120.8.4.unknown-extension-routed": "fail", // the extension dropped
    });
  });

  it("answers with another id, or from another sender: the id and 'from' checks fail", async () => {
    // Only the unusual ids are answered wrongly; the pings after them keep theirs.
    const unusual = (id: string) => /[^\x20-\x7e]|[<'"&]|.{60,}/.test(id);
    expect(await judgeOn({ onStanza: (el) => (unusual(el.attrs.id ?? "") ? "wrong-id" : "answer") })).toMatchObject({ "rfc6120.8.2.3.id-preserved": "fail" });
    expect(await judgeOn({ onStanza: (el) => (el.attrs.id?.startsWith("xc-from-") ? "wrong-from" : "answer") })).toMatchObject({ "rfc6120.8.1.2.1.from-the-domain": "fail" });
  });
});
