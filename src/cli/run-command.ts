/**
 * `xepcheck run`: one account given on the command line, or many servers
 * from a targets file (optionally one --shard of it). Either way the same
 * runner, one report, the same reporters and gates.
 */
import type { Command } from "commander";
import { applyGates, gatesActive, gateSummary, prepareGates } from "../gates/cli.js";
import { renderTerminal } from "../report/terminal.js";
import type { Report } from "../report/types.js";
import { runTargets, type TargetToRun } from "../runner/many.js";
import { selectChecks, splitJid } from "../runner/run.js";
import { Progress, targetDoneSummary } from "./progress.js";
import { assembleReport } from "../runner/report.js";
import { parseShard, shardSlice, type Shard } from "../runner/shard.js";
import { loadSuite, SuiteError } from "../scoring/suite.js";
import { checkOutputFiles, runOptionsFrom, UsageError, type RunFlags } from "./options.js";
import { writeJsonReport, writeReportOutputs } from "./report-outputs.js";
import { loadTargetsFile } from "./targets-file.js";
import { TraceError, TraceSink } from "../session/trace.js";

export interface RunCommandFlags extends RunFlags {
  targets?: string;
  shard?: string;
  quiet?: boolean;
}

export { EXIT } from "./exit-codes.js";
import { EXIT } from "./exit-codes.js";

/**
 * The first SIGINT/SIGTERM aborts: no new scenario or target starts, running
 * scenarios finish and clean up, throw-away accounts are removed, and the
 * partial report is written. A second one quits at once.
 */
