/**
 * Failure paths of the built CLI against fake servers: each ends within its
 * deadline, with the documented exit code and the step named.
 */
import { afterEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { CLI, runCli, singleTarget, type CliResult } from "../cli.js";
import { afterHeader, startFakeServer, type FakeServer } from "../fakes/fake-server.js";

let fake: FakeServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const target = (port: number) => ["run", "alice@fake.test", "--host", "127.0.0.1", "--port", String(port), "--timeout", "1"];

/** Exit 3 with the step named, and no crash. */
function expectLoginFailure(result: CliResult, step: string): void {
  expect(result.stderr).not.toMatch(/Unhandled|internal error|\n\s+at /);
  expect(result.code).toBe(3);
  expect(result.stderr).toContain(`could not log in to fake.test (step ${step}): `);
}

describe("a server that misbehaves", { timeout: 20_000 }, () => {
  it("accepts TCP and says nothing: exit 3 within the deadline, naming the step", async () => {
    fake = await startFakeServer(() => {});
    const result = await runCli(target(fake.port), { XEPCHECK_PASSWORD: "pw" });
    expectLoginFailure(result, "stream-open");
    expect(result.stderr).toMatch(/timed out after 1000 ms waiting for the server's stream header$/m);
    expect(fake.received[0]).toContain("<stream:stream");
  });

  it("sends a header but never its features: the stream-features step times out", async () => {
    fake = await startFakeServer((socket) => afterHeader(socket, () => {}));
    const result = await runCli(target(fake.port), { XEPCHECK_PASSWORD: "pw" });
    expectLoginFailure(result, "stream-features");
    expect(result.stderr).toMatch(/timed out after 1000 ms waiting for the stream features$/m);
  });

  it("closes right after the stream header: exit 3, connection closed", async () => {
    fake = await startFakeServer((socket) => afterHeader(socket, () => socket.end()));
    const result = await runCli(target(fake.port), { XEPCHECK_PASSWORD: "pw" });
    expectLoginFailure(result, "stream-features");
    expect(result.stderr).toMatch(/the server closed the connection/);
  });

  it("offers no STARTTLS: xepcheck refuses to authenticate in the clear", async () => {
    fake = await startFakeServer((socket) =>
      afterHeader(socket, () =>
        socket.write("<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"),
      ),
    );
    const result = await runCli(target(fake.port), { XEPCHECK_PASSWORD: "secret-pw" });
    expectLoginFailure(result, "starttls");
    expect(result.stderr).toMatch(/does not offer STARTTLS/);
    expect(fake.received.join("")).not.toContain("<auth");
  });

  it("nobody listens: exit 3 at tcp-connect", async () => {
    fake = await startFakeServer(() => {});
    const port = fake.port;
    await fake.close();
    fake = undefined;
    const result = await runCli(target(port), { XEPCHECK_PASSWORD: "pw" });
    expectLoginFailure(result, "tcp-connect");
    expect(result.stderr).toMatch(/cannot connect to 127.0.0.1:\d+: connect ECONNREFUSED/);
  });

  it("still writes a JSON report saying why, with every check an error", async () => {
    fake = await startFakeServer(() => {});
    const result = await runCli([...target(fake.port), "--json", "-"], { XEPCHECK_PASSWORD: "pw" });
    expect(result.code).toBe(3);
    const failed = singleTarget(JSON.parse(result.stdout));
    expect(failed.errors[0]).toMatchObject({ step: "stream-open", kind: "timeout" });
    expect(failed.checks.length).toBeGreaterThan(30);
    expect(failed.checks.every((c) => c.verdict === "error")).toBe(true);
  });
});

describe("a reader that goes away", () => {
  it("`xepcheck checks | head -1`: exit 0 quietly, no EPIPE stack trace", async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, "checks"], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      // Read one chunk, then hang up, as `head -1` does.
      child.stdout.once("data", () => child.stdout.destroy());
      child.on("close", (code) => resolve({ code, stderr }));
    });
    expect(result.stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(result.code).toBe(0);
  });
});

describe("bad input", { timeout: 30_000 }, () => {
  it("a missing password is a usage error (exit 2) that says how to give one", async () => {
    const result = await runCli(["run", "alice@example.org"], { XEPCHECK_PASSWORD: "" });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no password for alice@example.org: set XEPCHECK_PASSWORD or use --password-file/);
  });

  it("unknown options, bad ports and bad JIDs exit 2 with a message, no stack trace", async () => {
    for (const args of [
      ["run", "alice@example.org", "--bogus"],
      ["run", "alice@example.org", "--host", "h", "--port", "99999"],
      ["run", "not a jid"],
      ["run", "alice@example.org", "--tls", "sometimes"],
      ["run", "alice@example.org", "--timeout", "-1"],
      ["run", "alice@example.org", "--suite", "cs1999"],
      ["run", "alice@example.org", "--password-file", "/nonexistent/pw"],
      ["run", "alice@example.org", "--only", "nothing.matches"],
      ["run", "alice@example.org", "--register"],
    ]) {
      const result = await runCli(args, { XEPCHECK_PASSWORD: "pw" });
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).toMatch(/\S/);
      expect(result.stderr, args.join(" ")).not.toMatch(/\n\s+at /);
    }
  });
});

describe("the report of a failed run", () => {
  it("validates against the report schema", async () => {
    const { reportProblems } = await import("../../src/report/schema.js");
    fake = await startFakeServer(() => {});
    const result = await runCli([...target(fake.port), "--json", "-"], { XEPCHECK_PASSWORD: "S3cr3t-Pa55" });
    const report = JSON.parse(result.stdout);
    expect(reportProblems(report)).toEqual([]);
    expect(reportProblems({ ...report, reportVersion: report.reportVersion + 1 })).toEqual(["/reportVersion must be equal to constant"]);
    expect(result.stdout + result.stderr).not.toContain("S3cr3t-Pa55");
  });
});
