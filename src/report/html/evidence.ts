/**
 * A check's evidence as HTML, one renderer per evidence type; a type this
 * version does not know (from a newer xepcheck) is shown plainly as JSON.
 * Transcripts are collapsed: the verdict, requirement, expected and actual
 * come first.
 */
import type { Evidence } from "../../checks/types.js";
import type { TranscriptEntry } from "../../session/transcript.js";
import { esc } from "./markup.js";

const DIRECTION: Record<TranscriptEntry["dir"], { sign: string; title: string }> = {
  out: { sign: "→", title: "sent by xepcheck" },
  in: { sign: "←", title: "received from the server" },
  note: { sign: "·", title: "note" },
};

function transcriptEntry(e: TranscriptEntry): string {
  const d = DIRECTION[e.dir] ?? DIRECTION.note;
  const text = e.dir === "note" ? `<span class="note">${esc(e.xml)}</span>` : `<pre>${esc(e.xml)}</pre>`;
  return (
    `<li class="dir-${esc(e.dir)}"><span class="t">+${esc(String(e.t))} ms</span><span class="actor">${esc(e.actor ?? "")}</span>` +
    `<span class="dir" title="${d.title}">${d.sign}</span>${text}</li>`
  );
}

function transcript(e: Extract<Evidence, { type: "transcript" }>): string {
  const stanzas = e.entries.filter((x) => x.dir !== "note").length;
  const title = `Transcript${e.title ? `: ${esc(e.title)}` : ""} <span class="muted">(${stanzas} stanza${stanzas === 1 ? "" : "s"}, ${e.entries.length} entries)</span>`;
  return `<details class="ev transcript"><summary>${title}</summary><ol class="transcript">${e.entries.map(transcriptEntry).join("")}</ol></details>`;
}

function table(e: Extract<Evidence, { type: "table" }>): string {
  const head = `<thead><tr>${e.columns.map((c) => `<th scope="col">${esc(c)}</th>`).join("")}</tr></thead>`;
  const body = `<tbody>${e.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("")}</tbody>`;
  return `<div class="ev scroll"><table>${e.title ? `<caption>${esc(e.title)}</caption>` : ""}${head}${body}</table></div>`;
}

function advertisement(e: Extract<Evidence, { type: "advertisement" }>): string {
  const found = e.foundAt.length
    ? `found at ${e.foundAt.map((f) => `<strong>${esc(f)}</strong>`).join(", ")}`
    : `<strong>not found</strong>`;
  return (
    `<div class="ev"><p>Looked for <code>${esc(e.looked)}</code>: ${found}.</p>` +
    `<p class="muted">Searched: ${e.searched.map(esc).join(", ") || "nowhere"}</p></div>`
  );
}

export function renderEvidence(e: Evidence): string {
  switch (e.type) {
    case "expectedActual":
      return (
        `<dl class="ev ea"><dt>Expected</dt><dd class="expected"><pre>${esc(e.expected)}</pre></dd>` +
        `<dt>Actual</dt><dd class="actual"><pre>${esc(e.actual)}</pre></dd></dl>`
      );
    case "advertisement":
      return advertisement(e);
    case "table":
      return table(e);
    case "note":
      return `<p class="ev note">${esc(e.text)}</p>`;
    case "transcript":
      return transcript(e);
    default: {
      const unknown = e as unknown as { type?: unknown };
      return `<div class="ev"><p class="muted">Evidence of type ${esc(String(unknown.type))}:</p><pre>${esc(JSON.stringify(unknown, null, 2))}</pre></div>`;
    }
  }
}
