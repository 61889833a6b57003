/**
 * Where to connect: --host/--port when given, else DNS SRV (RFC 6120 §3.2,
 * XEP-0368 §3 for direct TLS), else the domain itself on the default port.
 *
 * SRV records are ordered as RFC 2782 says: lowest priority first; within a
 * priority, a weighted random pick, repeated (weight-0 records first in the
 * candidate list, so they are chosen only rarely). The random source can be
 * given, which makes the order deterministic for tests.
 *
 * With a DNS server given (--dns host[:port]) every lookup goes there: the
 * SRV records and the addresses of their targets (A, then AAAA). Without
 * one, SRV goes to the system's resolver and host names are left to the
 * operating system when connecting.
 */
import { promises as dns } from "node:dns";
import net from "node:net";
import { SessionError } from "./errors.js";

export interface Endpoint {
  /** What to connect to: a host name, or an address when --dns resolved it. */
  host: string;
  port: number;
  /** How it was found: "configured", "srv", "fallback". */
  source: "configured" | "srv" | "fallback";
  /** The host name before its address was looked up (SRV target or domain), when `host` is an address we resolved. */
  name?: string;
  /** The SRV service it came from. */
  service?: SrvService;
}

export const DEFAULT_PORT = { starttls: 5222, direct: 5223 } as const;

export type SrvService = "_xmpp-client._tcp" | "_xmpps-client._tcp";

export const SERVICE: Record<"starttls" | "direct", SrvService> = {
  starttls: "_xmpp-client._tcp",
  direct: "_xmpps-client._tcp",
};

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

/** What one SRV question got. */
export type SrvAnswer =
  | { service: SrvService; query: string; status: "records"; records: SrvRecord[] }
  /** NXDOMAIN or no SRV data: the domain publishes no such record. */
  | { service: SrvService; query: string; status: "none"; code?: string }
  /** A single record with target ".": the service is decidedly not offered (RFC 2782). */
  | { service: SrvService; query: string; status: "not-offered" }
  /** The question got no usable answer (timeout, SERVFAIL, refused). */
  | { service: SrvService; query: string; status: "error"; code?: string; message: string };

export interface ResolveOptions {
  /** DNS server for every lookup, "host", "host:port" or "[v6]:port" (--dns); default: the system's. */
  dns?: string;
  /** Deadline of one DNS question in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Uniform random numbers in [0, 1) for the RFC 2782 weighted order (default Math.random). */
  random?: () => number;
  /** SRV lookup (tests); default: node:dns, through `dns` when given. */
  lookup?: (name: string) => Promise<SrvRecord[]>;
  /** Address lookup of a host name (tests); default: A then AAAA through `dns`, only when `dns` is given. */
  addresses?: (name: string) => Promise<string[]>;
}

const NO_RECORD = new Set(["ENOTFOUND", "ENODATA", "NOTFOUND", "NODATA"]);

/** A node:dns Resolver asking `server` (or the system's servers). */
export function makeResolver(server: string | undefined, timeoutMs = 5000): dns.Resolver {
  const resolver = new dns.Resolver({ timeout: Math.max(100, Math.min(timeoutMs, 10_000)), tries: 2 });
  if (server) resolver.setServers([server]);
  return resolver;
}

function isTarget(name: string): boolean {
  return name !== "" && name !== ".";
}

/** RFC 2782 order. `random` gives uniform numbers in [0, 1). */
export function orderSrv(records: SrvRecord[], random: () => number = Math.random): SrvRecord[] {
  const priorities = [...new Set(records.map((r) => r.priority))].sort((a, b) => a - b);
  const ordered: SrvRecord[] = [];
  for (const priority of priorities) {
    const same = records.filter((r) => r.priority === priority);
    // "arrange all SRV RRs (that have not been ordered yet) in any order, except
    // that all those with weight 0 are placed at the beginning of the list":
    // sorted by target and port, so the order depends on the records and the
    // random numbers only, not on the order the DNS server answered in.
    const byName = (a: SrvRecord, b: SrvRecord) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.port - b.port);
    const remaining = [...same.filter((r) => r.weight === 0).sort(byName), ...same.filter((r) => r.weight !== 0).sort(byName)];
    while (remaining.length > 0) {
      const sum = remaining.reduce((acc, r) => acc + r.weight, 0);
      // "choose a uniform random number between 0 and the sum computed (inclusive)"
      const pick = Math.min(sum, Math.floor(random() * (sum + 1)));
      let running = 0;
      let index = remaining.findIndex((r) => (running += r.weight) >= pick);
      if (index < 0) index = remaining.length - 1;
      ordered.push(remaining.splice(index, 1)[0]!);
    }
  }
  return ordered;
}

