/**
 * The targets file of `xepcheck run --targets FILE` (reports/targets.schema.json):
 * many servers, each with its own options, credentials only as the names of
 * environment variables. Validated with ajv, then each target through the
 * same checks as the command line; every problem names the target and field.
 */
import { RUN_DEFAULTS } from "./defaults.js";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv } from "ajv";
import { InvalidArgumentError } from "commander";
import { projectRoot } from "../paths.js";
import { splitJid, type RunOptions } from "../runner/run.js";
import { dnsServer, httpUrl, printable, runOptionsFrom, UsageError, type RunFlags } from "./options.js";

export class TargetsFileError extends UsageError {
  override name = "TargetsFileError";
}

type Options = {
  register?: boolean;
  host?: string;
  port?: number;
  tls?: "starttls" | "direct";
  ca?: string;
  insecure?: boolean;
  timeout?: number;
  scenarioTimeout?: number;
  concurrency?: number;
  scenarios?: boolean;
  dns?: string;
  transport?: "tcp" | "websocket" | "bosh";
  url?: string;
  alpn?: string[];
  directTlsPort?: number;
  only?: string[];
  skip?: string[];
  saslMechanisms?: string[];
  maxStanzaSize?: number;
  maxXmlDepth?: number;
  maxDiscoItems?: number;
  maxConnections?: number;
  maxAccountSessions?: number;
};

interface TargetEntry extends Options {
  name: string;
  jid?: string;
  passwordEnv?: string;
  peer?: { jid: string; passwordEnv: string };
  component?: { domain: string; port: number; secretEnv: string };
}

interface TargetsFile {
  parallel?: number;
  perServer?: number;
  defaults?: Options & Record<string, unknown>;
  targets: TargetEntry[];
}

export interface PlannedTarget {
  name: string;
  /** Targets with the same server key share the per-server limit: the host connected to, or the domain. */
  server: string;
  options: RunOptions;
}

export interface TargetPlan {
  file: string;
  /** Targets tested at once (global limit). */
  parallel: number;
  /** Targets tested at once on one server. */
  perServer: number;
  targets: PlannedTarget[];
}

let validator: ReturnType<Ajv["compile"]> | undefined;

