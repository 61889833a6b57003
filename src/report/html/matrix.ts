/**
 * The many-servers overview: specs as rows grouped by the suite's categories
 * (specs outside the suite last), servers as columns headed by their software
 * and the suite levels reached, each cell the spec's verdict on that server
 * linking to its evidence.
 */
import type { SuiteScore } from "../../scoring/score.js";
import { categoryStandings, suiteLabels } from "../badge.js";
import { specOrder } from "../junit.js";
import type { TargetReport } from "../types.js";
import { anchor, esc, sign, softwareName, statusBadge, verdictBadge } from "./markup.js";

interface Row {
  doc: string;
  /** Later categories that list the spec too. */
  also: string[];
}

interface Group {
  title: string;
  rows: Row[];
}

/** Rows in the order of the first suite scored, each spec under the first category that lists it. */
export function matrixGroups(targets: TargetReport[]): Group[] {
  const checked = new Set(targets.flatMap((t) => t.checks.map((c) => c.spec.doc)));
  const suite = targets.flatMap((t) => t.suites)[0];
  const groups: Group[] = [];
  const placed = new Map<string, { row: Row; group: Group }>();
  if (suite) {
    const labels = suiteLabels(suite);
    for (const category of [...new Set(suite.results.map((r) => r.category))]) {
      const group: Group = { title: labels.category(category), rows: [] };
      for (const { spec } of suite.requirements.filter((r) => r.category === category).flatMap((r) => r.specs)) {
        if (!checked.has(spec)) continue;
        const earlier = placed.get(spec);
        if (!earlier) {
          const row: Row = { doc: spec, also: [] };
          placed.set(spec, { row, group });
          group.rows.push(row);
        } else if (earlier.group !== group && !earlier.row.also.includes(group.title)) {
          earlier.row.also.push(group.title);
        }
      }
      if (group.rows.length) groups.push(group);
    }
  }
  const others = [...checked].filter((doc) => !placed.has(doc)).sort(specOrder);
  if (others.length) groups.push({ title: suite ? "Other specs" : "Specs", rows: others.map((doc) => ({ doc, also: [] })) });
  return groups;
}

function levelsReached(suites: SuiteScore[]): string {
  const items = suites.flatMap((suite) => {
    const labels = suiteLabels(suite);
    const prefix = suites.length > 1 ? `${labels.short} ` : "";
    return categoryStandings(suite).map((s) => {
      const standing = s.level ? statusBadge("compliant", `✓ ${labels.level(s.level)}`) : statusBadge(s.status);
      return `<li>${esc(prefix + labels.category(s.category))}: ${standing}</li>`;
    });
  });
  return items.length ? `<ul class="levels">${items.join("")}</ul>` : "";
}

/** A server name that may wrap after its dots in a narrow column ("prosody.<wbr>test"), not mid-word. */
function breakable(name: string): string {
  return esc(name).replace(/\./g, ".<wbr>");
}

function header(t: TargetReport, id: string): string {
  const flags = [
    t.outcome === "login-failed" ? `<span class="flag flag-fail">could not log in</span>` : "",
    t.outcome === "interrupted" ? `<span class="flag flag-fail">interrupted</span>` : "",
    t.settings.insecure ? `<span class="flag flag-warn">TLS not verified (--insecure)</span>` : "",
  ].join("");
  return `<th scope="col" class="server"><a href="#${esc(id)}">${breakable(t.name)}</a><span class="sw">${esc(softwareName(t.target))}</span>${flags}${levelsReached(t.suites)}</th>`;
}

function cell(t: TargetReport, id: string, doc: string): string {
  const s = t.specs[doc];
  if (!s) return `<td class="cell none" title="not run on ${esc(t.name)}">not run</td>`;
  const title = `${doc} on ${t.name}: ${s.verdict}; advertised ${s.advertised ?? "n/a"}, works ${s.works ?? "not tested"}`;
  return (
    `<td class="cell c-${s.verdict}"><a href="#${esc(anchor(id, doc))}" title="${esc(title)}">${verdictBadge(s.verdict)}` +
    `<span class="aw">adv ${sign(s.advertised)} · works ${sign(s.works)}</span></a></td>`
  );
}

export function renderMatrix(targets: TargetReport[], ids: string[], specNames: Map<string, string>): string {
  const groups = matrixGroups(targets);
  const span = targets.length + 1;
  const body = groups.map(
    (g) =>
      `<tr class="group"><th colspan="${span}" scope="rowgroup"><span>${esc(g.title)}</span></th></tr>` +
      g.rows
        .map((r) => {
          const name = specNames.get(r.doc);
          const spec =
            `<th scope="row" class="spec">${esc(r.doc)}${name && name !== r.doc ? `<span class="name">${esc(name)}</span>` : ""}` +
            `${r.also.length ? `<span class="also">also ${esc(r.also.join(", "))}</span>` : ""}</th>`;
          return `<tr>${spec}${targets.map((t, i) => cell(t, ids[i]!, r.doc)).join("")}</tr>`;
        })
        .join(""),
  );
  return (
    `<section id="xc-matrix"><h2>Specs × servers</h2>` +
    `<p class="muted">Each cell is the spec's verdict on that server, with whether it is advertised and proven to work; it links to the evidence.</p>` +
    `<div class="scroll"><table class="matrix"><thead><tr><th scope="col" class="corner">Spec</th>` +
    `${targets.map((t, i) => header(t, ids[i]!)).join("")}</tr></thead><tbody>${body.join("")}</tbody></table></div></section>`
  );
}
