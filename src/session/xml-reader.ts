/**
 * Elements from the server's XML, built on xml-tokenizer.ts with the limits
 * that keep a hostile server from costing time, memory or identity:
 *
 * - UTF-8 only (RFC 6120 §11.6): bytes are decoded strictly, so an invalid
 *   sequence is an error naming the bytes, never a U+FFFD inside a JID.
 * - Namespace-well-formed (§11.3): a prefix must be bound; the prefixes in
 *   scope are kept in a map updated on each start and end tag, so a lookup
 *   costs the same at any depth.
 * - At most `maxDepth` levels of elements in a stanza (a top-level element is
 *   level 1): deeper is a "limit" error naming --max-xml-depth. Code that walks
 *   an element recursively (serialising, redacting) then recurses that deep at most.
 * - A top-level element of at most `maxStanzaBytes` UTF-8 bytes, counted from its
 *   '<' to its last '>' (whitespace between stanzas, RFC 6120 §4.6.4, counts for
 *   nothing): beyond it, a "limit" error naming --max-stanza-size, before more
 *   than one network read past the limit is held.
 *
 * StreamReader reads an XMPP stream (the stream header, then top-level
 * elements); parseXmlDocument one document (a WebSocket frame, a BOSH body).
 */
import { Element } from "@xmpp/xml";
import { SessionError } from "./errors.js";
import { XmlError, XmlTokenizer, quoted, type TokenHandler } from "./xml-tokenizer.js";

export { XmlError } from "./xml-tokenizer.js";

import { DEFAULT_MAX_STANZA_BYTES, DEFAULT_MAX_XML_DEPTH } from "../limits.js";

export { DEFAULT_MAX_XML_DEPTH };

export interface XmlLimits {
  maxStanzaBytes: number;
  /** Levels of elements in a stanza (or document), the top-level element being level 1. */
  maxDepth: number;
}

/** The limits a connection's options ask for, the defaults where they say nothing. */
export function xmlLimits(options: { maxStanzaBytes?: number; maxXmlDepth?: number }): XmlLimits {
  return { maxStanzaBytes: options.maxStanzaBytes ?? DEFAULT_MAX_STANZA_BYTES, maxDepth: options.maxXmlDepth ?? DEFAULT_MAX_XML_DEPTH };
}

/** The error for an element over the size limit (`name` when its start tag was read); other transports reuse it. */
export function stanzaTooLarge(name: string | undefined, max: number): SessionError {
  const what = name ? `<${name}/>` : "an element";
  return new SessionError(
    "limit",
    "wait",
    `the server sent ${what} larger than ${max} bytes, xepcheck's maximum stanza size; raise it with --max-stanza-size <bytes>`,
    "policy-violation",
  );
}

export function tooDeep(name: string, max: number): SessionError {
  return new SessionError(
    "limit",
    "wait",
    `the server sent <${name}/> nested deeper than ${max} levels, xepcheck's maximum XML depth; raise it with --max-xml-depth <levels>`,
    "policy-violation",
  );
}

/** Elements, namespace scope and depth: what both readers share. */
abstract class TreeBuilder implements TokenHandler {
  protected readonly tokenizer = new XmlTokenizer(this);
  /** Open elements, outermost first (the stream header, for a stream). */
  protected readonly stack: Element[] = [];
  /** Per open element, the prefixes it declared (undefined when none: the usual case). */
  private readonly declared: (string[] | undefined)[] = [];
  /** How many open elements declare each prefix. */
  private readonly scope = new Map<string, number>();
  private pendingText: string[] = [];

  constructor(
    /** Open elements that do not count as levels (1 for the stream header, 0 for a document). */
    private readonly outerLevels: number,
    protected readonly maxDepth: number,
  ) {}

  abstract markup(at: number): void;
  /** An element at the top level is complete. */
  protected abstract complete(el: Element): void;
  /** Text where no element is open to hold it (between stanzas, before the root). */
  protected abstract looseText(text: string): void;

  open(name: string, attrs: Record<string, string>, selfClosing: boolean): void {
    this.flushText();
    if (this.stack.length - this.outerLevels + 1 > this.maxDepth) throw tooDeep(name, this.maxDepth);
    this.bind(name, attrs);
    for (const key in attrs) attrs[key] = copy(attrs[key]!);
    const el = new Element(copy(name), attrs);
    const parent = this.stack.at(-1);
    // A top-level element is not kept as a child of the stream header (it would grow forever), only linked to it.
    if (parent) el.parent = parent;
    if (parent && this.stack.length > this.outerLevels) parent.children.push(el);
    this.stack.push(el);
    this.opened(el);
    if (selfClosing) this.close(name);
  }

