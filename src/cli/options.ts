/**
 * The options of `xepcheck run` and their validation: flags (or a targets
 * file entry, see targets-file.ts) become RunOptions, or a UsageError that
 * names what is wrong (exit 2).
 */
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { isIP } from "node:net";
import path from "node:path";
import { selectChecks, splitJid, type RunOptions } from "../runner/run.js";
import { loadSuite } from "../scoring/suite.js";
import { scramVariant } from "../session/scram.js";
import type { OutputFlags } from "./report-outputs.js";

export { UsageError, discoItemCount, dnsServer, httpUrl, list, port, positiveInt, positiveSeconds, stanzaBytes, xmlDepth } from "./arguments.js";
import { UsageError } from "./arguments.js";

/** `text` safe to quote in a message: control and invisible characters as \u{…}, long text cut. */
export function printable(text: string, max = 80): string {
  const cut = [...text].length > max ? [...text].slice(0, max).join("") + "…" : text;
  return cut.replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16).toUpperCase()}}`);
}

const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8");

/**
 * RFC 7622 §3.3 (PRECIS IdentifierClass, RFC 8264 §9.1): ASCII printables
 * and letters, digits and combining marks. Symbols, punctuation, spaces,
 * controls and compatibility characters (ﬁ) are not allowed; the context
 * rules and the bidi rule are not checked.
 */
function localCharProblem(c: string): string | undefined {
  const name = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
  // Width mapping (RFC 8265 §3.3.2) turns full-width ASCII into ASCII first.
  const mapped = /^[\uff01-\uff5e]$/.test(c) ? c.normalize("NFKC") : c;
  if (`"&'/:<>@`.includes(mapped)) return `'${c}', which RFC 7622 §3.3.1 excludes from local parts`;
  if (/^[\x21-\x7e]$/.test(mapped)) return undefined;
  if (/^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]$/u.test(c)) return `the control, invisible or unassigned character ${name}`;
  if (/^\p{Z}$/u.test(c)) return `a space (${name})`;
  if (!/^[\p{Ll}\p{Lu}\p{Lo}\p{Lm}\p{Mn}\p{Mc}\p{Nd}]$/u.test(c) || c.normalize("NFKC") !== c) {
    return `${name} (${c}), which the PRECIS IdentifierClass of RFC 7622 does not allow`;
  }
  return undefined;
}

/**
 * What is wrong with `jid` as a bare JID (RFC 7622), or undefined. Domains
 * are host names (A-labels for internationalized ones: give the xn-- form),
 * as xepcheck looks them up in DNS.
 */
export function bareJidProblem(jid: string): string | undefined {
  if (jid === "") return "is empty";
  if (jid.includes("/")) return `has a resource ("/…"): give the bare JID, user@domain`;
  const ats = jid.split("@").length - 1;
  if (ats > 1) return `has ${ats} '@': a JID has at most one, between the local part and the domain`;
  const { local, domain } = splitJid(jid);
  if (local !== undefined) {
    if (local === "") return "has an empty local part before '@'";
    if (utf8Bytes(local) > 1023) return `has a local part of ${utf8Bytes(local)} bytes: RFC 7622 allows at most 1023`;
    for (const c of local) {
      const problem = localCharProblem(c);
      if (problem) return `has ${problem}, in its local part`;
    }
  }
  if (domain === "") return "has an empty domain after '@'";
  // RFC 7622 allows 1023 bytes; a domain looked up in DNS has at most 253 characters.
  if (domain.length > 253) return `has a domain of ${domain.length} characters: a DNS name has at most 253`;
  if (!/^[A-Za-z0-9.-]+$/.test(domain)) {
    return `has a domain that is not a host name: only ASCII letters, digits, '.' and '-' (an internationalized domain in its xn-- form)`;
  }
  for (const label of domain.split(".")) {
    if (label === "") return "has an empty label in its domain (a leading, trailing or double '.')";
    if (label.length > 63) return `has a domain label of ${label.length} characters: DNS allows at most 63`;
    if (label.startsWith("-") || label.endsWith("-")) return `has a domain label "${label}" that starts or ends with '-'`;
  }
  return undefined;
}

/** `--host`: a host name or an IP address (no brackets, no port: that is --port). */
function isHost(host: string): boolean {
  return isIP(host) !== 0 || (!host.includes("@") && bareJidProblem(host) === undefined);
}

/** SASL mechanisms xepcheck can carry out (session/login.ts authenticate). */
function knownMechanism(name: string): boolean {
  return name === "PLAIN" || scramVariant(name) !== undefined;
}

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
  trace?: string;
  maxStanzaSize?: number;
  maxXmlDepth?: number;
  maxDiscoItems?: number;
  /** Connections open at once to the server, the main session included. */
  maxConnections: number;
  maxAccountSessions: number;
  /** DOMAIN:PORT of an external component to test XEP-0114 as (secret in XEPCHECK_COMPONENT_SECRET). */
  component?: string;
  saslMechanisms?: string[];
  require: string[];
  baseline?: string;
}

