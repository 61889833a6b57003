/**
 * When the server asks us to slow down, and how long we wait before asking
 * again. Servers say it in a few ways:
 *
 * - a stanza error of type "wait" (RFC 6120 §8.3.2: "retry after waiting"),
 *   e.g. Prosody's mod_muc_limits (<policy-violation/>, "the room is
 *   currently overactive") or ejabberd's MUC traffic limit;
 * - a stanza error <resource-constraint/> (RFC 6120 §8.3.3.13: the server
 *   "lacks the system resources necessary to service the request"), whatever
 *   its type;
 * - a stream error <policy-violation/> or <resource-constraint/> (RFC 6120
 *   §4.9.3.14, §4.9.3.16), which ends the session: the next connection waits.
 *
 * A <policy-violation/> stanza error of another type (a message with
 * forbidden words, a stanza too large) is a refusal, not a request to wait.
 * Read throttling (Prosody's mod_limits, ejabberd's shapers) only makes
 * answers slower; the step deadlines cover it.
 *
 * The back-off is exponential, bounded, and without jitter, so a run and its
 * tests are deterministic; `sleep` is injectable for the tests.
 */
import { SessionError, StanzaError } from "../session/errors.js";

export interface BackoffPolicy {
  /** The first wait. */
  initialMs: number;
  /** No wait is longer. */
  maxMs: number;
  /** How many times a refused request is asked again (and a refused connection tried again). */
  retries: number;
  sleep(ms: number): Promise<void>;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialMs: 500,
  maxMs: 8000,
  retries: 3,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** The wait before retry number `attempt` (0-based): initial × 2^attempt, at most maxMs. */
export function backoffDelay(policy: BackoffPolicy, attempt: number): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** attempt);
}

const SLOW_DOWN_STREAM_ERRORS = new Set(["policy-violation", "resource-constraint"]);

/** A stanza error asking us to wait: its condition (with the type when that is what says so), else undefined. */
export function stanzaSlowDown(err: unknown): string | undefined {
  if (!(err instanceof StanzaError)) return undefined;
  if (err.condition === "resource-constraint") return err.condition;
  return err.errorType === "wait" ? `${err.condition}, type wait` : undefined;
}

/** A stream error that ended the session asking us to slow down: its condition, else undefined. */
export function streamSlowDown(err: unknown): string | undefined {
  if (!(err instanceof SessionError) || err.kind !== "stream-error" || !err.condition) return undefined;
  return SLOW_DOWN_STREAM_ERRORS.has(err.condition) ? err.condition : undefined;
}

/** The note a check's evidence (or the run) records for one back-off. */
export function slowDownNote(condition: string, waitedMs: number): string {
  return `server asked us to slow down (${condition}) — backed off ${waitedMs} ms`;
}