  /** An element was opened (the stream header, for a stream). */
  protected opened(_el: Element): void {}

  close(name: string): void {
    this.flushText();
    const el = this.stack.at(-1);
    if (!el) throw new XmlError("not-well-formed", `</${name}> closes nothing`);
    if (el.name !== name) throw new XmlError("not-well-formed", `</${name}> where </${el.name}> was expected`);
    this.stack.pop();
    for (const prefix of this.declared.pop() ?? []) this.scope.set(prefix, this.scope.get(prefix)! - 1);
    if (this.stack.length <= this.outerLevels) this.complete(el);
  }

  text(text: string): void {
    if (this.stack.length <= this.outerLevels) this.looseText(text);
    else this.pendingText.push(text);
  }

  /** Text pieces (runs, entities, reads) become one string, a copy that keeps no network read alive. */
  private flushText(): void {
    if (this.pendingText.length === 0) return;
    const joined = this.pendingText.length === 1 ? copy(this.pendingText[0]!) : this.pendingText.join("");
    this.pendingText = [];
    this.stack.at(-1)!.children.push(joined);
  }

  /** Namespaces in XML 1.0 §5: declares the element's prefixes, then checks that every prefix it uses is bound. */
  private bind(name: string, attrs: Record<string, string>): void {
    let declared: string[] | undefined;
    for (const key in attrs) {
      if (!key.startsWith("xmlns:")) continue;
      const prefix = key.slice(6);
      if (attrs[key] === "" || prefix === "xmlns" || prefix === "xml") {
        throw new XmlError("not-well-formed", `the namespace declaration ${key}=${quoted(attrs[key]!)} in <${name}> (not namespace-well-formed)`);
      }
      (declared ??= []).push(prefix);
      this.scope.set(prefix, (this.scope.get(prefix) ?? 0) + 1);
    }
    this.declared.push(declared);
    for (const qname of [name, ...Object.keys(attrs)]) {
      const colon = qname.indexOf(":");
      if (colon < 0) continue;
      const prefix = qname.slice(0, colon);
      if (prefix === "xml" || prefix === "xmlns") continue;
      if (!this.scope.get(prefix)) {
        throw new XmlError("not-well-formed", `the unbound namespace prefix "${prefix}" in <${name}> (not namespace-well-formed)`);
      }
    }
  }
}

export interface StreamEvents {
  /** The stream header's start tag was read. */
  header(el: Element): void;
  /** A top-level element, and its size in bytes. */
  element(el: Element, bytes: number): void;
  /** The stream's closing tag. */
  end(): void;
  /** The first fault: SessionError (kind "limit") for the limits, XmlError for the XML. Nothing is read after it. */
  error(err: SessionError | XmlError): void;
}

/**
 * An XMPP stream read from network bytes. A stream restart (after STARTTLS
 * or SASL) needs a new reader: the XML declaration may stand only at the start.
 */
export class StreamReader extends TreeBuilder {
  private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  private stopped = false;
  /** UTF-8 bytes of the chunk being read up to `countedTo` (its characters), plus all earlier chunks. */
  private bytesBefore = 0;
  private countedTo = 0;
  private chunk = "";
  /** Byte offset of the current top-level element's first '<', while one is being read. */
  private elementStart: number | undefined;

  constructor(
    private readonly limits: XmlLimits,
    private readonly events: StreamEvents,
  ) {
    super(1, limits.maxDepth);
  }

  write(data: Buffer): void {
    if (this.stopped) return;
    let s: string;
    try {
      s = this.decoder.decode(data, { stream: true });
    } catch {
      this.fail(new XmlError("unsupported-encoding", `bytes that are not UTF-8: ${invalidUtf8(data)}`));
      return;
    }
    this.chunk = s;
    this.countedTo = 0;
    try {
      this.tokenizer.write(s);
    } catch (err) {
      if (err instanceof StopReading) return;
      if (err instanceof XmlError || err instanceof SessionError) this.fail(err);
      else throw err;
      return;
    }
    if (this.stopped) return;
    this.bytesBefore = this.byteOffset(s.length);
    this.chunk = "";
    this.countedTo = 0;
    if (this.elementStart !== undefined && this.bytesBefore - this.elementStart > this.limits.maxStanzaBytes) {
      this.fail(stanzaTooLarge(this.stack.length > 1 ? this.stack[1]!.name : undefined, this.limits.maxStanzaBytes));
    }
  }

  markup(at: number): void {
    if (this.stack.length <= 1 && this.elementStart === undefined) this.elementStart = this.byteOffset(at);
  }

  protected override opened(el: Element): void {
    if (this.stack.length !== 1) return;
    this.checkSize(el.name);
    this.events.header(el);
  }

