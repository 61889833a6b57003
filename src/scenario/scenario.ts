/**
 * The context a live scenario runs in: it logs in actors, records everything
 * they exchange into one transcript, registers cleanups as it creates
 * things, and turns the way the scenario ended into a verdict.
 */
import { randomBytes } from "node:crypto";
import { xml } from "@xmpp/xml";
import type { CheckContext, CheckOutcome, Evidence, Level, ScenarioDefinition, Verdict } from "../checks/types.js";
import { SessionError, StanzaError, withDeadline } from "../session/errors.js";
import type { Credentials, Session } from "../session/login.js";
import { NS_PING, type StreamLimits, type TlsSettings, type XmppStream } from "../session/stream.js";
import type { LoginCostBook, LoginFlavour } from "../probe/login-cost.js";
import type { TrafficMeter } from "../session/traffic.js";
import { Transcript } from "../session/transcript.js";
import { Actor } from "./actor.js";
import type { Closable, ConnectionLimit, ScenarioConnections, SessionPool } from "./connection-limit.js";
import { RawStream } from "../session/raw-stream.js";
import { ScenarioFailure, ScenarioSkip, ServerBusy } from "./outcome.js";
import { sessionChange } from "./session-state.js";
import { DEFAULT_BACKOFF, slowDownNote, streamSlowDown, type BackoffPolicy } from "./slow-down.js";

export type Role = "account" | "peer";

/** Where and how the run connects, for scenarios that open other kinds of connections. */
export interface Target {
  domain: string;
  /** The endpoint the main session used. */
  host: string;
  port: number;
  mode: "starttls" | "direct";
  tls: TlsSettings;
  timeoutMs: number;
  /** --host was given: DNS was not asked. */
  configuredHost: boolean;
  /** DNS server for SRV lookups (--dns host[:port]), if given. */
  dns?: string;
  /** ALPN protocols offered on direct TLS (--alpn). */
  alpn: string[];
  /** Port for a direct TLS (XEP-0368) login on the configured host (--direct-tls-port), when DNS is not asked. */
  directTlsPort?: number;
  /** The main session's transport and, for web transports, its URL. */
  transport: "tcp" | "websocket" | "bosh";
  url?: string;
  /** An external component to connect as (XEP-0114): its name, port on the host, shared secret (--component). */
  component?: { domain: string; port: number; secret: string };
  /** What is accepted from the server, on every connection a scenario opens as on the main session. */
  limits: StreamLimits;
  meter: TrafficMeter;
  /** The login-cost table's rows that scenarios measure with their own logins. */
  loginCosts?: LoginCostBook;
}

/** The run's endpoint as connection settings, for the connections a scenario (or the login-cost table) opens itself. */
export function endpointOf(t: Target): { domain: string; host: string; port: number; mode: Target["mode"]; tls: TlsSettings; timeoutMs: number; alpn: string[] } & StreamLimits {
  return { domain: t.domain, host: t.host, port: t.port, mode: t.mode, tls: t.tls, timeoutMs: t.timeoutMs, alpn: t.alpn, ...t.limits };
}

/** What the runner gives every scenario. */
export interface ScenarioEnvironment {
  ctx: CheckContext;
  target: Target;
  accounts: { account: Credentials; peer?: Credentials };
  /**
   * Opens a logged-in session for these credentials (counted by the runner):
   * the cheapest login the server offers, or with `fresh` (the login is under
   * test) RFC 6120's.
   */
  connect(credentials: Credentials, resource: string, options?: { fresh?: boolean }): Promise<Session>;
  /** Opens a bare stream to the server: no TLS upgrade, no authentication (for raw protocol checks). */
  openStream(): Promise<XmppStream>;
  /** How long an expected stanza may take. */
  waitMs: number;
  /** The whole scenario's deadline, cleanup not included. */
  scenarioTimeoutMs: number;
  /** Limits the connections open at once to the server and pauses them when it asks us to slow down. */
  connectionLimit?: ConnectionLimit;
  /** How long to back off when the server asks us to slow down (default DEFAULT_BACKOFF). */
  backoff?: BackoffPolicy;
}

