/**
 * Errors of the session layer. Each names the step it happened in, so a user
 * reading "timed out" also reads *where* ("sasl", "bind", "tcp-connect").
 */

export type SessionStep =
  | "dns"
  | "tcp-connect"
  | "tls-handshake"
  | "stream-open"
  | "stream-features"
  | "starttls"
  | "sasl"
  | "register"
  | "bind"
  | "session"
  | "iq"
  | "wait"
  | "close";

export type SessionErrorKind =
  | "timeout" // a deadline passed: we could not tell
  | "network" // connection refused, reset, closed
  | "tls" // handshake or certificate problem
  | "auth" // SASL failure (wrong password, mechanism refused)
  | "stream-error" // the server sent <stream:error/>
  | "limit" // the server exceeded a limit of ours (stanza size): the message names the option that raises it
  | "protocol"; // the server said something we cannot use

export class SessionError extends Error {
  constructor(
    readonly kind: SessionErrorKind,
    readonly step: SessionStep,
    message: string,
    /** XMPP condition (stream error, SASL failure, stanza error) when there is one. */
    readonly condition?: string,
  ) {
    super(message);
    this.name = "SessionError";
  }
}

/** An iq answered with type="error": a normal protocol outcome, not a broken session. */
export class StanzaError extends Error {
  constructor(
    readonly condition: string,
    readonly errorType: string | undefined,
    readonly text: string | undefined,
    readonly stanza: string,
  ) {
    super(`stanza error: ${condition}${text ? ` (${text})` : ""}`);
    this.name = "StanzaError";
  }
}

/** Server-supplied text for an error message, on one line and cut short: a hostile server chooses its length. */
export function excerpt(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** Runs `promise` under a deadline; the error names the step that took too long. */
export async function withDeadline<T>(
  step: SessionStep,
  ms: number,
  promise: Promise<T>,
  what: string = step,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SessionError("timeout", step, `timed out after ${ms} ms waiting for ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