function interruptOnSignals(say: (text: string) => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      say(`xepcheck: ${name} again: quitting without cleaning up (throw-away accounts or test data may be left on the server)`);
      process.exit(EXIT.interrupted);
    }
    say(`xepcheck: ${name}: finishing the running scenarios and their cleanup, then writing a partial report (${name === "SIGINT" ? "Ctrl-C" : name} again to quit at once)`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

/** Options that describe one server: with --targets they belong in the file. */
const PER_TARGET_FLAGS = [
  "passwordFile", "register", "host", "port", "tls", "ca", "insecure", "timeout", "scenarioTimeout", "concurrency", "scenarios",
  "peer", "dns", "transport", "url", "alpn", "directTlsPort", "only", "skip", "saslMechanisms", "maxStanzaSize", "maxXmlDepth", "maxDiscoItems",
  "maxConnections", "maxAccountSessions", "component",
];

const kebab = (flag: string) => `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

interface Plan {
  targets: TargetToRun[];
  parallel: number;
  perServer: number;
  shard?: Shard;
}

/** Options naming a file: given empty (--json "" from an unset shell variable), they must not be ignored. */
const FILE_FLAGS = ["targets", "passwordFile", "ca", "baseline", "json", "trace", "html", "junit", "markdown", "badge"] as const;

function plan(jid: string | undefined, flags: RunCommandFlags, command: Command): Plan {
  const empty = FILE_FLAGS.find((f) => flags[f] === "");
  if (empty) throw new UsageError(`${kebab(empty)} needs a file name, not ""`);
  // Once, before any target: a bad --suite is the command line's, not a target's.
  const suites = new Set<string>();
  for (const id of flags.suite) {
    try {
      suites.add(loadSuite(id).id);
    } catch (err) {
      if (err instanceof SuiteError) throw new UsageError(`--suite ${id}: ${err.message}`);
      throw err;
    }
  }
  let p: Plan;
  if (flags.targets !== undefined) {
    if (jid) throw new UsageError(`give either a JID or --targets ${flags.targets}, not both`);
    const given = PER_TARGET_FLAGS.filter((f) => command.getOptionValueSource(f) === "cli");
    if (given.length) {
      throw new UsageError(`${given.map(kebab).join(", ")} describe(s) one server: with --targets, set it in the targets file (per target or in "defaults")`);
    }
    const file = loadTargetsFile(flags.targets, process.env, flags.suite);
    let shard: Shard | undefined;
    if (flags.shard !== undefined) {
      const parsed = parseShard(flags.shard);
      if (typeof parsed === "string") throw new UsageError(`--shard ${parsed}`);
      shard = parsed;
    }
    const targets = shard ? shardSlice(file.targets, shard) : file.targets;
    p = { targets, parallel: file.parallel, perServer: file.perServer, ...(shard ? { shard } : {}) };
  } else {
    if (flags.shard !== undefined) throw new UsageError("--shard slices a targets file: use it with --targets FILE");
    if (!jid) throw new UsageError("give the JID to test as (user@domain, or a domain with --register), or --targets FILE");
    const options = runOptionsFrom(jid, flags, process.env);
    const { domain } = splitJid(jid);
    p = { targets: [{ name: domain, server: options.host ?? domain, options }], parallel: 1, perServer: 1 };
  }
  checkOutputFiles(flags, p.targets.length, suites.size);
  return p;
}

export async function runCommand(jid: string | undefined, flags: RunCommandFlags, command: Command, color: (s: NodeJS.WriteStream) => boolean): Promise<number> {
  const gates = prepareGates(flags.require, flags.baseline);
  const p = plan(jid, flags, command);
  // With --json -, stdout carries the JSON; people read stderr.
  const human = flags.json === "-" ? process.stderr : process.stdout;
  const started = new Date();
  let loginFailures = 0;
  let trace: TraceSink | undefined;
  try {
    trace = flags.trace ? TraceSink.open(flags.trace) : undefined;
  } catch (err) {
    if (err instanceof TraceError) throw new UsageError(err.message);
    throw err;
  }
  const progress = new Progress({ stream: process.stderr, quiet: Boolean(flags.quiet) });
  const interrupt = interruptOnSignals((text) => progress.log(text));
  try {
    for (const t of p.targets) t.options.signal = interrupt.signal;
    const targets = await runTargets(p.targets, { ...p, ...(trace ? { trace } : {}) }, {
      forTarget: (t) => {
        progress.targetStarted(t.name, selectChecks(t.options.only, t.options.skip, t.options.scenarios).length);
        return {
          onCheckStarted: (id) => progress.checkStarted(t.name, id),
          onCheckDone: (result, done, total) => progress.checkDone(t.name, result, done, total),
        };
      },
      onTargetDone: (report) => progress.targetDone(report.name, targetDoneSummary(report)),
      onLoginFailure: (name, failure) => {
        loginFailures++;
        progress.log(`xepcheck: could not log in to ${name} (step ${failure.cause.step}): ${failure.cause.message}`);
      },
    });
    progress.end();
    const interrupted = interrupt.signal.aborted;
    const report: Report = assembleReport(targets, started, { interrupted, ...(p.shard ? { shard: p.shard } : {}) });
    // A single target that could not be logged in to has nothing to gate or show: stderr said why.
    const onlyFailure = loginFailures === report.targets.length;
    let code: number = loginFailures > 0 ? EXIT.login : EXIT.ok;
    let gateText = "";
    if (gatesActive(gates) && !onlyFailure) {
      const outcome = applyGates(report, gates);
      report.run.gates = gateSummary(outcome);
      gateText = outcome.text;
      if (!outcome.met && code === EXIT.ok) code = EXIT.gate;
    }
    if (flags.json) writeJsonReport(report, flags.json);
    // JUnit and Markdown also say why a login failed.
    await writeReportOutputs(report, flags);
    if (!onlyFailure) human.write(renderTerminal(report, { color: color(human) }) + gateText);
    return interrupted ? EXIT.interrupted : code;
  } finally {
    interrupt.dispose();
    try {
      trace?.close();
    } catch (err) {
      process.stderr.write(`xepcheck: ${(err as Error).message}\n`);
    }
  }
}
