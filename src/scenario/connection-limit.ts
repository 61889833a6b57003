/**
 * Politeness towards one server: at most `max` connections of the scenarios
 * open at once (logins, raw streams, the extra logins of XEP-0198
 * resumption), at most `perAccount` of them sessions of one account (parked
 * ones included: the server counts them), and a pause before the next connection when the server ended
 * a session, or refused one, asking us to slow down (stream error
 * <policy-violation/> or <resource-constraint/>, see slow-down.ts). Each
 * pause is recorded as a run-level note.
 *
 * Scenarios open connections one after another and keep them until they
 * end, so a plain semaphore can deadlock (eight allowed, four scenarios
 * holding two each, each waiting for a third). A connection is granted only
 * if afterwards every scenario holding connections could still get up to
 * `perScenario` of them, in some order (the banker's algorithm, with each
 * account's sessions as a second kind of resource, of which any scenario
 * may still need all it claims); otherwise it waits. Scenarios that already
 * hold connections may thus go first.
 *
 * It also keeps the run's pool of idle sessions: a scenario that ends with a
 * logged-in session it left as it found it (see session-state.ts) parks it
 * here instead of closing it, and the next scenario that logs in the same
 * account takes it without a new login. Parked sessions stay counted as
 * open, but count as free for granting: when a new connection needs their
 * slot, the oldest parked one is closed.
 */
import { SessionError } from "../session/errors.js";
import type { Credentials, Session } from "../session/login.js";
import type { XmppStream } from "../session/stream.js";
import { ScenarioSkip } from "./outcome.js";
import { DEFAULT_BACKOFF, backoffDelay, slowDownNote, streamSlowDown, type BackoffPolicy } from "./slow-down.js";

/** What the limit needs of a connection: to see it end, and to end it. */
export interface Closable {
  close(): Promise<void>;
  destroy(): void;
}

/** Parked sessions that are more than just logged in: "roster", an interested resource. */
export type SessionPool = "roster";

/** The key of an account's parked sessions in `pool`. */
const poolKey = (username: string, pool?: SessionPool) => (pool ? `${username}\u0000${pool}` : username);

/** What the runner gives scenarios to connect with. */
export interface Connector {
  /** A login; `fresh` when the login itself is under test (RFC 6120's, never a cheaper one). */
  connect(credentials: Credentials, resource: string, options?: { fresh?: boolean }): Promise<Session>;
  openStream(): Promise<XmppStream>;
}

/** One scenario's way to connect under the limit. */
export interface ScenarioConnections extends Connector {
  /**
   * A login; `fresh` when the login itself is what the scenario looks at
   * (never a parked session); `pool` "roster" takes a parked session that
   * requested the roster first (see park), then a plain one.
   */
  connect(credentials: Credentials, resource: string, options?: { fresh?: boolean; pool?: SessionPool }): Promise<Session>;
  /**
   * Hands a logged-in session of `credentials` back for the next scenario,
   * instead of closing it. The session must be as it was after login, or,
   * in `pool` "roster", as after login and a roster request: an interested
   * resource (RFC 6121 §2.1.6), which only scenarios that request the
   * roster themselves are given.
   * False when it cannot be parked (closed, or not one of this scenario's).
   */
  park(session: Session, credentials: Credentials, pool?: SessionPool): boolean;
  /** Whether connect() gave this session from the pool rather than a new login. */
  reused(session: Session): boolean;
  /**
   * Any other connection the scenario opens itself (another port, transport
   * or login flow), counted the same way; `account`, the user it logs in as
   * (or may: a raw stream), for the per-account limit.
   */
  count<T>(what: string, open: () => Promise<T>, streamOf: (opened: T) => Closable, account?: string): Promise<T>;
  /** Drops the connections the scenario left open and refuses its waiting requests. */
  end(): void;
}

export interface ConnectionLimitOptions {
  /** Most connections open at once. */
  max: number;
  /**
   * Most connections one scenario holds at once, for deadlock avoidance.
   * Default 5: the most any scenario of this version holds, cleanups'
   * own logins included (measured on a full run against Prosody).
   */
  perScenario?: number;
  /**
   * Most sessions of one account open at once, parked ones and those in
   * `outside` included (default: no limit beyond `max`).
   */
  perAccount?: number;
  /** Sessions open outside the limit (the runner's main session), by account: they count against perAccount. */
  outside?: string[];
  backoff?: BackoffPolicy;
}