/** Asks for the `service` SRV records of `domain` and classifies the answer. */
export async function lookupSrv(domain: string, service: SrvService, options: ResolveOptions = {}): Promise<SrvAnswer> {
  const query = `${service}.${domain}`;
  const lookup = options.lookup ?? ((name: string) => makeResolver(options.dns, options.timeoutMs).resolveSrv(name));
  let records: SrvRecord[];
  try {
    records = await lookup(query);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code && NO_RECORD.has(code)) return { service, query, status: "none", code };
    return { service, query, status: "error", ...(code ? { code } : {}), message: (err as Error).message };
  }
  if (records.length === 0) return { service, query, status: "none" };
  // RFC 2782: a single record with target "." (node gives "") means "not offered".
  if (records.length === 1 && !isTarget(records[0]!.name)) return { service, query, status: "not-offered" };
  return { service, query, status: "records", records: records.filter((r) => isTarget(r.name)) };
}

/** Addresses of `name` through `server`: A records, and AAAA when there is no A. */
export async function lookupAddresses(name: string, server: string | undefined, timeoutMs?: number): Promise<string[]> {
  if (net.isIP(name)) return [name];
  const resolver = makeResolver(server, timeoutMs);
  const v4 = await resolver.resolve4(name).catch((err: NodeJS.ErrnoException) => {
    if (err.code && NO_RECORD.has(err.code)) return [] as string[];
    throw err;
  });
  if (v4.length > 0) return v4;
  return resolver.resolve6(name).catch((err: NodeJS.ErrnoException) => {
    if (err.code && NO_RECORD.has(err.code)) return [] as string[];
    throw err;
  });
}

function dnsError(message: string): SessionError {
  return new SessionError("network", "dns", message);
}

/**
 * The endpoints to try in order for `mode` (the next one only when the
 * previous cannot be reached, RFC 6120 §3.2.1). Throws SessionError (step
 * "dns") when DNS says the service is not offered, or when nothing can be found.
 */
export async function resolveEndpoints(
  domain: string,
  mode: "starttls" | "direct",
  configured: { host?: string; port?: number },
  options: ResolveOptions | ((name: string) => Promise<SrvRecord[]>) = {},
): Promise<Endpoint[]> {
  const opts: ResolveOptions = typeof options === "function" ? { lookup: options } : options;
  if (configured.host) {
    return [{ host: configured.host, port: configured.port ?? DEFAULT_PORT[mode], source: "configured" }];
  }
  const service = SERVICE[mode];
  const answer = await lookupSrv(domain, service, opts);
  const via = opts.dns ? ` (DNS server ${opts.dns})` : "";
  if (answer.status === "not-offered") {
    throw dnsError(`${domain} says by its ${answer.query} SRV record (target ".") that the service ${service} is not offered`);
  }
  if (answer.status === "error" && opts.dns) {
    // The user named this DNS server: a server that does not answer is an error, not "no record".
    throw dnsError(`the SRV lookup of ${answer.query} failed${via}: ${answer.message}`);
  }
  let endpoints: Endpoint[];
  if (answer.status === "records") {
    endpoints = orderSrv(answer.records, opts.random).map((r) => ({ host: r.name.replace(/\.$/, ""), port: r.port, source: "srv", service }));
  } else if (mode === "direct") {
    // XEP-0368 defines no fallback port: direct TLS is found through SRV only.
    throw dnsError(`${domain} has no ${answer.query} SRV record${via}; give --host and --port for direct TLS`);
  } else {
    // No SRV record: the domain itself on the default port (RFC 6120 §3.2.2).
    endpoints = [{ host: domain, port: DEFAULT_PORT[mode], source: "fallback" }];
  }
  if (!opts.dns && !opts.addresses) return endpoints;
  return withAddresses(endpoints, opts, via);
}

/** Replaces host names by their addresses looked up through the given DNS server. */
async function withAddresses(endpoints: Endpoint[], opts: ResolveOptions, via: string): Promise<Endpoint[]> {
  const lookup = opts.addresses ?? ((name: string) => lookupAddresses(name, opts.dns, opts.timeoutMs));
  const out: Endpoint[] = [];
  const problems: string[] = [];
  for (const e of endpoints) {
    if (net.isIP(e.host)) {
      out.push(e);
      continue;
    }
    try {
      const addresses = await lookup(e.host);
      if (addresses.length === 0) problems.push(`${e.host} has no A or AAAA record`);
      for (const address of addresses) out.push({ ...e, host: address, name: e.host });
    } catch (err) {
      problems.push(`${e.host}: ${(err as Error).message}`);
    }
  }
  if (out.length === 0) throw dnsError(`no address for ${endpoints.map((e) => e.host).join(", ")}${via}: ${problems.join("; ")}`);
  return out;
}
