/**
 * One server's section of the HTML report: how the run went (outcome,
 * --insecure, problems), the suites' category × level tables with what keeps
 * a level from being reached, every spec with advertised / works, and every
 * check with its requirement quoted and linked, expected and actual, its
 * evidence and, where known, how to fix it in the server's software.
 */
import { VERDICTS } from "../../checks/types.js";
import type { RequirementScore, SuiteScore } from "../../scoring/score.js";
import { suiteLabels } from "../badge.js";
import { checksBySpec } from "../junit.js";
import { verdictCounts } from "../summary.js";
import { checkHints, softwareOf, softwareTitle, specHints, type Hint, type Remediation, type Software } from "../remediation.js";
import type { CheckResult, TargetReport } from "../types.js";
import { renderEvidence } from "./evidence.js";
import { anchor, duration, esc, softwareName, statusBadge, verdictBadge, when, yesNo } from "./markup.js";

export interface TargetContext {
  id: string;
  remediation: Remediation;
  /** Spec names from the suites ("XEP-0313" → "Message Archive Management"). */
  specNames: Map<string, string>;
}

const OUTCOME: Record<TargetReport["outcome"], string> = {
  completed: "",
  "login-failed": "<strong>Could not log in.</strong> No check could run: every check is an error, and the problems below say why.",
  interrupted: "<strong>Interrupted.</strong> The run was stopped before it finished: checks that did not finish are errors.",
};

export const INSECURE = "<strong>TLS certificate NOT verified (--insecure).</strong> Anyone on the path could have answered in the server's place.";

function banners(t: TargetReport): string {
  const out: string[] = [];
  if (t.outcome !== "completed") out.push(`<div class="banner banner-fail" role="alert">${OUTCOME[t.outcome]}</div>`);
  if (t.settings.insecure) out.push(`<div class="banner banner-warn" role="alert">${INSECURE}</div>`);
  if (t.errors.length) {
    out.push(
      `<div class="problems"><h3>Problems of the run</h3><ul>` +
        t.errors
          .map((e) => `<li><strong>${esc(e.step)}</strong> (${esc(e.kind)}${e.condition ? `, ${esc(e.condition)}` : ""}): ${esc(e.message)}</li>`)
          .join("") +
        `</ul></div>`,
    );
  }
  return out.join("\n");
}

function facts(t: TargetReport): string {
  const s = t.settings;
  const rows: [string, string][] = [
    ["Domain", t.target.domain],
    ["Software", softwareName(t.target) + (t.target.software?.os ? ` (${t.target.software.os})` : "")],
    ["Account", t.target.account + (s.register ? " (registered for this run)" : "")],
    ["Second account", t.target.peer ?? "none: two-user scenarios skipped"],
    ["Connected to", t.target.endpoint ? `${t.target.endpoint.host}:${t.target.endpoint.port}` : "–"],
    ["Connection", `${s.tls === "direct" ? "direct TLS" : "STARTTLS"}, ${s.transport}${s.url ? ` (${s.url})` : ""}${s.insecure ? ", certificate NOT verified" : ""}`],
    ["Started", when(t.startedAt)],
    ["Took", `${duration(t.durationMs)}, ${t.traffic.roundTrips} round trips, ${t.traffic.logins} logins`],
    ["Scenarios", s.scenarios ? `live, ${s.concurrency} at once` : "none (--no-scenarios): advertisements only"],
  ];
  if (s.only.length) rows.push(["Only", s.only.join(", ")]);
  if (s.skip.length) rows.push(["Skipped", s.skip.join(", ")]);
  return `<dl class="facts">${rows.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join("")}</dl>`;
}

function counts(checks: CheckResult[]): string {
  const n = verdictCounts(checks);
  const parts = VERDICTS.filter((v) => n[v]).map((v) => `${verdictBadge(v)} ${n[v]}`);
  return `<p class="counts"><strong>${checks.length} checks:</strong> ${parts.join(" · ")}</p>`;
}

/** Links a spec to its evidence in this target when it has checks here. */
function specLink(ctx: TargetContext, t: TargetReport, doc: string): string {
  return t.specs[doc] ? `<a href="#${esc(anchor(ctx.id, doc))}">${esc(doc)}</a>` : esc(doc);
}

function requirementLine(ctx: TargetContext, t: TargetReport, r: RequirementScore, category: (id: string) => string): string {
  const specs = r.specs.map((s) => `${specLink(ctx, t, s.spec)} (${esc(s.status)})`).join(", ");
  return `<li><strong>${esc(category(r.category))} · ${esc(r.feature)}</strong>: ${specs}</li>`;
}

