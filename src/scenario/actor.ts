/**
 * An actor is one logged-in session in a scenario ("alice/A"). Its small
 * vocabulary reads like the specs: it sends, expects a stanza, asks with an
 * iq and gets the result or the error condition.
 */
import { xml, type Element } from "@xmpp/xml";
import parse from "@xmpp/xml/lib/parse.js";
import { SessionError, StanzaError } from "../session/errors.js";
import type { Session } from "../session/login.js";
import { NS_PING, type XmppStream } from "../session/stream.js";
import { ScenarioFailure, ServerBusy } from "./outcome.js";
import { DEFAULT_BACKOFF, backoffDelay, slowDownNote, stanzaSlowDown, type BackoffPolicy } from "./slow-down.js";

/** How an actor behaves when the server asks it to slow down, and where it says so. */
export interface Politeness {
  backoff: BackoffPolicy;
  /** Called with the note of each back-off (the scenario adds it to the check's evidence). */
  slowedDown(note: string): void;
}

export class Actor {
  constructor(
    readonly label: string,
    readonly session: Session,
    /** How long to wait for an expected stanza before calling it missing. */
    private readonly waitMs: number,
    private readonly politeness: Politeness = { backoff: DEFAULT_BACKOFF, slowedDown: () => {} },
  ) {}

  get stream(): XmppStream {
    return this.session.stream;
  }

  /** Full JID. */
  get jid(): string {
    return this.session.jid;
  }

  get bare(): string {
    return this.session.jid.split("/")[0]!;
  }

  send(el: Element): void {
    this.stream.send(el);
  }

  /**
   * Sends an iq and returns the result; an error reply throws StanzaError (a
   * failed scenario). When the server asks us to slow down (see slow-down.ts)
   * we back off and ask again with a new id, a bounded number of times; if
   * it still does, ServerBusy: we could not tell.
   */
  async iq(el: Element): Promise<Element> {
    const text = el.toString(); // the request as first sent, to ask again with a new id
    const { backoff } = this.politeness;
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      const request = attempt === 0 ? el : parse(text);
      if (attempt > 0) delete request.attrs.id;
      try {
        return await this.ask(request);
      } catch (err) {
        const condition = stanzaSlowDown(err);
        if (!condition) throw err;
        if (attempt >= backoff.retries) throw new ServerBusy(condition, attempt + 1, waited);
        const ms = backoffDelay(backoff, attempt);
        const note = slowDownNote(condition, ms);
        this.stream.transcript.note(note, this.label);
        this.politeness.slowedDown(note);
        await backoff.sleep(ms);
        waited += ms;
      }
    }
  }

  /**
   * One iq and its answer. Replies that are not the answer (another id, or
   * from someone other than whom we asked: RFC 6120 §8.1.2.1) are never
   * taken for it; when no answer comes, the error names them.
   */
  private async ask(request: Element): Promise<Element> {
    const strays: Element[] = []; // the first three, for the error
    let strayCount = 0;
    const stop = this.stream.onStanza((el) => {
      if (!el.is("iq") || (el.attrs.type !== "result" && el.attrs.type !== "error")) return;
      if (strays.length < 3) strays.push(el);
      strayCount++;
    });
    try {
      return await this.stream.iq(request);
    } catch (err) {
      if (!(err instanceof SessionError)) throw err;
      const what = `the answer to ${describeIq(request)}`;
      if (err.kind !== "timeout") throw this.lost(err, what);
      const ignored = strays.map((r) => notTheAnswer(r, request, this.bare));
      if (strayCount > strays.length) ignored.push(`${strayCount - strays.length} more`);
      throw new SessionError(
        "timeout",
        err.step,
        `${this.label}: timed out after ${this.stream.options.timeoutMs} ms waiting for ${what}` +
          (ignored.length ? `; replies that do not answer it were ignored: ${ignored.join("; ")}` : ""),
      );
    } finally {
      stop();
    }
  }

  /** The same error, saying which session lost its stream and what it was waiting for. */
  private lost(err: SessionError, what: string): SessionError {
    return new SessionError(err.kind, err.step, `${this.label} lost its stream while waiting for ${what}: ${err.message}`, err.condition);
  }

  /** Sends an iq that must be refused; returns the error condition. */
  async iqError(el: Element, expected: string): Promise<string> {
    try {
      const result = await this.stream.iq(el);
      throw new ScenarioFailure(expected, `an iq result: ${result.toString()}`);
    } catch (err) {
      if (err instanceof StanzaError) return err.condition;
      throw err;
    }
  }

  /** Waits for a stanza; one that does not come is a failure of the server, not "could not tell". */
  async expect(match: (el: Element) => boolean, what: string, timeoutMs = this.waitMs): Promise<Element> {
    try {
      return await this.stream.waitFor(match, "wait", { timeoutMs });
    } catch (err) {
      if (!(err instanceof SessionError)) throw err;
      if (err.kind === "timeout") throw new ScenarioFailure(what, `nothing arrived at ${this.label} within ${timeoutMs} ms`);
      throw this.lost(err, what);
    }
  }

  /**
   * Asserts that no matching stanza arrives within `ms` (0: none has arrived
   * yet). The wait ends at the deadline, so it cannot take a later stanza
   * that another expectation looks for.
   */
  async expectNone(match: (el: Element) => boolean, what: string, ms: number): Promise<void> {
    const got = await this.stream.waitFor(match, "wait", { timeoutMs: ms }).catch(() => undefined);
    if (got) throw new ScenarioFailure(what, `${this.label} received ${got.toString()}`);
  }

  /**
   * Pings the server and returns the round trip in ms. The answer comes after
   * the server has processed everything this session sent before it, and
   * after everything it sent this session before (RFC 6120 §10.1): a barrier.
   * An error answer is an answer all the same.
   */
  async barrier(): Promise<number> {
    const started = performance.now();
    await this.iq(xml("iq", { type: "get", to: this.bare.slice(this.bare.indexOf("@") + 1) }, xml("ping", { xmlns: NS_PING }))).catch((err: unknown) => {
      if (!(err instanceof StanzaError)) throw err;
    });
    return performance.now() - started;
  }

  /** Initial presence, making this resource "available" (RFC 6121 §4.2). */
  available(priority?: number): void {
    this.send(xml("presence", {}, priority === undefined ? undefined : xml("priority", {}, String(priority))));
  }

  message(to: string, body: string, attrs: Record<string, string> = {}, ...children: Element[]): Element {
    const id = this.stream.nextId();
    const el = xml("message", { to, type: "chat", id, ...attrs }, xml("body", {}, body), ...children);
    this.send(el);
    return el;
  }

  async close(): Promise<void> {
    await this.stream.close();
  }
}

