/**
 * Bad input never gets past validation: every invalid targets file, command
 * line or JID is a usage error (exit 2) whose message names the field or
 * option and the problem, never a stack trace and never a password.
 *
 * The runner is replaced by a recorder: a case that reaches it would have
 * started a run, i.e. gone on the network, so every invalid case also
 * asserts it was never called. The controls show that the valid base of
 * each case does reach it, so each invalid case fails for its own reason.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { bareJidProblem, printable, runOptionsFrom, UsageError } from "../../src/cli/options.js";
import { buildProgram, main } from "../../src/cli/program.js";
import { loadTargetsFile, TargetsFileError } from "../../src/cli/targets-file.js";
import { loadSuite } from "../../src/scoring/suite.js";

const runTargets = vi.hoisted(() =>
  vi.fn(async (): Promise<never> => {
    throw new Error("bad-input test: the runner was reached");
  }),
);
vi.mock("../../src/runner/many.js", async (original) => ({ ...(await original<object>()), runTargets }));

const tmp = mkdtempSync(path.join(os.tmpdir(), "xepcheck-bad-input-"));
let fileCount = 0;
function tmpFile(name: string, content: string | Uint8Array): string {
  const dir = path.join(tmp, String(fileCount++));
  mkdirSync(dir);
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

const PASSWORD = "§cli-pw-7f3§";
const PW_FILE = tmpFile("pw.txt", `${PASSWORD}\n`);
const CA_FILE = tmpFile("ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
const NOT_PEM = tmpFile("not.pem", "just text\n");
const EMPTY = tmpFile("empty.txt", "");
const MISSING_DIR = path.join(tmp, "no-such-dir");

/** A stack trace's frame lines. */
const STACK = /^\s+at /m;
/** Raw control characters (other than newlines) echoed to a terminal. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/** Valid flags of `run` for runOptionsFrom, as commander gives them. */
const BASE_FLAGS = {
  tls: "starttls" as const,
  timeout: 10,
  scenarioTimeout: 60,
  maxConnections: 8,
  maxAccountSessions: 8,
  concurrency: 4,
  scenarios: true,
  transport: "tcp" as const,
  suite: ["cs2023"],
  only: [],
  skip: [],
  require: [],
};

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected an error, got none");
}

// ---------------------------------------------------------------- JIDs

const asciiLocalChar = fc.constantFrom(..."abcxyzABZ0189!#$%()*+,-.;=?[\\]^_`{|}~");
/** PVALID letters and digits of several scripts, and a full-width letter (width-mapped to ASCII). */
const unicodeLocalChar = fc.constantFrom("é", "ü", "ß", "ж", "Ω", "日", "ह", "ا", "٣", "ｂ");
const localPart = fc.array(fc.oneof({ weight: 4, arbitrary: asciiLocalChar }, { weight: 1, arbitrary: unicodeLocalChar }), { minLength: 1, maxLength: 16 }).map((a) => a.join(""));
const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?$/);
/** Under .invalid (RFC 2606): never resolvable, should anything try. */
const domain = fc.array(label, { minLength: 1, maxLength: 3 }).map((ls) => [...ls, "invalid"].join("."));
const bareJid = fc.tuple(localPart, domain).map(([l, d]) => `${l}@${d}`);

interface BadJid {
  jid: string;
  /** What the message must say about it. */
  problem: RegExp;
}

/** The ways a string is not a bare JID, each with the reason it is not. */
function badJid(): fc.Arbitrary<BadJid> {
  const insert = (s: string, c: string, at: number) => s.slice(0, at % (s.length + 1)) + c + s.slice(at % (s.length + 1));
  const inLocal = (chars: fc.Arbitrary<string>, problem: RegExp) =>
    fc.tuple(localPart, chars, fc.nat(), domain).map(([l, c, at, d]) => ({ jid: `${insert(l, c, at)}@${d}`, problem }));
  const control = fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.constant(0x7f), fc.integer({ min: 0x80, max: 0x9f })).map((n) => String.fromCodePoint(n));
  // Bytes, not characters: 342 × "日" is 1026 bytes in 342 characters.
  const longLocal = fc.tuple(fc.constantFrom("a", "é", "日", "𝒜"), fc.integer({ min: 1, max: 40 }), domain).map(([c, extra, d]) => ({
    jid: `${c.repeat(Math.floor(1023 / Buffer.byteLength(c)) + extra)}@${d}`,
    problem: /local part of \d+ bytes: RFC 7622 allows at most 1023/,
  }));
  const longDomain = fc.tuple(localPart, fc.integer({ min: 5, max: 20 })).map(([l, n]) => ({
    jid: `${l}@${Array.from({ length: n }, () => "x".repeat(60)).join(".")}.invalid`,
    problem: /domain of \d+ characters: a DNS name has at most 253/,
  }));
  return fc.oneof(
    domain.map((d) => ({ jid: `@${d}`, problem: /empty local part/ })),
    localPart.map((l) => ({ jid: `${l}@`, problem: /empty domain/ })),
    inLocal(fc.constantFrom(" ", "\u00a0", "\u2003", "\u3000"), /a space \(U\+/),
    inLocal(control, /control, invisible or unassigned character U\+/),
    inLocal(fc.constantFrom("\u200b", "\ufeff", "\u202e", "\ue000", "\u0378"), /control, invisible or unassigned character U\+/),
    inLocal(fc.constantFrom('"', "&", "'", ":", "<", ">", "＜"), /excludes from local parts/),
    inLocal(fc.constantFrom("☃", "😀", "€", "¿", "—", "ǅ", "ﬁ", "Ⅻ", "²"), /PRECIS IdentifierClass of RFC 7622 does not allow/),
    fc.tuple(bareJid, fc.string({ minLength: 0, maxLength: 8 })).map(([j, r]) => ({ jid: `${j}/${r}`, problem: /has a resource/ })),
    fc.tuple(localPart, localPart, domain).map(([a, b, d]) => ({ jid: `${a}@${b}@${d}`, problem: /has 2 '@'/ })),
    longLocal,
    longDomain,
    fc.tuple(localPart, fc.integer({ min: 64, max: 200 })).map(([l, n]) => ({ jid: `${l}@${"y".repeat(n)}.invalid`, problem: /domain label of \d+ characters: DNS allows at most 63/ })),
    fc.tuple(localPart, domain, fc.constantFrom("lead", "double", "trail")).map(([l, d, where]) => ({
      jid: `${l}@${where === "lead" ? `.${d}` : where === "trail" ? `${d}.` : d.replace(".", "..")}`,
      problem: /empty label in its domain/,
    })),
    fc.tuple(localPart, domain, fc.boolean()).map(([l, d, lead]) => ({ jid: `${l}@${lead ? `-${d}` : d.replace(".", "-.")}`, problem: /starts or ends with '-'/ })),
    fc.tuple(localPart, fc.constantFrom("_", "!", "é", " ", "*", "[::1]", "\u0000"), fc.nat(), domain).map(([l, c, at, d]) => ({
      jid: `${l}@${insert(d, c, at)}`,
      problem: /domain that is not a host name/,
    })),
  );
}