/** A run-level note of one pause, shaped as the report's run errors. */
export interface SlowDownNote {
  step: "connect";
  kind: "slow-down";
  condition: string;
  message: string;
}

/** A scenario asked for more connections than it declared while the others held the rest (see refuseIfStuck). */
export class ConnectionsExhausted extends Error {
  override name = "ConnectionsExhausted";
  constructor(held: number, claim: number) {
    super(
      `this scenario asked for connection ${held + 1} at once, more than the ${claim} it declares, while the other scenarios held the rest of the limit (--max-connections); a scenario that needs more must say so (ScenarioDefinition.connections)`,
    );
  }
}

interface Lease {
  held: number;
  /** Of `held`, how many by account. */
  heldBy: Map<string, number>;
  /** The most it will hold (default: perScenario). */
  claim?: number;
}

interface Waiting {
  lease: Lease;
  /** For a login: the pool key of the account, whose parked session is granted if there is one. */
  account?: string;
  /** The user the connection logs in as, for perAccount. */
  user?: string;
  grant: (parked?: Session) => void;
  refuse: (err: Error) => void;
}

export class ConnectionLimit {
  readonly max: number;
  /** Every pause the server asked for, in order. */
  readonly notes: SlowDownNote[] = [];
  private readonly perScenario: number;
  private readonly perAccount: number;
  private readonly backoff: BackoffPolicy;
  private open = 0;
  /** Sessions open by account: the scenarios' (parked included) and those outside the limit. */
  private readonly openBy = new Map<string, number>();
  private highWater = 0;
  /** Leases holding at least one connection. */
  private readonly holders = new Set<Lease>();
  private queue: Waiting[] = [];
  private pause: Promise<unknown> = Promise.resolve();
  /** Slow-down requests in a row (reset by a connection that succeeds). */
  private slowDowns = 0;
  /** Parked sessions by account, oldest first; each is counted in `open`. */
  private readonly idle = new Map<string, Session[]>();
  private idleCount = 0;
  /** How many logins a parked session saved. */
  private reuses = 0;
  /** The XEP-0198 reconnect of each session as login() made it, before a scenario counted it under its own lease. */
  private readonly resumeOf = new WeakMap<Session, NonNullable<Session["openAuthenticated"]>>();

