/**
 * An actor is one logged-in session in a scenario ("alice/A"). Its small
 * vocabulary reads like the specs: it sends, expects a stanza, asks with an
 * iq and gets the result or the error condition.
 */
import { xml, type Element } from "@xmpp/xml";
import parse from "@xmpp/xml/lib/parse.js";
import { StanzaError, withDeadline } from "../session/errors.js";
import type { Session } from "../session/login.js";
import type { XmppStream } from "../session/stream.js";
import { ScenarioFailure } from "./outcome.js";

export class Actor {
  constructor(
    readonly label: string,
    readonly session: Session,
    /** How long to wait for an expected stanza before calling it missing. */
    private readonly waitMs: number,
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
   * failed scenario). Errors of type "wait" are temporary (RFC 6120 §8.3.2):
   * asked again twice after a pause before they count.
   */
  async iq(el: Element): Promise<Element> {
    const text = el.toString(); // the request as first sent, to ask again with a new id
    for (let attempt = 0; ; attempt++) {
      try {
        const request = attempt === 0 ? el : parse(text);
        if (attempt > 0) delete request.attrs.id;
        return await this.stream.iq(request);
      } catch (err) {
        if (!(err instanceof StanzaError && err.errorType === "wait") || attempt >= 2) throw err;
        this.stream.transcript.note(`temporary error ${err.condition} (type wait): asking again`, this.label);
        await new Promise((r) => setTimeout(r, 250 * (attempt + 1)));
      }
    }
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
      if ((err as { kind?: string }).kind === "timeout") {
        throw new ScenarioFailure(what, `nothing arrived at ${this.label} within ${timeoutMs} ms`);
      }
      throw err;
    }
  }

  /** Asserts that no matching stanza arrives within `ms`. */
  async expectNone(match: (el: Element) => boolean, what: string, ms: number): Promise<void> {
    const got = await withDeadline("wait", ms, this.stream.waitFor(match, "wait", { timeoutMs: ms + 1000 })).catch(() => undefined);
    if (got) throw new ScenarioFailure(what, `${this.label} received ${got.toString()}`);
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

/** Matches a message with this exact body (bodies carry a unique token per scenario). */
export function withBody(body: string): (el: Element) => boolean {
  return (el) => el.is("message") && el.getChildText("body") === body;
}
