/**
 * A real DNS server on loopback for the tests: dnsmasq (Debian's
 * dnsmasq-base, installed by test/servers/install.sh) serving SRV and
 * address records for test domains only, nothing else.
 *
 *   const dns = await startDns({ port: 36601, zones: ["srv-test.example"], srv: [...], hosts: [...] });
 *   ... xepcheck run … --dns dns.server ...
 *   await dns.stop();
 *
 * dnsmasq runs in the foreground as our child (no daemon, no pid file, no
 * /etc/dnsmasq.conf, no /etc/hosts, no upstream servers), answers only on
 * 127.0.0.1:<port>, and is stopped by its PID. Every zone is `--local`: a
 * name under it that has no record gets NXDOMAIN/NODATA (not "refused"),
 * as from a real authoritative server.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { promises as dnsPromises } from "node:dns";

export const DNSMASQ = "/usr/sbin/dnsmasq";

export interface SrvEntry {
  /** "_xmpp-client._tcp.example.org" */
  name: string;
  /** Target host; omit for a "." target (RFC 2782: the service is not offered). */
  target?: string;
  port?: number;
  priority?: number;
  weight?: number;
}

export interface HostEntry {
  name: string;
  addresses: string[];
}

export interface DnsOptions {
  port: number;
  /** Domains this server is authoritative for (NXDOMAIN for unknown names under them). */
  zones: string[];
  srv?: SrvEntry[];
  hosts?: HostEntry[];
  /** Max time to wait until it answers. Default 10 s. */
  startTimeoutMs?: number;
}

export interface DnsServer {
  /** host:port for --dns. */
  server: string;
  port: number;
  pid: number;
  /** What dnsmasq printed (stderr), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** The dnsmasq command line for these records. */
export function dnsmasqArgs(o: DnsOptions): string[] {
  const args = [
    "--keep-in-foreground",
    "--log-facility=-",
    "--conf-file=/dev/null",
    "--pid-file=",
    `--port=${o.port}`,
    "--listen-address=127.0.0.1",
    "--bind-interfaces",
    "--no-resolv",
    "--no-hosts",
    "--no-negcache",
    // No DHCP, no TFTP: nothing but DNS.
    ...o.zones.map((z) => `--local=/${z}/`),
  ];
  for (const r of o.srv ?? []) {
    args.push(
      r.target === undefined
        ? `--srv-host=${r.name}`
        : `--srv-host=${r.name},${r.target},${r.port ?? 0},${r.priority ?? 0},${r.weight ?? 0}`,
    );
  }
  // One --host-record per address: a single one takes only one IPv4 and one IPv6 address.
  for (const h of o.hosts ?? []) for (const a of h.addresses) args.push(`--host-record=${h.name},${a}`);
  return args;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const running = new Set<ChildProcess>();
let exitHook = false;

export async function startDns(o: DnsOptions): Promise<DnsServer> {
  const child = spawn(DNSMASQ, dnsmasqArgs(o), { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const gone = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      resolve();
    }),
  );
  const pid = await new Promise<number>((resolve, reject) => {
    child.once("spawn", () => resolve(child.pid!));
    child.once("error", (err) => reject(new Error(`cannot start ${DNSMASQ} (run test/servers/install.sh): ${err.message}`)));
  });
  running.add(child);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => running.forEach((c) => c.kill("SIGKILL")));
  }
  const server = `127.0.0.1:${o.port}`;
  const stop = async () => {
    if (exited) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
  };

  // Ready when it answers: any answer (even NXDOMAIN) for a name in its first zone.
  const resolver = new dnsPromises.Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([server]);
  const deadline = Date.now() + (o.startTimeoutMs ?? 10_000);
  for (;;) {
    if (exited) throw new Error(`dnsmasq exited (code ${exited.code}, signal ${exited.signal}) on port ${o.port}:\n${output}`);
    const answered = await resolver.resolve4(`ready-check.${o.zones[0] ?? "test"}`).then(
      () => true,
      (err: NodeJS.ErrnoException) => err.code === "ENOTFOUND" || err.code === "ENODATA",
    );
    if (answered) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`dnsmasq on ${server} did not answer within ${o.startTimeoutMs ?? 10_000} ms:\n${output}`);
    }
    await sleep(100);
  }
  return { server, port: o.port, pid, log: () => output, stop };
}
