/**
 * Hostile XML up to and including login (issue 6): malformed and
 * namespace-broken XML, a 10 MB stanza, an endless stream of whitespace and
 * a slow drip. The built CLI against the scripted fake; the run must end
 * within its deadlines (vitest's timeout is the guard) with exit 3, the
 * step and reason named, and memory bounded: the client stops reading once
 * an element passes the maximum stanza size.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoginFailure, runTarget } from "../../src/runner/run.js";
import { SessionError } from "../../src/session/errors.js";
import { XmppStream } from "../../src/session/stream.js";
import { DEFAULT_MAX_STANZA_BYTES } from "../../src/session/transport.js";
import { makeCertificate, type Certificate } from "../fakes/certificate.js";
import { expectLoginFailure, runAgainst } from "../fakes/run-against.js";
import { FAKE_DOMAIN, act, bigElement, endless, startScriptedServer } from "../fakes/scripted-server.js";

const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
const TEN_MB = 10 * 1024 * 1024;
/** A socket read is at most 64 KiB: what may arrive after the limit before the client closes. */
const READ_SLACK = 128 * 1024;

let cert: Certificate;
beforeAll(() => {
  cert = makeCertificate(FAKE_DOMAIN);
});
afterAll(() => cert.remove());

describe("XML that is not XMPP", { timeout: 20_000 }, () => {
  it("a closing tag that does not match: malformed XML at stream-features", async () => {
    const run = await runAgainst({ misbehave: { at: "features", act: act.send("<stream:features><a></b></stream:features>") } }, cert);
    expectLoginFailure(run, "stream-features", /the server sent <\/b> where <\/a> was expected \(RFC 6120 §11\.3\); xepcheck closed the stream with <not-well-formed\/>/, { kind: "protocol" });
    expect(run.fake.clientClosed).toBe(true);
    expect(run.fake.heard).toContain("<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>");
  });

  it("an HTTP answer instead of a stream header: refused at its first byte, at stream-open", async () => {
    const run = await runAgainst({ misbehave: { at: "header", act: act.send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n") } }, cert);
    expectLoginFailure(run, "stream-open", /the server sent text instead of a stream header: "HTTP\/1.1 400 Bad Request/, { kind: "protocol" });
  });

  it("an unbound namespace prefix in the SASL features: not namespace-well-formed, refused", async () => {
    const features = "<stream:features><sasl:mechanisms><sasl:mechanism>PLAIN</sasl:mechanism></sasl:mechanisms></stream:features>";
    const run = await runAgainst({ misbehave: { at: "features-after-tls", act: act.send(features) } }, cert);
    expectLoginFailure(run, "stream-features", /unbound namespace prefix "sasl" in <sasl:mechanisms> \(not namespace-well-formed\) \(RFC 6120 §11.3\)/, { kind: "protocol" });
  });
});

describe("XML that RFC 6120 §11 forbids: the session ends naming what arrived and the section, with the stream error it calls for", { timeout: 20_000 }, () => {
  const streamError = (condition: string) => `<stream:error><${condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`;
  const cases: [string, "header" | "features" | "features-after-tls", string | Buffer, string, RegExp, string][] = [
    ["a DOCTYPE before the stream header (it used to swallow the stream until a timeout)", "header", `<?xml version='1.0'?><!DOCTYPE stream:stream [<!ENTITY a "b">]><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x' version='1.0'>`, "stream-open", /the server sent a document type declaration <!DOCTYPE \(RFC 6120 §11\.1\)/, "restricted-xml"],
    ["a comment in the stream features", "features", "<stream:features><!-- hello --></stream:features>", "stream-features", /the server sent a comment <!-- \(RFC 6120 §11\.1\)/, "restricted-xml"],
    ["a processing instruction between stanzas", "features", "<?do-something now?><stream:features/>", "stream-features", /the server sent a processing instruction <\? \(RFC 6120 §11\.1\)/, "restricted-xml"],
    ["an internal entity reference in the SASL mechanisms", "features-after-tls", "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>&plain;</mechanism></mechanisms></stream:features>", "stream-features", /the server sent the entity reference &plain; \(only the predefined entities are allowed\) \(RFC 6120 §11\.1\)/, "restricted-xml"],
    ["a raw U+0001 in an attribute", "features", "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls' x='\u0001'/></stream:features>", "stream-features", /the server sent the character U\+0001, which XML forbids \(RFC 6120 §11\.3\)/, "not-well-formed"],
    ["bytes that are not UTF-8 in the SASL mechanisms", "features-after-tls", Buffer.concat([Buffer.from("<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PL"), Buffer.from([0xc1, 0x81]), Buffer.from("IN</mechanism></mechanisms></stream:features>")]), "stream-features", /the server sent bytes that are not UTF-8: c1 at byte \d+ of a read \(RFC 6120 §11\.6\)/, "unsupported-encoding"],
  ];
  for (const [what, at, sent, step, reason, condition] of cases) {
    it(`${what}: exit 3 at ${step}, <${condition}/>`, async () => {
      const run = await runAgainst({ misbehave: { at, act: typeof sent === "string" ? act.send(sent) : act.sendBytes(sent) } }, cert);
      expectLoginFailure(run, step, reason, { kind: "protocol", condition });
      expect(run.target.errors[0]!.message).toMatch(new RegExp(`xepcheck closed the stream with <${condition}/>$`));
      expect(run.fake.heard).toContain(streamError(condition));
    });
  }

  for (const prefixed of [true, false]) {
    it(`a ${prefixed ? "prefixed" : "plain"} element nested 90 000 deep (under the size limit): a limit error at once, naming --max-xml-depth`, async () => {
      const open = prefixed ? "<p:x xmlns:p='urn:deep'>" : "<x>";
      const started = Date.now();
      const run = await runAgainst({ misbehave: { at: "features", act: act.send(`<stream:features>${open.repeat(90_000)}`) } }, cert);
      expectLoginFailure(run, "stream-features", /nested deeper than 100 levels, xepcheck's maximum XML depth; raise it with --max-xml-depth <levels>/, { kind: "limit", condition: "policy-violation" });
      expect(run.fake.heard).toContain(streamError("policy-violation"));
      expect(Date.now() - started).toBeLessThan(10_000); // generous: it used to hold the event loop for 17 s to 100 s
    });
  }
});

describe("the bound JID", { timeout: 20_000 }, () => {
  const bindResult = (jid: string) => (id: string) => `<iq type='result' id='${id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>${jid}</jid></bind></iq>`;

  for (const [what, jid] of [
    ["another user", `mallory@${FAKE_DOMAIN}/fake`],
    ["another domain", "alice@elsewhere.test/fake"],
  ] as const) {
    it(`names ${what}: exit 3 at bind naming both JIDs, nothing runs as that identity`, async () => {
      const run = await runAgainst({ misbehave: { at: "bind", act: act.answer(bindResult(jid)) } }, cert);
      expectLoginFailure(run, "bind", new RegExp(`the server bound the JID "${jid}", which is not the account alice@${FAKE_DOMAIN} \\(RFC 6120 §7\\.7\\.1 `), { kind: "protocol" });
      expect(run.fake.reached.filter((s) => s === "bind")).toHaveLength(1);
      expect(run.fake.heard).not.toMatch(/disco#info/);
    });
  }

  it("another resource, or the account in other case, is the server's right: the login goes on", async () => {
    const run = await runAgainst({ misbehave: { at: "bind", act: act.answer(bindResult(`Alice@${FAKE_DOMAIN.toUpperCase()}/chosen-by-server`)) } }, cert, ["--timeout", "1", "--only", "rfc6120.*"]);
    expect(run.target.outcome).not.toBe("login-failed");
    expect(run.fake.heard).toMatch(/<iq /); // the run went on to query the server
  });
});

describe("the maximum stanza size", { timeout: 20_000 }, () => {
  const limitMessage = /larger than 1048576 bytes, xepcheck's maximum stanza size; raise it with --max-stanza-size <bytes>/;

  it("10 MB of stream features: the session is closed after reading about 1 MiB, with a limit error", async () => {
    const huge = act.pour(() => bigElement("<stream:features><x>", TEN_MB, "</x></stream:features>"));
    const run = await runAgainst({ misbehave: { at: "features", act: huge } }, cert);
    expectLoginFailure(run, "stream-features", limitMessage, { kind: "limit" });
    expect(run.target.errors[0]!.message).toContain("<stream:features/>");
    expect(run.fake.clientClosed).toBe(true);
    // Bounded memory: the client read up to the limit and no further than one socket read past it.
    expect(run.target.traffic.bytesIn).toBeGreaterThan(DEFAULT_MAX_STANZA_BYTES);
    expect(run.target.traffic.bytesIn).toBeLessThan(DEFAULT_MAX_STANZA_BYTES + READ_SLACK);
  });

  it("a 10 MB attribute in the SASL answer over TLS: the same, before the start tag even ends", async () => {
    const huge = act.pour(() => bigElement(`<success xmlns='${NS_SASL}' junk='`, TEN_MB, "'/>"));
    const run = await runAgainst({ misbehave: { at: "sasl", act: huge } }, cert);
    expectLoginFailure(run, "sasl", limitMessage, { kind: "limit" });
    expect(run.fake.clientClosed).toBe(true);
    expect(run.target.traffic.bytesIn).toBeLessThan(DEFAULT_MAX_STANZA_BYTES + READ_SLACK + 16 * 1024);
  });

  it("is a session option: maxStanzaBytes lowers and raises it", async () => {
    const features = `<stream:features><x>${"a".repeat(10_000)}</x></stream:features>`;
    const fake = await startScriptedServer({ certificate: cert, misbehave: { at: "features", act: act.send(features) } });
    const options = { domain: FAKE_DOMAIN, host: "127.0.0.1", port: fake.port, mode: "starttls" as const, tls: {}, timeoutMs: 2000 };
    try {
      const refused = await XmppStream.open({ ...options, maxStanzaBytes: 4096 }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(SessionError);
      expect(refused).toMatchObject({ kind: "limit", step: "stream-features" });
      expect((refused as Error).message).toMatch(/<stream:features\/> larger than 4096 bytes/);
      const stream = await XmppStream.open({ ...options, maxStanzaBytes: 16_384 });
      expect(stream.features.getChildText("x")).toHaveLength(10_000);
      stream.destroy();
    } finally {
      await fake.close();
    }
  });

  it("reaches the sessions of a run through RunOptions.maxStanzaBytes", async () => {
    const features = `<stream:features><x>${"a".repeat(10_000)}</x></stream:features>`;
    const fake = await startScriptedServer({ certificate: cert, misbehave: { at: "features", act: act.send(features) } });
    try {
      const failure = await runTarget({
        jid: `alice@${FAKE_DOMAIN}`,
        password: "pw",
        register: false,
        host: "127.0.0.1",
        port: fake.port,
        tls: "starttls",
        insecure: true,
        timeoutMs: 2000,
        scenarioTimeoutMs: 2000,
        concurrency: 1,
        scenarios: false,
        suites: ["cs2023"],
        only: [],
        skip: [],
        maxStanzaBytes: 4096,
      }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(LoginFailure);
      expect((failure as LoginFailure).cause).toMatchObject({ kind: "limit", step: "stream-features" });
      expect((failure as LoginFailure).report.errors[0]!.message).toMatch(/larger than 4096 bytes/);
    } finally {
      await fake.close();
    }
  });
});

describe("bytes that keep coming never reset a deadline", { timeout: 20_000 }, () => {
  it("an endless stream of whitespace instead of the SASL answer: sasl times out, the whitespace is never buffered", async () => {
    const run = await runAgainst({ misbehave: { at: "sasl", act: act.pour(() => endless(" ".repeat(65536))) } }, cert, ["--timeout", "1"]);
    expectLoginFailure(run, "sasl", /timed out after 1000 ms waiting for the answer to <auth\/> \(meanwhile \d+ bytes arrived: no complete element\)/, { kind: "timeout" });
    expect(run.fake.clientClosed).toBe(true);
    // More whitespace than the stanza limit arrived without tripping it: it was dropped, not kept.
    expect(run.target.traffic.bytesIn).toBeGreaterThan(2 * DEFAULT_MAX_STANZA_BYTES);
  });

  it("the SASL answer dripped one byte a second: sasl times out at its deadline", async () => {
    const drip = act.drip(`<success xmlns='${NS_SASL}'/>`, 1000);
    const run = await runAgainst({ misbehave: { at: "sasl", act: drip } }, cert, ["--timeout", "2"]);
    expectLoginFailure(run, "sasl", /timed out after 2000 ms waiting for the answer to <auth\/> \(meanwhile \d+ bytes? arrived: no complete element\)/, { kind: "timeout" });
    expect(run.fake.clientClosed).toBe(true);
  });

  it("the stream features dripped before any TLS: stream-features times out", async () => {
    const drip = act.drip("<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>", 300);
    const run = await runAgainst({ misbehave: { at: "features", act: drip } }, cert, ["--timeout", "1"]);
    expectLoginFailure(run, "stream-features", /timed out after 1000 ms waiting for the stream features \(meanwhile \d+ bytes? arrived: no complete element\)/, { kind: "timeout" });
  });
});