/** Turns flags into RunOptions, or throws UsageError naming what is wrong. */
export function runOptionsFrom(jid: string, flags: RunFlags, env: NodeJS.ProcessEnv): RunOptions {
  const jidProblem = bareJidProblem(jid);
  if (jidProblem) throw new UsageError(`JID "${printable(jid)}" ${jidProblem}: expected user@domain (or a domain with --register)`);
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
  if (flags.peer !== undefined) {
    if (flags.register) throw new UsageError("--register creates its own second account: leave out --peer");
    const peerProblem = bareJidProblem(flags.peer) ?? (splitJid(flags.peer).local === undefined ? "has no local part" : undefined);
    if (peerProblem) throw new UsageError(`--peer "${printable(flags.peer)}" ${peerProblem}: expected a user@domain JID`);
    if (splitJid(flags.peer).domain.toLowerCase() !== splitJid(jid).domain.toLowerCase()) {
      throw new UsageError(`--peer ${flags.peer} must be on the same domain as ${jid}`);
    }
    // Two-user scenarios with one account would judge the server on messages to oneself.
    if (flags.peer.toLowerCase() === jid.toLowerCase()) throw new UsageError(`--peer ${flags.peer} is the account under test: give a second account`);
    const peerPassword = env.XEPCHECK_PEER_PASSWORD;
    if (!peerPassword) throw new UsageError(`no password for --peer ${flags.peer}: set XEPCHECK_PEER_PASSWORD`);
    peer = { jid: flags.peer, password: peerPassword };
  }
  if (flags.host !== undefined && !isHost(flags.host)) {
    throw new UsageError(`--host "${printable(flags.host)}" is not a host name or IP address (the port goes in --port)`);
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
  if (!Number.isInteger(flags.maxConnections) || flags.maxConnections < 2) {
    throw new UsageError(`--max-connections ${flags.maxConnections}: at least 2 (the main session stays open while scenarios connect)`);
  }
  if (!Number.isInteger(flags.maxAccountSessions) || flags.maxAccountSessions < 2) {
    throw new UsageError(`--max-account-sessions ${flags.maxAccountSessions}: at least 2 (the main session is one of them)`);
  }
  let component: RunOptions["component"];
  if (flags.component !== undefined) {
    const m = /^([^:\s]+):(\d{1,5})$/.exec(flags.component);
    const problem = !m ? "is not DOMAIN:PORT" : bareJidProblem(m[1]!) ?? (Number(m[2]) < 1 || Number(m[2]) > 65535 ? "has no valid port" : undefined);
    if (problem || !m) throw new UsageError(`--component "${printable(flags.component)}" ${problem}: give the component's name and the server's component port, e.g. ext.example.org:5347`);
    if (!flags.host) throw new UsageError("--component needs --host: the component port is on the server host, which DNS does not name");
    const secret = env.XEPCHECK_COMPONENT_SECRET;
    if (!secret) throw new UsageError(`no secret for --component ${flags.component}: set XEPCHECK_COMPONENT_SECRET`);
    component = { domain: m[1]!, port: Number(m[2]), secret };
  }
  if (flags.saslMechanisms) {
    if (flags.saslMechanisms.length === 0) throw new UsageError("--sasl-mechanisms lists no mechanism: leave it out to allow the default ones");
    const unknown = flags.saslMechanisms.find((m) => !knownMechanism(m));
    if (unknown !== undefined) {
      throw new UsageError(`--sasl-mechanisms: xepcheck cannot authenticate with "${printable(unknown)}" (it knows PLAIN and SCRAM-SHA-1, -256, -512 and their -PLUS variants, in capitals)`);
    }
  }
  const longAlpn = flags.alpn?.find((p) => utf8Bytes(p) > 255);
  if (longAlpn !== undefined) throw new UsageError(`--alpn: "${printable(longAlpn)}" is ${utf8Bytes(longAlpn)} bytes; an ALPN protocol id has at most 255`);
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
    ...(flags.maxStanzaSize ? { maxStanzaBytes: flags.maxStanzaSize } : {}),
    ...(flags.maxXmlDepth ? { maxXmlDepth: flags.maxXmlDepth } : {}),
    ...(flags.maxDiscoItems ? { maxDiscoItems: flags.maxDiscoItems } : {}),
    maxConnections: flags.maxConnections,
    maxAccountSessions: flags.maxAccountSessions,
    ...(component ? { component } : {}),
  };
}

/**
 * The report files are written after the run: a directory that is not
 * there, or a --badge name that cannot hold every target, is found now
 * rather than after minutes of testing.
 */
export function checkOutputFiles(flags: OutputFlags & { json?: string }, targets: number, suites: number): void {
  const files: [string, string | undefined][] = [
    ["--json", flags.json === "-" ? undefined : flags.json],
    ["--html", flags.html],
    ["--junit", flags.junit],
    ["--markdown", flags.markdown],
    ["--badge", flags.badge],
  ];
  for (const [flag, file] of files) {
    if (!file) continue;
    const dir = path.dirname(file);
    if (dir.includes("{")) continue; // a --badge directory named per target or suite
    try {
      if (!statSync(dir).isDirectory()) throw new UsageError(`${flag} ${file}: ${dir} is not a directory`);
      accessSync(dir, constants.W_OK);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`${flag} ${file}: cannot write to directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${flag} ${file} is a directory`);
  }
  if (flags.badge && targets > 1 && !flags.badge.includes("{target}")) {
    throw new UsageError(`--badge ${flags.badge}: ${targets} targets would write the same file; add {target} to the name`);
  }
  if (flags.badge?.includes("{category}") && suites > 1 && !flags.badge.includes("{suite}")) {
    throw new UsageError(`--badge ${flags.badge}: ${suites} suites would write the same files; add {suite} to the name`);
  }
}