describe("JIDs (RFC 7622)", () => {
  it("accepts bare JIDs of letters and digits of any script and the ASCII printables it allows", () => {
    fc.assert(
      fc.property(bareJid, (jid) => {
        expect(bareJidProblem(jid)).toBeUndefined();
        const options = runOptionsFrom(jid, { ...BASE_FLAGS }, { XEPCHECK_PASSWORD: PASSWORD });
        expect(options.jid).toBe(jid);
      }),
      { numRuns: 200 },
    );
  });

  it("rejects everything else with the reason, quoted safely", () => {
    fc.assert(
      fc.property(badJid(), ({ jid, problem }) => {
        expect(bareJidProblem(jid)).toMatch(problem);
        const thrown = catchError(() => runOptionsFrom(jid, { ...BASE_FLAGS }, { XEPCHECK_PASSWORD: PASSWORD }));
        expect(thrown).toBeInstanceOf(UsageError);
        expect(thrown.message).toContain(`JID "${printable(jid)}"`);
        expect(thrown.message).toMatch(problem);
        expect(thrown.message).not.toMatch(CONTROL);
        expect(thrown.message.length).toBeLessThan(400);
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------- the command line

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `xepcheck ARGS` in-process, its output captured. */
async function cli(args: string[]): Promise<CliResult> {
  runTargets.mockClear();
  const out: string[] = [];
  const err: string[] = [];
  const { write: stdoutWrite } = process.stdout;
  const { write: stderrWrite } = process.stderr;
  const capture = (into: string[]) => ((chunk: string | Uint8Array) => (into.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  try {
    const code = await main(["node", "xepcheck", ...args]);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
    process.exitCode = undefined;
  }
}

/** `run` as alice on a .invalid domain with a password file: valid until `extra` makes it not. */
const run = (extra: string[], jid = "alice@xmpp.example.invalid") => ["run", "--quiet", "--password-file", PW_FILE, ...extra, "--", jid];

function expectUsageError(r: CliResult, names: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(names);
  expect(r.stderr).not.toMatch(STACK);
  expect(r.stderr).not.toMatch(CONTROL);
  expect(r.stderr).not.toContain(PASSWORD);
  expect(r.stdout).toBe("");
  expect(runTargets).not.toHaveBeenCalled();
}

/** Numbers as a user might mistype them: with a unit, a decimal comma, words. */
const garbage = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 99 }), fc.constantFrom("s", "sec", "ms", "m", "x", ",5", "_000")).map(([n, unit]) => `${n}${unit}`),
  fc.constantFrom("", " ", "NaN", "Infinity", "-Infinity", "ten", "1..2", "--", "true", "null", "0x", "1e", "½"),
  fc.stringMatching(/^[g-wyzG-WYZ][a-z0-9]{0,6}$/),
);
const fraction = (min: number, max: number) => fc.integer({ min, max: max - 1 }).chain((n) => fc.constantFrom(n + 0.5, n + 0.25, n + 0.001)).map(String);

describe("the command line", () => {
  // Braces: a function returned from beforeEach would be called as its cleanup.
  beforeEach(() => {
    runTargets.mockClear();
  });

  it("control: the valid base of every case reaches the runner", async () => {
    const r = await cli(run([]));
    expect(runTargets).toHaveBeenCalledTimes(1);
    expect(r.code).toBe(4); // the recorder's error
  });

  it("--timeout and --scenario-timeout: seconds from 0.001 to 3600", async () => {
    const bad = fc.oneof(
      fc.double({ max: 0.000999, noNaN: true }).map(String),
      fc.double({ min: 3600.000001, noNaN: true }).map(String),
      fc.integer({ max: 0 }).map(String),
      garbage,
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("--timeout", "--scenario-timeout"), bad, async (option, value) => {
        expectUsageError(await cli(run([option, value])), new RegExp(`option '${option} <seconds>' argument .* is invalid\\. must be a number of seconds`));
      }),
      { numRuns: 150 },
    );
  });

  it("--max-connections and --max-account-sessions: at least 2, each naming itself", async () => {
    for (const option of ["--max-connections", "--max-account-sessions"]) {
      expectUsageError(await cli(run([option, "1"])), new RegExp(`${option} 1: at least 2`));
    }
  });

  it("--concurrency: a whole number from 1 to 64", async () => {
    const bad = fc.oneof(fc.integer({ max: 0 }).map(String), fc.integer({ min: 65 }).map(String), fraction(1, 64), garbage);
    await fc.assert(
      fc.asyncProperty(bad, async (value) => {
        expectUsageError(await cli(run(["--concurrency", value])), /option '--concurrency <n>' argument .* is invalid\. must be a whole number from 1 to 64/);
      }),
      { numRuns: 100 },
    );
  });

  it("--port and --direct-tls-port: 1 to 65535", async () => {
    const bad = fc.oneof(fc.integer({ max: 0 }).map(String), fc.integer({ min: 65536 }).map(String), fraction(1, 65535), garbage);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("--port", "--direct-tls-port"), bad, async (option, value) => {
        expectUsageError(await cli(run(["--host", "xmpp.example.invalid", option, value])), new RegExp(`option '${option} <port>' argument .* is invalid\\. must be a port number`));
      }),
      { numRuns: 100 },
    );
  });

  it("--tls and --transport: only their choices", async () => {
    const choices: Record<string, string[]> = { "--tls": ["starttls", "direct"], "--transport": ["tcp", "websocket", "bosh"] };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("--tls", "--transport").chain((o) => fc.tuple(fc.constant(o), fc.string({ maxLength: 12 }).filter((v) => !choices[o]!.includes(v) && !v.startsWith("-")))),
        async ([option, value]) => {
          expectUsageError(await cli(run([option, value])), new RegExp(`option '${option} <[a-z]+>' argument .* is invalid\\. Allowed choices are ${choices[option]!.join(", ")}`));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("--dns: an IP address, optionally with a port (node:dns takes no host names)", async () => {
    const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join("."));
    const bad = fc.oneof(
      domain, // a host name
      fc.tuple(domain, fc.integer({ min: 1, max: 65535 })).map(([d, p]) => `${d}:${p}`),
      fc.tuple(ipv4, fc.oneof(fc.constant(0), fc.integer({ min: 65536, max: 99999 }))).map(([ip, p]) => `${ip}:${p}`),
      fc.tuple(fc.integer({ min: 256, max: 999 }), ipv4).map(([n, ip]) => `${n}.${ip.split(".").slice(1).join(".")}`),
      fc.constantFrom("", "[::1", "::1]:53", "[127.0.0.1]:53", "1.2.3.4:", "1.2.3.4 :53", "[::1]:0"),
    );
    await fc.assert(
      fc.asyncProperty(bad, async (value) => {
        expectUsageError(await cli(run(["--dns", value])), /option '--dns <server>' argument .* is invalid\. must be an IP address/);
      }),
      { numRuns: 100 },
    );
  });

  it("--url: a ws(s):// or http(s):// URL", async () => {
    const bad = fc.oneof(
      domain.map((d) => `${d}/xmpp-websocket`),
      fc.tuple(fc.constantFrom("ftp", "xmpp", "file", "mailto"), domain).map(([s, d]) => `${s}://${d}/`),
      fc.constantFrom("wss://", "https://", "http://exa mple.invalid/", "ws://[::1/x", ""),
    );
    await fc.assert(
      fc.asyncProperty(bad, async (value) => {
        expectUsageError(await cli(run(["--transport", "websocket", "--url", value])), /option '--url <url>' argument .* is invalid\. must be a (ws\(s\):\/\/ or http\(s\):\/\/ )?URL/);
      }),
      { numRuns: 60 },
    );
  });

  it("unknown options and excess arguments", async () => {
    const known = new Set(buildProgram().commands.find((c) => c.name() === "run")!.options.flatMap((o) => [o.long, o.short]));
    const unknown = fc.stringMatching(/^--[a-z][a-z-]{0,15}$/).filter((o) => !known.has(o) && o !== "--help" && o !== "--version");
    await fc.assert(
      fc.asyncProperty(unknown, async (option) => {
        expectUsageError(await cli(run([option])), new RegExp(`unknown option '${option}'`));
      }),
      { numRuns: 80 },
    );
    expectUsageError(await cli(["run", "--password-file", PW_FILE, "alice@xmpp.example.invalid", "bob@xmpp.example.invalid"]), /too many arguments/);
  });

  it("--require: suite:category:level that the suite defines", async () => {
    const suite = loadSuite("cs2023");
    const category = fc.constantFrom(...suite.categories.map((c) => c.id));
    const level = fc.constantFrom(...suite.levels.map((l) => l.id));
    const word = fc.stringMatching(/^[a-z0-9]{1,8}$/);
    const bad = fc.oneof(
      fc.array(word, { minLength: 1, maxLength: 5 }).filter((ws) => ws.length !== 3).map((ws) => ({ gate: ws.join(":"), problem: /is not suite:category:level/ })),
      fc.tuple(category, level).map(([c, l]) => ({ gate: `:${c}:${l}`, problem: /is not suite:category:level/ })),
      fc.tuple(word, category, level).map(([s, c, l]) => ({ gate: `no-such-${s}:${c}:${l}`, problem: /unknown suite/ })),
      fc.tuple(word, level).map(([c, l]) => ({ gate: `cs2023:zz-${c}:${l}`, problem: /has no category/ })),
      fc.tuple(category, word).map(([c, l]) => ({ gate: `cs2023:${c}:zz-${l}`, problem: /has no level/ })),
    );
    await fc.assert(
      fc.asyncProperty(bad, async ({ gate, problem }) => {
        const r = await cli(run(["--require", gate]));
        expectUsageError(r, /--require "/);
        expect(r.stderr).toMatch(problem);
      }),
      { numRuns: 80 },
    );
  });

  it("--suite: a suite that exists", async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[a-z0-9-]{1,12}$/), async (name) => {
        expectUsageError(await cli(run(["--suite", `no-such-${name}`])), new RegExp(`--suite no-such-${name}: unknown suite`));
      }),
      { numRuns: 30 },
    );
  });

  it("files that are not there, or not what they should be", async () => {
    const missing = fc.stringMatching(/^[a-z0-9]{1,10}$/).map((n) => path.join(MISSING_DIR, `${n}.txt`));
    const one = (args: string[], names: RegExp) => fc.constant({ args, names });
    const fileOptions = ["--targets", "--password-file", "--ca", "--baseline", "--json", "--trace", "--junit", "--markdown", "--badge"];
    const cases = fc.oneof(
      // An unset shell variable: --json "$OUT" must not quietly write nothing.
      fc.constantFrom(...fileOptions).map((o) => ({ args: run([o, ""]), names: new RegExp(`${o} needs a file name, not ""`) })),
      missing.map((f) => ({ args: run(["--ca", f]), names: /cannot read --ca .*ENOENT/ })),
      missing.map((f) => ({ args: ["run", "--password-file", f, "alice@xmpp.example.invalid"], names: /cannot read --password-file .*ENOENT/ })),
      missing.map((f) => ({ args: run(["--baseline", f]), names: /cannot read baseline .*ENOENT/ })),
      missing.map((f) => ({ args: ["run", "--targets", f], names: /cannot read --targets .*ENOENT/ })),
      missing.map((f) => ({ args: run(["--trace", f]), names: /cannot write the trace to .*ENOENT/ })),
      fc.tuple(fc.constantFrom("--json", "--junit", "--markdown", "--badge"), missing).map(([o, f]) => ({ args: run([o, f]), names: new RegExp(`${o} .*: cannot write to directory .*ENOENT`) })),
      fc.constantFrom("--json", "--junit", "--markdown").map((o) => ({ args: run([o, tmp]), names: new RegExp(`${o} .* is a directory`) })),
      one(run(["--ca", NOT_PEM]), /--ca .* holds no PEM certificate/),
      one(run(["--ca", tmp]), /cannot read --ca .*EISDIR/),
      one(["run", "--password-file", EMPTY, "alice@xmpp.example.invalid"], /--password-file .* is empty/),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ args, names }) => expectUsageError(await cli(args), names)),
      { numRuns: 80 },
    );
  });

  it("options that contradict each other or the JID", async () => {
    const cases: [string[], RegExp][] = [
      [run(["--port", "5222"]), /--port needs --host/],
      [run(["--direct-tls-port", "5223"]), /--direct-tls-port needs --host/],
      [run(["--ca", CA_FILE, "--insecure"]), /--ca and --insecure contradict each other/],
      [run(["--register"]), /--register creates its own account: give the domain alone/],
      [run(["--register", "--peer", "bob@xmpp.example.invalid"], "xmpp.example.invalid"), /--register creates its own second account: leave out --peer/],
      [run(["--peer", "bob@other.example.invalid"]), /--peer bob@other\.example\.invalid must be on the same domain/],
      [run(["--peer", "ALICE@xmpp.example.invalid"]), /--peer ALICE@xmpp\.example\.invalid is the account under test/],
      [run(["--peer", "xmpp.example.invalid"]), /--peer "xmpp\.example\.invalid" has no local part/],
      [run([], "xmpp.example.invalid"), /"xmpp\.example\.invalid" has no local part: give user@domain, or add --register/],
      [["run", "alice@xmpp.example.invalid"].concat(["--password-file", PW_FILE, "--shard", "1/2"]), /--shard slices a targets file/],
      [["run", "--password-file", PW_FILE], /give the JID to test as/],
      [run(["--only", "no-such-check-*"]), /--only\/--skip select no check/],
      [run(["--sasl-mechanisms", "DIGEST-MD5"]), /--sasl-mechanisms: xepcheck cannot authenticate with "DIGEST-MD5"/],
      [run(["--sasl-mechanisms", "scram-sha-1"]), /--sasl-mechanisms: xepcheck cannot authenticate with "scram-sha-1"/],
      [run(["--sasl-mechanisms", ","]), /--sasl-mechanisms lists no mechanism/],
      [run(["--peer", ""]), /--peer "" is empty/],
      [run(["--host", ""]), /--host "" is not a host name/],
      [run(["--alpn", "x".repeat(256)]), /--alpn: "x+…" is 256 bytes/],
    ];
    for (const [args, names] of cases) expectUsageError(await cli(args), names);
  });

  it("--host: a host name or an IP address", async () => {
    const bad = fc.oneof(
      badJid().filter(({ jid }) => !jid.includes("@") || jid.startsWith("@")).map(({ jid }) => jid),
      bareJid, // user@host
      fc.tuple(domain, fc.integer({ min: 1, max: 65535 })).map(([d, p]) => `${d}:${p}`),
      fc.constantFrom("", "[::1]", "exa mple.invalid", "http://xmpp.example.invalid"),
    );
    await fc.assert(
      fc.asyncProperty(bad, async (host) => {
        expectUsageError(await cli(run(["--host", host])), /--host ".*" is not a host name or IP address/);
      }),
      { numRuns: 80 },
    );
  });

  it("the JID to test and --peer: bad JIDs are named with their problem", async () => {
    await fc.assert(
      fc.asyncProperty(badJid(), fc.boolean(), async ({ jid, problem }, asPeer) => {
        const r = await cli(asPeer ? run(["--peer", jid]) : run([], jid));
        expectUsageError(r, asPeer ? /--peer ".*" has / : /JID ".*" has /);
        expect(r.stderr).toMatch(problem);
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------- targets files

type Json = Record<string, unknown>;

interface TargetsCase {
  doc: { defaults?: Json; targets: Json[] } & Json;
  env: Record<string, string>;
}

/** A password no message may ever show: '§' is in no name, JID, path or variable name generated here. */
const secret = fc.stringMatching(/^[A-Za-z0-9]{10,20}$/).map((s) => `§${s}§`);
const targetName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
const envBase = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/);
const ipv4 = fc.tuple(fc.integer({ min: 1, max: 254 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })).map((p) => p.join("."));
const MECHANISMS = ["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512", "SCRAM-SHA-256-PLUS"];

/** Options of one target that load; port and directTlsPort only with host, ca and insecure not together. */
const targetOptions = fc
  .record(
    {
      host: fc.oneof(domain, ipv4),
      port: fc.integer({ min: 1, max: 65535 }),
      directTlsPort: fc.integer({ min: 1, max: 65535 }),
      tls: fc.constantFrom("starttls", "direct"),
      ca: fc.constant("ca.pem"),
      insecure: fc.boolean(),
      timeout: fc.double({ min: 0.001, max: 3600, noNaN: true }),
      scenarioTimeout: fc.double({ min: 0.001, max: 3600, noNaN: true }),
      concurrency: fc.integer({ min: 1, max: 64 }),
      scenarios: fc.boolean(),
      dns: fc.tuple(ipv4, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined })).map(([ip, p]) => (p ? `${ip}:${p}` : ip)),
      transport: fc.constantFrom("tcp", "websocket", "bosh"),
      url: domain.map((d) => `wss://${d}/xmpp-websocket`),
      alpn: fc.constant(["xmpp-client"]),
      saslMechanisms: fc.subarray(MECHANISMS, { minLength: 1 }),
    },
    { requiredKeys: [] },
  )
  .map((o) => {
    const t: Json = { ...o };
    if (!t.host) {
      delete t.port;
      delete t.directTlsPort;
    }
    if (t.ca) delete t.insecure;
    return t;
  });

const validTargets: fc.Arbitrary<TargetsCase> = fc
  .uniqueArray(targetName, { minLength: 2, maxLength: 5 })
  .chain((names) =>
    fc.tuple(
      fc.constant(names),
      fc.tuple(...names.map(() => fc.tuple(localPart, localPart, domain, fc.boolean(), fc.boolean(), envBase, secret, secret, targetOptions))),
      fc.option(fc.record({ timeout: fc.constant(5), scenarios: fc.boolean(), tls: fc.constantFrom("starttls", "direct") }, { requiredKeys: [] }), { nil: undefined }),
    ),
  )
  .map(([names, parts, defaults]) => {
    const env: Record<string, string> = {};
    const targets = names.map((name, i) => {
      const [local, peerLocal, d, register, withPeer, envName, pw, peerPw, options] = parts[i]!;
      if (register) return { name, jid: d, register: true, ...options };
      env[`${envName}_${i}`] = pw;
      const t: Json = { name, jid: `${local}@${d}`, passwordEnv: `${envName}_${i}`, ...options };
      if (withPeer && peerLocal.toLowerCase() !== local.toLowerCase()) {
        env[`${envName}_${i}_PEER`] = peerPw;
        t.peer = { jid: `${peerLocal}@${d}`, passwordEnv: `${envName}_${i}_PEER` };
      }
      return t;
    });
    return { doc: { ...(defaults ? { defaults } : {}), targets }, env };
  });

/** The file in its own directory, with the ca.pem its targets may name. */
function writeTargets(content: string | Uint8Array): string {
  const file = tmpFile("targets.json", content);
  writeFileSync(path.join(path.dirname(file), "ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  writeFileSync(path.join(path.dirname(file), "not.pem"), "no certificate here\n");
  return file;
}

interface Mutation {
  /** The document to write as JSON, or (with `raw`) the file's bytes. */
  content: unknown;
  raw?: boolean;
  env: Record<string, string>;
  /** Where the message must point: "/targets/1/port", "/targets/1 (\"name\")", "(top level)", or the file alone. */
  where: string;
  /** The field or option, and the problem. */
  says: RegExp;
}

const clone = <T>(x: T): T => structuredClone(x);
const FIELD_TYPES: Record<string, "string" | "integer" | "number" | "boolean" | "array" | "object"> = {
  name: "string", jid: "string", passwordEnv: "string", host: "string", ca: "string", dns: "string", url: "string",
  port: "integer", directTlsPort: "integer", concurrency: "integer",
  timeout: "number", scenarioTimeout: "number",
  register: "boolean", insecure: "boolean", scenarios: "boolean",
  alpn: "array", only: "array", skip: "array", saslMechanisms: "array",
  peer: "object",
};
/** From the schema itself, so that a field added there is never generated as "unknown". */
const SCHEMA = JSON.parse(readFileSync(new URL("../../reports/targets.schema.json", import.meta.url), "utf8"));
const KNOWN_TARGET_FIELDS = new Set([...Object.keys(SCHEMA.definitions.options.properties), ...Object.keys(SCHEMA.definitions.target.properties)]);
const KNOWN_TOP_FIELDS = new Set(Object.keys(SCHEMA.properties));
const anyJson = fc.jsonValue({ maxDepth: 2 });

function wrongValue(type: string): fc.Arbitrary<unknown> {
  const notString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }));
  switch (type) {
    case "string":
      return notString;
    case "integer":
    case "number":
      return fc.oneof(fc.string().map((s) => `${s}5`), fc.boolean(), fc.constant(null), fc.constant([5]), fc.constant({ n: 5 }));
    case "boolean":
      return fc.oneof(fc.constantFrom("true", "false", "yes", ""), fc.integer({ min: 0, max: 1 }), fc.constant(null), fc.constant([true]));
    case "array":
      return fc.oneof(fc.constantFrom("xmpp-client", "a,b"), fc.integer(), fc.constant({ 0: "x" }), fc.constant([1]), fc.constant([""]), fc.constant([null]));
    default:
      return fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant([]), fc.boolean());
  }
}

