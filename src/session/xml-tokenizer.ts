/**
 * The lexical layer of XMPP's XML (RFC 6120 §11): XML 1.0 as a stream of
 * tags and text, in one pass over the input, resumable at any byte. Every
 * character is looked at once (runs of text and attribute values by regular
 * expression), so the cost is linear in the input whatever its shape: no
 * rescan of a tag that arrives a byte at a time, no lookup that grows with
 * depth.
 *
 * Strict where XMPP is strict: comments, processing instructions, DTDs and
 * entity references other than the five predefined ones are
 * `restricted-xml` (§11.1); characters XML 1.0 forbids and every other
 * well-formedness fault are `not-well-formed` (§11.3); an XML declaration
 * naming another encoding is `unsupported-encoding` (§11.6). The first fault
 * throws an XmlError and the tokenizer reads nothing more.
 */

/** The stream error a fault calls for (RFC 6120 §4.9.3), and the section saying so. */
export type XmlCondition = "not-well-formed" | "restricted-xml" | "unsupported-encoding" | "policy-violation";

const SECTION: Record<XmlCondition, string> = {
  "not-well-formed": "RFC 6120 §11.3",
  "restricted-xml": "RFC 6120 §11.1",
  "unsupported-encoding": "RFC 6120 §11.6",
  "policy-violation": "RFC 6120 §4.9.3.14",
};

export class XmlError extends Error {
  readonly section: string;
  constructor(
    readonly condition: XmlCondition,
    /** What arrived, as the user should read it ("a comment <!--"). */
    readonly what: string,
  ) {
    super(`${what} (${SECTION[condition]})`);
    this.name = "XmlError";
    this.section = SECTION[condition];
  }
}

export interface TokenHandler {
  /** A '<' at index `at` of the chunk being written starts markup. */
  markup(at: number): void;
  open(name: string, attrs: Record<string, string>, selfClosing: boolean): void;
  close(name: string): void;
  text(text: string): void;
}

const enum State {
  Text,
  Lt,
  Bang,
  Cdata,
  Declaration,
  StartName,
  InTag,
  AttrName,
  AfterAttrName,
  BeforeValue,
  Value,
  SelfClose,
  EndName,
  AfterEndName,
  Entity,
}

/** Where the first match of the global `re` at or after `from` in `s` stands, or the end of `s`. */
function stopAt(re: RegExp, s: string, from: number): number {
  re.lastIndex = from;
  return re.exec(s)?.index ?? s.length;
}