export class Scenario {
  readonly transcript = new Transcript();
  readonly evidence: Evidence[] = [];
  /** One sentence said on success; defaults to the check's title. */
  summary: string | undefined;
  /**
   * What the scenario found advertised where the probe cannot look (a room's
   * own disco#info): when set, it replaces the definition's advertised(ctx).
   */
  advertised: boolean | null | undefined;
  private readonly cleanups: { what: string; fn: () => Promise<void> }[] = [];
  /** Each logged-in session's credentials and what was done to its state (see finish()). */
  private readonly logins = new Map<Session, { credentials: Credentials; presence: boolean; roster: boolean; other: boolean }>();
  private readonly raw: XmppStream[] = [];
  private readonly connections: ScenarioConnections | undefined;
  private closed = false;
  private loginsStarted = 0;

  /**
   * @param pool "roster" for scenarios that request the roster themselves:
   * they may be given sessions that did so before (interested resources).
   */
  constructor(
    private readonly env: ScenarioEnvironment,
    readonly id: string,
    connections = DEFAULT_SCENARIO_CONNECTIONS,
    private readonly pool?: SessionPool,
  ) {
    this.connections = env.connectionLimit?.forScenario(env, (note) => this.slowedDown(note), connections);
  }

  get ctx(): CheckContext {
    return this.env.ctx;
  }

  get domain(): string {
    return this.env.ctx.domain;
  }

  /** Where and how the run connects (for scenarios that open other transports or ports). */
  get target(): Target {
    return this.env.target;
  }

  /** The credentials of a role, for scenarios that log in other ways (SASL2, WebSocket, BOSH). */
  credentials(role: Role = "account"): Credentials {
    const creds = role === "peer" ? this.env.accounts.peer : this.env.accounts.account;
    if (!creds) this.skip("no second account: give --peer JID (password in XEPCHECK_PEER_PASSWORD) or use --register");
    return creds;
  }

  /** A unique token for message bodies, item ids and room names of this run. */
  token(prefix = "xc"): string {
    return `${prefix}-${randomBytes(4).toString("hex")}`;
  }

  /** The bare JID of an account role. */
  bareJid(role: Role): string {
    const creds = role === "peer" ? this.env.accounts.peer : this.env.accounts.account;
    if (!creds) this.skip("no second account: give --peer JID (password in XEPCHECK_PEER_PASSWORD) or use --register");
    return `${creds.username}@${this.domain}`;
  }

  /**
   * A logged-in session of `role` ("alice/A"): one parked by an earlier
   * scenario if there is one, else a new login. `fresh` when the login
   * itself is under test (its exchange belongs in this scenario's transcript).
   */
  async login(role: Role = "account", name?: string, options: { fresh?: boolean } = {}): Promise<Actor> {
    if (this.closed) throw new SessionError("network", "close", "the scenario has ended");
    const creds = role === "peer" ? this.env.accounts.peer : this.env.accounts.account;
    if (!creds) this.skip("no second account: give --peer JID (password in XEPCHECK_PEER_PASSWORD) or use --register");
    // Counted when the login starts, so that logins made at once get different letters.
    const label = `${creds.username}/${name ?? String.fromCharCode(65 + this.loginsStarted)}`;
    this.loginsStarted++;
    const resource = `xepcheck-${this.token("r")}`;
    const session = await (this.connections
      ? this.connections.connect(creds, resource, { ...options, ...(this.pool ? { pool: this.pool } : {}) })
      : this.env.connect(creds, resource, options));
    if (this.closed) {
      // The scenario's deadline passed while this login was under way.
      await session.stream.close();
      throw new SessionError("network", "close", "the scenario has ended");
    }
    // A login under test shows its own exchange (SASL payloads redacted) in this scenario's transcript.
    const loginExchange = options.fresh ? session.stream.transcript.entries : [];
    session.stream.useTranscript(this.transcript, label);
    for (const e of loginExchange) this.transcript.record(e.dir, e.xml, label);
    const reused = this.connections?.reused(session) ?? false;
    this.transcript.note(reused ? `${label} is ${session.jid}, a session logged in earlier and left as it was after login` : `${label} logged in as ${session.jid}`, label);
    const actor = new Actor(label, session, this.env.waitMs, {
      backoff: this.env.backoff ?? DEFAULT_BACKOFF,
      slowedDown: (note) => this.slowedDown(note),
    });
    this.track(session, creds);
    return actor;
  }