  constructor(options: ConnectionLimitOptions) {
    if (!Number.isInteger(options.max) || options.max < 1) throw new RangeError(`the connection limit must be a positive integer, not ${options.max}`);
    this.max = options.max;
    this.perScenario = Math.min(options.perScenario ?? 5, this.max);
    this.perAccount = options.perAccount ?? Infinity;
    if (!(this.perAccount >= 1)) throw new RangeError(`the per-account limit must be at least 1, not ${options.perAccount}`);
    for (const user of options.outside ?? []) this.countUser(user, +1);
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  /** Connections open now. */
  get openConnections(): number {
    return this.open;
  }

  /** Logins saved by sessions taken from the pool. */
  get sessionsReused(): number {
    return this.reuses;
  }

  /** The most connections that were open at once. */
  get mostOpen(): number {
    return this.highWater;
  }

  /**
   * The server asked us to slow down (`condition`, at `where`): connections
   * not yet opened wait, longer each time in a row. Returns the wait.
   */
  serverAskedToSlowDown(condition: string, where: string): number {
    const ms = backoffDelay(this.backoff, this.slowDowns++);
    this.pause = Promise.all([this.pause, this.backoff.sleep(ms)]);
    this.notes.push({
      step: "connect",
      kind: "slow-down",
      condition,
      message: `${slowDownNote(condition, ms)}: the server ended ${where}; the next connection waited`,
    });
    return ms;
  }

  /**
   * The connections of one scenario, counted together. A connection counts
   * until its stream is closed (the scenario closes all of its own when it
   * ends) or until end(), which drops what is left. `note` receives the
   * scenario's own back-off notes.
   */
  forScenario(connector: Connector, note: (text: string) => void = () => {}, claim?: number): ScenarioConnections {
    const lease: Lease = { held: 0, heldBy: new Map(), ...(claim !== undefined ? { claim: Math.max(1, Math.min(claim, this.max)) } : {}) };
    /** Each slot taken and not given back: its release, and its stream once open. */
    const slots = new Map<(parked?: boolean) => void, Closable | undefined>();
    const reused = new WeakSet<Session>();
    let ended = false;

    /** A slot of this lease for `stream` (undefined until open) of `user`, given back when the stream closes or is parked. */
    const slotFor = (user: string | undefined, stream?: Closable) => {
      let released = false;
      const release = (parked = false) => {
        if (released) return;
        released = true;
        slots.delete(release);
        this.release(lease, parked, user);
      };
      slots.set(release, stream);
      return release;
    };

    /** Takes a slot, opens, and gives the slot back when the stream closes; a refusal asking us to slow down is tried again later. */
    const counted = async <T>(what: string, open: () => Promise<T>, streamOf: (opened: T) => Closable, user?: string): Promise<T> => {
      for (let attempt = 0; ; attempt++) {
        await this.acquire(lease, undefined, user);
        const release = slotFor(user);
        try {
          const opened = await open();
          this.slowDowns = 0;
          onClose(streamOf(opened), () => release());
          slots.set(release, streamOf(opened));
          if (ended) {
            streamOf(opened).destroy();
            throw new SessionError("network", "close", "the scenario has ended");
          }
          return opened;
        } catch (err) {
          release();
          const condition = streamSlowDown(err);
          if (ended || !condition || attempt >= this.backoff.retries) throw err;
          const ms = this.serverAskedToSlowDown(condition, `${what} with a stream error`);
          note(`${slowDownNote(condition, ms)} before connecting again`);
        }
      }
    };

    /** XEP-0198 resumption opens another connection: it counts too, under this scenario. */
    const countResumption = (session: Session) => {
      const resume = this.resumeOf.get(session);
      if (resume) session.openAuthenticated = () => counted("a login for resumption", resume, (stream) => stream);
    };

    return {
      connect: async (credentials, resource, options = {}) => {
        const parked = options.fresh
          ? undefined
          : ((options.pool ? await this.acquireParked(lease, poolKey(credentials.username, options.pool), credentials.username) : undefined) ??
            (await this.acquireParked(lease, credentials.username, credentials.username)));
        if (parked) {
          // What arrived while it was parked belongs to no scenario.
          parked.stream.resetForReuse();
          reused.add(parked);
          const release = slotFor(credentials.username, parked.stream);
          onClose(parked.stream, () => release());
          countResumption(parked);
          if (ended) {
            parked.stream.destroy();
            throw new SessionError("network", "close", "the scenario has ended");
          }
          return parked;
        }
        return counted(
          "a login",
          async () => {
            const session = await connector.connect(credentials, resource, { fresh: Boolean(options.fresh) });
            if (session.openAuthenticated) this.resumeOf.set(session, session.openAuthenticated);
            countResumption(session);
            return session;
          },
          (session) => session.stream,
          credentials.username,
        );
      },
      openStream: () => counted("a stream", () => connector.openStream(), (stream) => stream),
      count: counted,
      park: (session, credentials, pool) => {
        const release = [...slots].find(([, stream]) => stream === session.stream)?.[0];
        if (ended || !release || session.stream.isClosed) return false;
        session.stream.resetForReuse();
        const key = poolKey(credentials.username, pool);
        const list = this.idle.get(key) ?? [];
        list.push(session);
        this.idle.set(key, list);
        release(true);
        return true;
      },
      reused: (session) => reused.has(session),
      end: () => {
        ended = true;
        for (const waiting of this.queue.filter((w) => w.lease === lease)) waiting.refuse(new SessionError("network", "close", "the scenario has ended"));
        this.queue = this.queue.filter((w) => w.lease !== lease);
        for (const [release, stream] of [...slots]) {
          // A connection must not outlive its scenario (the server would count it).
          stream?.destroy();
          release();
        }
      },
    };
  }

  /**
   * Takes `count` slots for connections opened outside any scenario (the
   * login-cost table's, one at a time), held until the returned
   * function gives them back.
   */
  async reserve(count: number): Promise<() => void> {
    const lease: Lease = { held: 0, heldBy: new Map(), claim: count };
    for (let i = 0; i < count; i++) await this.acquire(lease);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (let i = 0; i < count; i++) this.release(lease);
    };
  }