/**
 * Whether the stanza `sender` has just sent (matched by `match`) reached
 * `receiver` as promptly as delivery goes: looked for once the sender's
 * barrier is answered (the server has routed it) and `graceMs` more have
 * passed (the server's write to the receiver, still in flight). Nothing is
 * sent on the receiver's stream, and nothing waits on it: a stanza that
 * arrives stays kept for a later wait.
 */
export async function arrivedPromptly(
  sender: Actor,
  receiver: XmppStream,
  match: (el: Element) => boolean,
  graceMs: number,
): Promise<Element | undefined> {
  await sender.barrier();
  await new Promise((resolve) => setTimeout(resolve, graceMs));
  return receiver.takeArrived(match);
}

/** Matches a message with this exact body (bodies carry a unique token per scenario). */
export function withBody(body: string): (el: Element) => boolean {
  return (el) => el.is("message") && el.getChildText("body") === body;
}

/** "iq get <ping xmlns='urn:xmpp:ping'/> to example.org (id xc-…)". */
function describeIq(iq: Element): string {
  const child = iq.getChildElements()[0];
  const payload = child ? ` <${child.getName()}${child.getNS() ? ` xmlns='${child.getNS()}'` : ""}/>` : "";
  return `iq ${iq.attrs.type}${payload}${iq.attrs.to ? ` to ${iq.attrs.to}` : ""} (id ${iq.attrs.id})`;
}

/** Why `reply` is not the answer to `request`. */
function notTheAnswer(reply: Element, request: Element, bare: string): string {
  const { id, from, type } = reply.attrs;
  const tag = `<iq type='${type}' id='${id ?? ""}'${from ? ` from='${from}'` : ""}>`;
  if (id !== request.attrs.id) return `${tag}: another id`;
  const sender = request.attrs.to ?? `${bare}, its server, or no one (no 'from')`;
  return `${tag}: from ${from ?? "no one"}, but the answer must come from ${sender} (RFC 6120 §8.1.2.1)`;
}