  /**
   * A session this scenario logged in itself (a SCRAM variant, direct TLS,
   * Bind 2), bound as `role`'s account, for the scenarios after it: when this
   * one ends it goes to the pool like the sessions of login(), if what is
   * sent on it from now on leaves it as after login, and is closed otherwise.
   */
  handOver(session: Session, role: Role = "account"): void {
    this.track(session, this.credentials(role));
  }

  /** Closes `stream` when the scenario ends, unless it belongs to a session handed over by then. */
  closeAtEnd(label: string, stream: XmppStream): void {
    this.cleanup(`close ${label}`, async () => {
      if (![...this.logins.keys()].some((session) => session.stream === stream)) await stream.close();
    });
  }

  /** Watches what is sent on `session`, for finish() to park or close it. */
  private track(session: Session, credentials: Credentials): void {
    const login = { credentials, presence: false, roster: false, other: false };
    session.stream.observe((el, direction) => {
      if (direction !== "out") return;
      const change = sessionChange(el);
      if (change !== "none") login[change] = true;
    });
    this.logins.set(session, login);
  }

  /** A fresh unauthenticated stream (as the server first answers), recorded as `label`; closed at the end. */
  async rawStream(label = "raw"): Promise<XmppStream> {
    const stream = await (this.connections ?? this.env).openStream();
    if (this.closed) {
      await stream.close();
      throw new SessionError("network", "close", "the scenario has ended");
    }
    stream.useTranscript(this.transcript, label);
    this.raw.push(stream);
    return stream;
  }

  /**
   * A connection the scenario opens itself (SCRAM mechanisms, direct TLS,
   * SASL2, WebSocket, BOSH): counted by the per-server connection limit like
   * the logins above, and dropped if still open when the scenario ends.
   */
  async connection<T>(what: string, open: () => Promise<T>, streamOf: (opened: T) => Closable): Promise<T> {
    if (this.closed) throw new SessionError("network", "close", "the scenario has ended");
    // Counted as a session of the account: most log in as it, and a raw stream may.
    return this.connections ? this.connections.count(what, open, streamOf, this.env.accounts.account.username) : open();
  }

  /**
   * A connection that sends exactly the bytes it is given (the stream-level
   * checks of RFC 6120), to the run's endpoint, before any TLS unless the run
   * uses direct TLS; recorded as `label` (in `transcript`, the scenario's
   * unless given), counted by the connection limit,
   * and dropped when the scenario ends.
   */
  async rawConnection(label = "raw", transcript: Transcript = this.transcript): Promise<RawStream> {
    const t = this.env.target;
    const raw = await this.connection(
      "a raw stream",
      () => RawStream.connect({ ...endpointOf(t), meter: t.meter, transcript, label }),
      (opened) => opened,
    );
    this.cleanup(`drop ${label}`, async () => raw.destroy());
    return raw;
  }

  /**
   * The login of `flavour` on `stream` just completed, nothing else sent on
   * it yet: a row of the login-cost table, which then need not log in for it
   * (ScenarioDefinition.measuresLogin).
   */
  loginCost(flavour: LoginFlavour, stream: XmppStream, note: string): void {
    this.env.target.loginCosts?.record(flavour, stream, note, this.id);
  }

  /** Registers an undo step; cleanups run last-first, even when the scenario fails or times out. */
  cleanup(what: string, fn: () => Promise<void>): void {
    this.cleanups.push({ what, fn });
  }

  note(text: string): void {
    this.transcript.note(text);
  }

  /** A back-off the server asked for: part of the check's evidence. */
  slowedDown(note: string): void {
    this.evidence.push({ type: "note", text: note });
  }