/** XML 1.0 §2.2 Char, as a search for the first character that is not one. */
const NOT_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
/** XML 1.0 §2.3 Name (with Namespaces §3: at most one colon, not at either end). */
const NAME_START = "A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}";
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
const NCNAME = `[${NAME_START}][${NAME_CHAR}]*`;
const QNAME = new RegExp(`^${NCNAME}(?::${NCNAME})?$`, "u");
const WHITESPACE = /[\t\n\r ]/;
const NAME_END = /[\t\n\r />]/g;
const ATTR_NAME_END = /[\t\n\r =/>]/g;
const TEXT_STOP = /[<&]/g;
/** The end of an entity reference's name: its ';', or any character no name or character reference holds. */
const ENTITY_END = /[^#\w.:\-\u00B7-\uFFFF]/gu;
const VALUE_STOP: Record<string, RegExp> = { "'": /['<&]/g, '"': /["<&]/g };
const PREDEFINED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
/** Longest entity reference read before giving up on it: "&#x10FFFF;" and the names above fit. */
const MAX_ENTITY = 10;
/** Longest XML declaration read (<?xml version='1.0' encoding='UTF-8' standalone='no'?> is 55). */
const MAX_DECLARATION = 256;

export class XmlTokenizer {
  private state = State.Text;
  /** Nothing but whitespace came yet: the only place an XML declaration may stand. */
  private atStart = true;
  private name = "";
  private attrs: Record<string, string> = {};
  private attrName = "";
  private value = "";
  private quote = "";
  private sawSpace = false;
  /** '<!' so far, until it is known to begin a comment, CDATA or a DOCTYPE. */
  private bang = "";
  private cdataTail = "";
  private declaration = "";
  private entity = "";
  private entityIn: State.Text | State.Value = State.Text;
  private failed: XmlError | undefined;
  /** Index in the string being written just past the tag that the handler is being told of. */
  position = 0;

  constructor(private readonly handler: TokenHandler) {}

  /** Reads `s`; the first fault throws XmlError, and so does every later write. */
  write(s: string): void {
    if (this.failed) throw this.failed;
    try {
      this.read(s);
    } catch (err) {
      if (err instanceof XmlError) this.failed = err;
      throw err;
    }
  }

  /** A tag, entity or CDATA section begun and not finished. */
  get midToken(): boolean {
    return this.state !== State.Text;
  }

  private read(s: string): void {
    const h = this.handler;
    let i = 0;
    const len = s.length;
    while (i < len) {
      switch (this.state) {
        case State.Text: {
          const end = stopAt(TEXT_STOP, s, i);
          const stopped = end < len;
          if (end > i) this.emitText(s.slice(i, end));
          i = end;
          if (!stopped) break;
          if (s[i] === "<") {
            h.markup(i);
            this.state = State.Lt;
          } else {
            this.entity = "";
            this.entityIn = State.Text;
            this.state = State.Entity;
          }
          i++;
          break;
        }
        case State.Lt: {
          const c = s[i]!;
          if (c === "/") {
            this.name = "";
            this.state = State.EndName;
            i++;
          } else if (c === "!") {
            this.bang = "";
            this.state = State.Bang;
            i++;
          } else if (c === "?") {
            if (!this.atStart) throw new XmlError("restricted-xml", "a processing instruction <?");
            this.declaration = "";
            this.state = State.Declaration;
            i++;
          } else {
            this.atStart = false;
            this.name = "";
            this.attrs = {};
            this.state = State.StartName;
          }
          break;
        }
        case State.Bang: {
          this.bang += s[i++];
          const b = this.bang;
          if (b === "--") throw new XmlError("restricted-xml", "a comment <!--");
          if (b === "DOCTYPE") throw new XmlError("restricted-xml", "a document type declaration <!DOCTYPE");
          if (b === "[CDATA[") {
            this.atStart = false;
            this.cdataTail = "";
            this.state = State.Cdata;
          } else if (!"--".startsWith(b) && !"DOCTYPE".startsWith(b) && !"[CDATA[".startsWith(b)) {
            throw new XmlError("not-well-formed", `markup that is not XML: ${quoted(`<!${b}`)}`);
          }
          break;
        }
        case State.Cdata: {
          const hay = this.cdataTail + s.slice(i);
          const end = hay.indexOf("]]>");
          if (end < 0) {
            const keep = Math.min(2, hay.length);
            this.emitText(hay.slice(0, hay.length - keep));
            this.cdataTail = hay.slice(hay.length - keep);
            i = len;
          } else {
            this.emitText(hay.slice(0, end));
            i += end + 3 - this.cdataTail.length;
            this.cdataTail = "";
            this.state = State.Text;
          }
          break;
        }
        case State.Declaration: {
          // Read a character at a time: it is short (MAX_DECLARATION) and its "?>" may be split between reads.
          this.declaration += s[i++];
          const decl = this.declaration;
          if (decl.length === 4 && !/^xml[\t\n\r ]$/.test(decl)) {
            throw new XmlError("restricted-xml", `a processing instruction ${quoted(`<?${decl}`)}`);
          }
          if (decl.endsWith("?>")) this.readDeclaration();
          else if (decl.length > MAX_DECLARATION) throw new XmlError("not-well-formed", "an XML declaration that does not end");
          break;
        }
        case State.StartName:
        case State.EndName: {
          const end = stopAt(NAME_END, s, i);
          const stopped = end < len;
          this.name += s.slice(i, end);
          i = end;
          if (!stopped) break;
          checkName(this.name);
          this.state = this.state === State.StartName ? State.InTag : State.AfterEndName;
          this.sawSpace = false;
          break;
        }
        case State.InTag: {
          const c = s[i]!;
          if (WHITESPACE.test(c)) {
            this.sawSpace = true;
            i++;
          } else if (c === ">") {
            i++;
            this.state = State.Text;
            this.position = i;
            h.open(this.name, this.attrs, false);
          } else if (c === "/") {
            i++;
            this.state = State.SelfClose;
          } else if (this.sawSpace) {
            this.attrName = "";
            this.state = State.AttrName;
          } else {
            throw new XmlError("not-well-formed", `${quoted(c)} where an attribute or the end of <${this.name}> was expected`);
          }
          break;
        }
        case State.SelfClose: {
          if (s[i] !== ">") throw new XmlError("not-well-formed", `${quoted(s[i]!)} after '/' in <${this.name}>`);
          i++;
          this.state = State.Text;
          this.position = i;
          h.open(this.name, this.attrs, true);
          break;
        }
        case State.AttrName: {
          const end = stopAt(ATTR_NAME_END, s, i);
          const stopped = end < len;
          this.attrName += s.slice(i, end);
          i = end;
          if (!stopped) break;
          checkName(this.attrName);
          if (Object.hasOwn(this.attrs, this.attrName)) {
            throw new XmlError("not-well-formed", `attribute ${this.attrName} twice in <${this.name}>`);
          }
          this.state = State.AfterAttrName;
          break;
        }
        case State.AfterAttrName:
        case State.BeforeValue: {
          const c = s[i]!;
          i++;
          if (WHITESPACE.test(c)) break;
          if (this.state === State.AfterAttrName && c === "=") {
            this.state = State.BeforeValue;
          } else if (this.state === State.BeforeValue && (c === "'" || c === '"')) {
            this.quote = c;
            this.value = "";
            this.state = State.Value;
          } else {
            throw new XmlError("not-well-formed", `${quoted(c)} where the value of ${this.attrName} in <${this.name}> was expected`);
          }
          break;
        }
        case State.Value: {
          const stops = VALUE_STOP[this.quote]!;
          const end = stopAt(stops, s, i);
          const stopped = end < len;
          if (end > i) this.value += checkChars(s.slice(i, end));
          i = end;
          if (!stopped) break;
          const c = s[i]!;
          i++;
          if (c === "<") throw new XmlError("not-well-formed", `'<' in the value of ${this.attrName} in <${this.name}>`);
          if (c === "&") {
            this.entity = "";
            this.entityIn = State.Value;
            this.state = State.Entity;
            break;
          }
          this.attrs[this.attrName] = this.value;
          this.sawSpace = false;
          this.state = State.InTag;
          break;
        }
        case State.AfterEndName: {
          const c = s[i]!;
          i++;
          if (WHITESPACE.test(c)) break;
          if (c !== ">") throw new XmlError("not-well-formed", `${quoted(c)} in the end tag </${this.name}>`);
          this.state = State.Text;
          this.position = i;
          h.close(this.name);
          break;
        }
        case State.Entity: {
          const end = stopAt(ENTITY_END, s, i);
          const stopped = end < len;
          this.entity += s.slice(i, Math.min(end, i + MAX_ENTITY + 1));
          if (this.entity.length > MAX_ENTITY || (stopped && s[end] !== ";")) {
            throw new XmlError("not-well-formed", `'&' that begins no entity reference: ${quoted(`&${this.entity}${stopped ? s[end] : ""}`)}`);
          }
          i = stopped ? end + 1 : len;
          if (!stopped) break;
          const char = resolveEntity(this.entity);
          this.state = this.entityIn;
          if (this.entityIn === State.Text) this.emitText(char);
          else this.value += char;
          break;
        }
      }
    }
  }

  private emitText(text: string): void {
    if (text === "") return;
    checkChars(text);
    if (this.atStart && !/^[\t\n\r ]*$/.test(text)) this.atStart = false;
    this.handler.text(text);
  }

  /** XML 1.0 §2.8 XMLDecl; RFC 6120 §11.5 and §11.6 say what XMPP makes of it. */
  private readDeclaration(): void {
    const decl = this.declaration;
    this.state = State.Text;
    this.atStart = false;
    const body = /^xml([\t\n\r ][^]*)?\?>$/.exec(decl);
    if (!body) throw new XmlError("restricted-xml", `a processing instruction ${quoted(`<?${decl}`)}`);
    const pseudo = /[\t\n\r ]+(version|encoding|standalone)[\t\n\r ]*=[\t\n\r ]*(?:'([^']*)'|"([^"]*)")/y;
    const found: Record<string, string> = {};
    const rest = body[1] ?? "";
    let at = 0;
    for (let m = pseudo.exec(rest); m; m = pseudo.exec(rest)) {
      found[m[1]!] = m[2] ?? m[3] ?? "";
      at = pseudo.lastIndex;
    }
    if (!/^[\t\n\r ]*$/.test(rest.slice(at)) || found.version === undefined) {
      throw new XmlError("not-well-formed", `a malformed XML declaration ${quoted(`<?${decl}`)}`);
    }
    if (found.version !== "1.0") throw new XmlError("not-well-formed", `an XML declaration of version ${quoted(found.version)} (XMPP is XML 1.0, RFC 6120 §11.8)`);
    if (found.encoding !== undefined && !/^utf-8$/i.test(found.encoding)) {
      throw new XmlError("unsupported-encoding", `an XML declaration naming the encoding ${quoted(found.encoding)}, not UTF-8`);
    }
    // standalone: §11.5 lets the receiver ignore it.
  }
}