/** Every way a valid file is made invalid, each with where the message must point and what it must say. */
function mutations(base: TargetsCase): fc.Arbitrary<Mutation>[] {
  const n = base.doc.targets.length;
  const at = fc.integer({ min: 0, max: n - 1 });
  const named = (i: number) => `/targets/${i} ("${base.doc.targets[i]!.name as string}")`;
  const onTarget = (i: number, change: (t: Json, env: Record<string, string>) => void): { content: unknown; env: Record<string, string> } => {
    const doc = clone(base.doc);
    const env = { ...base.env };
    change(doc.targets[i]!, env);
    return { content: doc, env };
  };
  /** Target i as an account with a password (not --register), so account-related mutations apply. */
  const asAccount = (t: Json, env: Record<string, string>, i: number) => {
    delete t.register;
    if (!String(t.jid).includes("@")) t.jid = `alice@${t.jid as string}`;
    t.passwordEnv = `PW_ACCOUNT_${i}`;
    env[`PW_ACCOUNT_${i}`] = `§account-${i}§`;
  };
  const domainOf = (i: number) => String(base.doc.targets[i]!.jid).replace(/^.*@/, "");
  return [
    // The schema: types, unknown fields, ranges, enums, patterns.
    fc.tuple(at, fc.constantFrom(...Object.keys(FIELD_TYPES))).chain(([i, field]) =>
      wrongValue(FIELD_TYPES[field]!).map((v) => ({ ...onTarget(i, (t) => void (t[field] = v)), where: `/targets/${i}/${field}`, says: /must be|must NOT|must match/ })),
    ),
    fc.tuple(at, fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_]{0,12}$/).filter((k) => !KNOWN_TARGET_FIELDS.has(k)), anyJson).map(([i, key, v]) => ({
      ...onTarget(i, (t) => void (t[key] = v)),
      where: `/targets/${i}`,
      says: new RegExp(`unknown field "${key}"`),
    })),
    fc.tuple(
      at,
      fc.oneof(
        fc.tuple(fc.constantFrom("port", "directTlsPort"), fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 65536 }), fraction(1, 65535).map(Number))),
        fc.tuple(fc.constant("concurrency"), fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 65 }), fraction(1, 64).map(Number))),
        fc.tuple(fc.constantFrom("maxConnections", "maxAccountSessions"), fc.oneof(fc.integer({ max: 1 }), fc.integer({ min: 65 }), fraction(2, 64).map(Number))),
        fc.tuple(fc.constantFrom("timeout", "scenarioTimeout"), fc.oneof(fc.double({ max: 0.000999, noNaN: true, noDefaultInfinity: true }), fc.double({ min: 3600.000001, noNaN: true, noDefaultInfinity: true }))),
      ),
    ).map(([i, [field, v]]) => ({
      ...onTarget(i, (t) => {
        t.host ??= "xmpp.example.invalid";
        t[field] = v;
      }),
      where: `/targets/${i}/${field}`,
      says: /must be (<=|>=|integer)/,
    })),
    fc.tuple(at, fc.constantFrom("tls", "transport"), fc.string({ maxLength: 10 }).filter((s) => !["starttls", "direct", "tcp", "websocket", "bosh"].includes(s))).map(([i, field, v]) => ({
      ...onTarget(i, (t) => void (t[field] = v)),
      where: `/targets/${i}/${field}`,
      says: /must be equal to one of the allowed values/,
    })),
    fc.tuple(at, fc.oneof(fc.constantFrom("", "-x", "_x", ".x", "a b", "é", "a/b", "a:b"), fc.integer({ min: 65, max: 100 }).map((k) => "n".repeat(k)))).map(([i, v]) => ({
      ...onTarget(i, (t) => void (t.name = v)),
      where: `/targets/${i}/name`,
      says: /must match pattern/,
    })),
    fc.tuple(at, fc.constantFrom("", "1PW", "PW-A", "PW A", "$PW", "pw.a")).map(([i, v]) => ({
      ...onTarget(i, (t, env) => {
        asAccount(t, env, i);
        t.passwordEnv = v;
      }),
      where: `/targets/${i}/passwordEnv`,
      says: /must match pattern/,
    })),
    at.map((i) => ({ ...onTarget(i, (t) => void (t.saslMechanisms = [])), where: `/targets/${i}/saslMechanisms`, says: /must NOT have fewer than 1 items/ })),
    fc.tuple(fc.constantFrom("parallel", "perServer"), fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 65 }), fc.constant(1.5), fc.constant("2"))).map(([field, v]) => ({
      content: { ...clone(base.doc), [field]: v },
      env: base.env,
      where: `/${field}`,
      says: /must be/,
    })),
    fc.constantFrom(2, 0, "1", null).map((v) => ({ content: { ...clone(base.doc), targetsVersion: v }, env: base.env, where: "/targetsVersion", says: /must be equal to constant/ })),
    fc.constant({ content: { ...clone(base.doc), targets: [] }, env: base.env, where: "/targets", says: /must NOT have fewer than 1 items/ }),
    fc.constant({ content: { defaults: base.doc.defaults ?? {} }, env: base.env, where: "(top level)", says: /must have required property 'targets'/ }),
    fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.array(anyJson, { maxLength: 3 })).map((v) => ({ content: v, env: base.env, where: "(top level)", says: /must be object/ })),
    fc.tuple(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_]{0,12}$/).filter((k) => !KNOWN_TOP_FIELDS.has(k)), anyJson).map(([k, v]) => ({
      content: { ...clone(base.doc), [k]: v },
      env: base.env,
      where: "(top level)",
      says: new RegExp(`unknown field "${k}"`),
    })),
    fc.tuple(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_]{0,12}$/).filter((k) => !KNOWN_TARGET_FIELDS.has(k)), anyJson).map(([k, v]) => ({
      content: { ...clone(base.doc), defaults: { ...base.doc.defaults, [k]: v } },
      env: base.env,
      where: "/defaults",
      says: new RegExp(`unknown field "${k}"`),
    })),
    fc.tuple(at, fc.constantFrom("password", "resource", "host")).map(([i, k]) => ({
      ...onTarget(i, (t, env) => {
        asAccount(t, env, i);
        t.peer = { jid: `bob@${domainOf(i)}`, passwordEnv: t.passwordEnv, [k]: "x" };
      }),
      where: `/targets/${i}/peer`,
      says: new RegExp(`unknown field "${k}"`),
    })),
    // The defaults.
    fc.constantFrom("name", "jid", "passwordEnv", "peer").map((field) => ({
      content: { ...clone(base.doc), defaults: { ...base.doc.defaults, [field]: field === "peer" ? { jid: "a@b.invalid", passwordEnv: "X" } : "x" } },
      env: base.env,
      where: "/defaults",
      says: new RegExp(`"${field}" belongs to each target, not to the defaults`),
    })),
    fc.tuple(fc.constantFrom("port", "timeout", "register", "alpn"), fc.constant("wrong")).map(([field, v]) => ({
      content: { ...clone(base.doc), defaults: { [field]: v } },
      env: base.env,
      where: `/defaults/${field}`,
      says: /must be/,
    })),
    // What only the loader knows: names, variables, JIDs, files.
    fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.nat()).map(([i, j]) => ({
      ...onTarget(i, (t) => void (t.name = base.doc.targets[j % i]!.name)),
      where: `/targets/${i} ("${base.doc.targets[j % i]!.name as string}")`,
      says: /the name is used twice/,
    })),
    at.map((i) => ({
      ...onTarget(i, (t, env) => {
        asAccount(t, env, i);
        delete t.passwordEnv;
      }),
      where: named(i),
      says: /no "passwordEnv": name the environment variable/,
    })),
    fc.tuple(at, fc.boolean(), fc.boolean()).map(([i, peer, empty]) => ({
      ...onTarget(i, (t, env) => {
        asAccount(t, env, i);
        const name = `UNSET_${i}_VARIABLE`;
        if (empty) env[name] = "";
        if (peer) t.peer = { jid: `bob@${domainOf(i)}`, passwordEnv: name };
        else t.passwordEnv = name;
      }),
      where: named(i),
      says: new RegExp(`"${peer ? "peer\\.passwordEnv" : "passwordEnv"}": environment variable UNSET_${i}_VARIABLE is ${empty ? "empty" : "not set"}`),
    })),
    fc.tuple(at, badJid(), fc.boolean()).map(([i, bad, peer]) => ({
      ...onTarget(i, (t, env) => {
        asAccount(t, env, i);
        if (peer) t.peer = { jid: bad.jid, passwordEnv: t.passwordEnv };
        else t.jid = bad.jid;
      }),
      where: named(i),
      says: peer ? /--peer ".*" has / : /JID ".*" has /,
    })),
    fc.tuple(at, fc.constantFrom("port", "directTlsPort")).map(([i, field]) => ({
      ...onTarget(i, (t) => {
        delete t.host;
        delete t.port;
        delete t.directTlsPort;
        t[field] = 5222;
      }),
      where: named(i),
      says: field === "port" ? /--port needs --host/ : /--direct-tls-port needs --host/,
    })),
    fc.tuple(at, fc.constantFrom("missing.pem", "../nowhere/ca.pem", "not.pem", ".")).map(([i, ca]) => ({
      ...onTarget(i, (t) => {
        delete t.insecure;
        t.ca = ca;
      }),
      where: named(i),
      says: ca === "not.pem" ? /--ca .* holds no PEM certificate/ : /cannot read --ca .*(ENOENT|EISDIR)/,
    })),
    at.map((i) => ({ ...onTarget(i, (t) => Object.assign(t, { ca: "ca.pem", insecure: true })), where: named(i), says: /--ca and --insecure contradict/ })),
    at.map((i) => ({
      ...onTarget(i, (t, env) => {
        asAccount(t, env, i);
        t.register = true;
      }),
      where: named(i),
      says: /"register" creates its own account: leave out "passwordEnv"/,
    })),
    fc.tuple(at, fc.constantFrom("other", "same", "register")).map(([i, how]) => ({
      ...onTarget(i, (t, env) => {
        asAccount(t, env, i);
        // "same": the domain in capitals (DNS names ignore case; "ß".toUpperCase() would be another account).
        const jid = how === "other" ? "bob@elsewhere.invalid" : how === "same" ? `${String(t.jid).split("@")[0]}@${domainOf(i).toUpperCase()}` : `bob@${domainOf(i)}`;
        t.peer = { jid, passwordEnv: t.passwordEnv };
        if (how === "register") {
          delete t.passwordEnv;
          t.jid = domainOf(i);
          t.register = true;
        }
      }),
      where: named(i),
      says: how === "other" ? /must be on the same domain/ : how === "same" ? /is the account under test/ : /--register creates its own second account/,
    })),
    fc.tuple(at, fc.oneof(domain, fc.constantFrom("1.2.3.4:0", "1.2.3.4:70000", "[::1", "999.1.1.1"))).map(([i, dns]) => ({
      ...onTarget(i, (t) => void (t.dns = dns)),
      where: named(i),
      says: /"dns" ".*" must be an IP address/,
    })),
    fc.tuple(at, fc.constantFrom("wss://", "https://", "http://exa mple.invalid/", "ws://[::1/x")).map(([i, url]) => ({
      ...onTarget(i, (t) => void (t.url = url)),
      where: named(i),
      says: /"url" ".*" must be a URL/,
    })),
    fc.tuple(at, fc.constantFrom("exa mple.invalid", "[::1]", "xmpp.example.invalid:5222", "a@b.invalid", "-x.invalid")).map(([i, host]) => ({
      ...onTarget(i, (t) => void (t.host = host)),
      where: named(i),
      says: /--host ".*" is not a host name or IP address/,
    })),
    fc.tuple(at, fc.constantFrom("DIGEST-MD5", "plain", "SCRAM-SHA-3", "X-OAUTH2")).map(([i, m]) => ({
      ...onTarget(i, (t) => void (t.saslMechanisms = ["SCRAM-SHA-1", m])),
      where: named(i),
      says: new RegExp(`--sasl-mechanisms: xepcheck cannot authenticate with "${m}"`),
    })),
    at.map((i) => ({ ...onTarget(i, (t) => void (t.only = ["no-such-check-*"])), where: named(i), says: /--only\/--skip select no check/ })),
  ];
}