function suiteTable(ctx: TargetContext, t: TargetReport, suite: SuiteScore): string {
  const labels = suiteLabels(suite);
  const levels = [...new Set(suite.results.map((r) => r.level))];
  const categories = [...new Set(suite.results.map((r) => r.category))];
  const rows = categories.map((category) => {
    const cells = levels.map((level) => {
      const r = suite.results.find((x) => x.category === category && x.level === level);
      return `<td>${r ? statusBadge(r.status) : "–"}</td>`;
    });
    return `<tr><th scope="row">${esc(labels.category(category))}</th>${cells.join("")}</tr>`;
  });
  const byId = new Map(suite.requirements.map((r) => [r.id, r]));
  const list = (ids: string[], title: string) => {
    const reqs = [...new Set(ids)].map((id) => byId.get(id)).filter((r) => r !== undefined);
    return reqs.length ? `<h5>${title}</h5><ul class="reqs">${reqs.map((r) => requirementLine(ctx, t, r, labels.category)).join("")}</ul>` : "";
  };
  return (
    `<h4>${esc(suite.title)}</h4>` +
    `<div class="scroll"><table class="suite"><thead><tr><th scope="col">Category</th>${levels.map((l) => `<th scope="col">${esc(labels.level(l))}</th>`).join("")}</tr></thead>` +
    `<tbody>${rows.join("")}</tbody></table></div>` +
    list(suite.results.flatMap((r) => r.failing), "Not met") +
    list(suite.results.flatMap((r) => r.undetermined), "Not determined (keeps the level from being claimed)")
  );
}

function specsTable(ctx: TargetContext, t: TargetReport, specs: [string, CheckResult[]][]): string {
  const rows = specs.map(([doc, checks]) => {
    const s = t.specs[doc];
    return (
      `<tr><th scope="row">${specLink(ctx, t, doc)}</th><td>${verdictBadge(s?.verdict ?? "skip")}</td>` +
      `<td>${yesNo(s?.advertised ?? null)}</td><td>${yesNo(s?.works ?? null)}</td><td>${checks.length}</td></tr>`
    );
  });
  return (
    `<div class="scroll"><table class="specs"><thead><tr><th scope="col">Spec</th><th scope="col">Verdict</th>` +
    `<th scope="col">Advertised</th><th scope="col">Works</th><th scope="col">Checks</th></tr></thead><tbody>${rows.join("")}</tbody></table></div>`
  );
}

function hints(list: [Software, Hint][]): string {
  if (list.length === 0) return "";
  const items = list.map(([s, h]) => `<li><strong>${esc(softwareTitle(s))}</strong>: ${esc(h.text)} <a href="${esc(h.docs)}">Documentation</a></li>`);
  return `<div class="fix"><h5>How to fix</h5><ul>${items.join("")}</ul></div>`;
}

function check(ctx: TargetContext, c: CheckResult, software: Software | undefined): string {
  const hasEa = c.evidence.some((e) => e.type === "expectedActual");
  const meta: [string, string][] = [
    ["kind", c.kind === "scenario" ? "live scenario" : "advertisement"],
    ["advertised", yesNo(c.advertised)],
    ["works", yesNo(c.works)],
    ["took", duration(c.durationMs)],
  ];
  const body = [
    // The summary repeats expected and actual, which follow in full.
    hasEa ? "" : `<p class="summary">${esc(c.summary)}</p>`,
    `<blockquote class="req"><p>“${esc(c.requirement)}”</p><footer><a href="${esc(c.spec.url)}">${esc(c.spec.doc)} §${esc(c.spec.section)}</a>` +
      ` · ${esc(c.level)}${c.spec.version ? ` · version ${esc(c.spec.version)}` : ""}</footer></blockquote>`,
    `<dl class="meta">${meta.map(([k, v]) => `<div><dt>${k}</dt><dd>${esc(v)}</dd></div>`).join("")}</dl>`,
    ...c.evidence.map(renderEvidence),
    hints(checkHints(ctx.remediation, c, software)),
  ];
  return (
    `<details class="check c-${c.verdict}" id="${esc(anchor(ctx.id, c.id))}"${c.verdict === "fail" ? " open" : ""}>` +
    `<summary>${verdictBadge(c.verdict)} <span class="title">${esc(c.title)}</span> <code class="id">${esc(c.id)}</code></summary>` +
    `<div class="body">${body.join("")}</div></details>`
  );
}