function resolveEntity(entity: string): string {
  const predefined = PREDEFINED[entity];
  if (predefined !== undefined) return predefined;
  const ref = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(entity);
  if (ref) {
    const code = ref[1] !== undefined ? parseInt(ref[1], 16) : Number(ref[2]);
    const char = code <= 0x10ffff ? String.fromCodePoint(code) : "";
    if (char === "" || NOT_CHAR.test(char)) {
      throw new XmlError("not-well-formed", `the character reference &${entity}; names a character XML forbids`);
    }
    return char;
  }
  if (QNAME.test(entity)) {
    throw new XmlError("restricted-xml", `the entity reference &${entity}; (only the predefined entities are allowed)`);
  }
  throw new XmlError("not-well-formed", `'&' that begins no entity reference: ${quoted(`&${entity};`)}`);
}

function checkName(name: string): void {
  if (!QNAME.test(name)) throw new XmlError("not-well-formed", `${quoted(name)} is not an XML name`);
}

/** `text` when every character in it is allowed by XML 1.0 §2.2. */
function checkChars(text: string): string {
  const bad = NOT_CHAR.exec(text);
  if (bad) {
    const code = bad[0].codePointAt(0)!;
    throw new XmlError("not-well-formed", `the character U+${code.toString(16).toUpperCase().padStart(4, "0")}, which XML forbids`);
  }
  return text;
}

/** Server text in a message: short, on one line, control characters shown as escapes. */
export function quoted(text: string): string {
  const cut = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return JSON.stringify(cut);
}
