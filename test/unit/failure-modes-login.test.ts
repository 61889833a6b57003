/**
 * Hostile servers up to and including login (issue 6): the built CLI
 * against a scripted fake that plays a correct server until the step where
 * it misbehaves. Each run must end within its deadlines (vitest's timeout
 * is the guard) with exit 3, the step and the reason named, every check
 * `error` for that reason, and no crash.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCertificate, type Certificate } from "../fakes/certificate.js";
import { expectLoginFailure, runAgainst } from "../fakes/run-against.js";
import { FAKE_DOMAIN, act, type Act, type Step } from "../fakes/scripted-server.js";

const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

let cert: Certificate;
beforeAll(() => {
  cert = makeCertificate(FAKE_DOMAIN);
});
afterAll(() => cert.remove());

/** The client nonce of a SCRAM <auth/> (RFC 5802 §7 client-first-message). */
function clientNonce(auth: string): string {
  const payload = Buffer.from(/>([^<]*)<\/auth>/.exec(auth)![1]!, "base64").toString("utf8");
  return /,r=([^,]+)/.exec(payload)![1]!;
}

/** A well-formed SCRAM server-first challenge for the client's <auth/>. */
const serverFirst = (auth: string, iterations = 4096) =>
  `<challenge xmlns='${NS_SASL}'>${b64(`r=${clientNonce(auth)}fake,s=${b64("salt")},i=${iterations}`)}</challenge>`;

describe("the scripted fake itself", { timeout: 20_000 }, () => {
  it("plays a correct login when told no misbehaviour: the run completes (exit 0)", async () => {
    const run = await runAgainst({}, cert, ["--no-scenarios"]);
    expect(run.stderr).not.toMatch(/could not log in|Unhandled|\n\s+at /);
    expect(run.code).toBe(0);
    expect(run.fake.reached).toEqual(["header", "features", "starttls", "tls", "features-after-tls", "sasl", "features-after-auth", "bind"]);
  });
});

describe("STARTTLS and TLS", { timeout: 20_000 }, () => {
  it("never answers <starttls/>: the starttls step times out", async () => {
    const run = await runAgainst({ misbehave: { at: "starttls", act: act.silent() } }, cert, ["--timeout", "1"]);
    expectLoginFailure(run, "starttls", /timed out after 1000 ms waiting for the answer to <starttls\/>/, { kind: "timeout" });
    expect(run.fake.clientClosed).toBe(true);
  });

  it("says <proceed/> and then stalls the TLS handshake: the tls-handshake step times out", async () => {
    const run = await runAgainst({ misbehave: { at: "tls", act: act.silent() } }, cert, ["--timeout", "1"]);
    expectLoginFailure(run, "tls-handshake", /timed out after 1000 ms waiting for the TLS handshake/, { kind: "timeout" });
    expect(run.fake.clientClosed).toBe(true);
  });
});

describe("SASL", { timeout: 20_000 }, () => {
  it("never answers <auth/>: the sasl step times out", async () => {
    const run = await runAgainst({ misbehave: { at: "sasl", act: act.silent() } }, cert, ["--timeout", "1"]);
    expectLoginFailure(run, "sasl", /timed out after 1000 ms waiting for the answer to <auth\/>/, { kind: "timeout" });
    expect(run.fake.clientClosed).toBe(true);
  });

  it("answers PLAIN with a garbage <challenge/>: a protocol error naming what came instead of success or failure", async () => {
    const run = await runAgainst({ misbehave: { at: "sasl", act: act.send(`<challenge xmlns='${NS_SASL}'>%%garbage%%</challenge>`) } }, cert);
    expectLoginFailure(run, "sasl", /the server answered PLAIN with <challenge\/> where <success\/> or <failure\/> was expected/, { kind: "protocol" });
  });

  it("answers SCRAM with a challenge that is not SCRAM: the malformed message is named", async () => {
    const run = await runAgainst(
      { mechanisms: ["SCRAM-SHA-1"], misbehave: { at: "sasl", act: act.send(`<challenge xmlns='${NS_SASL}'>${b64("garbage")}</challenge>`) } },
      cert,
    );
    expectLoginFailure(run, "sasl", /SCRAM-SHA-1: malformed SCRAM message from the server: attribute "garbage"/, { kind: "auth" });
  });

  it("asks SCRAM for two billion PBKDF2 iterations: refused at once instead of hashing for hours", async () => {
    const greedy: Act = (peer, auth) => void peer.write(serverFirst(auth, 2_147_483_647));
    const run = await runAgainst({ mechanisms: ["SCRAM-SHA-1"], misbehave: { at: "sasl", act: greedy } }, cert);
    expectLoginFailure(run, "sasl", /the server asks for 2147483647 PBKDF2 iterations; xepcheck stops at 1000000/, { kind: "auth" });
  });

  it("answers with a stanza outside the SASL namespace: the sasl step times out saying an element came", async () => {
    const run = await runAgainst({ misbehave: { at: "sasl", act: act.send("<success/>") } }, cert, ["--timeout", "1"]);
    expectLoginFailure(run, "sasl", /waiting for the answer to <auth\/> \(meanwhile \d+ bytes arrived: 1 other element\)/, { kind: "timeout" });
  });

  it("hangs up right after <auth/>: the connection loss is reported at sasl", async () => {
    const run = await runAgainst({ misbehave: { at: "sasl", act: act.hangUp() } }, cert);
    expectLoginFailure(run, "sasl", /the server closed the connection/, { kind: "network" });
  });

  it("hangs up in the middle of a SCRAM exchange, after the client's proof", async () => {
    const midway: Act = (peer, auth) => {
      peer.write(serverFirst(auth));
      peer.socket.once("data", () => peer.end());
    };
    const run = await runAgainst({ mechanisms: ["SCRAM-SHA-1"], misbehave: { at: "sasl", act: midway } }, cert);
    expectLoginFailure(run, "sasl", /the server closed the connection/, { kind: "network" });
  });
});

describe("resource binding", { timeout: 20_000 }, () => {
  it("never answers the bind iq: the bind step times out", async () => {
    const run = await runAgainst({ misbehave: { at: "bind", act: act.silent() } }, cert, ["--timeout", "1"]);
    expectLoginFailure(run, "bind", /timed out after 1000 ms waiting for the answer to the bind iq/, { kind: "timeout" });
    expect(run.fake.clientClosed).toBe(true);
  });
});

describe("a stream error at each step names its condition and the step", { timeout: 20_000 }, () => {
  const steps: [Step, string][] = [
    ["features", "stream-features"],
    ["starttls", "starttls"],
    ["sasl", "sasl"],
    ["bind", "bind"],
  ];
  const conditions = ["policy-violation", "system-shutdown", "host-unknown"];
  for (const [at, step] of steps) {
    for (const condition of conditions) {
      it(`${condition} instead of the ${at} answer: "stream error ${condition} during ${step}"`, async () => {
        const run = await runAgainst({ misbehave: { at, act: act.streamError(condition) } }, cert);
        expectLoginFailure(run, step, new RegExp(`stream error ${condition} during ${step}`), { kind: "stream-error", condition });
      });
    }
  }

  it("quotes the stream error's <text/>", async () => {
    const run = await runAgainst({ misbehave: { at: "sasl", act: act.streamError("policy-violation", "too many logins") } }, cert);
    expectLoginFailure(run, "sasl", /stream error policy-violation during sasl \(the server says: too many logins\)/, { condition: "policy-violation" });
  });
});
