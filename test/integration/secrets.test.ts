/**
 * No secret leaves a run: full runs of the built CLI against real Prosody and
 * ejabberd with --trace and every output format on, then every byte written
 * (trace, JSON, JUnit, Markdown, badge, HTML when the CLI has it, stdout,
 * stderr) is searched for the accounts' passwords in every form
 * (test/secret-forms.ts) and for the credentials seen in the run (TURN
 * passwords the servers handed out). Values that cannot be known from outside
 * the run (FAST tokens, upload slot headers, a --register password) are
 * checked where they were: each such element in the trace must read [redacted].
 *
 * The main run authenticates with PLAIN (--sasl-mechanisms PLAIN), so the
 * password itself crosses the wire in base64, both in SASL and (bob, alice)
 * in every scenario login; SCRAM, SASL2 and FAST logins happen in the
 * scenarios anyway. The scan is only meaningful on a trace that holds these
 * exchanges: that is asserted first.
 */
import { createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { xml } from "@xmpp/xml";
import { loginAs, runCli, type CliResult } from "../cli.js";
import { findSecrets, secretForms, type SecretForm } from "../secret-forms.js";
import type { ServerInfo, TestAccount } from "../servers/harness.js";

const servers = inject("servers");
const tmp = mkdtempSync(path.join(os.tmpdir(), "xepcheck-secrets-"));
const RUN_TIMEOUT_MS = 600_000;
const REDACTED = "[redacted]";

function target(s: ServerInfo): string[] {
  return ["--host", "127.0.0.1", "--port", String(s.ports.c2s), "--ca", s.caFile];
}

let htmlOption = false;
beforeAll(async () => {
  // The HTML report joins the scan as soon as the CLI offers it.
  htmlOption = (await runCli(["run", "--help"])).stdout.includes("--html <file>");
});

/** Every output format into `dir` (the scan reads whatever files appear there). */
function outputs(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => path.join(dir, name);
  return [
    "--trace", f("trace.log"),
    "--json", f("report.json"),
    "--junit", f("junit.xml"),
    "--markdown", f("summary.md"),
    "--badge", f("badge.svg"),
    ...(htmlOption ? ["--html", f("report.html")] : []),
  ];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => path.join(dir, name))
    .filter((file) => statSync(file).isFile());
}

/** Forms of any secret in any file of `dir` or the run's stdout/stderr, as "form in where". */
function leaks(dir: string, result: CliResult, secrets: SecretForm[]): string[] {
  const found = [...findSecrets(result.stdout, secrets, "stdout"), ...findSecrets(result.stderr, secrets, "stderr")];
  for (const file of filesUnder(dir)) found.push(...findSecrets(readFileSync(file, "utf8"), secrets, path.basename(file)));
  return found;
}

/** The text of every JSON string in `value` (transcripts hold XML in strings, with its quotes escaped in the file). */
function jsonStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(jsonStrings);
  if (value && typeof value === "object") return Object.values(value).flatMap(jsonStrings);
  return [];
}

/**
 * Secret-bearing elements whose value is not [redacted]: SASL and SASL2
 * payloads, FAST token attributes, <password/>, password attributes, upload
 * slot headers. An empty payload ("=" or nothing) has nothing to hide.
 */
function unredacted(text: string): string[] {
  const bad: string[] = [];
  const check = (what: string, value: string) => {
    if (value !== REDACTED && value !== "=" && value.trim() !== "") bad.push(`${what}: ${value.slice(0, 40)}`);
  };
  // (?<!\/)> : an element with text, not a self-closing one.
  const sasl = /<(auth|response|challenge|success)\b[^>]*xmlns="urn:ietf:params:xml:ns:xmpp-sasl"[^>]*(?<!\/)>([^<]*)</g;
  for (const m of text.matchAll(sasl)) check(`SASL <${m[1]}>`, m[2]!);
  for (const m of text.matchAll(/<(initial-response|additional-data|password)>([^<]*)</g)) check(`<${m[1]}>`, m[2]!);
  for (const m of text.matchAll(/<(response|challenge)\b[^>]*xmlns="urn:xmpp:sasl:2"[^>]*(?<!\/)>([^<]*)</g)) check(`SASL2 <${m[1]}>`, m[2]!);
  for (const m of text.matchAll(/<token\b[^>]*\btoken="([^"]*)"/g)) check("FAST token", m[1]!);
  for (const m of text.matchAll(/\bpassword="([^"]*)"/g)) check("password attribute", m[1]!);
  for (const m of text.matchAll(/<slot xmlns="urn:xmpp:http:upload:0">.*?<\/slot>/gs)) {
    for (const h of m[0].matchAll(/<header name="([^"]*)">([^<]*)</g)) check(`upload header ${h[1]}`, h[2]!);
  }
  return bad;
}

