/**
 * A record of what was exchanged on a stream, with secrets redacted before
 * anything is stored: SASL payloads (they carry passwords or proofs) and
 * registration passwords never reach a transcript.
 */
import type { Element } from "@xmpp/xml";

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

/** SASL payloads, registration passwords, FAST tokens, TURN credentials (XEP-0215 password attributes). */
function containsSecret(el: Element): boolean {
  if (SASL_NS.includes(el.getNS() ?? "")) return true;
  if (el.attrs.password !== undefined || el.getName() === "password" || el.getName() === "token") return true;
  return el.getChildElements().some(containsSecret);
}

function scrub(el: Element): void {
  const ns = el.getNS() ?? "";
  const name = el.getName();
  const secretText =
    (SASL_NS.includes(ns) && SASL_PAYLOAD.has(name)) ||
    name === "password" ||
    name === "token";
  if (secretText && el.getText().trim() !== "" && el.getText() !== "=") {
    el.children = el.children.filter((c) => typeof c !== "string");
    el.children.push(REDACTED);
  }
  if (name === "token" && el.attrs.token) el.attrs.token = REDACTED;
  if (el.attrs.password !== undefined) el.attrs.password = REDACTED;
  for (const child of el.getChildElements()) scrub(child);
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

  constructor(private readonly limit = 2000) {}

  record(dir: TranscriptEntry["dir"], xml: string, actor?: string): void {
    if (this.entries.length >= this.limit) return;
    this.entries.push({ dir, t: Date.now() - this.start, xml, ...(actor ? { actor } : {}) });
    if (this.entries.length === this.limit) {
      this.entries.push({ dir: "note", t: Date.now() - this.start, xml: `transcript truncated at ${this.limit} entries` });
    }
  }

  note(text: string, actor?: string): void {
    this.record("note", text, actor);
  }
}