  protected complete(el: Element): void {
    if (this.stack.length === 0) {
      this.stopped = true; // </stream:stream>: nothing more to read
      this.events.end();
      throw new StopReading();
    }
    const bytes = this.checkSize(el.name);
    el.parent = this.stack[0]!; // namespace lookups reach the stream header's xmlns
    this.events.element(el, bytes);
    if (this.stopped) throw new StopReading();
  }

  protected looseText(text: string): void {
    if (/[^\t\n\r ]/.test(text)) {
      throw new XmlError("not-well-formed", `${this.stack.length ? "text outside any stanza" : "text instead of a stream header"}: ${quoted(text.trim())}`);
    }
  }

  /** Bytes of the top-level element (or header) that just ended; over the limit throws. Ends the count. */
  private checkSize(name: string): number {
    const end = this.byteOffset(this.tokenizer.position);
    const bytes = end - (this.elementStart ?? end);
    this.elementStart = undefined;
    if (bytes > this.limits.maxStanzaBytes) throw stanzaTooLarge(name, this.limits.maxStanzaBytes);
    return bytes;
  }

  /** The UTF-8 byte offset in the whole stream of character `index` of the current chunk (indexes only grow). */
  private byteOffset(index: number): number {
    if (index > this.countedTo) {
      this.bytesBefore += Buffer.byteLength(this.chunk.slice(this.countedTo, index));
      this.countedTo = index;
    }
    return this.bytesBefore;
  }


  private fail(err: SessionError | XmlError): void {
    this.stopped = true;
    this.events.error(err);
  }
}

/** Thrown from a callback to stop the tokenizer after the stream ended (caught in StreamReader.write). */
class StopReading extends Error {}

/** One XML document (a WebSocket frame, a BOSH body): its root element, or XmlError / a "limit" SessionError. */
export function parseXmlDocument(text: string, maxDepth: number): Element {
  return new DocumentReader(maxDepth).read(text);
}

class DocumentReader extends TreeBuilder {
  private root: Element | undefined;

  constructor(maxDepth: number) {
    super(0, maxDepth);
  }

  read(text: string): Element {
    this.tokenizer.write(text);
    if (!this.root || this.tokenizer.midToken || this.stack.length > 0) {
      throw new XmlError("not-well-formed", `an incomplete XML document: ${quoted(text)}`);
    }
    return this.root;
  }

  markup(): void {
    if (this.root) throw new XmlError("not-well-formed", "markup after the document's root element");
  }

  protected complete(el: Element): void {
    this.root = el;
  }

  protected looseText(text: string): void {
    if (/[^\t\n\r ]/.test(text)) throw new XmlError("not-well-formed", `text outside the document's root element: ${quoted(text.trim())}`);
  }
}

/** A flat copy of a string: a slice of a network read would keep the whole read alive. */
function copy(s: string): string {
  // V8 slices strings of 13 characters or more instead of copying them.
  return s.length < 13 ? s : Buffer.from(s, "utf8").toString("utf8");
}

/** The first invalid UTF-8 sequence of `data`, as hex bytes with its offset. */
export function invalidUtf8(data: Buffer): string {
  let i = 0;
  while (i < data.length) {
    const b = data[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    let ok = need >= 0 && i + need < data.length;
    for (let k = 1; ok && k <= need; k++) ok = (data[i + k]! & 0xc0) === 0x80;
    if (ok && need === 2) {
      const cp = ((b & 0x0f) << 12) | ((data[i + 1]! & 0x3f) << 6);
      ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
    }
    if (ok && need === 3) {
      const cp = ((b & 0x07) << 18) | ((data[i + 1]! & 0x3f) << 12);
      ok = cp >= 0x10000 && cp <= 0x10ffff;
    }
    if (!ok) {
      // The lead byte, and what follows it up to the first byte that does not continue it.
      let end = i + 1;
      while (end <= i + need && end < data.length) if ((data[end++]! & 0xc0) !== 0x80) break;
      const bytes = [...data.subarray(i, end)].map((x) => x.toString(16).padStart(2, "0")).join(" ");
      return `${bytes} at byte ${i} of a read`;
    }
    i += need + 1;
  }
  return "a sequence cut off between reads";
}

/** A reader's fault as the session reports it; the condition is the stream error we close with. */
export function readerFailure(err: SessionError | XmlError): SessionError {
  if (err instanceof SessionError) return err;
  return new SessionError("protocol", "wait", `the server sent ${err.message}; xepcheck closed the stream with <${err.condition}/>`, err.condition);
}

/**
 * What we send before closing on a fault: RFC 6120 §11.1 and §11.3 say a
 * receiver of such XML MUST close the stream with a stream error.
 */
export function closingStreamError(condition: string): string {
  return `<stream:error><${condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`;
}
