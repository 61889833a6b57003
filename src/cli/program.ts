/**
 * xepcheck's command line: the composition root. Parses arguments, turns
 * bad input into exit code 2 with a message that names it, and maps run
 * outcomes to the documented exit codes.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { ALL_CHECKS } from "../checks/index.js";
import { applyGates, diffFiles, gatesActive, GateInputError, prepareGates } from "../gates/cli.js";
import { renderTerminal } from "../report/terminal.js";
import { ReportFileError, readReportFile, writeReportOutputs, type OutputFlags } from "./report-outputs.js";
import type { Report } from "../report/types.js";
import { LoginFailure, runTarget, selectChecks, splitJid, type RunOptions } from "../runner/run.js";
import { listSuiteIds, loadSuite, SuiteError } from "../scoring/suite.js";
import { TOOL_VERSION } from "../version.js";

export const EXIT = {
  ok: 0,
  /** A --require gate was not met. */
  gate: 1,
  /** Bad arguments or configuration. */
  usage: 2,
  /** Could not connect to or log in to the server. */
  login: 3,
  /** A bug in xepcheck. */
  internal: 4,
} as const;

class UsageError extends Error {}

const EXIT_HELP = `
Exit codes:
  0  the run completed (whatever the verdicts)
  1  a --require or --baseline gate was not met; diff: a regression
  2  usage or configuration error
  3  could not connect to or log in to the server
  4  internal error in xepcheck`;

function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(",").map((s) => s.trim()).filter(Boolean)];
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new InvalidArgumentError("must be a number of seconds between 0 and 3600");
  return n;
}

function dnsServer(value: string): string {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+)(?::(\d{1,5}))?$/.exec(value);
  if (!m || (m[2] && (Number(m[2]) < 1 || Number(m[2]) > 65535))) throw new InvalidArgumentError("must be host or host:port, e.g. 127.0.0.1:5353");
  return value;
}

function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("must be a URL");
  }
  if (!["ws:", "wss:", "http:", "https:"].includes(url.protocol)) throw new InvalidArgumentError("must be a ws(s):// or http(s):// URL");
  return value;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError("must be a whole number from 1 to 64");
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError("must be a port number from 1 to 65535");
  return n;
}

function useColor(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== "0") return true;
  return Boolean(stream.isTTY);
}

