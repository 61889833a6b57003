/**
 * The XML reader of a TCP stream (RFC 6120 §4): xmpp.js's Parser (ltx's
 * SAX parser underneath) made safe against a hostile server.
 *
 * - A top-level element (stanza, features, SASL answer…) larger than
 *   `maxStanzaBytes` ends the session with a "limit" error before more is
 *   buffered: ltx keeps an unfinished text, tag or attribute in memory until
 *   it ends, so the bytes given to it since the last complete element are
 *   counted and never exceed the limit (RFC 6120 §13.12: a server must not
 *   be able to exhaust a client's memory).
 * - Whitespace between stanzas (keepalives, RFC 6120 §4.6.4) is dropped
 *   before ltx sees it, so an endless stream of it costs no memory; the
 *   step deadlines, not this reader, end such a session.
 * - An unbound namespace prefix is not namespace-well-formed, which
 *   RFC 6120 §11.3 forbids accepting: an error, not a guess.
 * - After the first error the reader ignores everything.
 *
 * Errors are emitted as "error" events: SessionError (kind "limit") for the
 * size limit, Error for malformed XML.
 */
import { Parser, type Element } from "@xmpp/xml";
import { SessionError, excerpt } from "./errors.js";

/** What xmpp.js's Parser has but its types (src/types/xmpp.d.ts) do not say: the hooks overridden here. */
interface ParserInternals {
  root: Element | null;
  cursor: Element | null;
  onStartElement(name: string, attrs: Record<string, string>): void;
  onEndElement(name: string): void;
  onText(text: string): void;
  emit(event: string, ...args: unknown[]): boolean;
}
const XmppParser = Parser as unknown as new () => Parser & ParserInternals;

const XML_SPACE = /^[ \t\r\n]+/;
const NON_SPACE = /[^ \t\r\n]/;

export class StreamParser extends XmppParser {
  /** Bytes given to ltx since the last complete top-level element (or the stream header). */
  private pending = 0;
  /** The end of the latest chunk, up to a '>' still to come (counted against the limit with `pending`). */
  private held = "";
  /** ltx sits before the stream header or between top-level elements: only whitespace or a tag may come. */
  private atGap = true;
  /** A top-level element (or the stream header) was completed by the piece being fed. */
  private boundary = false;
  /** Name of the top-level element being read, for the limit's message. */
  private reading: string | undefined;
  private stopped = false;

  constructor(private readonly maxStanzaBytes: number) {
    super();
  }

  /**
   * Feeds ltx a tag at a time: pieces that end just after a '>'. Every
   * element boundary then falls on the end of a piece, so the byte count of
   * the current element is exact and inter-stanza whitespace can be dropped;
   * and a tail without its '>' is held back until it comes (ltx misreads a
   * chunk that splits "?>" or "-->" before the '>').
   */
  override write(data: string): void {
    if (this.stopped) return;
    const text = this.held + data;
    this.held = "";
    let from = 0;
    while (from < text.length) {
      const gt = text.indexOf(">", from);
      let piece = text.slice(from, gt < 0 ? text.length : gt + 1);
      from += piece.length;
      if (this.atGap) {
        piece = piece.replace(XML_SPACE, "");
        if (piece === "") continue;
        if (piece[0] !== "<") {
          this.fail(new Error(`${this.root ? "text outside any stanza" : "text instead of a stream header"}: ${quote(piece)}`));
          return;
        }
        this.atGap = false;
      }
      const size = Buffer.byteLength(piece);
      if (this.pending + size > this.maxStanzaBytes) {
        this.fail(stanzaTooLarge(this.root ? this.reading : "stream:stream", this.maxStanzaBytes));
        return;
      }
      if (gt < 0) {
        this.held = piece;
        return;
      }
      this.pending += size;
      this.boundary = false;
      super.write(piece);
      if (this.stopped) return;
      if (this.boundary) {
        this.pending = 0;
        this.atGap = true;
      }
    }
  }

  override onStartElement(name: string, attrs: Record<string, string>): void {
    if (this.stopped) return;
    const unbound = unboundPrefix(name, attrs, this.cursor, this.root);
    if (unbound) {
      this.fail(new Error(`unbound namespace prefix "${unbound}" in <${name}> (not namespace-well-formed, RFC 6120 §11.3)`));
      return;
    }
    const isHeader = !this.root;
    if (!isHeader && this.cursor === this.root) this.reading = name;
    super.onStartElement(name, attrs);
    if (isHeader) this.boundary = true;
  }

  override onEndElement(name: string): void {
    if (this.stopped) return;
    const open = this.cursor;
    if (!open) {
      this.fail(new Error(`</${name}> closes nothing`));
      return;
    }
    if (name !== open.name) {
      this.fail(new Error(`</${name}> where </${open.name}> was expected`));
      return;
    }
    const topLevel = open !== this.root && !open.parent;
    super.onEndElement(name);
    if (open === this.root) this.stopped = true; // </stream:stream>: nothing more to read
    if (topLevel) {
      this.boundary = true;
      this.reading = undefined;
    }
  }

  override onText(text: string): void {
    if (this.stopped) return;
    if (!this.cursor || this.cursor === this.root) {
      // Whitespace between stanzas is allowed and kept nowhere; other text has no place there.
      if (NON_SPACE.test(text)) this.fail(new Error(`text outside any stanza: ${quote(text)}`));
      return;
    }
    super.onText(text);
  }

  private fail(err: Error): void {
    this.stopped = true;
    this.emit("error", err);
  }
}

/** The error for an element over the limit (`name` when its start tag was read); other transports can reuse it. */
export function stanzaTooLarge(name: string | undefined, max: number): SessionError {
  const what = name ? `<${name}/>` : "an element";
  return new SessionError(
    "limit",
    "wait",
    `the server sent ${what} larger than ${max} bytes, xepcheck's maximum stanza size; raise it with --max-stanza-size <bytes>`,
  );
}

/**
 * The first prefix of the element or its attributes that no xmlns:prefix in
 * scope declares ("xml" is always bound, "xmlns" declares). The scope is the
 * open element, its ancestors, and the stream header for top-level elements
 * (xmpp.js attaches those to the root only once complete).
 */
function unboundPrefix(name: string, attrs: Record<string, string>, cursor: Element | null, root: Element | null): string | undefined {
  for (const qname of [name, ...Object.keys(attrs)]) {
    const colon = qname.indexOf(":");
    if (colon < 0) continue;
    const prefix = qname.slice(0, colon);
    if (prefix === "xml" || prefix === "xmlns") continue;
    const key = `xmlns:${prefix}`;
    if (attrs[key] !== undefined) continue;
    let scope = cursor;
    while (scope && scope.attrs[key] === undefined) scope = scope.parent ?? (scope !== root ? root : null);
    if (!scope) return prefix;
  }
  return undefined;
}

function quote(text: string): string {
  return JSON.stringify(excerpt(text, 60));
}
