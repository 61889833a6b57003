/**
 * A record of what was exchanged on a stream, with secrets redacted before
 * anything is stored: SASL payloads (they carry passwords or proofs),
 * passwords, FAST tokens and upload slot headers never reach a transcript,
 * nor the --trace log it feeds.
 */
import type { Element } from "@xmpp/xml";
import { traceLogHere, type TraceLog } from "./trace.js";

export interface TranscriptEntry {
  /** "out" = sent by xepcheck, "in" = received from the server, "note" = a remark of ours. */
  dir: "in" | "out" | "note";
  /** Milliseconds since the transcript started. */
  t: number;
  xml: string;
  /** Which session, in scenarios with several ("alice/A"). */
  actor?: string;
}

const SASL_NS = ["urn:ietf:params:xml:ns:xmpp-sasl", "urn:xmpp:sasl:2"];
const SASL_PAYLOAD = new Set(["auth", "response", "challenge", "success", "initial-response", "additional-data"]);
export const REDACTED = "[redacted]";

/** Returns the element's XML with secret-bearing content replaced. */
export function redactedXml(el: Element): string {
  if (!containsSecret(el)) return el.toString();
  const copy = clone(el);
  scrub(copy);
  return copy.toString();
}

/** XEP-0363 §4: the headers of an upload slot (Authorization, Cookie) authorize the PUT. */
const UPLOAD_NS = "urn:xmpp:http:upload";
/** Data-form fields (XEP-0004) whose values are secrets, besides type='text-private': passwords, room secrets. */
const SECRET_FIELD = /password|secret/i;

/**
 * SASL payloads (both ways: <success/> data too), <password/> (XEP-0077,
 * XEP-0045), FAST tokens, upload slot headers, private data-form fields,
 * password attributes (XEP-0215 TURN credentials), component handshakes.
 */
function containsSecret(el: Element): boolean {
  if (SASL_NS.includes(el.getNS() ?? "")) return true;
  if (el.attrs.password !== undefined || hasSecretText(el) || isSecretField(el)) return true;
  return el.getChildElements().some(containsSecret);
}

function hasSecretText(el: Element): boolean {
  const ns = el.getNS() ?? "";
  const name = el.getName();
  if (SASL_NS.includes(ns)) return SASL_PAYLOAD.has(name);
  // XEP-0114's <handshake/> is SHA-1(stream id + secret): guessable offline, so a secret too.
  return name === "password" || name === "token" || (name === "header" && ns.startsWith(UPLOAD_NS)) || (name === "handshake" && ns === "jabber:component:accept");
}

function isSecretField(el: Element): boolean {
  return el.getName() === "field" && (el.attrs.type === "text-private" || SECRET_FIELD.test(el.attrs.var ?? ""));
}

function scrub(el: Element): void {
  if (hasSecretText(el)) redactText(el);
  if (isSecretField(el)) el.getChildren("value").forEach(redactText);
  if (el.getName() === "token" && el.attrs.token) el.attrs.token = REDACTED;
  if (el.attrs.password !== undefined) el.attrs.password = REDACTED;
  for (const child of el.getChildElements()) scrub(child);
}

/** Replaces the element's text; an empty payload ("" or SASL's "=") stays, there is nothing to hide. */
function redactText(el: Element): void {
  if (el.getText().trim() === "" || el.getText() === "=") return;
  el.children = el.children.filter((c) => typeof c !== "string");
  el.children.push(REDACTED);
}

function clone(el: Element): Element {
  const copy = new (el.constructor as typeof Element)(el.name, { ...el.attrs });
  copy.parent = el.parent; // keeps namespace lookups through the stream root working
  for (const c of el.children) {
    if (typeof c === "string") copy.children.push(c);
    else {
      const child = clone(c);
      child.parent = copy;
      copy.children.push(child);
    }
  }
  return copy;
}

export class Transcript {
  readonly entries: TranscriptEntry[] = [];
  private readonly start = Date.now();
  /** The --trace log, when this transcript was created inside a traced run (src/session/trace.ts). */
  private readonly trace: TraceLog | undefined = traceLogHere();

  /** Past `limit` entries, the note standing for those left out between the first and the last ones. */
  private omission: TranscriptEntry | undefined;
  private omitted = 0;

  /**
   * Keeps at most `limit` entries (a flood of stanzas must not grow memory
   * or the report without bound): the first `limit - keepLast` and the
   * latest `keepLast`, where the end of an exchange is; one note in between
   * counts what was left out.
   */
  constructor(
    private readonly limit = 2000,
    private readonly keepLast = Math.floor(limit / 4),
  ) {}

  /** `xml` must already be redacted (redactedXml): it is stored, and traced, as given. */
  record(dir: TranscriptEntry["dir"], xml: string, actor?: string): void {
    this.trace?.(dir, xml, actor); // the debug log is not truncated
    // A copy: XML serialized from parsed elements is built of slices of the
    // network reads, and would keep each whole read alive in the transcript.
    const copy = Buffer.from(xml, "utf8").toString("utf8");
    const entry: TranscriptEntry = { dir, t: Date.now() - this.start, xml: copy, ...(actor ? { actor } : {}) };
    if (this.entries.length < this.limit) {
      this.entries.push(entry);
      return;
    }
    const kept = this.limit - this.keepLast;
    if (!this.omission) {
      this.omission = { dir: "note", t: entry.t, xml: "" };
      this.entries.splice(kept, 0, this.omission);
    }
    if (this.keepLast > 0) {
      this.entries.splice(kept + 1, 1); // the oldest of the latest entries
      this.entries.push(entry);
    }
    this.omitted++;
    this.omission.xml = `${this.omitted} entries omitted here (the transcript keeps its first ${kept} and its last ${this.keepLast} entries)`;
  }

  note(text: string, actor?: string): void {
    this.record("note", text, actor);
  }
}