/** The top-level sections of the core RFCs, for the headings their checks are grouped under. */
const RFC_SECTIONS: Record<string, Record<string, string>> = {
  "RFC 6120": {
    "4": "XML streams", "5": "STARTTLS", "6": "SASL", "7": "Resource binding", "8": "XML stanzas",
    "10": "Server rules for processing XML stanzas", "11": "XML usage", "12": "Internationalization", "13": "Security",
  },
  "RFC 6121": {
    "1": "Introduction", "2": "Managing the roster", "3": "Managing presence subscriptions", "4": "Exchanging presence information",
    "5": "Exchanging messages", "8": "Server rules for handling XML stanzas", "11": "Handling of URIs", "12": "Conformance", A: "Subscription states",
  },
};

/**
 * An RFC's checks under a heading per top-level section, in the RFC's
 * order (the section of each is in its spec reference), each heading with
 * its verdicts counted; other specs' checks as they come.
 */
function grouped(ctx: TargetContext, doc: string, checks: CheckResult[], software: Software | undefined): string {
  const titles = RFC_SECTIONS[doc];
  const sections = new Map<string, CheckResult[]>();
  for (const c of checks) {
    const top = c.spec.section.split(".")[0] ?? "";
    sections.set(top, [...(sections.get(top) ?? []), c]);
  }
  if (!titles || sections.size < 2) return checks.map((c) => check(ctx, c, software)).join("");
  // In the RFC's order: §4 before §11, appendices last.
  const order = (top: string) => (/^\d+$/.test(top) ? Number(top) : Number.MAX_SAFE_INTEGER);
  return [...sections]
    .sort(([a], [b]) => order(a) - order(b))
    .map(([top, list]) => {
      const counts = VERDICTS.map((v) => [v, list.filter((c) => c.verdict === v).length] as const).filter(([, n]) => n > 0);
      return (
        `<h5 class="section">§${esc(top)}${titles[top] ? ` ${esc(titles[top])}` : ""} <span class="muted">(${counts.map(([v, n]) => `${n} ${v}`).join(", ")})</span></h5>` +
        list.map((c) => check(ctx, c, software)).join("")
      );
    })
    .join("");
}

function specSection(ctx: TargetContext, t: TargetReport, doc: string, checks: CheckResult[], software: Software | undefined): string {
  const s = t.specs[doc];
  const name = ctx.specNames.get(doc);
  return (
    `<section class="spec" id="${esc(anchor(ctx.id, doc))}">` +
    `<h4>${esc(doc)}${name ? ` <span class="sw">${esc(name)}</span>` : ""} ${verdictBadge(s?.verdict ?? "skip")}</h4>` +
    `<p class="muted">advertised: ${yesNo(s?.advertised ?? null)} · works: ${yesNo(s?.works ?? null)}</p>` +
    hints(specHints(ctx.remediation, doc, s, software)) +
    grouped(ctx, doc, checks, software) +
    `</section>`
  );
}

function loginCosts(t: TargetReport): string {
  if (!t.loginCosts?.length) return "";
  const rows = t.loginCosts.map(
    (c) =>
      `<tr><th scope="row">${esc(c.flavour)}</th><td>${c.ok ? "yes" : "no"}</td><td>${c.roundTrips}</td><td>${c.bytesOut} / ${c.bytesIn}</td>` +
      `<td>${esc(duration(c.ms))}</td><td>${esc(c.note ?? "")}</td></tr>`,
  );
  return (
    `<details class="ev"><summary>Login costs (${t.loginCosts.length} ways in)</summary><div class="scroll"><table>` +
    `<thead><tr><th scope="col">Way in</th><th scope="col">OK</th><th scope="col">Round trips</th><th scope="col">Bytes out / in</th><th scope="col">Time</th><th scope="col">Note</th></tr></thead>` +
    `<tbody>${rows.join("")}</tbody></table></div></details>`
  );
}

export function renderTarget(ctx: TargetContext, t: TargetReport): string {
  const software = softwareOf(t.target.software?.name);
  const specs = checksBySpec(t);
  return [
    `<section class="target" id="${esc(ctx.id)}">`,
    `<h2>${esc(t.name)} <span class="sw">${esc(softwareName(t.target))}</span></h2>`,
    banners(t),
    facts(t),
    counts(t.checks),
    t.suites.length ? `<h3>Compliance</h3>${t.suites.map((s) => suiteTable(ctx, t, s)).join("")}` : "",
    `<h3>Specs</h3>`,
    specsTable(ctx, t, specs),
    loginCosts(t),
    `<h3>Checks and evidence</h3>`,
    ...specs.map(([doc, checks]) => specSection(ctx, t, doc, checks, software)),
    `</section>`,
  ].join("\n");
}