/** A file that is not JSON at all: cut short, or random bytes. */
function unparsable(base: TargetsCase): fc.Arbitrary<Mutation>[] {
  const text = JSON.stringify(base.doc, null, 2);
  return [
    fc.integer({ min: 0, max: text.length - 1 }).map((k) => ({ content: text.slice(0, k), raw: true, env: base.env, where: "", says: /is not valid JSON/ })),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ content: bytes, raw: true, env: base.env, where: "", says: /is not valid JSON|is invalid: \(top level\)/ })),
  ];
}

const mutated = validTargets.chain((base) => fc.oneof(...mutations(base), ...unparsable(base)));

function writeMutation(m: Mutation): string {
  return writeTargets(m.raw ? (m.content as string | Uint8Array) : JSON.stringify(m.content, null, 2));
}

function expectTargetsError(err: Error, file: string, m: Mutation): void {
  expect(err).toBeInstanceOf(TargetsFileError);
  expect(err).toBeInstanceOf(UsageError);
  expect(err.message).toContain(`--targets ${file}`);
  expect(err.message).toContain(m.where);
  expect(err.message).toMatch(m.says);
  expect(err.message).not.toMatch(STACK);
  expect(err.message).not.toMatch(CONTROL);
  for (const value of Object.values(m.env).filter(Boolean)) expect(err.message).not.toContain(value);
}

