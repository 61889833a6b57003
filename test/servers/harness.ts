/**
 * Test harness: starts a real Prosody 13 or ejabberd 24.12 (as installed by
 * test/servers/install.sh) on loopback, with a throw-away config, data dir,
 * logs and certificates, and stops it again.
 *
 * Port layout (base = opts.basePort; Prosody 25200, ejabberd 25300 by default).
 * Everything binds to 127.0.0.1 only.
 *
 *   c2s        base+22   STARTTLS, encryption required before auth
 *   directTls  base+23   XEP-0368 direct TLS c2s
 *   https      base+43   BOSH /http-bind (Prosody) or /bosh (ejabberd),
 *                        WebSocket /xmpp-websocket (Prosody) or /ws (ejabberd), upload
 *   component  base+47   XEP-0114 external components (secret in StartedServer.component)
 *   proxy65    base+65   XEP-0065 SOCKS5 bytestreams (proxy.<domain>)
 *   s2s        base+69   server-to-server (loopback only; nothing federates)
 *   turn       base+78   dummy STUN/TURN entries advertised via XEP-0215 (nothing listens)
 *   http       base+80   same HTTP services as https, plain; upload URLs use
 *                        http://127.0.0.1:<http>/...
 *   erlDist    base+99   ejabberd only: Erlang distribution (no epmd), used by ejabberdctl
 *
 * Files under `dir` (default: a fresh mkdtemp os.tmpdir()/xepcheck-<kind>-*):
 *   ca/ca.pem, ca/ca.key          throw-away CA (caFile = ca/ca.pem)
 *   certs/<domain>.crt/.key/.pem  server certificate (.pem = crt + key, for ejabberd), SANs <domain>, *.<domain>, IP 127.0.0.1
 *                                 (StartOptions.certificate makes it expired, about to expire, or for another name)
 *   secrets.json                  account passwords + component/TURN secrets (reused with the dir)
 *   prosody.cfg.lua, data/, prosody.log, stdout.log                           (Prosody)
 *   ejabberd.yml, ejabberdctl.cfg, spool/, log/ejabberd.log, stdout.log, .erlang.cookie  (ejabberd)
 *
 * Stale servers: a pidfile os.tmpdir()/xepcheck-servers/<kind>-<basePort>.pid holds the
 * process-group id of the running server, its dir and the pid of the Node process that
 * started it. startServer() first kills the group named there if that Node process is
 * gone (a crashed run; its throw-away dir is removed too), then any orphaned
 * prosody/beam process still listening on one of the ports. A server owned by a live
 * test process is never killed: startServer() fails instead (use another basePort).
 * Servers are spawned detached (own process group) and stopped by signalling the
 * whole group (SIGTERM, then SIGKILL after a bounded wait), so the Erlang VM and its
 * helpers (erl_child_setup, inet_gethost) go down with it.
 *
 * A default (mkdtemp) dir is removed on stop() unless XEPCHECK_KEEP_SERVER_DIRS=1
 * (it is kept when the server fails to start; the error names it and quotes the log
 * tails); a dir passed in opts.dir is never removed. XEPCHECK_SERVER_DEBUG=1 logs at
 * debug level. ejabberd runs as the `ejabberd` user when we are root, so opts.dir
 * must be reachable by that user (not under /root).
 *
 * Seen on the configured servers (test/servers/probe.ts prints the full picture):
 *  - Both store passwords in plain form so that Prosody offers SCRAM-SHA-1/-256(-PLUS)
 *    + PLAIN and ejabberd SCRAM-SHA-1/-256/-512(-PLUS) + PLAIN.
 *  - ejabberd advertises SASL2 (and FAST, Bind2 inline) only when the stream header
 *    carries from='<bare JID>'; Prosody advertises SASL2 always but FAST only with `from`.
 *  - ejabberd serves host-meta on the https port only, and only for Host: <domain>.
 *  - MUC self-ping: Prosody advertises muc#self-ping-optimization on rooms; ejabberd
 *    answers but does not advertise. jabber:iq:private works on ejabberd but is not
 *    advertised.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes, createHash } from "node:crypto";
import { existsSync, openSync, closeSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export type ServerKind = "prosody" | "ejabberd";

export interface TestAccount {
  jid: string;
  password: string;
}

export interface ServerPorts {
  c2s: number;
  directTls: number;
  http: number;
  https: number;
  component: number;
  proxy65: number;
  s2s: number;
  /** Where the dummy STUN/TURN services advertised via XEP-0215 point (nothing listens). */
  turn: number;
  /** ejabberd only: Erlang distribution port used by ejabberdctl. */
  erlDist?: number;
}

export interface StartedServer {
  kind: ServerKind;
  domain: string;
  host: string;
  ports: ServerPorts;
  caFile: string;
  accounts: TestAccount[];
  dir: string;
  pid: number;
  /** Sub-services configured on this server (JIDs). `mix` only on ejabberd. */
  services: { muc: string; upload: string; proxy65: string; pubsub: string; mix?: string };
  /** XEP-0114 external component that may connect on ports.component. */
  component: { domain: string; secret: string };
  /** HTTP endpoints on 127.0.0.1 (plain http port; same paths on https). */
  urls: { bosh: string; websocket: string; boshTls: string; websocketTls: string };
  logFiles: string[];
  /** Which configuration runs ("full" unless StartOptions.variant said otherwise). */
  variant?: ProsodyVariant;
  /** Which server certificate it presents ("valid" unless StartOptions.certificate said otherwise). */
  certificate?: CertificateKind;
  /** Milliseconds from spawn until the server answered with stream features. */
  startupMs: number;
  stop(): Promise<void>;
}

/** StartedServer without stop(): what global setup hands to tests (serializable). */
export type ServerInfo = Omit<StartedServer, "stop">;

/**
 * Prosody configurations (test/servers/variants.ts documents them):
 *  - "full" (default): everything, as described above.
 *  - "minimal": without carbons, blocklist, mam, muc_mam (MUC stays, without MAM),
 *    vcard4/vcard_legacy (no vcard-temp on the user host), smacks, csi/csi_simple, cloud_notify, http_file_share (no
 *    upload component), external_services, bookmarks, private and the sasl2 family;
 *    these are also listed in modules_disabled so nothing pulls them in.
 *  - "liar": "minimal" plus test/servers/prosody-modules/mod_xepcheck_liar.lua, which
 *    advertises several of the removed features without implementing any of them.
 */