  skip(reason: string): never {
    throw new ScenarioSkip(reason);
  }

  fail(expected: string, actual: string): never {
    throw new ScenarioFailure(expected, actual);
  }

  /**
   * Sets the stage (a room created, a contact available): a step whose
   * failure says nothing of the requirement under test. It ends the check as
   * skip when the server did not do what the stage needs, or error when we
   * could not tell, naming the precondition; never as a fail.
   */
  async precondition<T>(what: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      if (err instanceof ScenarioSkip || err instanceof ServerBusy || streamSlowDown(err)) throw err;
      if (err instanceof ScenarioFailure || err instanceof StanzaError) this.skip(`precondition not met: ${what}: ${err.message}`);
      throw new Error(`precondition not met: ${what}: ${(err as Error).message}`);
    }
  }

  /** Asserts `condition`; otherwise the scenario fails with expected and actual. */
  ensure(condition: unknown, expected: string, actual: string): void {
    if (!condition) this.fail(expected, actual);
  }

  /**
   * Asserts what the requirement says the server SHOULD do: otherwise the
   * check ends as a warning, whatever its own level ("MUST close the stream
   * with a stream error, which SHOULD be <restricted-xml/>").
   */
  should(condition: unknown, expected: string, actual: string): void {
    if (!condition) throw new ScenarioFailure(expected, actual, "SHOULD");
  }

  /**
   * Runs the cleanups (each under a deadline), then parks every session left
   * as it was after login for the next scenario, and closes the rest.
   * Returns what failed.
   */
  async finish(): Promise<string[]> {
    const problems: string[] = [];
    for (const { what, fn } of [...this.cleanups].reverse()) {
      try {
        await withDeadline("wait", this.env.waitMs * 2, fn(), `cleanup: ${what}`);
        this.transcript.note(`cleanup: ${what}`);
      } catch (err) {
        problems.push(`${what}: ${(err as Error).message}`);
        this.transcript.note(`cleanup failed: ${what}: ${(err as Error).message}`);
      }
    }
    this.closed = true;
    await Promise.all([...[...this.logins.keys()].map((session) => this.parkOrClose(session)), ...this.raw.map((r) => r.close())]);
    this.connections?.end();
    return problems;
  }

  /**
   * Parks a session left as it was after login for the next scenario; one
   * that only sent presence is first made unavailable again, and a ping
   * answered after it shows the server has processed it (RFC 6120 §10.1,
   * in order); one that requested the roster goes to the roster pool. Anything
   * else that changed the session closes it.
   */
  private async parkOrClose(session: Session): Promise<void> {
    const login = this.logins.get(session);
    const { stream } = session;
    if (!this.connections || !login || login.other || stream.isClosed) return stream.close();
    if (login.presence || login.roster) {
      try {
        if (login.presence) stream.send(xml("presence", { type: "unavailable" }));
        // Roster pushes of this scenario's changes arrive before the answer: none is left for the next one.
        await stream.iq(xml("iq", { type: "get", to: this.domain }, xml("ping", { xmlns: NS_PING })));
      } catch {
        return stream.close();
      }
    }
    // A roster request cannot be undone: such a session waits for the next scenario that requests the roster.
    if (!this.connections.park(session, login.credentials, login.roster ? "roster" : undefined)) await stream.close();
  }
}

/** Steps of setting up a connection: a stream error there ends the session before the scenario asked anything. */
const CONNECTION_STEPS = new Set(["dns", "tcp-connect", "tls-handshake", "stream-open", "stream-features", "starttls", "sasl", "register", "bind", "session"]);
/** Stream errors (RFC 6120 §4.9.3) that report the server's trouble, not a refusal of what was sent. */
const SERVER_TROUBLE = new Set(["internal-server-error", "system-shutdown", "connection-timeout", "remote-connection-failed", "host-gone", "reset", "undefined-condition"]);

/**
 * A stream error in answer to what the scenario sent is a definite refusal;
 * one while connecting, or one that reports the server's own trouble, says
 * nothing about the feature ("could not tell", never "not offered").
 */
