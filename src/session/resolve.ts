/**
 * Where to connect: --host/--port when given, else DNS SRV (RFC 6120 §3.2,
 * XEP-0368 for direct TLS), else the domain itself on the default port.
 */
import { promises as dns } from "node:dns";
import { SessionError } from "./errors.js";

export interface Endpoint {
  host: string;
  port: number;
  /** How it was found: "configured", "srv", "fallback". */
  source: "configured" | "srv" | "fallback";
}

export const DEFAULT_PORT = { starttls: 5222, direct: 5223 } as const;

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

/** RFC 2782 order: lowest priority first; within a priority, heavier first (deterministic). */
export function orderSrv(records: SrvRecord[]): SrvRecord[] {
  return [...records].sort((a, b) => a.priority - b.priority || b.weight - a.weight);
}

export async function resolveEndpoints(
  domain: string,
  mode: "starttls" | "direct",
  configured: { host?: string; port?: number },
  lookup: (name: string) => Promise<SrvRecord[]> = (name) => dns.resolveSrv(name),
): Promise<Endpoint[]> {
  if (configured.host) {
    return [{ host: configured.host, port: configured.port ?? DEFAULT_PORT[mode], source: "configured" }];
  }
  const service = mode === "direct" ? "_xmpps-client._tcp" : "_xmpp-client._tcp";
  let records: SrvRecord[] = [];
  try {
    records = await lookup(`${service}.${domain}`);
  } catch {
    records = []; // no SRV record: fall back to the domain (RFC 6120 §3.2.2)
  }
  if (records.length === 1 && records[0]!.name === ".") {
    throw new SessionError("network", "dns", `${domain} says by its ${service} SRV record that the service is not offered`);
  }
  if (records.length === 0) {
    if (mode === "direct") {
      throw new SessionError("network", "dns", `${domain} has no ${service} SRV record; give --host and --port for direct TLS`);
    }
    return [{ host: domain, port: configured.port ?? DEFAULT_PORT[mode], source: "fallback" }];
  }
  return orderSrv(records).map((r) => ({ host: r.name, port: r.port, source: "srv" }));
}
