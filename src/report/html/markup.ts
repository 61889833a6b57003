/** Small pieces of the HTML report: escaping, anchors, verdict and status badges, numbers people read. */
import type { Verdict } from "../../checks/types.js";
import type { ComplianceStatus } from "../../scoring/score.js";
import { escapeXml } from "../xml-text.js";

/** Escapes text for element content and double-quoted attributes (transcripts are XML: every character counts). */
export const esc = escapeXml;

/** An id fragment: lower case, letters, digits, ".", "_" and "-" only ("XEP-0313" → "xep-0313"). */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}._-]+/gu, "-")
    .replace(/^-+|-+$/g, "");
}

/** Ids the report itself uses start with this, so no target can take them. */
export const OWN_ID = "xc-";

/** Each target's section id: its name as a slug, unique within the report. */
export function targetIds(names: string[]): string[] {
  const used = new Set<string>();
  return names.map((name, i) => {
    let base = slug(name) || `target-${i + 1}`;
    if (base.startsWith(OWN_ID)) base = `t-${base}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
    used.add(id);
    return id;
  });
}

/** Where a target's evidence for a spec ("XEP-0313") or a check ("xep0313.account-query") is: "<target>-<spec or check>". */
export function anchor(targetId: string, specOrCheck: string): string {
  return `${targetId}-${slug(specOrCheck)}`;
}

const VERDICT: Record<Verdict, string> = {
  pass: "✓ pass",
  warn: "! warn",
  fail: "✗ fail",
  na: "– n/a",
  skip: "↷ skip",
  error: "? error",
};

/** A verdict as a word with a sign: readable without colour. */
export function verdictBadge(v: Verdict): string {
  return `<span class="v v-${v}">${VERDICT[v]}</span>`;
}

const STATUS: Record<ComplianceStatus, string> = {
  compliant: "✓ compliant",
  "not-compliant": "✗ not compliant",
  undetermined: "? undetermined",
};

/** A compliance status, coloured as the status and worded as given (default: the status itself). */
export function statusBadge(s: ComplianceStatus, label = STATUS[s]): string {
  return `<span class="v s-${s}">${esc(label)}</span>`;
}

export const yesNo = (v: boolean | null): string => (v === null ? "–" : v ? "yes" : "no");

/** "✓" / "✗" / "–" for the compact advertised · works line. */
export const sign = (v: boolean | null): string => (v === null ? "–" : v ? "✓" : "✗");

export function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** "2026-11-22 02:01:33 UTC"; the text as it is when it is not a date. */
export function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export { softwareName } from "../summary.js";
