/**
 * XEP-0198: Stream Management, the client side, on top of XmppStream.
 * https://xmpp.org/extensions/xep-0198.html
 *
 * It counts the stanzas of a stream both ways (§4: our outbound count, and
 * 'h', the inbound stanzas we handled), answers the server's <r/> with
 * <a h/>, keeps the stanzas the server has not acknowledged yet, and
 * resumes the session on a new authenticated connection (§5) with
 * <resume previd h/>, re-sending what the server did not get.
 */
import { xml, type Element } from "@xmpp/xml";
import { SessionError } from "./errors.js";
import { bind } from "./login.js";
import { NS_CLIENT, NS_STANZAS, type XmppStream } from "./stream.js";

export const NS_SM = "urn:xmpp:sm:3";

/** §4: counters wrap from 2^32-1 back to zero. */
const WRAP = 2 ** 32;

/** <iq/>, <message/> and <presence/> are counted; SM's own elements and other nonzas are not (§1). */
export function isStanza(el: Element): boolean {
  const ns = el.attrs.xmlns;
  return (el.name === "iq" || el.name === "message" || el.name === "presence") && (ns === undefined || ns === NS_CLIENT);
}

/** XML boolean (§3: "true" or "1"). */
function isTrue(value: string | undefined): boolean {
  return value === "true" || value === "1";
}

/** The stanza error condition inside <failed/>, if any. */
export function failedCondition(el: Element): string | undefined {
  return el.getChildElements().find((c) => c.getNS() === NS_STANZAS && c.getName() !== "text")?.getName();
}

export class StreamManagementError extends Error {
  override name = "StreamManagementError";
  constructor(
    message: string,
    /** The server's <failed/>, when it sent one. */
    readonly failed?: Element,
  ) {
    super(message);
  }
}

export interface Enabled {
  /** The SM-ID (§5), when the server allows resumption or sent one anyway. */
  id?: string;
  /** Did the server allow resumption (resume='true' or '1')? */
  resume: boolean;
  max?: number;
  location?: string;
  element: Element;
}

export class StreamManagement {
  /** The stream currently carrying the session (a new one after resumption). */
  stream: XmppStream;
  enabled: Enabled | undefined;
  /** 'h' of our side: inbound stanzas handled since <enabled/> (§4). */
  inbound = 0;
  /** Stanzas sent since <enable/>. */
  outbound = 0;
  /** The latest 'h' the server acknowledged (from <a/> or <resumed/>). */
  acked = 0;
  /** <r/> requests of the server that we answered, with the 'h' we gave. */
  readonly answered: number[] = [];
  /** Sent stanzas the server has not acknowledged yet, oldest first. */
  private unacked: Element[] = [];
  /** Each <a/> received gets a number, so that an old one never answers a new <r/>. */
  private readonly ackNumbers = new WeakMap<Element, number>();
  private acksReceived = 0;
  private countingIn = false;
  private countingOut = false;
  private detach: (() => void) | undefined;

  constructor(stream: XmppStream) {
    this.stream = stream;
    this.attach(stream);
  }

  /** The full JID of the managed session. */
  get jid(): string | undefined {
    return this.stream.jid;
  }

  private attach(stream: XmppStream): void {
    this.detach?.();
    this.stream = stream;
    this.detach = stream.observe((el, direction) => (direction === "in" ? this.received(el) : this.sent(el)));
  }

  private received(el: Element): void {
    if (this.countingIn && isStanza(el)) {
      this.inbound = (this.inbound + 1) % WRAP;
      return;
    }
    if (el.attrs.xmlns !== NS_SM) return;
    if (el.name === "enabled") this.countingIn = true; // §4: 'h' starts at zero after receiving <enabled/>
    if (el.name === "r" && this.countingIn) this.answer();
    if (el.name === "a") {
      this.ackNumbers.set(el, ++this.acksReceived);
      this.acknowledged(Number(el.attrs.h));
    }
  }

  private sent(el: Element): void {
    if (this.countingOut && isStanza(el)) {
      this.outbound = (this.outbound + 1) % WRAP;
      this.unacked.push(el);
      return;
    }
    if (el.attrs.xmlns === NS_SM && el.name === "enable") this.countingOut = true; // §4: after sending <enable/>
  }

  /** §4: the server handled stanzas up to `h`; they are no longer ours to resend. */
  private acknowledged(h: number): void {
    if (!Number.isInteger(h)) return;
    const newly = (h - this.acked + WRAP) % WRAP;
    this.unacked.splice(0, Math.min(newly, this.unacked.length));
    this.acked = h;
  }

  /** Answers a request (§4: "MUST acknowledge it by sending an <a/> element"). */
  private answer(): void {
    if (this.stream.isClosed) return;
    this.answered.push(this.inbound);
    this.stream.send(xml("a", { xmlns: NS_SM, h: String(this.inbound) }));
  }

