/**
 * xepcheck's command line: the composition root. Parses arguments, turns
 * bad input into exit code 2 with a message that names it, and maps run
 * outcomes to the documented exit codes.
 */
import { writeFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { DEFAULT_MAX_DISCO_ITEMS, DEFAULT_MAX_STANZA_BYTES, DEFAULT_MAX_XML_DEPTH } from "../limits.js";
import { TOOL_VERSION } from "../version.js";
import { discoItemCount, dnsServer, httpUrl, list, port, positiveInt, positiveSeconds, stanzaBytes, xmlDepth } from "./arguments.js";
import { registerDoapCommands } from "./doap-command.js";
import { RUN_DEFAULTS } from "./defaults.js";
import { EXIT } from "./exit-codes.js";
import type { OutputFlags } from "./report-outputs.js";
import type { RunCommandFlags } from "./run-command.js";

// What the commands run is imported when one runs: `xepcheck --version` or a
// usage error loads commander and these few modules only.

export { EXIT } from "./exit-codes.js";

const EXIT_HELP = `
Exit codes:
  0  the run completed (whatever the verdicts)
  1  a --require or --baseline gate was not met; diff: a regression
  2  usage or configuration error
  3  could not connect to or log in to the server (with --targets: to any of them)
  4  internal error in xepcheck
  130  interrupted (SIGINT/SIGTERM): cleanup done, partial report written`;

function useColor(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== "0") return true;
  return Boolean(stream.isTTY);
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
    .argument("[jid]", "account to test as (user@domain), or a domain with --register; or --targets FILE")
    .option("--targets <file>", "test many servers listed in FILE (JSON, reports/targets.schema.json); credentials as environment variable names")
    .option("--shard <i/n>", "with --targets: test only slice i of n (target k goes to slice k mod n + 1); combine with xepcheck merge")
    .option("--quiet", "no progress on stderr (shown on a terminal, and as plain lines when $CI is set)")
    .option("--password-file <file>", "read the password from the first line of FILE (default: $XEPCHECK_PASSWORD)")
    .option("--register", "register a throw-away account in-band (XEP-0077) and remove it at the end")
    .option("--host <host>", "connect to this host instead of looking up DNS SRV records")
    .option("--port <port>", "port to connect to (with --host)", port)
    .addOption(new Option("--tls <mode>", "STARTTLS on a plain connection, or direct TLS (XEP-0368)").choices(["starttls", "direct"]).default(RUN_DEFAULTS.tls))
    .option("--ca <file>", "also trust the CA certificate(s) in this PEM file")
    .option("--insecure", "do not verify the server's TLS certificate (shown in every report)")
    .option("--timeout <seconds>", "deadline for each protocol step and expected stanza", positiveSeconds, RUN_DEFAULTS.timeout)
    .option("--max-stanza-size <bytes>", `close a session whose server sends a larger stanza (default ${DEFAULT_MAX_STANZA_BYTES}, 1 MiB)`, stanzaBytes)
    .option("--max-xml-depth <levels>", `close a session whose server nests a stanza deeper (default ${DEFAULT_MAX_XML_DEPTH}, from 8 to 1000)`, xmlDepth)
    .option("--max-disco-items <n>", `probe the disco#info of at most this many of the domain's disco#items; the rest are counted in a note (default ${DEFAULT_MAX_DISCO_ITEMS})`, discoItemCount)
    .option("--dns <server>", "DNS server for SRV lookups: IP or IP:port ([IPv6]:port) (default: the system's resolver)", dnsServer)
    .addOption(new Option("--transport <kind>", "transport of the main session (the others are probed too)").choices(["tcp", "websocket", "bosh"]).default(RUN_DEFAULTS.transport))
    .option("--url <url>", "WebSocket (wss://…) or BOSH (https://…) endpoint for --transport (default: from host-meta, XEP-0156)", httpUrl)
    .option("--alpn <list>", "ALPN protocols to offer on direct TLS (default xmpp-client)", list)
    .option("--direct-tls-port <port>", "direct TLS (XEP-0368) port on --host for the direct TLS check (default: from _xmpps-client SRV records)", port)
    .option("--peer <jid>", "a second account on the same server for two-user scenarios (password in $XEPCHECK_PEER_PASSWORD)")
    .option("--scenario-timeout <seconds>", "deadline for one live scenario", positiveSeconds, RUN_DEFAULTS.scenarioTimeout)
    .option("--concurrency <n>", "live scenarios run at once against the server", positiveInt, RUN_DEFAULTS.concurrency)
    .option("--max-connections <n>", "connections open at once to the server, the main session included (at least 2)", positiveInt, RUN_DEFAULTS.maxConnections)
    .option(
      "--max-account-sessions <n>",
      "sessions of one account open at once, the main session included (at least 2; ejabberd's and MongooseIM's default limit of 10 replaces the oldest past it)",
      positiveInt,
      RUN_DEFAULTS.maxAccountSessions,
    )
    .option("--component <domain:port>", "test XEP-0114 as this external component on --host (secret in $XEPCHECK_COMPONENT_SECRET)")
    .option("--no-scenarios", "only judge what the server advertises; run no live scenario")
    .option("--suite <id>", "compliance suite to score against (repeatable; see `xepcheck suites`)", list, [])
    .option("--only <globs>", "run only checks whose id matches (comma-separated, * wildcard)", list, [])
    .option("--skip <globs>", "skip checks whose id matches (comma-separated, * wildcard)", list, [])
    .option("--sasl-mechanisms <list>", "SASL mechanisms to allow, strongest first (default: SCRAM-SHA-512,SCRAM-SHA-256,SCRAM-SHA-1,PLAIN)", list)
    .option("--json <file>", "write the JSON report to FILE (- for stdout)")
    .option("--trace <file>", "write a debug log of every stanza sent and received, secrets redacted, to FILE (- for stderr)")
    .option("--require <gate>", "exit 1 unless suite:category:level is met, e.g. cs2023:im:advanced (repeatable)", list, [])
    .option("--baseline <file>", "accepted failures (reports/baseline.schema.json, or a previous report): exit 1 on any other fail/error")
    .option("--html <file>", "write the single-file HTML report to FILE (a matrix of specs x servers with --targets)")
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
  xepcheck run --targets servers.json --json all.json --html all.html
  xepcheck run --targets servers.json --shard 2/4 --json shard-2.json
${EXIT_HELP}`,
    )
    .action(async (jid: string | undefined, flags: RunCommandFlags, command: Command) => {
      if (flags.suite.length === 0) flags.suite = ["cs2023"];
      for (const suite of flags.require.map((r) => r.split(":")[0]!)) if (suite && !flags.suite.includes(suite)) flags.suite.push(suite);
      const { runCommand } = await import("./run-command.js");
      process.exitCode = await runCommand(jid, flags, command, useColor);
    });

  program
    .command("report")
    .description("re-render a saved JSON report (terminal summary, or the files asked for); gates apply to it as to a run")
    .argument("<report.json>", "a report written by xepcheck run --json or xepcheck merge (older versions are upgraded)")
    .option("--json <file>", "write the report (upgraded to the current version, with the gates' result) to FILE (- for stdout)")
    .option("--html <file>", "write the single-file HTML report to FILE")
    .option("--junit <file>", "write JUnit XML to FILE")
    .option("--markdown <file>", "write a Markdown summary to FILE")
    .option("--badge <file>", "write SVG badges to FILE (see run --badge for {category} and {target})")
    .option("--require <gate>", "exit 1 unless suite:category:level is met by every target (repeatable)", list, [])
    .option("--baseline <file>", "accepted failures: exit 1 on any other fail/error")
    .action(async (file: string, flags: OutputFlags & { json?: string; require: string[]; baseline?: string }) => {
      const { applyGates, gatesActive, gateSummary, prepareGates } = await import("../gates/cli.js");
      const { readReportFile, writeJsonReport, writeReportOutputs } = await import("./report-outputs.js");
      const { renderTerminal } = await import("../report/terminal.js");
      const gates = prepareGates(flags.require, flags.baseline);
      const report = readReportFile(file);
      let gateText = "";
      if (gatesActive(gates)) {
        const outcome = applyGates(report, gates);
        report.run.gates = gateSummary(outcome);
        gateText = outcome.text;
        process.exitCode = outcome.met ? EXIT.ok : EXIT.gate;
      }
      if (flags.json) writeJsonReport(report, flags.json);
      const human = flags.json === "-" ? process.stderr : process.stdout;
      if ((await writeReportOutputs(report, flags)).length === 0 && !flags.json) human.write(renderTerminal(report, { color: useColor(human) }));
      human.write(gateText);
    });

  program
    .command("merge")
    .description("combine reports (the shards of one targets file, or runs of different servers) into one")
    .argument("<reports...>", "JSON reports; older versions are upgraded, newer ones refused")
    .requiredOption("--json <file>", "write the merged report to FILE (- for stdout)")
    .action(async (files: string[], flags: { json: string }) => {
      const { mergeReports } = await import("../report/merge.js");
      const { readReportFile, writeJsonReport } = await import("./report-outputs.js");
      const merged = mergeReports(files.map((file) => ({ file, report: readReportFile(file) })));
      writeJsonReport(merged, flags.json);
      (flags.json === "-" ? process.stderr : process.stdout).write(
        `merged ${files.length} report(s): ${merged.targets.length} target(s)${merged.run.interrupted ? " (some interrupted)" : ""}\n`,
      );
    });

  program
    .command("suites")
    .description("list the compliance suites and their requirements")
    .argument("[id]", "show only this suite")
    .action(async (id?: string) => {
      const { listSuiteIds, loadSuite } = await import("../scoring/suite.js");
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
    .option("--rfc", "instead, every server requirement of RFC 6120 and RFC 6121: the check that tests it, or why none can (not observable from a client), or none yet")
    .action(async (flags: { rfc?: boolean }) => {
      const { ALL_CHECKS } = await import("../checks/index.js");
      if (flags.rfc) {
        const { rfcCoverage } = await import("../checks/rfc-requirements.js");
        process.stdout.write(rfcCoverage(ALL_CHECKS));
        return;
      }
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
    .action(async (oldFile: string, newFile: string, flags: { json?: string }) => {
      const { diffFiles } = await import("../gates/cli.js");
      const outcome = diffFiles(oldFile, newFile);
      const text = JSON.stringify(outcome.diff, null, 2) + "\n";
      if (flags.json === "-") process.stdout.write(text);
      else if (flags.json) writeFileSync(flags.json, text);
      (flags.json === "-" ? process.stderr : process.stdout).write(outcome.text);
      process.exitCode = outcome.regressed ? EXIT.gate : EXIT.ok;
    });

  registerDoapCommands(program, EXIT);

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
    if (await isUsageError(err)) {
      process.stderr.write(`xepcheck: ${(err as Error).message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`xepcheck: internal error: ${(err as Error).stack ?? String(err)}\nPlease report this.\n`);
    return EXIT.internal;
  }
}

/**
 * Bad input the user can fix (exit 2 with the message): the error classes of
 * the modules a command loaded, imported only once something went wrong.
 */
async function isUsageError(err: unknown): Promise<boolean> {
  const [{ UsageError }, { SuiteError }, { GateInputError }, { ReportFileError }] = await Promise.all([
    import("./arguments.js"),
    import("../scoring/suite.js"),
    import("../gates/errors.js"),
    import("../report/read.js"),
  ]);
  return err instanceof UsageError || err instanceof SuiteError || err instanceof GateInputError || err instanceof ReportFileError;
}