export type ProsodyVariant = "full" | "minimal" | "liar";

/**
 * Server certificates, all signed by the throw-away test CA:
 *  - "valid" (default): SANs <domain>, *.<domain>, IP 127.0.0.1; 825 days.
 *  - "expired": the same names, valid from 400 to 30 days ago (openssl ca -startdate/-enddate).
 *  - "expiring": the same names, expires in 7 days.
 *  - "wrong-name": valid dates, but for other.example only (SAN and CN).
 */
export type CertificateKind = "valid" | "expired" | "expiring" | "wrong-name";
export const CERTIFICATE_KINDS: readonly CertificateKind[] = ["valid", "expired", "expiring", "wrong-name"];
/** The only name a "wrong-name" certificate is issued for. */
export const WRONG_CERT_NAME = "other.example";

export interface StartOptions {
  basePort?: number;
  dir?: string;
  /** Prosody only (ejabberd accepts "full" alone). Default "full". */
  variant?: ProsodyVariant;
  /** Max time to wait for the server to answer with stream features. Default 60 s. */
  startTimeoutMs?: number;
  /** The server certificate (signed by the test CA in every case). Default "valid". */
  certificate?: CertificateKind;
}

const HOST = "127.0.0.1";
const DEFAULT_BASE: Record<ServerKind, number> = { prosody: 25200, ejabberd: 25300 };
const ACCOUNT_NAMES = ["alice", "bob", "carol"] as const;
const STOP_GRACE_MS = 15_000;
const STATE_DIR = path.join(os.tmpdir(), "xepcheck-servers");

export function portsFor(kind: ServerKind, basePort = DEFAULT_BASE[kind]): ServerPorts {
  const p: ServerPorts = {
    c2s: basePort + 22,
    directTls: basePort + 23,
    https: basePort + 43,
    component: basePort + 47,
    proxy65: basePort + 65,
    s2s: basePort + 69,
    turn: basePort + 78,
    http: basePort + 80,
  };
  if (kind === "ejabberd") p.erlDist = basePort + 99;
  return p;
}

// ---------------------------------------------------------------------------
// small process helpers

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

interface RunOpts {
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/** execFile that resolves with the exit code instead of rejecting on non-zero exits. */
function run(cmd: string, args: string[], o: RunOpts = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        uid: o.uid,
        gid: o.gid,
        env: o.env ?? process.env,
        cwd: o.cwd,
        timeout: o.timeoutMs ?? 60_000,
        killSignal: "SIGKILL",
        maxBuffer: 16 * 1024 * 1024,
        encoding: "utf8",
      },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === "string") {
          reject(new Error(`${cmd} ${args.join(" ")}: ${err.message}`));
          return;
        }
        if (err && err.killed) {
          reject(new Error(`${cmd} ${args.join(" ")}: timed out\n${stdout}${stderr}`));
          return;
        }
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ stdout, stderr, code });
      },
    );
  });
}

async function runOk(cmd: string, args: string[], o: RunOpts = {}): Promise<ExecResult> {
  const r = await run(cmd, args, o);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}\n${r.stdout}${r.stderr}`.trim());
  }
  return r;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    /* already gone */
  }
}

/** SIGTERM the process group, wait up to graceMs, then SIGKILL it and wait again. */
async function killGroup(pgid: number, graceMs = STOP_GRACE_MS): Promise<void> {
  if (!groupAlive(pgid)) return;
  signalGroup(pgid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pgid)) {
    signalGroup(pgid, "SIGKILL");
    const d2 = Date.now() + 5000;
    while (groupAlive(pgid) && Date.now() < d2) await sleep(50);
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

function pgidOf(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid pgrp ..." — comm may contain spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(rest[2]);
  } catch {
    return undefined;
  }
}

/** Whether pid is a Prosody, ejabberdctl or Erlang VM process (never ourselves). */
function isServerProcess(pid: number): boolean {
  if (pid === process.pid) return false;
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return false;
  }
  const exe = path.basename(argv[0] ?? "");
  if (exe === "beam.smp" || exe === "erlexec") return true;
  if (/^lua/.test(exe) && argv[1] === "/usr/bin/prosody") return true;
  if (/^(ba|da)?sh$/.test(exe) && argv[1] === "/usr/sbin/ejabberdctl") return true;
  return false;
}

/** PIDs of processes with a listening TCP socket on 127.0.0.1/0.0.0.0/:: port `port` (Linux /proc). */
function listenersOn(port: number): number[] {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(f, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const local = cols[1] ?? "";
      if (cols[3] === "0A" && local.endsWith(`:${hexPort}`)) inodes.add(cols[9] ?? "");
    }
  }
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const ent of readdirSync("/proc")) {
    if (!/^\d+$/.test(ent)) continue;
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${ent}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target = "";
      try {
        target = readlinkSync(`/proc/${ent}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1] ?? "")) {
        pids.push(Number(ent));
        break;
      }
    }
  }
  return pids;
}

function ppidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Kill a server left over by a crashed run on the same ports: first the one named in
 * the pidfile, then any orphaned prosody/beam process still listening on our ports.
 * A server whose owning Node process is still alive (another test run using the same
 * ports) is not killed: that is an error.
 */
