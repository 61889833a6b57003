/**
 * The options of `xepcheck run` and their validation: flags (or a targets
 * file entry, see targets-file.ts) become RunOptions, or a UsageError that
 * names what is wrong (exit 2).
 */
import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "commander";
import { selectChecks, splitJid, type RunOptions } from "../runner/run.js";
import { loadSuite } from "../scoring/suite.js";
import type { OutputFlags } from "./report-outputs.js";

/** Bad input the user can fix: exit 2 with the message. */
export class UsageError extends Error {
  override name = "UsageError";
}

export function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(",").map((s) => s.trim()).filter(Boolean)];
}

export function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new InvalidArgumentError("must be a number of seconds between 0 and 3600");
  return n;
}

export function dnsServer(value: string): string {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+)(?::(\d{1,5}))?$/.exec(value);
  if (!m || (m[2] && (Number(m[2]) < 1 || Number(m[2]) > 65535))) throw new InvalidArgumentError("must be host or host:port, e.g. 127.0.0.1:5353");
  return value;
}

export function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("must be a URL");
  }
  if (!["ws:", "wss:", "http:", "https:"].includes(url.protocol)) throw new InvalidArgumentError("must be a ws(s):// or http(s):// URL");
  return value;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError("must be a whole number from 1 to 64");
  return n;
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError("must be a port number from 1 to 65535");
  return n;
}

export const JID_PATTERN = /^(?:[^@/\s"&'<>:]+@)?[A-Za-z0-9.-]+$/;

export interface RunFlags extends OutputFlags {
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

