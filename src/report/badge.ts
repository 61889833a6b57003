/**
 * SVG badges: per suite category, the highest level reached ("XMPP CS2023 ·
 * IM" | "Advanced"), else "not compliant" or "undetermined". Self-contained
 * SVG (no fonts, images or links fetched), text escaped. A pure function of
 * the report JSON; category and level titles come from the suite definition
 * when it is known, else from the ids.
 */
import { loadSuite } from "../scoring/suite.js";
import type { ComplianceStatus, SuiteScore } from "../scoring/score.js";
import type { TargetReport } from "./types.js";
import { escapeXml as esc } from "./xml-text.js";

export interface SuiteLabels {
  /** "XMPP CS2023". */
  short: string;
  title: string;
  category(id: string): string;
  level(id: string): string;
}

const titleCase = (id: string) => (id.length <= 3 ? id.toUpperCase() : id.charAt(0).toUpperCase() + id.slice(1));

/** Human titles for a suite's categories and levels, falling back to the ids when the suite is unknown here. */
export function suiteLabels(score: SuiteScore): SuiteLabels {
  let categories = new Map<string, string>();
  let levels = new Map<string, string>();
  try {
    const suite = loadSuite(score.suite);
    categories = new Map(suite.categories.map((c) => [c.id, c.title]));
    levels = new Map(suite.levels.map((l) => [l.id, l.title]));
  } catch {
    // A report from another installation may name a suite we do not have: the ids still read well.
  }
  return {
    short: `XMPP ${score.suite.toUpperCase()}`,
    title: score.title,
    category: (id) => categories.get(id) ?? titleCase(id),
    level: (id) => levels.get(id) ?? titleCase(id),
  };
}

export interface CategoryStanding {
  suite: string;
  category: string;
  /** The highest level at which the category is compliant; undefined when none. */
  level?: string;
  /** compliant at `level`; else the status at the lowest level. */
  status: ComplianceStatus;
}

/** Per category of a suite: the highest level reached, or why none was. Levels are ordered as the suite lists them. */
export function categoryStandings(score: SuiteScore): CategoryStanding[] {
  const categories = [...new Set(score.results.map((r) => r.category))];
  const levels = [...new Set(score.results.map((r) => r.level))];
  return categories.map((category) => {
    const cells = levels
      .map((level) => score.results.find((r) => r.category === category && r.level === level))
      .filter((r) => r !== undefined);
    const reached = cells.filter((r) => r.status === "compliant").at(-1);
    if (reached) return { suite: score.suite, category, level: reached.level, status: "compliant" };
    return { suite: score.suite, category, status: cells[0]?.status ?? "undetermined" };
  });
}

export interface Badge {
  suite: string;
  category: string;
  level?: string;
  status: ComplianceStatus;
  label: string;
  message: string;
  color: string;
  svg: string;
}

const COLORS: Record<ComplianceStatus, string> = { compliant: "#2e7d32", "not-compliant": "#c62828", undetermined: "#757575" };

/** Approximate advance widths of 11px Verdana/DejaVu Sans, enough to size the boxes without a font. */
function textWidth(text: string): number {
  let w = 0;
  for (const ch of text) {
    if ("ijl.,:;'|!·".includes(ch)) w += 3.5;
    else if ("frt -()[]/".includes(ch)) w += 4.5;
    else if ("mwMW".includes(ch)) w += 10;
    else if (/[A-Z0-9]/.test(ch)) w += 7.5;
    else w += 6.5;
  }
  return Math.ceil(w);
}

const HEIGHT = 20;

/** One flat badge as an SVG fragment (a <g>) of the given width. */
function badgeBody(label: string, message: string, color: string): { width: number; body: string } {
  const lw = textWidth(label) + 12;
  const mw = textWidth(message) + 12;
  const width = lw + mw;
  const body = [
    `<rect width="${lw}" height="${HEIGHT}" fill="#555"/>`,
    `<rect x="${lw}" width="${mw}" height="${HEIGHT}" fill="${color}"/>`,
    `<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,Geneva,sans-serif" font-size="11">`,
    `<text x="${lw / 2}" y="14">${esc(label)}</text>`,
    `<text x="${lw + mw / 2}" y="14">${esc(message)}</text>`,
    `</g>`,
  ].join("");
  return { width, body };
}

function svgDocument(width: number, height: number, title: string, content: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}">` +
    `<title>${esc(title)}</title>${content}</svg>\n`
  );
}

/** A badge per suite category: the highest level reached, "not compliant" or "undetermined". */
export function renderBadges(report: TargetReport): Badge[] {
  return report.suites.flatMap((score) => {
    const labels = suiteLabels(score);
    return categoryStandings(score).map((s) => {
      const label = `${labels.short} · ${labels.category(s.category)}`;
      const message = s.level ? labels.level(s.level) : s.status === "not-compliant" ? "not compliant" : "undetermined";
      const color = COLORS[s.status];
      const { width, body } = badgeBody(label, message, color);
      const title = `${label}: ${message} (${report.target.domain})`;
      return {
        suite: s.suite,
        category: s.category,
        ...(s.level ? { level: s.level } : {}),
        status: s.status,
        label,
        message,
        color,
        svg: svgDocument(width, HEIGHT, title, `<g>${body}</g>`),
      };
    });
  });
}

/** All of a report's badges stacked in one SVG (for a single --badge file). */
export function renderBadgeSheet(report: TargetReport): string {
  const badges = renderBadges(report);
  const gap = 4;
  let width = 0;
  const parts = badges.map((b, i) => {
    const { width: w, body } = badgeBody(b.label, b.message, b.color);
    width = Math.max(width, w);
    return `<g transform="translate(0 ${i * (HEIGHT + gap)})">${body}</g>`;
  });
  const height = Math.max(HEIGHT, badges.length * (HEIGHT + gap) - gap);
  const title = `xepcheck ${report.target.domain}: ${badges.map((b) => `${b.label} ${b.message}`).join("; ") || "no suite scored"}`;
  return svgDocument(Math.max(width, 1), height, title, parts.join(""));
}