const JID_PATTERN = /^(?:[^@/\s"&'<>:]+@)?[A-Za-z0-9.-]+$/;

interface RunFlags extends OutputFlags {
  passwordFile?: string;
  register?: boolean;
  host?: string;
  port?: number;
  tls: "starttls" | "direct";
  ca?: string;
  insecure?: boolean;
  timeout: number;
  scenarioTimeout: number;
  concurrency: number;
  scenarios: boolean;
  peer?: string;
  dns?: string;
  transport: "tcp" | "websocket" | "bosh";
  url?: string;
  alpn?: string[];
  directTlsPort?: number;
  suite: string[];
  only: string[];
  skip: string[];
  json?: string;
  saslMechanisms?: string[];
  require: string[];
  baseline?: string;
}

/** Turns flags into RunOptions, or throws UsageError naming what is wrong. */
export function runOptionsFrom(jid: string, flags: RunFlags, env: NodeJS.ProcessEnv): RunOptions {
  if (!JID_PATTERN.test(jid)) throw new UsageError(`"${jid}" is not a JID: expected user@domain (or a domain with --register)`);
  const { local } = splitJid(jid);
  if (!local && !flags.register) throw new UsageError(`"${jid}" has no local part: give user@domain, or add --register to use a throw-away account`);
  if (local && flags.register) throw new UsageError(`--register creates its own account: give the domain alone, not "${jid}"`);
  let password: string | undefined;
  if (!flags.register) {
    if (flags.passwordFile) {
      try {
        password = readFileSync(flags.passwordFile, "utf8").split(/\r?\n/)[0];
      } catch (err) {
        throw new UsageError(`cannot read --password-file ${flags.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      if (!password) throw new UsageError(`--password-file ${flags.passwordFile} is empty`);
    } else {
      password = env.XEPCHECK_PASSWORD;
      if (!password) {
        throw new UsageError(`no password for ${jid}: set XEPCHECK_PASSWORD or use --password-file FILE (or --register for a throw-away account)`);
      }
    }
  }
  let peer: RunOptions["peer"];
  if (flags.peer) {
    if (flags.register) throw new UsageError("--register creates its own second account: leave out --peer");
    if (!JID_PATTERN.test(flags.peer) || !splitJid(flags.peer).local) throw new UsageError(`--peer "${flags.peer}" is not a user@domain JID`);
    if (splitJid(flags.peer).domain !== splitJid(jid).domain) throw new UsageError(`--peer ${flags.peer} must be on the same domain as ${jid}`);
    const peerPassword = env.XEPCHECK_PEER_PASSWORD;
    if (!peerPassword) throw new UsageError(`no password for --peer ${flags.peer}: set XEPCHECK_PEER_PASSWORD`);
    peer = { jid: flags.peer, password: peerPassword };
  }
  if (flags.port && !flags.host) throw new UsageError("--port needs --host (without --host, DNS SRV decides the port)");
  if (flags.directTlsPort && !flags.host) {
    throw new UsageError("--direct-tls-port needs --host (without --host, the _xmpps-client SRV records give the direct TLS port)");
  }
  if (flags.ca && flags.insecure) throw new UsageError("--ca and --insecure contradict each other: choose one");
  let ca: RunOptions["ca"];
  if (flags.ca) {
    try {
      ca = { path: flags.ca, pem: readFileSync(flags.ca, "utf8") };
    } catch (err) {
      throw new UsageError(`cannot read --ca ${flags.ca}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (!ca.pem.includes("-----BEGIN CERTIFICATE-----")) throw new UsageError(`--ca ${flags.ca} holds no PEM certificate`);
  }
  for (const id of flags.suite) loadSuite(id); // throws SuiteError, reported as a usage error
  if (selectChecks(flags.only, flags.skip, flags.scenarios).length === 0) {
    throw new UsageError(`--only/--skip select no check: see "xepcheck checks" for the ids`);
  }
  return {
    jid,
    password,
    register: Boolean(flags.register),
    host: flags.host,
    port: flags.port,
    tls: flags.tls,
    ca,
    insecure: Boolean(flags.insecure),
    timeoutMs: Math.round(flags.timeout * 1000),
    scenarioTimeoutMs: Math.round(flags.scenarioTimeout * 1000),
    concurrency: flags.concurrency,
    scenarios: flags.scenarios,
    peer,
    ...(flags.dns ? { dns: flags.dns } : {}),
    transport: flags.transport,
    ...(flags.url ? { url: flags.url } : {}),
    ...(flags.alpn ? { alpn: flags.alpn } : {}),
    ...(flags.directTlsPort ? { directTlsPort: flags.directTlsPort } : {}),
    suites: flags.suite,
    only: flags.only,
    skip: flags.skip,
    mechanisms: flags.saslMechanisms,
  };
}

function writeJson(report: Report, target: string): void {
  const text = JSON.stringify(report, null, 2) + "\n";
  if (target === "-") process.stdout.write(text);
  else writeFileSync(target, text);
}

async function run(jid: string, flags: RunFlags): Promise<number> {
  const gates = prepareGates(flags.require, flags.baseline);
  const options = runOptionsFrom(jid, flags, process.env);
  // With --json -, stdout carries the JSON; people read stderr.
  const human = flags.json === "-" ? process.stderr : process.stdout;
  let report: Report;
  let code: number = EXIT.ok;
  try {
    report = await runTarget(options);
  } catch (err) {
    if (!(err instanceof LoginFailure)) throw err;
    report = err.report;
    code = EXIT.login;
    process.stderr.write(`xepcheck: could not log in to ${report.target.domain} (step ${err.cause.step}): ${err.cause.message}\n`);
  }
  if (flags.json) writeJson(report, flags.json);
  // JUnit and Markdown also say why a login failed; a badge is not overwritten by one.
  writeReportOutputs(report, flags, { badge: code === EXIT.ok });
  if (code === EXIT.ok) human.write(renderTerminal(report, { color: useColor(human) }));
  if (code === EXIT.ok && gatesActive(gates)) {
    const outcome = applyGates(report, gates);
    human.write(outcome.text);
    if (!outcome.met) code = EXIT.gate;
  }
  return code;
}

export function buildProgram(): Command {
  const program = new Command()
    .name("xepcheck")
    .description("Tells the truth about what an XMPP server really supports, scored against the XSF compliance suites.")
    .version(TOOL_VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", EXIT_HELP);

  program
    .command("run")
    .description("log in to a server, probe it, judge every check and score the suites")
    .argument("<jid>", "account to test as (user@domain), or a domain with --register")
    .option("--password-file <file>", "read the password from the first line of FILE (default: $XEPCHECK_PASSWORD)")
    .option("--register", "register a throw-away account in-band (XEP-0077) and remove it at the end")
    .option("--host <host>", "connect to this host instead of looking up DNS SRV records")
    .option("--port <port>", "port to connect to (with --host)", port)
    .addOption(new Option("--tls <mode>", "STARTTLS on a plain connection, or direct TLS (XEP-0368)").choices(["starttls", "direct"]).default("starttls"))
    .option("--ca <file>", "also trust the CA certificate(s) in this PEM file")
    .option("--insecure", "do not verify the server's TLS certificate (shown in every report)")
    .option("--timeout <seconds>", "deadline for each protocol step and expected stanza", positiveSeconds, 10)
    .option("--dns <server>", "DNS server for SRV lookups, host or host:port (default: the system's resolver)", dnsServer)
    .addOption(new Option("--transport <kind>", "transport of the main session (the others are probed too)").choices(["tcp", "websocket", "bosh"]).default("tcp"))
    .option("--url <url>", "WebSocket (wss://…) or BOSH (https://…) endpoint for --transport (default: from host-meta, XEP-0156)", httpUrl)
    .option("--alpn <list>", "ALPN protocols to offer on direct TLS (default xmpp-client)", list)
    .option("--direct-tls-port <port>", "direct TLS (XEP-0368) port on --host for the direct TLS check (default: from _xmpps-client SRV records)", port)
    .option("--peer <jid>", "a second account on the same server for two-user scenarios (password in $XEPCHECK_PEER_PASSWORD)")
    .option("--scenario-timeout <seconds>", "deadline for one live scenario", positiveSeconds, 60)
    .option("--concurrency <n>", "live scenarios run at once against the server", positiveInt, 4)
    .option("--no-scenarios", "only judge what the server advertises; run no live scenario")
    .option("--suite <id>", "compliance suite to score against (repeatable; see `xepcheck suites`)", list, [])
    .option("--only <globs>", "run only checks whose id matches (comma-separated, * wildcard)", list, [])
    .option("--skip <globs>", "skip checks whose id matches (comma-separated, * wildcard)", list, [])
    .option("--sasl-mechanisms <list>", "SASL mechanisms to allow, strongest first (default: SCRAM-SHA-512,SCRAM-SHA-256,SCRAM-SHA-1,PLAIN)", list)
    .option("--json <file>", "write the JSON report to FILE (- for stdout)")
    .option("--require <gate>", "exit 1 unless suite:category:level is met, e.g. cs2023:im:advanced (repeatable)", list, [])
    .option("--baseline <file>", "accepted failures (reports/baseline.schema.json, or a previous report): exit 1 on any other fail/error")
    .option("--junit <file>", "write JUnit XML to FILE (a testsuite per spec, a testcase per check)")
    .option("--markdown <file>", "write a Markdown summary to FILE (e.g. $GITHUB_STEP_SUMMARY)")
    .option("--badge <file>", "write SVG badges to FILE: one per suite category if FILE contains {category} (and {suite}), else all in one")
    .addHelpText(
      "after",
      `
Examples:
  XEPCHECK_PASSWORD=secret xepcheck run alice@example.org
  xepcheck run example.org --register --json report.json
  xepcheck run alice@localhost --password-file pw.txt --host 127.0.0.1 --port 5222 --ca ca.pem
${EXIT_HELP}`,
    )
    .action(async (jid: string, flags: RunFlags) => {
      if (flags.suite.length === 0) flags.suite = ["cs2023"];
      for (const suite of flags.require.map((r) => r.split(":")[0]!)) if (suite && !flags.suite.includes(suite)) flags.suite.push(suite);
      process.exitCode = await run(jid, flags);
    });

  program
    .command("report")
    .description("re-render a saved JSON report (terminal summary, or the files asked for)")
    .argument("<report.json>", "a report written by xepcheck run --json")
    .option("--junit <file>", "write JUnit XML to FILE")
    .option("--markdown <file>", "write a Markdown summary to FILE")
    .option("--badge <file>", "write SVG badges to FILE (see run --badge for {category})")
    .action((file: string, flags: OutputFlags) => {
      const report = readReportFile(file);
      if (writeReportOutputs(report, flags).length === 0) process.stdout.write(renderTerminal(report, { color: useColor(process.stdout) }));
    });

  program
    .command("suites")
    .description("list the compliance suites and their requirements")
    .argument("[id]", "show only this suite")
    .action((id?: string) => {
      for (const suiteId of id ? [id] : listSuiteIds()) {
        const suite = loadSuite(suiteId);
        process.stdout.write(`${suite.id}  ${suite.title}  (${suite.spec.doc} ${suite.spec.version})\n`);
        for (const category of suite.categories) {
          process.stdout.write(`  ${category.title}${category.requires?.length ? ` (also requires: ${category.requires.join(", ")})` : ""}\n`);
          for (const r of suite.requirements.filter((x) => x.category === category.id)) {
            const specs = r.specs.map((s) => s.spec).join(r.rule === "all" ? " + " : " | ");
            process.stdout.write(`    ${r.id.padEnd(58)} ${specs.padEnd(10)} ${r.levels.join("+")}${r.component ? " (component)" : ""}\n`);
          }
        }
      }
    });

  program
    .command("checks")
    .description("list every check with its spec, level and title")
    .action(() => {
      for (const c of ALL_CHECKS) {
        process.stdout.write(`${c.id.padEnd(34)} ${c.spec.doc.padEnd(9)} §${c.spec.section.padEnd(6)} ${c.level.padEnd(6)} ${c.title}\n`);
      }
    });

  program
    .command("diff")
    .description("compare two JSON reports: regressions and improvements per check, spec and suite level; exit 1 on a regression")
    .argument("<old>", "the earlier report (JSON)")
    .argument("<new>", "the later report (JSON)")
    .option("--json <file>", "also write the differences as JSON to FILE (- for stdout)")
    .action((oldFile: string, newFile: string, flags: { json?: string }) => {
      const outcome = diffFiles(oldFile, newFile);
      const text = JSON.stringify(outcome.diff, null, 2) + "\n";
      if (flags.json === "-") process.stdout.write(text);
      else if (flags.json) writeFileSync(flags.json, text);
      (flags.json === "-" ? process.stderr : process.stdout).write(outcome.text);
      process.exitCode = outcome.regressed ? EXIT.gate : EXIT.ok;
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const sub of program.commands) sub.exitOverride();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help") return EXIT.ok;
      return EXIT.usage; // commander already printed what was wrong
    }
    if (err instanceof UsageError || err instanceof SuiteError || err instanceof GateInputError || err instanceof ReportFileError) {
      process.stderr.write(`xepcheck: ${err.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`xepcheck: internal error: ${(err as Error).stack ?? String(err)}\nPlease report this.\n`);
    return EXIT.internal;
  }
}