async function killStale(kind: ServerKind, basePort: number, ports: ServerPorts): Promise<void> {
  const pidfile = path.join(STATE_DIR, `${kind}-${basePort}.pid`);
  if (existsSync(pidfile)) {
    // "<server pid = pgid>\n<dir>\n<1 if the harness created dir>\n<owner node pid>\n"
    const [pidLine = "", staleDir = "", owned = "", ownerLine = ""] = readFileSync(pidfile, "utf8").split("\n");
    const pid = Number(pidLine.trim());
    const owner = Number(ownerLine.trim());
    if (Number.isInteger(pid) && pid > 1 && groupAlive(pid)) {
      if (Number.isInteger(owner) && owner > 1 && pidAlive(owner) && /node/.test(cmdlineOf(owner))) {
        throw new Error(
          `${kind} ports (base ${basePort}) are used by a server (pid ${pid}, dir ${staleDir}) of a running ` +
            `test process (pid ${owner}); use another basePort or stop that run`,
        );
      }
      // Only kill it if the group leader still looks like one of our servers
      // (or the leader is gone and only its group remains).
      if (!existsSync(`/proc/${pid}`) || isServerProcess(pid)) await killGroup(pid, 5000);
    }
    // Remove the crashed run's throw-away dir if the harness had created it.
    if (owned.trim() === "1" && path.basename(staleDir).startsWith(`xepcheck-${kind}-`) && !groupAlive(pid)) {
      await fs.rm(staleDir, { recursive: true, force: true });
    }
    await fs.rm(pidfile, { force: true });
  }
  const portsToCheck = [ports.c2s, ports.directTls, ports.http, ports.https, ports.component, ports.proxy65, ports.s2s];
  if (ports.erlDist) portsToCheck.push(ports.erlDist);
  for (const port of portsToCheck) {
    for (const pid of listenersOn(port)) {
      if (!isServerProcess(pid)) {
        throw new Error(`port ${port} (needed by ${kind}) is in use by pid ${pid}: ${cmdlineOf(pid) || "?"}`);
      }
      // Ours run in their own process group, led by the process the harness spawned;
      // after the harness process died that leader is an orphan (parent pid 1).
      const pgid = pgidOf(pid) ?? pid;
      const leader = existsSync(`/proc/${pgid}`) ? pgid : pid;
      const parent = ppidOf(leader);
      if (parent !== undefined && parent > 1 && pidAlive(parent)) {
        throw new Error(
          `port ${port} (needed by ${kind}) is in use by pid ${pid} (${cmdlineOf(pid).slice(0, 120)}), ` +
            `started by the still running pid ${parent} (${cmdlineOf(parent).slice(0, 80)}); not killing it`,
        );
      }
      if (pgid > 1 && pgid !== pgidOf(process.pid)) await killGroup(pgid, 5000);
      else {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// certificates

async function ensureCerts(
  dir: string,
  domain: string,
  certificate: CertificateKind = "valid",
): Promise<{ caFile: string; crt: string; key: string; pem: string }> {
  const caDir = path.join(dir, "ca");
  const certDir = path.join(dir, "certs");
  await fs.mkdir(caDir, { recursive: true });
  await fs.mkdir(certDir, { recursive: true });
  const caFile = path.join(caDir, "ca.pem");
  const caKey = path.join(caDir, "ca.key");
  const crt = path.join(certDir, `${domain}.crt`);
  const key = path.join(certDir, `${domain}.key`);
  const pem = path.join(certDir, `${domain}.pem`);
  // Which kind the files hold (a reused dir may hold another kind: then the server certificate is made anew).
  const kindFile = path.join(certDir, "kind");
  const kindNow = existsSync(kindFile) ? readFileSync(kindFile, "utf8").trim() : "valid";
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  if (!existsSync(caFile) || !existsSync(caKey)) {
    await runOk("openssl", [
      "req", "-x509", ...ec, "-keyout", caKey, "-out", caFile, "-days", "3650", "-sha256",
      "-subj", `/O=xepcheck/CN=xepcheck throw-away test CA for ${domain}`,
      "-addext", "basicConstraints=critical,CA:TRUE",
      "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ]);
  } else if (existsSync(crt) && existsSync(key) && existsSync(pem) && kindNow === certificate) {
    return { caFile, crt, key, pem };
  }
  const name = certificate === "wrong-name" ? WRONG_CERT_NAME : domain;
  const csr = path.join(certDir, `${domain}.csr`);
  await runOk("openssl", ["req", "-new", ...ec, "-keyout", key, "-out", csr, "-subj", `/O=xepcheck/CN=${name}`]);
  const ext = path.join(certDir, "ext.cnf");
  await fs.writeFile(
    ext,
    [
      certificate === "wrong-name" ? `subjectAltName=DNS:${name}` : `subjectAltName=DNS:${domain},DNS:*.${domain},IP:127.0.0.1`,
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth,clientAuth",
      "",
    ].join("\n"),
  );
  if (certificate === "expired") {
    // `openssl x509 -req` cannot date a certificate in the past (OpenSSL 3.0 has no
    // -not_before/-not_after there); `openssl ca` can, with a minimal throw-away CA database.
    const db = path.join(certDir, "ca-db");
    await fs.rm(db, { recursive: true, force: true });
    await fs.mkdir(db, { recursive: true });
    await fs.writeFile(path.join(db, "index.txt"), "");
    await fs.writeFile(path.join(db, "serial"), `${randomBytes(8).toString("hex").toUpperCase()}\n`);
    const cnf = path.join(db, "ca.cnf");
    await fs.writeFile(
      cnf,
      [
        "[ca]", "default_ca = xepcheck", "",
        "[xepcheck]", `dir = ${db}`, "database = $dir/index.txt", "new_certs_dir = $dir", "serial = $dir/serial",
        "default_md = sha256", "policy = any", "unique_subject = no", "copy_extensions = none", "",
        "[any]", "organizationName = optional", "commonName = supplied", "",
      ].join("\n"),
    );
    const day = 86_400_000;
    const stamp = (t: number) => new Date(t).toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z"; // YYYYMMDDHHMMSSZ
    await runOk("openssl", [
      "ca", "-batch", "-notext", "-config", cnf, "-cert", caFile, "-keyfile", caKey, "-in", csr, "-out", crt,
      "-startdate", stamp(Date.now() - 400 * day), "-enddate", stamp(Date.now() - 30 * day), "-extfile", ext,
    ]);
    await fs.rm(db, { recursive: true, force: true });
  } else {
    await runOk("openssl", [
      "x509", "-req", "-in", csr, "-CA", caFile, "-CAkey", caKey, "-CAcreateserial",
      "-out", crt, "-days", certificate === "expiring" ? "7" : "825", "-sha256", "-extfile", ext,
    ]);
  }
  const [c, k] = await Promise.all([fs.readFile(crt, "utf8"), fs.readFile(key, "utf8")]);
  await fs.writeFile(pem, c + k, { mode: 0o600 });
  await fs.writeFile(kindFile, `${certificate}\n`);
  await fs.rm(csr, { force: true });
  return { caFile, crt, key, pem };
}

// ---------------------------------------------------------------------------
// secrets (reused when a dir is reused, so accounts keep working)

interface Secrets {
  passwords: Record<string, string>;
  component: string;
  turn: string;
  nodeId: string;
}

function strongPassword(): string {
  // letters first so no tool mistakes it for an option
  return "Pw" + randomBytes(18).toString("base64url");
}

async function loadSecrets(dir: string): Promise<Secrets> {
  const file = path.join(dir, "secrets.json");
  try {
    const s = JSON.parse(await fs.readFile(file, "utf8")) as Secrets;
    if (s.passwords && s.component && s.turn && s.nodeId) return s;
  } catch {
    /* fresh */
  }
  const s: Secrets = {
    passwords: Object.fromEntries(ACCOUNT_NAMES.map((n) => [n, strongPassword()])),
    component: randomBytes(16).toString("hex"),
    turn: randomBytes(16).toString("hex"),
    nodeId: createHash("sha256").update(dir).update(randomBytes(8)).digest("hex").slice(0, 10),
  };
  await fs.writeFile(file, JSON.stringify(s, null, 2), { mode: 0o600 });
  return s;
}

// ---------------------------------------------------------------------------
// readiness

/** One attempt: connect, send a stream header, resolve true if <stream:features> arrives. */
function probeStreamFeatures(port: number, domain: string, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    let buf = "";
    let done = false;
    const sock = net.connect({ host: HOST, port });
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.setEncoding("utf8");
    sock.on("connect", () => {
      sock.write(
        `<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' xml:lang='en' ` +
          `xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
      );
    });
    sock.on("data", (d: string) => {
      buf += d;
      if (/<stream:features[\s>/]/.test(buf)) finish(true);
    });
    sock.on("error", () => finish(false));
    sock.on("close", () => finish(false));
  });
}

async function tail(file: string, lines = 40): Promise<string> {
  try {
    const text = await fs.readFile(file, "utf8");
    return text.split("\n").slice(-lines).join("\n");
  } catch {
    return "(no such file)";
  }
}

// ---------------------------------------------------------------------------
// process tracking: last-resort cleanup if the Node process exits without stop()

const running = new Map<number, ServerKind>();
let exitHookInstalled = false;
function trackGroup(pgid: number, kind: ServerKind): void {
  running.set(pgid, kind);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const pg of running.keys()) signalGroup(pg, "SIGKILL");
    });
  }
}

// ---------------------------------------------------------------------------
// ejabberd user

interface UnixUser {
  uid: number;
  gid: number;
}
let ejabberdUserCache: UnixUser | undefined;
function ejabberdUser(): UnixUser | undefined {
  if (process.getuid?.() !== 0) return undefined; // not root: run as ourselves
  if (ejabberdUserCache) return ejabberdUserCache;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("ejabberd:"));
  if (!line) throw new Error("no 'ejabberd' user in /etc/passwd; run test/servers/install.sh");
  const f = line.split(":");
  ejabberdUserCache = { uid: Number(f[2]), gid: Number(f[3]) };
  return ejabberdUserCache;
}

function ejabberdEnv(dir: string): NodeJS.ProcessEnv {
  // HOME=dir: the Erlang cookie is dir/.erlang.cookie, shared by the node and ejabberdctl.
  return { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", HOME: dir, LANG: "C.UTF-8", USER: "ejabberd" };
}

/** Runs /usr/sbin/ejabberdctl --config-dir dir … as the ejabberd user (resolves with the exit code). */
export async function ejabberdctl(dir: string, args: string[], timeoutMs = 60_000): Promise<ExecResult> {
  const u = ejabberdUser();
  return run("/usr/sbin/ejabberdctl", ["--config-dir", dir, ...args], {
    uid: u?.uid,
    gid: u?.gid,
    env: ejabberdEnv(dir),
    cwd: dir,
    timeoutMs,
  });
}

/** Runs /usr/bin/prosodyctl --config dir/prosody.cfg.lua … (resolves with the exit code). */
export async function prosodyctl(dir: string, args: string[], timeoutMs = 60_000): Promise<ExecResult> {
  return run("/usr/bin/prosodyctl", ["--config", path.join(dir, "prosody.cfg.lua"), ...args], { cwd: dir, timeoutMs });
}

// ---------------------------------------------------------------------------
// configs

function luaStr(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/**
 * Modules the "minimal" and "liar" Prosody variants go without (vcard-temp and vCard4 on
 * the user host: vcard4 + vcard_legacy). mod_vcard itself is not in this list: no variant
 * enables it on the user host, and MUC loads it on its component for room vCards
 * (muc/vcard.lib.lua), so disabling it would take MUC down too.
 */
export const MINIMAL_REMOVED_MODULES = [
  "carbons", "blocklist", "mam", "muc_mam", "vcard4", "vcard_legacy", "smacks", "csi", "csi_simple",
  "cloud_notify", "http_file_share", "external_services", "bookmarks", "private",
  "sasl2", "sasl2_bind2", "sasl2_sm", "sasl2_fast",
] as const;

const FULL_PROSODY_MODULES = [
  "roster", "saslauth", "tls", "dialback", "disco",
  "carbons", "pep", "private", "blocklist", "vcard4", "vcard_legacy",
  "bookmarks", "version", "uptime", "time", "ping", "lastactivity",
  "register", "mam", "csi_simple", "smacks", "offline",
  "admin_shell",
  "http", "bosh", "websocket", "http_altconnect",
  "server_contact_info", "external_services", "cloud_notify",
  "sasl2", "sasl2_bind2", "sasl2_sm", "sasl2_fast",
];

/** Where our own Prosody modules live (test/servers/prosody-modules, found from this file, built or not). */
export function prosodyPluginDir(): string {
  let dir = path.dirname(new URL(import.meta.url).pathname);
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, "test", "servers", "prosody-modules");
    if (existsSync(path.join(candidate, "mod_xepcheck_liar.lua"))) return candidate;
    const here = path.join(dir, "prosody-modules");
    if (existsSync(path.join(here, "mod_xepcheck_liar.lua"))) return here;
    dir = path.dirname(dir);
  }
  throw new Error("test/servers/prosody-modules/mod_xepcheck_liar.lua not found");
}

function prosodyConfig(o: { dir: string; domain: string; ports: ServerPorts; secrets: Secrets; debug: boolean; variant?: ProsodyVariant }): string {
  const { dir, domain, ports, secrets } = o;
  const variant = o.variant ?? "full";
  const d = (p: string) => luaStr(path.join(dir, p));
  const removed: readonly string[] = variant === "full" ? [] : MINIMAL_REMOVED_MODULES;
  const modules = FULL_PROSODY_MODULES.filter((m) => !removed.includes(m));
  if (variant === "liar") modules.push("xepcheck_liar");
  const moduleLines: string[] = [];
  for (let i = 0; i < modules.length; i += 6) moduleLines.push(`  ${modules.slice(i, i + 6).map((m) => `${luaStr(m)};`).join(" ")}`);
  const variantLines =
    variant === "full"
      ? ""
      : `-- Variant "${variant}" (test/servers/harness.ts): modules removed, and disabled so that
-- nothing loads them as a dependency.
modules_disabled = { ${removed.map((m) => `${luaStr(m)};`).join(" ")} }
${variant === "liar" ? `plugin_paths = { ${luaStr(prosodyPluginDir())} }
` : ""}`;
  const mucModules = variant === "full" ? `  modules_enabled = { "muc_mam" }
  muc_log_by_default = true
  muc_log_all_rooms = false
` : "";
  const upload =
    variant === "full"
      ? `Component ${luaStr(`upload.${domain}`)} "http_file_share"
  -- Routes live under the main host (http_default_host), URLs point at loopback.
  http_host = ${luaStr(domain)}
  http_external_url = ${luaStr(`http://127.0.0.1:${ports.http}/`)}
  http_file_share_size_limit = 10485760

`
      : "";
  return `-- Generated by xepcheck test/servers/harness.ts; throw-away test server.
run_as_root = true
pidfile = ${d("prosody.pid")}
data_path = ${d("data")}
log = {
  { levels = { min = ${luaStr(o.debug ? "debug" : "info")} }, to = "file", filename = ${d("prosody.log")} };
}
admins = { ${luaStr(`admin@${domain}`)} }
admin_socket = ${d("prosody.sock")}
-- Without TCP_NODELAY, Prosody's TLS 1.3 session tickets and its stream
-- header meet Linux's delayed ACK: a fixed 40 ms stall on every STARTTLS
-- that would drown the client-side costs the benchmarks measure.
network_settings = { nagle = false }

interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { ${ports.c2s} }
c2s_interfaces = { "127.0.0.1" }
c2s_direct_tls_ports = { ${ports.directTls} }
c2s_direct_tls_interfaces = { "127.0.0.1" }
s2s_ports = { ${ports.s2s} }
s2s_interfaces = { "127.0.0.1" }
component_ports = { ${ports.component} }
component_interfaces = { "127.0.0.1" }
http_ports = { ${ports.http} }
http_interfaces = { "127.0.0.1" }
https_ports = { ${ports.https} }
https_interfaces = { "127.0.0.1" }
proxy65_ports = { ${ports.proxy65} }
proxy65_interfaces = { "127.0.0.1" }
-- Requests whose Host header is 127.0.0.1 (or anything unknown) go to the main host.
http_default_host = ${luaStr(domain)}

certificates = ${d("certs")}
c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = false
allow_unencrypted_plain_auth = false
consider_bosh_secure = true
consider_websocket_secure = true

-- Plain storage lets Prosody offer SCRAM-SHA-1 and SCRAM-SHA-256 (and PLAIN);
-- internal_hashed stores one hash only (SCRAM-SHA-1 by default).
authentication = "internal_plain"
storage = "internal"

modules_enabled = {
${moduleLines.join("\n")}
}
${variantLines}
-- In-band registration (XEP-0077) without throttling; 127.0.0.1 is allow-listed.
allow_registration = true
min_seconds_between_registrations = 0
registration_allowlist = { "127.0.0.1", "::1" }

archive_expires_after = "1w"
default_archive_policy = true

contact_info = {
  admin = { ${luaStr(`xmpp:admin@${domain}`)}, ${luaStr(`mailto:admin@${domain}`)} };
  abuse = { ${luaStr(`mailto:abuse@${domain}`)} };
  support = { ${luaStr(`xmpp:admin@${domain}`)} };
}

-- XEP-0215: dummy entries (nothing listens on these).
external_service_secret = ${luaStr(secrets.turn)}
external_services = {
  { type = "stun", transport = "udp", host = "127.0.0.1", port = ${ports.turn} };
  { type = "turn", transport = "udp", host = "127.0.0.1", port = ${ports.turn}, secret = true };
}

VirtualHost ${luaStr(domain)}

Component ${luaStr(`conference.${domain}`)} "muc"
  name = "Chatrooms"
${mucModules}  restrict_room_creation = false
  max_history_messages = 50

${upload}Component ${luaStr(`proxy.${domain}`)} "proxy65"
  proxy65_address = "127.0.0.1"

Component ${luaStr(`pubsub.${domain}`)} "pubsub"

Component ${luaStr(`ext.${domain}`)}
  component_secret = ${luaStr(secrets.component)}
  -- not listed in the domain's disco#items while nothing is connected
  disco_hidden = true
`;
}

function ejabberdYaml(o: { dir: string; domain: string; ports: ServerPorts; secrets: Secrets; debug: boolean }): string {
  const { dir, domain, ports, secrets } = o;
  const q = (s: string) => JSON.stringify(s); // JSON strings are valid YAML double-quoted scalars
  const handlers = `    request_handlers:
      /bosh: mod_bosh
      /ws: ejabberd_http_ws
      /upload: mod_http_upload`;
  // XEP-0156 wants host-meta over HTTPS only (ejabberd warns otherwise).
  const hostMeta = `
      /.well-known/host-meta: mod_host_meta
      /.well-known/host-meta.json: mod_host_meta`;
  return `# Generated by xepcheck test/servers/harness.ts; throw-away test server.
loglevel: ${o.debug ? "debug" : "info"}
log_rotate_count: 0
hosts:
  - ${q(domain)}
certfiles:
  - ${q(path.join(dir, "certs", `${domain}.pem`))}
ca_file: ${q(path.join(dir, "ca", "ca.pem"))}

define_macro:
  TLS_CIPHERS: "HIGH:!aNULL:!eNULL:!3DES:@STRENGTH"
  TLS_OPTIONS:
    - "no_sslv3"
    - "no_tlsv1"
    - "no_tlsv1_1"
    - "cipher_server_preference"
    - "no_compression"
c2s_ciphers: TLS_CIPHERS
s2s_ciphers: TLS_CIPHERS
c2s_protocol_options: TLS_OPTIONS
s2s_protocol_options: TLS_OPTIONS
s2s_use_starttls: optional

listen:
  -
    port: ${ports.c2s}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    access: c2s
    starttls_required: true
  -
    port: ${ports.directTls}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    access: c2s
    tls: true
  -
    port: ${ports.s2s}
    ip: "127.0.0.1"
    module: ejabberd_s2s_in
    max_stanza_size: 524288
  -
    port: ${ports.component}
    ip: "127.0.0.1"
    module: ejabberd_service
    password: ${q(secrets.component)}
  -
    port: ${ports.http}
    ip: "127.0.0.1"
    module: ejabberd_http
${handlers}
  -
    port: ${ports.https}
    ip: "127.0.0.1"
    module: ejabberd_http
    tls: true
${handlers}${hostMeta}

auth_method: internal
# Plain storage lets ejabberd offer SCRAM-SHA-1, -256 and -512 (and PLAIN);
# with "scram" storage it can offer only the one hash in auth_scram_hash.
auth_password_format: plain
disable_sasl_mechanisms:
  - "digest-md5"
  - "X-OAUTH2"

# In-band registration (XEP-0077) from loopback, no time limit between registrations.
registration_timeout: infinity

acl:
  admin:
    user:
      - ${q(`admin@${domain}`)}
  local:
    user_regexp: ""
  loopback:
    ip:
      - 127.0.0.0/8
      - ::1/128

access_rules:
  local:
    allow: local
  c2s:
    deny: blocked
    allow: all
  announce:
    allow: admin
  configure:
    allow: admin
  muc_create:
    allow: local
  pubsub_createnode:
    allow: local
  trusted_network:
    allow: loopback
  register:
    allow: all

api_permissions:
  "console commands":
    from: ejabberd_ctl
    who: all
    what: "*"

shaper_rules:
  max_user_sessions: 1000
  max_user_offline_messages:
    5000: admin
    100: all

modules:
  mod_adhoc: {}
  mod_admin_extra: {}
  mod_announce:
    access: announce
  mod_auth_fast: {}
  mod_avatar: {}
  mod_blocking: {}
  mod_bosh: {}
  mod_caps: {}
  mod_carboncopy: {}
  mod_client_state: {}
  mod_configure: {}
  mod_disco:
    server_info:
      -
        modules: all
        name: "admin-addresses"
        urls:
          - ${q(`xmpp:admin@${domain}`)}
          - ${q(`mailto:admin@${domain}`)}
      -
        modules: all
        name: "abuse-addresses"
        urls:
          - ${q(`mailto:abuse@${domain}`)}
      -
        modules: all
        name: "support-addresses"
        urls:
          - ${q(`xmpp:admin@${domain}`)}
  mod_host_meta:
    bosh_service_url: ${q(`https://${domain}:${ports.https}/bosh`)}
    websocket_url: ${q(`wss://${domain}:${ports.https}/ws`)}
  mod_http_upload:
    host: ${q(`upload.${domain}`)}
    put_url: ${q(`http://127.0.0.1:${ports.http}/upload`)}
    get_url: ${q(`http://127.0.0.1:${ports.http}/upload`)}
    docroot: ${q(path.join(dir, "upload"))}
    max_size: 10485760
  mod_last: {}
  mod_mam:
    db_type: mnesia
    assume_mam_usage: true
    default: always
  mod_mix:
    host: ${q(`mix.${domain}`)}
  mod_mix_pam: {}
  mod_muc:
    host: ${q(`conference.${domain}`)}
    access:
      - allow
    access_admin:
      - allow: admin
    access_create: muc_create
    access_persistent: muc_create
    access_mam:
      - allow
    default_room_options:
      mam: true
  mod_muc_admin: {}
  mod_muc_occupantid: {}
  mod_offline:
    access_max_user_messages: max_user_offline_messages
  mod_ping: {}
  mod_privacy: {}
  mod_private: {}
  mod_proxy65:
    host: ${q(`proxy.${domain}`)}
    ip: "127.0.0.1"
    hostname: "127.0.0.1"
    port: ${ports.proxy65}
    access: local
  mod_pubsub:
    host: ${q(`pubsub.${domain}`)}
    access_createnode: pubsub_createnode
    plugins:
      - flat
      - pep
    force_node_config:
      "eu.siacs.conversations.axolotl.*":
        access_model: open
      storage:bookmarks:
        access_model: whitelist
  mod_push: {}
  mod_push_keepalive: {}
  mod_register:
    ip_access: trusted_network
    access: register
  mod_roster:
    versioning: true
  mod_s2s_dialback: {}
  mod_stream_mgmt:
    resend_on_timeout: if_offline
  mod_stun_disco:
    offer_local_services: false
    secret: ${q(secrets.turn)}
    services:
      -
        host: 127.0.0.1
        port: ${ports.turn}
        type: stun
        transport: udp
        restricted: false
      -
        host: 127.0.0.1
        port: ${ports.turn}
        type: turn
        transport: udp
        restricted: true
  mod_time: {}
  mod_vcard:
    search: false
  mod_vcard_xupdate: {}
  mod_version: {}
`;
}

function ejabberdctlCfg(o: { dir: string; node: string; ports: ServerPorts }): string {
  const { dir } = o;
  return `# Generated by xepcheck test/servers/harness.ts (sourced by /usr/sbin/ejabberdctl --config-dir ${dir})
ERLANG_NODE=${o.node}
# A fixed distribution port: no epmd is started, ejabberdctl connects here.
ERL_DIST_PORT=${o.ports.erlDist}
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0 -kernel inet_dist_use_interface {127,0,0,1}"
EJABBERD_CONFIG_PATH=${dir}/ejabberd.yml
SPOOL_DIR=${dir}/spool
LOGS_DIR=${dir}/log
EJABBERD_PID_PATH=${dir}/ejabberd.pid
CONTRIB_MODULES_PATH=${dir}/contrib
CONTRIB_MODULES_CONF_DIR=${dir}/contrib/conf
EJABBERD_BYPASS_WARNINGS=true
`;
}

// ---------------------------------------------------------------------------
// public API

interface Launch {
  certs: { caFile: string };
  secrets: Secrets;
  stdoutLog: string;
  logFiles: string[];
  cmd: string;
  args: string[];
  spawnUser: UnixUser | undefined;
  env: NodeJS.ProcessEnv;
}

/** Certificates, secrets and config files under dir; returns how to launch the server. */
async function prepareLaunch(
  kind: ServerKind,
  dir: string,
  domain: string,
  ports: ServerPorts,
  debug: boolean,
  variant: ProsodyVariant = "full",
  certificate: CertificateKind = "valid",
): Promise<Launch> {
  const certs = await ensureCerts(dir, domain, certificate);
  const secrets = await loadSecrets(dir);
  const stdoutLog = path.join(dir, "stdout.log");
  let logFiles: string[];
  let cmd: string;
  let args: string[];
  let spawnUser: UnixUser | undefined;
  let env: NodeJS.ProcessEnv;

  if (kind === "prosody") {
    await fs.mkdir(path.join(dir, "data"), { recursive: true });
    await fs.writeFile(path.join(dir, "prosody.cfg.lua"), prosodyConfig({ dir, domain, ports, secrets, debug, variant }));
    logFiles = [path.join(dir, "prosody.log"), stdoutLog];
    cmd = "/usr/bin/prosody";
    args = ["--config", path.join(dir, "prosody.cfg.lua"), "-F"];
    env = { ...process.env };
  } else {
    const node = `xepcheck-${secrets.nodeId}@localhost`;
    for (const sub of ["spool", "log", "upload", "contrib", "contrib/conf"]) {
      await fs.mkdir(path.join(dir, sub), { recursive: true });
    }
    await fs.writeFile(path.join(dir, "ejabberd.yml"), ejabberdYaml({ dir, domain, ports, secrets, debug }));
    await fs.writeFile(path.join(dir, "ejabberdctl.cfg"), ejabberdctlCfg({ dir, node, ports }));
    await fs.writeFile(path.join(dir, "inetrc"), `{lookup,["file","native"]}.\n{host,{127,0,0,1}, ["localhost"]}.\n{file, resolv, "/etc/resolv.conf"}.\n`);
    const cookie = path.join(dir, ".erlang.cookie");
    if (!existsSync(cookie)) await fs.writeFile(cookie, randomBytes(20).toString("hex").toUpperCase(), { mode: 0o400 });
    spawnUser = ejabberdUser();
    if (spawnUser) await runOk("chown", ["-R", `${spawnUser.uid}:${spawnUser.gid}`, dir]);
    logFiles = [path.join(dir, "log", "ejabberd.log"), path.join(dir, "log", "error.log"), stdoutLog];
    cmd = "/usr/sbin/ejabberdctl";
    args = ["--config-dir", dir, "foreground"];
    env = ejabberdEnv(dir);
  }

  return { certs, secrets, stdoutLog, logFiles, cmd, args, spawnUser, env };
}

export async function startServer(kind: ServerKind, opts: StartOptions = {}): Promise<StartedServer> {
  if (kind !== "prosody" && kind !== "ejabberd") throw new Error(`unknown server kind: ${String(kind)}`);
  const variant = opts.variant ?? "full";
  const certificate = opts.certificate ?? "valid";
  if (!CERTIFICATE_KINDS.includes(certificate)) throw new Error(`unknown certificate kind: ${String(certificate)}`);
  if (!["full", "minimal", "liar"].includes(variant)) throw new Error(`unknown server variant: ${String(variant)}`);
  if (kind !== "prosody" && variant !== "full") throw new Error(`the ${variant} variant exists for Prosody only`);
  const basePort = opts.basePort ?? DEFAULT_BASE[kind];
  const ports = portsFor(kind, basePort);
  const domain = `${kind}.test`;
  const debug = process.env.XEPCHECK_SERVER_DEBUG === "1";
  const ownDir = !opts.dir;
  await fs.mkdir(STATE_DIR, { recursive: true });
  await killStale(kind, basePort, ports);
  const dir = opts.dir
    ? path.resolve(opts.dir)
    : await fs.mkdtemp(path.join(os.tmpdir(), `xepcheck-${kind}-`));
  const cleanDir = async () => {
    if (ownDir && process.env.XEPCHECK_KEEP_SERVER_DIRS !== "1") await fs.rm(dir, { recursive: true, force: true });
  };

  let launch: Launch;
  try {
    await fs.mkdir(dir, { recursive: true });
    launch = await prepareLaunch(kind, dir, domain, ports, debug, variant, certificate);
  } catch (e) {
    await cleanDir();
    throw e;
  }
  const { certs, secrets, stdoutLog, logFiles, cmd, args, spawnUser, env } = launch;

  const out = openSync(stdoutLog, "a");
  const t0 = Date.now();
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, {
      cwd: dir,
      env,
      detached: true, // own process group: stop() signals the whole group
      stdio: ["ignore", out, out],
      uid: spawnUser?.uid,
      gid: spawnUser?.gid,
    });
  } finally {
    closeSync(out);
  }
  let pid: number;
  try {
    pid = await new Promise<number>((resolve, reject) => {
      child.once("spawn", () => resolve(child.pid ?? -1));
      child.once("error", reject);
    });
  } catch (e) {
    await cleanDir();
    throw e;
  }
  trackGroup(pid, kind);
  const pidfile = path.join(STATE_DIR, `${kind}-${basePort}.pid`);
  await fs.writeFile(pidfile, `${pid}\n${dir}\n${ownDir ? 1 : 0}\n${process.pid}\n`);
  await fs.writeFile(path.join(dir, "server.pid"), `${pid}\n`);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.once("exit", (code, signal) => {
    exited = { code, signal };
  });
  child.unref();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await killGroup(pid);
      running.delete(pid);
      try {
        if (readFileSync(pidfile, "utf8").split("\n")[0] === String(pid)) await fs.rm(pidfile, { force: true });
      } catch {
        /* gone */
      }
      await cleanDir();
    })();
    return stopping;
  };

  const failure = async (why: string): Promise<Error> => {
    await killGroup(pid, 5000);
    running.delete(pid);
    await fs.rm(pidfile, { force: true });
    const tails = await Promise.all(logFiles.map(async (f) => `--- ${f} (tail)\n${await tail(f)}`));
    return new Error(`${kind} did not start: ${why} (dir ${dir})\n${tails.join("\n")}`);
  };

  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const deadline = t0 + timeoutMs;
  let ready = false;
  while (Date.now() < deadline) {
    if (exited) throw await failure(`process exited early (code ${exited.code}, signal ${exited.signal})`);
    if (await probeStreamFeatures(ports.c2s, domain)) {
      ready = true;
      break;
    }
    await sleep(250);
  }
  if (!ready) throw await failure(`no <stream:features> on 127.0.0.1:${ports.c2s} within ${timeoutMs} ms`);
  const startupMs = Date.now() - t0;

  const server: StartedServer = {
    kind,
    domain,
    host: HOST,
    ports,
    caFile: certs.caFile,
    accounts: [],
    dir,
    pid,
    services: {
      muc: `conference.${domain}`,
      upload: `upload.${domain}`,
      proxy65: `proxy.${domain}`,
      pubsub: `pubsub.${domain}`,
      ...(kind === "ejabberd" ? { mix: `mix.${domain}` } : {}),
    },
    component: { domain: `ext.${domain}`, secret: secrets.component },
    urls:
      kind === "prosody"
        ? {
            bosh: `http://${HOST}:${ports.http}/http-bind`,
            websocket: `ws://${HOST}:${ports.http}/xmpp-websocket`,
            boshTls: `https://${HOST}:${ports.https}/http-bind`,
            websocketTls: `wss://${HOST}:${ports.https}/xmpp-websocket`,
          }
        : {
            bosh: `http://${HOST}:${ports.http}/bosh`,
            websocket: `ws://${HOST}:${ports.http}/ws`,
            boshTls: `https://${HOST}:${ports.https}/bosh`,
            websocketTls: `wss://${HOST}:${ports.https}/ws`,
          },
    logFiles,
    ...(variant !== "full" ? { variant } : {}),
    ...(certificate !== "valid" ? { certificate } : {}),
    startupMs,
    stop,
  };

  try {
    for (const name of ACCOUNT_NAMES) {
      const password = secrets.passwords[name] ?? strongPassword();
      await registerAccount(server, name, password);
      server.accounts.push({ jid: `${name}@${domain}`, password });
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return server;
}

type ServerRef = Pick<ServerInfo, "kind" | "domain" | "dir">;

/** Registers (or, if it exists, re-passwords) an account with the server's admin command. */
export async function registerAccount(server: ServerRef, user: string, password: string): Promise<void> {
  if (server.kind === "prosody") {
    // prosodyctl register works on the storage directly; internal storage is read
    // from disk by the running server, and an existing account gets the new password.
    await runOk("/usr/bin/prosodyctl", [
      "--config", path.join(server.dir, "prosody.cfg.lua"), "register", user, server.domain, password,
    ], { cwd: server.dir });
    return;
  }
  // The node may still be finishing its start when the listener answers: retry briefly.
  let last: ExecResult | undefined;
  for (let attempt = 0; attempt < 10; attempt++) {
    if (await accountExists(server, user)) {
      last = await ejabberdctl(server.dir, ["change_password", user, server.domain, password]);
    } else {
      last = await ejabberdctl(server.dir, ["register", user, server.domain, password]);
    }
    if (last.code === 0) return;
    await sleep(500);
  }
  throw new Error(`ejabberdctl register ${user}@${server.domain} failed (${last?.code}): ${last?.stdout}${last?.stderr}`);
}

/** Whether the account exists, asked through the admin commands (for cleanup tests). */
export async function accountExists(server: ServerRef, user: string): Promise<boolean> {
  if (server.kind === "prosody") {
    // Ask the running server through its admin socket.
    const r = await prosodyctl(server.dir, ["shell", `user:list(${luaStr(server.domain)}, ${luaStr(`^${escapeLuaPattern(user)}$`)})`]);
    if (r.code !== 0) throw new Error(`prosodyctl shell user:list failed (${r.code}): ${r.stdout}${r.stderr}`);
    return r.stdout.split("\n").some((l) => l.trim() === `${user}@${server.domain}` || l.trim() === user);
  }
  const r = await ejabberdctl(server.dir, ["check_account", user, server.domain]);
  if (r.code === 0) return true;
  if (r.code === 1) return false;
  throw new Error(`ejabberdctl check_account failed (${r.code}): ${r.stdout}${r.stderr}`);
}

/** Deletes the account with the admin command (no error if it does not exist). */
export async function unregisterAccount(server: ServerRef, user: string): Promise<void> {
  if (server.kind === "prosody") {
    const r = await prosodyctl(server.dir, ["shell", `user:delete(${luaStr(`${user}@${server.domain}`)})`]);
    if (r.code !== 0 && (await accountExists(server, user))) {
      throw new Error(`prosodyctl shell user:delete failed (${r.code}): ${r.stdout}${r.stderr}`);
    }
    return;
  }
  const r = await ejabberdctl(server.dir, ["unregister", user, server.domain]);
  if (r.code !== 0 && (await accountExists(server, user))) {
    throw new Error(`ejabberdctl unregister failed (${r.code}): ${r.stdout}${r.stderr}`);
  }
}

function escapeLuaPattern(s: string): string {
  return s.replace(/[\^$()%.[\]*+\-?]/g, "%$&");
}

/** StartedServer without stop(), for JSON / vitest provide(). */
export function serverInfo(s: StartedServer): ServerInfo {
  const { stop: _stop, ...info } = s;
  return JSON.parse(JSON.stringify(info)) as ServerInfo;
}