function isRefusal(err: unknown): err is SessionError {
  return err instanceof SessionError && err.kind === "stream-error" && !CONNECTION_STEPS.has(err.step) && !SERVER_TROUBLE.has(err.condition ?? "");
}

/**
 * works × advertised → verdict, as the specs' readers expect it; a
 * requirement of level SHOULD that is not met is a warning, not a failure.
 */
export function verdictFor(works: boolean, advertised: boolean | null, level: Level = "MUST"): Verdict {
  if (works) return advertised === false ? "warn" : "pass";
  if (advertised === false) return "na";
  return level === "MUST" ? "fail" : "warn";
}

export interface ScenarioResult {
  outcome: CheckOutcome;
  /** Cleanups that failed: something may be left on the server. */
  cleanupProblems: string[];
}

/** Connections a scenario holds at once unless it says otherwise (ScenarioDefinition.connections). */
export const DEFAULT_SCENARIO_CONNECTIONS = 2;

export async function runScenario(def: ScenarioDefinition, env: ScenarioEnvironment): Promise<ScenarioResult> {
  const s = new Scenario(env, def.id, def.connections, def.serialized === "roster" ? "roster" : undefined);
  const probed = def.advertised(env.ctx);
  let verdict: Verdict;
  let works: boolean | null = null;
  let summary: string;
  const evidence: Evidence[] = [];
  let advertised = probed;
  try {
    await withDeadline("wait", env.scenarioTimeoutMs, def.run(s), `scenario ${def.id} to finish`);
    if (s.advertised !== undefined) advertised = s.advertised;
    works = true;
    verdict = verdictFor(true, advertised);
    summary = (s.summary ?? def.title) + (verdict === "warn" ? " (works, but is not advertised)" : "");
  } catch (err) {
    const slowDown = streamSlowDown(err);
    if (err instanceof ScenarioSkip) {
      verdict = "skip";
      summary = err.message;
    } else if (err instanceof ServerBusy || slowDown) {
      // The server asked us to slow down and we did: it said nothing about the feature.
      verdict = "error";
      summary = `could not tell: ${(err as Error).message}`;
      if (slowDown) {
        const ms = env.connectionLimit?.serverAskedToSlowDown(slowDown, `a session of ${def.id}`);
        s.slowedDown(ms === undefined ? `server asked us to slow down (${slowDown}): it ended the session` : `${slowDownNote(slowDown, ms)} before the next connection`);
      }
    } else if (err instanceof ScenarioFailure || err instanceof StanzaError || isRefusal(err)) {
      // A stream error in answer to what we sent is a definite refusal, not "could not tell".
      const failure =
        err instanceof ScenarioFailure
          ? err
          : err instanceof StanzaError
            ? new ScenarioFailure("an iq result", `the error ${err.condition}${err.text ? ` (${err.text})` : ""}`)
            : new ScenarioFailure("the server to go on with the stream", err.message);
      if (s.advertised !== undefined) advertised = s.advertised;
      works = false;
      verdict = verdictFor(false, advertised, failure.level ?? def.level);
      evidence.push({ type: "expectedActual", expected: failure.expected, actual: failure.actual });
      const level = failure.level ?? def.level;
      summary =
        verdict === "na"
          ? `not offered: ${failure.message}`
          : verdict === "warn" && level !== "INFO"
            ? `${level} not met: ${failure.message}`
            : `${advertised ? "advertised but broken" : "does not work"}: ${failure.message}`;
    } else {
      verdict = "error";
      summary = `could not tell: ${(err as Error).message}`;
    }
  }
  const cleanupProblems = await s.finish();
  if (cleanupProblems.length) evidence.push({ type: "note", text: `cleanup failed: ${cleanupProblems.join("; ")}` });
  return {
    outcome: {
      verdict,
      advertised,
      works,
      summary,
      evidence: [...evidence, ...s.evidence, { type: "transcript", entries: s.transcript.entries }],
    },
    cleanupProblems,
  };
}