  /**
   * Waits for a slot as a login of `account` would, and takes a parked
   * session of it if one is there when the slot is granted. Without one the
   * slot is given back at once and the login asks anew (counted, with its
   * own retries), so a parked session that arrives meanwhile is not missed
   * for long.
   */
  private async acquireParked(lease: Lease, account: string, user: string): Promise<Session | undefined> {
    if (!this.idle.get(account)?.length) return undefined;
    const parked = await this.acquire(lease, account, user);
    if (!parked) this.release(lease, false, user);
    return parked;
  }

  /** Closes every parked session (the run's scenarios are done). */
  async closeIdle(): Promise<void> {
    for (const [key, list] of this.idle) this.countUser(userOf(key), -list.length);
    const sessions = [...this.idle.values()].flat();
    this.idle.clear();
    this.open -= this.idleCount;
    this.idleCount = 0;
    await Promise.all(sessions.map((s) => s.stream.close()));
  }

  /**
   * Closes the oldest parked session of the account with most parked (of
   * `user`'s accounts only, when given), to give its slot to a new connection.
   */
  private evictIdle(user?: string): void {
    const candidates = [...this.idle].filter(([key, list]) => list.length && (user === undefined || userOf(key) === user));
    const [key, list] = candidates.sort((a, b) => b[1].length - a[1].length)[0] ?? [];
    const session = list?.shift();
    if (!key || !list || !session) return;
    if (!list.length) this.idle.delete(key);
    this.idleCount--;
    this.open--;
    this.countUser(userOf(key), -1);
    // Closed politely in the background: the new connection does not wait for the server's closing element.
    void session.stream.close();
  }

  /** Waits for a slot (see the module comment), then for any pause the server asked for. */
  private async acquire(lease: Lease, account?: string, user?: string): Promise<Session | undefined> {
    if (lease.held >= this.max) {
      throw new ScenarioSkip(`this scenario needs more than ${this.max} connections at once, the limit of connections to the server (--max-connections)`);
    }
    const parked = await new Promise<Session | undefined>((grant, refuse) => {
      this.queue.push({ lease, grant, refuse, ...(account ? { account } : {}), ...(user !== undefined ? { user } : {}) });
      this.grantWhatIsSafe();
    });
    // A parked session is open already: no pause for it.
    if (parked) return parked;
    for (let pause = this.pause; ; pause = this.pause) {
      await pause;
      if (pause === this.pause) return undefined;
    }
  }

  /** A connection of `lease` (of `user`) closed, or was parked (then it stays open, as idle). */
  private release(lease: Lease, parked = false, user?: string): void {
    if (parked) this.idleCount++;
    else {
      this.open--;
      if (user !== undefined) this.countUser(user, -1);
    }
    if (user !== undefined) lease.heldBy.set(user, (lease.heldBy.get(user) ?? 1) - 1);
    if (--lease.held === 0) this.holders.delete(lease);
    this.grantWhatIsSafe();
  }

  private countUser(user: string, by: number): void {
    const n = (this.openBy.get(user) ?? 0) + by;
    if (n > 0) this.openBy.set(user, n);
    else this.openBy.delete(user);
  }

  /** Sessions of `user` that a new one cannot take the place of: open, not parked. */
  private busyOf(user: string): number {
    let parked = 0;
    for (const [key, list] of this.idle) if (userOf(key) === user) parked += list.length;
    return (this.openBy.get(user) ?? 0) - parked;
  }

  private grantWhatIsSafe(): void {
    for (let i = 0; i < this.queue.length; ) {
      const waiting = this.queue[i]!;
      const { user } = waiting;
      const parkedThere = waiting.account ? Boolean(this.idle.get(waiting.account)?.length) : false;
      const accountRoom = user === undefined || parkedThere || this.busyOf(user) < this.perAccount;
      if (this.open - this.idleCount < this.max && accountRoom && this.safeAfterGranting(waiting.lease, user)) {
        this.queue.splice(i, 1);
        const parked = waiting.account ? this.takeParked(waiting.account) : undefined;
        if (!parked) {
          // A parked session of the same account makes room under both limits at once.
          if (user !== undefined && (this.openBy.get(user) ?? 0) >= this.perAccount) this.evictIdle(user);
          if (this.open >= this.max) this.evictIdle();
          this.open++;
          if (user !== undefined) this.countUser(user, +1);
        }
        this.highWater = Math.max(this.highWater, this.open);
        waiting.lease.held++;
        if (user !== undefined) waiting.lease.heldBy.set(user, (waiting.lease.heldBy.get(user) ?? 0) + 1);
        // Past its claim: from now on it is planned for with what it holds.
        if (waiting.lease.claim !== undefined && waiting.lease.held > waiting.lease.claim) waiting.lease.claim = waiting.lease.held;
        this.holders.add(waiting.lease);
        waiting.grant(parked);
        i = 0; // the state changed: look again from the oldest
      } else {
        i++;
      }
    }
    this.refuseIfStuck();
  }