function schemaProblems(data: unknown): string[] {
  if (!validator) {
    const schema = JSON.parse(readFileSync(path.join(projectRoot(), "reports", "targets.schema.json"), "utf8"));
    validator = new Ajv({ allErrors: true }).compile(schema);
  }
  if (validator(data)) return [];
  return (validator.errors ?? []).map((e) => {
    const where = e.instancePath || "(top level)";
    if (e.keyword === "additionalProperties") return `${where}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    if (e.keyword === "enum") return `${where} ${e.message}: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(", ")}`;
    return `${where} ${e.message}`;
  });
}

const DEFAULT_FLAGS: Omit<RunFlags, "suite" | "require"> = { ...RUN_DEFAULTS, only: [], skip: [] };

/**
 * Reads and checks a targets file. `suites` are those of the command line;
 * relative `ca` paths are relative to the targets file.
 */
export function loadTargetsFile(file: string, env: NodeJS.ProcessEnv, suites: string[]): TargetPlan {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // The parser quotes the text, which may be anything: shown escaped and cut.
    throw new TargetsFileError(e.code ? `cannot read --targets ${file}: ${e.code}` : `--targets ${file} is not valid JSON: ${printable(e.message, 160)}`);
  }
  const problems = schemaProblems(data);
  if (problems.length) {
    throw new TargetsFileError(`--targets ${file} is invalid: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ""}`);
  }
  const doc = data as TargetsFile;
  for (const field of ["name", "jid", "passwordEnv", "peer"]) {
    if (doc.defaults && field in doc.defaults) throw new TargetsFileError(`--targets ${file}: /defaults: "${field}" belongs to each target, not to the defaults`);
  }
  const seen = new Set<string>();
  const targets = doc.targets.map((entry, i) => {
    const where = `--targets ${file}: /targets/${i} ("${entry.name}")`;
    if (seen.has(entry.name)) throw new TargetsFileError(`${where}: the name is used twice; names must be unique`);
    seen.add(entry.name);
    const merged: TargetEntry = { ...doc.defaults, ...entry };
    try {
      return planTarget(merged, file, env, suites);
    } catch (err) {
      if (err instanceof UsageError) throw new TargetsFileError(`${where}: ${err.message}`);
      throw err;
    }
  });
  return { file, parallel: doc.parallel ?? 4, perServer: doc.perServer ?? 1, targets };
}

function planTarget(t: TargetEntry, file: string, env: NodeJS.ProcessEnv, suites: string[]): PlannedTarget {
  if (!t.jid) throw new UsageError(`no "jid": give user@domain, or a domain with "register": true`);
  if (t.register && t.passwordEnv) throw new UsageError(`"register" creates its own account: leave out "passwordEnv"`);
  if (!t.register && !t.passwordEnv) throw new UsageError(`no "passwordEnv": name the environment variable holding the password of ${t.jid}`);
  // Only the variable's name is in the file; a missing or empty variable is named, its value never.
  const secret = (name: string, field: string) => {
    const value = env[name];
    if (!value) throw new UsageError(`"${field}": environment variable ${name} is ${value === undefined ? "not set" : "empty"}`);
    return value;
  };
  // The schema checks the shape; the command line's parsers check the rest.
  for (const [field, parse] of [["dns", dnsServer], ["url", httpUrl]] as const) {
    const value = t[field];
    if (value === undefined) continue;
    try {
      parse(value);
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw new UsageError(`"${field}" "${printable(value)}" ${err.message}`);
      throw err;
    }
  }
  const runEnv: NodeJS.ProcessEnv = {
    ...(t.passwordEnv ? { XEPCHECK_PASSWORD: secret(t.passwordEnv, "passwordEnv") } : {}),
    ...(t.peer ? { XEPCHECK_PEER_PASSWORD: secret(t.peer.passwordEnv, "peer.passwordEnv") } : {}),
    ...(t.component ? { XEPCHECK_COMPONENT_SECRET: secret(t.component.secretEnv, "component.secretEnv") } : {}),
  };
  const flags: RunFlags = {
    ...DEFAULT_FLAGS,
    ...(t.register !== undefined ? { register: t.register } : {}),
    ...(t.host ? { host: t.host } : {}),
    ...(t.port ? { port: t.port } : {}),
    ...(t.tls ? { tls: t.tls } : {}),
    ...(t.ca ? { ca: path.resolve(path.dirname(file), t.ca) } : {}),
    ...(t.insecure !== undefined ? { insecure: t.insecure } : {}),
    ...(t.timeout !== undefined ? { timeout: t.timeout } : {}),
    ...(t.scenarioTimeout !== undefined ? { scenarioTimeout: t.scenarioTimeout } : {}),
    ...(t.concurrency !== undefined ? { concurrency: t.concurrency } : {}),
    ...(t.scenarios !== undefined ? { scenarios: t.scenarios } : {}),
    ...(t.dns ? { dns: t.dns } : {}),
    ...(t.transport ? { transport: t.transport } : {}),
    ...(t.url ? { url: t.url } : {}),
    ...(t.alpn ? { alpn: t.alpn } : {}),
    ...(t.directTlsPort ? { directTlsPort: t.directTlsPort } : {}),
    ...(t.only ? { only: t.only } : {}),
    ...(t.skip ? { skip: t.skip } : {}),
    ...(t.saslMechanisms ? { saslMechanisms: t.saslMechanisms } : {}),
    ...(t.maxStanzaSize ? { maxStanzaSize: t.maxStanzaSize } : {}),
    ...(t.maxXmlDepth ? { maxXmlDepth: t.maxXmlDepth } : {}),
    ...(t.maxDiscoItems ? { maxDiscoItems: t.maxDiscoItems } : {}),
    ...(t.maxConnections !== undefined ? { maxConnections: t.maxConnections } : {}),
    ...(t.maxAccountSessions !== undefined ? { maxAccountSessions: t.maxAccountSessions } : {}),
    ...(t.component ? { component: `${t.component.domain}:${t.component.port}` } : {}),
    ...(t.peer ? { peer: t.peer.jid } : {}),
    suite: suites,
    require: [],
  };
  const options = runOptionsFrom(t.jid, flags, runEnv);
  const { domain } = splitJid(t.jid);
  return { name: t.name, server: t.host ?? domain, options: { ...options, name: t.name } };
}
