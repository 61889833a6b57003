/**
 * The stream-level checks of RFC 6120 fail where a server breaks the rule:
 * run against fake servers that break each one on purpose
 * (test/fakes/stream-servers.ts). The real servers show they can pass
 * (test/verdicts, the README's RFC 6120 table).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import streamChecks from "../../src/checks/rfc-6120-streams.js";
import type { ScenarioDefinition } from "../../src/checks/types.js";
import type { CheckResult } from "../../src/report/types.js";
import { judge } from "../../src/runner/run.js";
import type { ScenarioEnvironment } from "../../src/scenario/scenario.js";
import { makeCertificate, type Certificate } from "../fakes/certificate.js";
import { startLaxServer, startMuteServer, type FakeStreamServer } from "../fakes/stream-servers.js";
import { context, fakeTarget } from "./fixtures.js";

const DOMAIN = "fake.test";

async function judgeAll(port: number, certificate: Certificate): Promise<Record<string, CheckResult>> {
  const env: Omit<ScenarioEnvironment, "ctx"> = {
    accounts: { account: { username: "alice", password: "unused" } },
    connect: async () => {
      throw new Error("the stream checks never log in");
    },
    openStream: async () => {
      throw new Error("the stream checks open raw connections only");
    },
    target: fakeTarget(DOMAIN, port, certificate.cert),
    waitMs: 800,
    scenarioTimeoutMs: 10_000,
  };
  const ctx = { ...context(), domain: DOMAIN };
  const { results } = await judge(streamChecks as ScenarioDefinition[], ctx, { timeoutMs: 800, concurrency: 4, scenarioEnv: env });
  return Object.fromEntries(results.map((r) => [r.id, r]));
}

const verdicts = (results: Record<string, CheckResult>) => Object.fromEntries(Object.entries(results).map(([id, r]) => [id, r.verdict]));

describe("RFC 6120 stream checks against servers that break the rules", { timeout: 60_000 }, () => {
  let certificate: Certificate;
  let lax: FakeStreamServer;
  let mute: FakeStreamServer;
  beforeAll(async () => {
    certificate = makeCertificate(DOMAIN);
    [lax, mute] = await Promise.all([startLaxServer(certificate), startMuteServer()]);
  });
  afterAll(async () => {
    await Promise.all([lax?.close(), mute?.close()]);
    certificate?.remove();
  });

  it("a server that answers headers wrongly and refuses nothing fails every check but those it meets by ignoring", async () => {
    const results = await judgeAll(lax.port, certificate);
    expect(verdicts(results)).toEqual({
      // It answers, on one connection, with a header.
      "rfc6120.4.1.response-stream": "pass",
      "rfc6120.4.3.2.features": "fail", // an element before the features
      "rfc6120.4.3.3.new-stream-id": "fail", // the same id after TLS
      "rfc6120.4.3.4.features-after-restart": "pass",
      "rfc6120.4.7.1.response-from": "fail",
      "rfc6120.4.7.2.to-is-our-from": "fail",
      "rfc6120.4.7.2.no-to-without-from": "fail",
      "rfc6120.4.7.3.response-id": "pass", // it sends one (and keeps it after TLS: new-stream-id)
      "rfc6120.4.7.4.response-lang": "fail",
      "rfc6120.4.7.5.version": "pass", // it echoes 1.0
      "rfc6120.4.8.2.content-namespace": "fail",
      "rfc6120.5.4.1.starttls-offered": "pass",
      "rfc6120.5.3.1.only-starttls-when-required": "warn", // another feature beside <required/> (SHOULD NOT)
      "rfc6120.5.4.2.1.proceed": "pass",
      "rfc6120.5.3.3.no-whitespace": "fail",
      "rfc6120.5.4.3.1.certificate": "pass",
      "rfc6120.5.4.3.3.no-starttls-after-tls": "fail",
      "rfc6120.6.2.sasl-offered": "pass",
      "rfc6120.6.4.1.one-mechanism-each": "fail", // PLAIN twice
      "rfc6120.6.4.5.invalid-mechanism": "pass",
      "rfc6120.6.4.5.not-authorized": "fail", // a challenge for a wrong password
      "rfc6120.6.4.5.retry": "pass",
      "rfc6120.6.3.10.no-initial-response": "fail", // <invalid-mechanism/>, no challenge
      "rfc6120.6.4.4.abort": "fail", // <not-authorized/>, not <aborted/>
      "rfc6120.6.3.1.sasl-required": "fail", // it binds

      "rfc6120.11.5.xml-declaration": "pass",
      "rfc6120.11.5.no-standalone": "fail",
      "rfc6120.11.6.utf-8": "pass", // see the byte order mark below
      "rfc6120.4.7.5.minor-version": "fail", // echoes 1.5
      "rfc6120.4.7.5.numeric-version": "fail", // echoes 1.10
      "rfc6120.4.7.3.initial-id-ignored": "fail", // echoes our id
      "rfc6120.4.8.1.stream-namespace": "fail",
      "rfc6120.4.8.3.content-namespace": "fail",
      "rfc6120.4.9.1.3.host-unknown": "fail",
      "rfc6120.4.3.5.stanza-before-auth": "fail",
      "rfc6120.11.1.comment": "fail",
      "rfc6120.11.1.processing-instruction": "fail",
      "rfc6120.11.1.doctype": "fail",
      "rfc6120.11.3.not-well-formed": "fail",
      "rfc6120.11.6.not-utf-8": "fail",
      // What a server may ignore, it ignores.
      "rfc6120.11.5.standalone-no": "pass",
      "rfc6120.4.8.4.unknown-first-level": "pass",
      "rfc6120.11.7.whitespace": "pass",
    });
    // A refusal that did not come is told by the answer to the request after it, not by a deadline.
    expect(results["rfc6120.11.1.comment"]!.summary).toMatch(/went on: it answered the request sent after it with <proceed/);
    expect(results["rfc6120.11.1.comment"]!.durationMs).toBeLessThan(800);
  });

  it("a server that never answers fails the checks the lax one passes: each check can fail", async () => {
    const results = await judgeAll(mute.port, certificate);
    const passedOnLax = ["rfc6120.4.1.response-stream", "rfc6120.4.7.3.response-id", "rfc6120.4.7.5.version", "rfc6120.11.5.xml-declaration",
      "rfc6120.11.5.standalone-no", "rfc6120.4.8.4.unknown-first-level", "rfc6120.11.7.whitespace", "rfc6120.5.4.1.starttls-offered",
      "rfc6120.5.4.2.1.proceed", "rfc6120.5.4.3.1.certificate"];
    expect(Object.fromEntries(passedOnLax.map((id) => [id, results[id]!.verdict]))).toEqual(
      // A SHOULD or a MAY not met warns.
      Object.fromEntries(passedOnLax.map((id) => [id, ["rfc6120.11.7.whitespace", "rfc6120.11.5.xml-declaration"].includes(id) ? "warn" : "fail"])),
    );
    expect(results["rfc6120.11.6.utf-8"]!.verdict).toBe("fail");
  });

  it("a byte order mark before the header fails the UTF-8 check; no features after TLS fail the checks of what they hold", async () => {
    const [marked, bare] = await Promise.all([startLaxServer(certificate, { byteOrderMark: true }), startLaxServer(certificate, { bare: true })]);
    try {
      const [withMark, withoutFeatures] = await Promise.all([judgeAll(marked.port, certificate), judgeAll(bare.port, certificate)]);
      expect(withMark["rfc6120.11.6.utf-8"]!.verdict).toBe("fail");
      expect(withMark["rfc6120.11.6.utf-8"]!.summary).toMatch(/EF BB BF/);
      // The rest of what the lax server passes on TLS; empty features are allowed (§4.3.4).
      const onTls = ["rfc6120.4.3.4.features-after-restart", "rfc6120.6.2.sasl-offered", "rfc6120.6.4.5.invalid-mechanism", "rfc6120.6.4.5.retry"];
      expect(Object.fromEntries(onTls.map((id) => [id, withoutFeatures[id]!.verdict]))).toEqual({
        "rfc6120.4.3.4.features-after-restart": "pass",
        "rfc6120.6.2.sasl-offered": "fail",
        "rfc6120.6.4.5.invalid-mechanism": "fail",
        "rfc6120.6.4.5.retry": "warn", // a SHOULD
      });
    } finally {
      await Promise.all([marked.close(), bare.close()]);
    }
  });
});