  /**
   * Within their claims the holders always have an order to finish in; past
   * them two scenarios can each wait for the other's connection. When every
   * holder waits, the newest request past its claim is refused (its
   * scenario ends as "could not tell"), so that the others go on.
   */
  private refuseIfStuck(): void {
    if (!this.holders.size || ![...this.holders].every((lease) => this.queue.some((w) => w.lease === lease))) return;
    const over = [...this.queue].reverse().find((w) => w.lease.held > 0 && w.lease.held + 1 > (w.lease.claim ?? this.perScenario));
    if (!over) return;
    this.queue = this.queue.filter((w) => w !== over);
    over.refuse(new ConnectionsExhausted(over.lease.held, over.lease.claim ?? this.perScenario));
    this.grantWhatIsSafe();
  }

  /** An open parked session of `account`, no longer counted as idle (it stays counted as open). */
  private takeParked(account: string): Session | undefined {
    const list = this.idle.get(account);
    while (list?.length) {
      const session = list.shift()!;
      this.idleCount--;
      if (!session.stream.isClosed) {
        this.reuses++;
        return session;
      }
      this.open--; // the server ended it while it was parked
      this.countUser(userOf(account), -1);
    }
    return undefined;
  }

  /**
   * Banker's check: after one more connection for `requester` (a session
   * of `user`, if given, new or parked), can every holder still reach its claim in
   * some order? A requester past its claim is checked with the claim it
   * would then have. Any holder may need all it still claims from any one
   * account, so it can finish only where every account has that much room.
   */
  private safeAfterGranting(requester: Lease, user?: string): boolean {
    const heldAfter = (lease: Lease) => lease.held + (lease === requester ? 1 : 0);
    const claimOf = (lease: Lease) => Math.max(lease.claim ?? this.perScenario, heldAfter(lease));
    const pending = [...new Set([...this.holders, requester])].map((lease) => ({
      lease,
      held: heldAfter(lease),
      need: Math.max(0, claimOf(lease) - heldAfter(lease)),
    }));
    let free = this.max - (this.open - this.idleCount) - 1; // parked sessions can be closed for anyone
    const accounts = new Set([...this.openBy.keys(), ...(user !== undefined ? [user] : []), ...pending.flatMap((p) => [...p.lease.heldBy.keys()])]);
    const freeBy = new Map([...accounts].map((a) => [a, this.perAccount - this.busyOf(a) - (a === user ? 1 : 0)]));
    if (user !== undefined && freeBy.get(user)! < 0) return false;
    while (pending.length) {
      const at = pending.findIndex(({ need }) => need <= free && [...freeBy.values()].every((room) => need <= room));
      if (at < 0) return false;
      const [{ lease, held }] = pending.splice(at, 1) as [(typeof pending)[number]];
      free += held; // that scenario can finish and give its connections back
      const heldBy = new Map(lease.heldBy);
      if (lease === requester && user !== undefined) heldBy.set(user, (heldBy.get(user) ?? 0) + 1);
      for (const [a, n] of heldBy) freeBy.set(a, (freeBy.get(a) ?? this.perAccount) + n);
    }
    return true;
  }
}

/** The user of a pool key. */
function userOf(key: string): string {
  return key.split("\u0000")[0]!;
}

/**
 * Calls `fn` once the stream is closed or dropped by us. XmppStream has no
 * close event, so its two ways of ending are wrapped on this instance.
 */
function onClose(stream: Closable, fn: () => void): void {
  const { close, destroy } = stream;
  stream.close = async () => {
    try {
      await close.call(stream);
    } finally {
      fn();
    }
  };
  stream.destroy = () => {
    destroy.call(stream);
    fn();
  };
}