describe("targets files", () => {
  it("valid files load: the same names in order, passwords from the named variables", () => {
    fc.assert(
      fc.property(validTargets, ({ doc, env }) => {
        const file = writeTargets(JSON.stringify(doc));
        const plan = loadTargetsFile(file, env, ["cs2023"]);
        expect(plan.targets.map((t) => t.name)).toEqual(doc.targets.map((t) => t.name));
        plan.targets.forEach((planned, i) => {
          const t = doc.targets[i]!;
          expect(planned.options.password).toBe(t.passwordEnv ? env[t.passwordEnv as string] : undefined);
          expect(planned.options.peer?.password).toBe(t.peer ? env[(t.peer as Json).passwordEnv as string] : undefined);
          expect(planned.server).toBe(t.host ?? String(t.jid).replace(/^.*@/, ""));
          expect(planned.options.timeoutMs).toBeGreaterThanOrEqual(1);
        });
      }),
      { numRuns: 100 },
    );
  });

  it("every mutation of a valid file is a TargetsFileError naming the field and the problem, never a password", () => {
    fc.assert(
      fc.property(mutated, (m) => {
        const file = writeMutation(m);
        expectTargetsError(catchError(() => loadTargetsFile(file, m.env, ["cs2023"])), file, m);
      }),
      { numRuns: 400 },
    );
  });

  describe("through the command line", () => {
    afterEach(() => vi.unstubAllEnvs());

    it("control: a valid file reaches the runner", async () => {
      await fc.assert(
        fc.asyncProperty(validTargets, async ({ doc, env }) => {
          for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
          const r = await cli(["run", "--quiet", "--targets", writeTargets(JSON.stringify(doc))]);
          expect(runTargets, r.stderr).toHaveBeenCalledTimes(1);
          vi.unstubAllEnvs();
        }),
        { numRuns: 10 },
      );
    });

    it("a bad file is exit 2 with the same message", async () => {
      await fc.assert(
        fc.asyncProperty(mutated, async (m) => {
          for (const [k, v] of Object.entries(m.env)) vi.stubEnv(k, v);
          const file = writeMutation(m);
          const r = await cli(["run", "--quiet", "--targets", file]);
          expectUsageError(r, /^xepcheck: --targets /);
          expect(r.stderr).toContain(m.where);
          expect(r.stderr).toMatch(m.says);
          for (const value of Object.values(m.env).filter(Boolean)) expect(r.stderr).not.toContain(value);
          vi.unstubAllEnvs();
        }),
        { numRuns: 100 },
      );
    });

    it("--shard, options that belong in the file, and --badge for many targets", async () => {
      const file = writeTargets(JSON.stringify({ targets: [{ name: "a", jid: "xmpp.example.invalid", register: true }, { name: "b", jid: "other.example.invalid", register: true }] }));
      const shard = fc.oneof(
        fc.string({ maxLength: 8 }).filter((s) => !/^\s*\d{1,4}\/\d{1,4}\s*$/.test(s) && !s.startsWith("-")).map((s) => ({ value: s, says: /is not i\/n/ })),
        fc.tuple(fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 99 })).filter(([i, n]) => i > n).map(([i, n]) => ({ value: `${i}/${n}`, says: /the shard number must be from 1 to/ })),
        fc.integer({ min: 1, max: 9 }).map((n) => ({ value: `0/${n}`, says: /the shard number must be from 1 to/ })),
        fc.integer({ min: 0, max: 9 }).map((i) => ({ value: `${i}/0`, says: /the number of shards must be at least 1/ })),
      );
      await fc.assert(
        fc.asyncProperty(shard, async ({ value, says }) => {
          const r = await cli(["run", "--targets", file, "--shard", value]);
          expectUsageError(r, /--shard "/);
          expect(r.stderr).toMatch(says);
        }),
        { numRuns: 80 },
      );
      const perTarget: [string[], RegExp][] = [
        [["--host", "xmpp.example.invalid"], /--host describe\(s\) one server/],
        [["--timeout", "5", "--no-scenarios"], /--timeout, --scenarios describe\(s\) one server/],
        [["--password-file", PW_FILE], /--password-file describe\(s\) one server/],
        [["alice@xmpp.example.invalid"], /give either a JID or --targets/],
        [["--badge", path.join(tmp, "badge.svg")], /--badge .*: 2 targets would write the same file; add \{target\}/],
      ];
      for (const [extra, says] of perTarget) expectUsageError(await cli(["run", "--targets", file, ...extra]), says);
      // One target per shard: one badge file is fine.
      await cli(["run", "--targets", file, "--shard", "1/2", "--badge", path.join(tmp, "badge.svg")]);
      expect(runTargets).toHaveBeenCalledTimes(1);
    });
  });
});
