/**
 * A project's DOAP claims against what a run measured on one of its
 * servers. The disagreement that matters is a claim of support that the
 * server contradicts ("claimed but failing"); the others are worth knowing
 * but are no one's fault: support the DOAP file does not list, claims this
 * server does not offer (a module not enabled) or that could not be
 * determined, claims xepcheck has no check for, and XEP versions that
 * differ. "Could not tell" (error, skip) never reads as failing.
 */
import type { Report, TargetReport } from "../report/types.js";
import { describeMeasurement, measureSpecs, type MeasuredSpec } from "./measured.js";
import type { DoapClaim, DoapProject } from "./read.js";
import type { DoapStatus } from "./vocabulary.js";

/** Statuses that claim the software supports the spec now; null is an entry without a status (ejabberd leaves it empty). */
const SUPPORTING: (DoapStatus | null)[] = ["complete", "partial", "deprecated", null];

export interface DoapFinding {
  doc: string;
  /** The DOAP status, "listed" for an entry without one, "absent" when the file does not name the spec. */
  claimed: DoapStatus | "listed" | "absent";
  /** What the run measured; undefined when no check covers the spec. */
  measured?: MeasuredSpec["status"];
  detail: string;
}

export interface DoapComparison {
  target: string;
  /** Claimed supported, but the server contradicts it: claimed complete with a failing check, or claimed at all with nothing working and something failing. */
  claimedButFailing: DoapFinding[];
  /** Shown working, but the file does not list it or says planned/removed/wontfix. */
  workingButUnclaimed: DoapFinding[];
  /** Claimed, but every check says this server does not offer it (configuration?). */
  claimedNotOffered: DoapFinding[];
  /** Claimed, but the checks could not tell (skip, error). */
  claimedUndetermined: DoapFinding[];
  /** Claimed specs no check of this run covers. */
  claimedNotChecked: string[];
  /** The XEP version claimed differs from the one the checks follow. */
  versionDifferences: DoapFinding[];
  /** Specs where claim and measurement agree. */
  agreeing: string[];
}

const claimedAs = (claim: DoapClaim | undefined): DoapFinding["claimed"] => (claim ? (claim.status ?? "listed") : "absent");

function claimText(claim: DoapClaim | undefined): string {
  if (!claim) return "not in the DOAP file";
  return claim.status ? `claimed ${claim.status}` : "listed without a status";
}

export function compareDoap(project: DoapProject, target: TargetReport): DoapComparison {
  const out: DoapComparison = {
    target: target.name,
    claimedButFailing: [],
    workingButUnclaimed: [],
    claimedNotOffered: [],
    claimedUndetermined: [],
    claimedNotChecked: [],
    versionDifferences: [],
    agreeing: [],
  };
  const measured = measureSpecs(target);
  const claims = new Map(project.claims.map((c) => [c.doc, c]));
  for (const spec of measured) {
    const claim = claims.get(spec.doc);
    const finding: DoapFinding = { doc: spec.doc, claimed: claimedAs(claim), measured: spec.status, detail: `${claimText(claim)}; ${describeMeasurement(spec)}` };
    const supported = claim !== undefined && SUPPORTING.includes(claim.status);
    if (!supported) {
      if (spec.status === "complete" || spec.status === "partial") out.workingButUnclaimed.push(finding);
      else out.agreeing.push(spec.doc);
      continue;
    }
    // "complete" promises every part; partial, deprecated or no status promise only that something works.
    const contradicted = spec.status === "failing" || (claim.status === "complete" && spec.checks.fail.length > 0);
    if (contradicted) out.claimedButFailing.push(finding);
    else if (spec.status === "not-offered") out.claimedNotOffered.push(finding);
    else if (spec.status === "undetermined") out.claimedUndetermined.push(finding);
    else out.agreeing.push(spec.doc);
    if (claim.version && spec.version && claim.version !== spec.version) {
      out.versionDifferences.push({ ...finding, detail: `the DOAP file says version ${claim.version}; the checks follow ${spec.version}` });
    }
  }
  const checked = new Set(measured.map((s) => s.doc));
  out.claimedNotChecked = project.claims.filter((c) => SUPPORTING.includes(c.status) && !checked.has(c.doc)).map((c) => c.doc);
  return out;
}

/** Exit 1 territory: a claim of support the server contradicts. */
export function claimsContradicted(c: DoapComparison): boolean {
  return c.claimedButFailing.length > 0;
}

function section(title: string, findings: DoapFinding[], always = false): string[] {
  if (findings.length === 0) return always ? [`${title}: none`] : [];
  const width = Math.max(...findings.map((f) => f.doc.length));
  return [`${title} (${findings.length}):`, ...findings.map((f) => `  ${f.doc.padEnd(width)}  ${f.detail}`)];
}

/** The text `xepcheck doap check` prints: both main lists always, the others when not empty. */
export function formatDoapComparison(c: DoapComparison, about: { file: string; project: DoapProject; report: Report; target: TargetReport }): string {
  const software = about.target.target.software;
  const server = software?.name ? ` (${software.name}${software.version ? ` ${software.version}` : ""})` : "";
  const lines = [
    `DOAP ${about.file}${about.project.name ? ` (${about.project.name})` : ""}: ${about.project.claims.length} spec${about.project.claims.length === 1 ? "" : "s"} named`,
    `measured: ${c.target}${server} by ${about.report.tool.name} ${about.report.tool.version}, ${about.target.finishedAt}`,
    "",
    ...section("claimed but failing", c.claimedButFailing, true),
    ...section("working but unclaimed", c.workingButUnclaimed, true),
    ...section("claimed but not offered by this server (its configuration?)", c.claimedNotOffered),
    ...section("claimed but not determined", c.claimedUndetermined),
    ...section("version differs", c.versionDifferences),
    ...(c.claimedNotChecked.length ? [`claimed, no check in this run (${c.claimedNotChecked.length}): ${c.claimedNotChecked.join(", ")}`] : []),
    `agree (${c.agreeing.length})${c.agreeing.length ? `: ${c.agreeing.join(", ")}` : ""}`,
    claimsContradicted(c)
      ? `DOAP claims contradicted: ${c.claimedButFailing.length} claimed but failing (exit 1)`
      : "DOAP claims not contradicted: nothing claimed is failing",
  ];
  return lines.join("\n") + "\n";
}