  /** Stanzas sent that the server has not acknowledged (yet). */
  get pending(): number {
    return this.unacked.length;
  }

  /**
   * §3: sends <enable/> (with resume='true' when asked) and waits for
   * <enabled/>; <failed/> throws StreamManagementError.
   */
  async enable(options: { resume?: boolean; max?: number } = {}): Promise<Enabled> {
    const attrs: Record<string, string> = { xmlns: NS_SM };
    if (options.resume) attrs.resume = "true";
    if (options.max !== undefined) attrs.max = String(options.max);
    const answer = await this.stream.request(
      xml("enable", attrs),
      (el) => el.attrs.xmlns === NS_SM && (el.name === "enabled" || el.name === "failed"),
      "wait",
    );
    if (answer.name === "failed") {
      throw new StreamManagementError(`the server refused <enable/>: ${failedCondition(answer) ?? "no condition"}`, answer);
    }
    const { id, max, location } = answer.attrs;
    this.enabled = {
      ...(id ? { id } : {}),
      resume: isTrue(answer.attrs.resume),
      ...(max !== undefined && Number.isFinite(Number(max)) ? { max: Number(max) } : {}),
      ...(location ? { location } : {}),
      element: answer,
    };
    return this.enabled;
  }

  /** §4: sends <r/> and returns the 'h' of the server's <a/>. */
  async requestAck(): Promise<number> {
    const seen = this.acksReceived;
    const answer = await this.stream.request(
      xml("r", { xmlns: NS_SM }),
      (el) => el.is("a", NS_SM) && (this.ackNumbers.get(el) ?? 0) > seen,
      "wait",
    );
    const h = answer.attrs.h;
    if (h === undefined || !/^\d+$/.test(h)) {
      throw new SessionError("protocol", "wait", `the server's <a/> carries no valid 'h': ${answer.toString()}`);
    }
    return Number(h);
  }

  /** §4: an unrequested <a h/> telling the server what we handled. */
  ack(): void {
    this.stream.send(xml("a", { xmlns: NS_SM, h: String(this.inbound) }));
  }

  /** Drops the TCP connection without closing the stream: the server keeps the session for resumption. */
  drop(): void {
    this.stream.destroy();
  }

  /**
   * §5: on `stream` (a new connection, authenticated, not bound) sends
   * <resume previd h/>. On <resumed/> the session continues on `stream`:
   * acknowledged stanzas are forgotten, the others re-sent, and the
   * counters go on. Returns <resumed/>; <failed/> throws StreamManagementError.
   */
  async resume(stream: XmppStream): Promise<Element> {
    const previd = this.enabled?.id;
    if (!previd) throw new StreamManagementError("no SM-ID to resume: the server sent none in <enabled/>");
    const jid = this.stream.jid;
    this.attach(stream);
    const answer = await stream.request(
      xml("resume", { xmlns: NS_SM, previd, h: String(this.inbound) }),
      (el) => el.attrs.xmlns === NS_SM && (el.name === "resumed" || el.name === "failed"),
      "wait",
    );
    if (answer.name === "failed") {
      throw new StreamManagementError(`the server refused <resume/>: ${failedCondition(answer) ?? "no condition"}`, answer);
    }
    stream.jid = jid;
    this.acknowledged(Number(answer.attrs.h));
    const resend = this.unacked;
    this.unacked = [];
    this.outbound = this.acked; // the re-sent stanzas are counted again as they go out
    for (const el of resend) stream.send(el);
    return answer;
  }

  /**
   * Ends the session whatever became of it: a live stream is closed; a
   * dropped one is resumed on a new connection from `open` and closed; if
   * resumption fails, the same resource is bound on a new connection, which
   * replaces the hibernating session (RFC 6120 §7.7.2.2), and closed.
   */
  async end(open: () => Promise<XmppStream>): Promise<void> {
    if (!this.stream.isClosed) return this.close();
    if (!this.enabled?.resume) return;
    const resource = this.jid?.split("/").slice(1).join("/");
    const stream = await open();
    stream.useTranscript(this.stream.transcript, `${this.stream.actor ?? "sm"} (ending)`);
    try {
      await this.resume(stream);
      await this.close();
    } catch (err) {
      if (!(err instanceof StreamManagementError) || !resource) {
        stream.destroy();
        throw err;
      }
      stream.jid = await bind(stream, resource);
      await stream.close();
    }
  }

  /** Ends the session cleanly: a last <a h/> (§4 recommends it), then </stream:stream> (§6). */
  async close(): Promise<void> {
    if (!this.stream.isClosed && this.countingIn) this.ack();
    this.detach?.(); // nothing more of ours after </stream:stream>, not even an <a/>
    this.detach = undefined;
    await this.stream.close();
  }
}