/** XML as it reads once unescaped from JSON strings, XML/HTML text or a script-embedded JSON (<\u003c, \" …). */
function decoded(text: string): string {
  return text
    .replace(/\\u003c/gi, "<")
    .replace(/\\u003e/gi, ">")
    .replace(/\\u0026/gi, "&")
    .replace(/\\"/g, '"')
    .replace(/\\\//g, "/")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#0?39;|&apos;/g, "'")
    .replace(/&amp;/g, "&");
}

/** unredacted() over every file of `dir` (JSON by its strings, the rest decoded), as "problem in file". */
function unredactedIn(dir: string): string[] {
  return filesUnder(dir).flatMap((file) => {
    const text = readFileSync(file, "utf8");
    const xmlText = file.endsWith(".json") ? jsonStrings(JSON.parse(text)).join("\n") : decoded(text);
    return unredacted(xmlText).map((problem) => `${problem} in ${path.basename(file)}`);
  });
}

/**
 * TURN passwords the server handed out (XEP-0215): the REST-API scheme both
 * servers use, base64(HMAC-SHA1(secret, username)), from the usernames in
 * the trace and the harness's secret.
 */
function turnPasswords(trace: string, s: ServerInfo): SecretForm[] {
  const secret = (JSON.parse(readFileSync(path.join(s.dir, "secrets.json"), "utf8")) as { turn: string }).turn;
  const usernames = new Set([...trace.matchAll(/<service\b[^>]*\busername="([^"]+)"/g)].map((m) => m[1]!));
  return [...usernames].flatMap((u) => secretForms(createHmac("sha1", secret).update(u).digest("base64")).map((f) => ({ ...f, form: `TURN password for ${u}: ${f.form}` })));
}

/** TURN credentials as the server hands them to carol (who is not in the runs), to check turnPasswords()' scheme. */
async function turnCredentials(s: ServerInfo): Promise<{ username: string; password: string }[]> {
  const session = await loginAs(s, s.accounts[2]!);
  try {
    const result = await session.stream.iq(xml("iq", { type: "get", to: s.domain }, xml("services", { xmlns: "urn:xmpp:extdisco:2", type: "turn" })));
    return (result.getChild("services")?.getChildren("service") ?? [])
      .filter((e) => e.attrs.password)
      .map((e) => ({ username: e.attrs.username as string, password: e.attrs.password as string }));
  } finally {
    await session.stream.close();
  }
}

function lines(trace: string, pattern: RegExp): string[] {
  return trace.split("\n").filter((l) => pattern.test(l));
}

for (const kind of ["prosody", "ejabberd"] as const) {
  const server = servers[kind];
  describe.runIf(server)(`no secret in any output of a traced run against ${kind}`, () => {
    const s = server!;
    let alice: TestAccount;
    let bob: TestAccount;
    let passwords: SecretForm[];
    beforeAll(() => {
      [alice, bob] = s.accounts as [TestAccount, TestAccount];
      passwords = [alice, bob].flatMap((a) => {
        const username = a.jid.split("@")[0]!;
        return secretForms(a.password, { username, domain: s.domain }).map((f) => ({ ...f, form: `${username}'s password, ${f.form}` }));
      });
    });

    it("the TURN passwords the scan looks for are computed the way the server computes them", async () => {
      const given = await turnCredentials(s);
      expect(given.length).toBeGreaterThan(0);
      const trace = given.map((c) => `<service username="${c.username}"/>`).join("");
      for (const c of given) expect(turnPasswords(trace, s).map((f) => f.text)).toContain(c.password);
    });

    it("alice --peer bob, PLAIN: trace, JSON, JUnit, Markdown, badge, stdout and stderr hold no password, token or credential", async () => {
      const dir = path.join(tmp, `${kind}-peer`);
      const result = await runCli(["run", alice.jid, "--peer", bob.jid, ...target(s), "--sasl-mechanisms", "PLAIN", ...outputs(dir)], {
        XEPCHECK_PASSWORD: alice.password,
        XEPCHECK_PEER_PASSWORD: bob.password,
      });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(filesUnder(dir).map((f) => path.basename(f))).toEqual(
        expect.arrayContaining(["badge.svg", "junit.xml", "report.json", "summary.md", "trace.log", ...(htmlOption ? ["report.html"] : [])]),
      );

      // The trace holds the exchanges the scan is about, so a clean scan means something.
      const trace = readFileSync(path.join(dir, "trace.log"), "utf8");
      const entry = new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${s.domain.replace(/\./g, "\\.")} `);
      expect(trace.split("\n").filter((l) => entry.test(l)).length).toBeGreaterThan(500);
      expect(lines(trace, /#\d+ out <auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">/).length, "PLAIN logins").toBeGreaterThan(5);
      expect(lines(trace, /#\d+ in <success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/).length, "SASL successes").toBeGreaterThan(5);
      expect(lines(trace, /<authenticate xmlns="urn:xmpp:sasl:2" mechanism="SCRAM-[^"]+"><initial-response>/).length, "SASL2 SCRAM logins").toBeGreaterThan(0);
      expect(lines(trace, /<authenticate xmlns="urn:xmpp:sasl:2" mechanism="HT-[^"]+"><initial-response>/).length, "FAST token logins").toBeGreaterThan(0);
      expect(lines(trace, /<token (?=[^>]*xmlns="urn:xmpp:fast:0")[^>]*\btoken="/).length, "FAST tokens received").toBeGreaterThan(0);
      expect(lines(trace, /#\d+ \[alice\/A\] (in|out) /).length, "scenario entries with their actor").toBeGreaterThan(0);
      expect(lines(trace, /<slot xmlns="urn:xmpp:http:upload:0">/).length, "upload slots").toBeGreaterThan(0);
      // Prosody's mod_http_file_share authorizes the PUT with a header; ejabberd's mod_http_upload by the URL alone.
      if (kind === "prosody") expect(trace).toContain('<header name="Authorization">');
      const turn = turnPasswords(trace, s);
      expect(turn.length, "TURN credentials handed out").toBeGreaterThan(0);

      expect(leaks(dir, result, [...passwords, ...turn])).toEqual([]);
      expect(unredactedIn(dir), "secret-bearing elements not redacted").toEqual([]);
      expect(unredacted(result.stdout)).toEqual([]);
    }, RUN_TIMEOUT_MS);

    it("--register: the registration password is redacted wherever it was sent", async () => {
      const dir = path.join(tmp, `${kind}-register`);
      const result = await runCli(["run", s.domain, ...target(s), "--register", ...outputs(dir)]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const trace = readFileSync(path.join(dir, "trace.log"), "utf8");
      // Two throw-away accounts (account and peer), each registered with <password/>.
      const registrations = lines(trace, /out <iq [^>]*type="set"[^>]*><query xmlns="jabber:iq:register"><username>xepcheck-[0-9a-f]{10}<\/username><password>/);
      expect(registrations.length).toBe(2);
      expect(lines(trace, /<initial-response>/).length).toBeGreaterThan(0);
      expect(leaks(dir, result, [...passwords, ...turnPasswords(trace, s)])).toEqual([]);
      expect(unredactedIn(dir), "secret-bearing elements not redacted").toEqual([]);
    }, RUN_TIMEOUT_MS);

    it("--trace - writes the trace to stderr, redacted", async () => {
      const result = await runCli(["run", alice.jid, ...target(s), "--sasl-mechanisms", "PLAIN", "--only", "xep0030.*", "--trace", "-"], {
        XEPCHECK_PASSWORD: alice.password,
      });
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/ out <auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">/);
      expect(result.stdout).not.toMatch(/ out <auth /);
      expect([...findSecrets(result.stdout, passwords, "stdout"), ...findSecrets(result.stderr, passwords, "stderr")]).toEqual([]);
      expect(unredacted(result.stderr)).toEqual([]);
    });
  });
}
