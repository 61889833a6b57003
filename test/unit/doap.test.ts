import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Element } from "@xmpp/xml";
import parse from "@xmpp/xml/lib/parse.js";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerDoapCommands } from "../../src/cli/doap-command.js";
import { claimsContradicted, compareDoap, formatDoapComparison } from "../../src/doap/check.js";
import { DoapInputError, parseDoap } from "../../src/doap/read.js";
import { renderDoap } from "../../src/report/doap.js";
import { readReportFile } from "../../src/report/read.js";
import type { Report, TargetReport } from "../../src/report/types.js";

// Written out here, not imported: the test checks the code against XEP-0453, not against itself.
const RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const DOAP = "http://usefulinc.com/ns/doap#";
const XMPP = "https://linkmauve.fr/ns/xmpp-doap#";
const STATUSES = ["complete", "partial", "planned", "deprecated", "removed", "wontfix"];

const FIXTURE = new URL("../fixtures/report-prosody.json", import.meta.url).pathname;

/** The Prosody fixture (a real run), read as xepcheck reads any report. */
const report = (): Report => readReportFile(FIXTURE);

const target = (r: Report = report()): TargetReport => r.targets[0]!;

/** The value of an attribute in namespace `ns`, whatever its prefix. */
function attrNS(el: Element, local: string, ns: string): string | undefined {
  for (const [name, value] of Object.entries(el.attrs)) {
    const [prefix, rest] = name.split(":");
    if (rest !== local) continue;
    for (let at: Element | null = el; at; at = at.parent) if (at.attrs[`xmlns:${prefix}`] !== undefined) {
      if (at.attrs[`xmlns:${prefix}`] === ns) return value;
      break;
    }
  }
  return undefined;
}

function supported(project: Element): Map<string, Element> {
  const out = new Map<string, Element>();
  for (const i of project.getChildren("implements", DOAP)) {
    const x = i.getChild("SupportedXep", XMPP);
    if (x) out.set(attrNS(x.getChild("xep", XMPP)!, "resource", RDF)!, x);
  }
  return out;
}

function bareResources(project: Element): string[] {
  return project
    .getChildren("implements", DOAP)
    .map((i) => attrNS(i, "resource", RDF))
    .filter((r): r is string => r !== undefined);
}

describe("renderDoap (XEP-0453)", () => {
  const xml = renderDoap(target(), report().tool);
  const root = parse(xml);
  const project = root.getChild("Project", DOAP)!;

  it("is RDF/XML: an XML declaration, root rdf:RDF, one DOAP Project", () => {
    expect(xml.startsWith(`<?xml version="1.0" encoding="UTF-8"?>`)).toBe(true);
    expect(root.getName()).toBe("RDF");
    expect(root.getNS()).toBe(RDF);
    expect(root.getChildren("Project", DOAP)).toHaveLength(1);
    expect(project.getChildText("name", DOAP)).toBe("Prosody");
    // No element outside the three vocabularies.
    const walk = (el: Element): Element[] => [el, ...el.getChildElements().flatMap(walk)];
    expect(new Set(walk(root).map((e) => e.getNS()))).toEqual(new Set([RDF, DOAP, XMPP]));
  });

  it("lists a XEP whose checks all pass as complete, with its version and a note saying who measured what and when", () => {
    const xep30 = supported(project).get("https://xmpp.org/extensions/xep-0030.html")!;
    expect(xep30).toBeDefined();
    expect(xep30.getChildText("status", XMPP)).toBe("complete");
    expect(xep30.getChildText("version", XMPP)).toBe("2.5.0");
    const note = xep30.getChild("note", XMPP)!;
    expect(note.attrs["xml:lang"]).toBe("en");
    expect(note.getText()).toMatch(/xepcheck 0\.1\.0 on Prosody 13\.0\.1 at prosody\.test, 2026-11-22: 2 of 2 checks pass/);
    // xmpp:since is the release support first appeared in: one run cannot know it.
    expect(xep30.getChild("since", XMPP)).toBeUndefined();
  });

  it("lists a XEP with a failing check as partial, naming the failing check", () => {
    const xep359 = supported(project).get("https://xmpp.org/extensions/xep-0359.html")!;
    expect(xep359.getChildText("status", XMPP)).toBe("partial");
    expect(xep359.getChildText("note", XMPP)).toContain("failing: xep0359.forged-stanza-id-removed");
  });

  it("gives every SupportedXep the required xep and a status XEP-0453 defines", () => {
    const entries = [...supported(project).values()];
    expect(entries.length).toBe(6); // 0030, 0191, 0280, 0313, 0359, 0386
    for (const x of entries) {
      expect(attrNS(x.getChild("xep", XMPP)!, "resource", RDF)).toMatch(/^https:\/\/xmpp\.org\/extensions\/xep-\d{4}\.html$/);
      expect(STATUSES).toContain(x.getChildText("status", XMPP));
    }
  });

  it("names RFCs by rdf:resource and leaves out what is not offered or not determined", () => {
    expect(bareResources(project)).toEqual(["https://www.rfc-editor.org/info/rfc6120"]);
    const xeps = [...supported(project).keys()];
    for (const absent of ["0156", "0206", "0369"]) expect(xeps).not.toContain(`https://xmpp.org/extensions/xep-${absent}.html`);
    expect(xml).toMatch(/Not listed: XEP-0156 \(not offered\), XEP-0206 \(not determined\), XEP-0369 \(not offered\)/);
  });

  it("marks a partly working RFC with a comment inside its implements", () => {
    const r = report();
    const core = r.targets[0]!.checks.find((c) => c.id === "rfc6120.unknown-iq-error")!;
    core.verdict = "fail";
    const out = renderDoap(r.targets[0]!, r.tool);
    expect(bareResources(parse(out).getChild("Project", DOAP)!)).toEqual(["https://www.rfc-editor.org/info/rfc6120"]);
    expect(out).toMatch(/<implements rdf:resource="https:\/\/www\.rfc-editor\.org\/info\/rfc6120">\s*<!-- partial: 4 of 5 checks pass; failing: rfc6120\.unknown-iq-error -->/);
  });

  it("escapes what the server says about itself, in elements and comments", () => {
    const r = report();
    r.targets[0]!.target.software = { name: `Evil <x> & "q" --> <!--`, version: "1--2-" };
    const out = renderDoap(r.targets[0]!, r.tool);
    const el = parse(out);
    expect(el.getChild("Project", DOAP)!.getChildText("name", DOAP)).toBe(`Evil <x> & "q" --> <!--`);
    const comments = out.match(/<!--[\s\S]*?-->/g)!;
    for (const c of comments) expect(c.slice(4, -3)).not.toMatch(/--|-$/);
  });
});

/** A DOAP file with the given implements entries, shaped like ejabberd's (DOAP the default namespace on rdf:RDF). */
function doapFile(entries: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="${RDF}" xmlns="${DOAP}" xmlns:xmpp="${XMPP}">
  <Project>
    <name>Test server</name>
${entries}
  </Project>
</rdf:RDF>
`;
}

const xep = (n: string, status?: string, extra = "") =>
  `<implements><xmpp:SupportedXep><xmpp:xep rdf:resource="https://xmpp.org/extensions/xep-${n}.html"/>${status ? `<xmpp:status>${status}</xmpp:status>` : ""}${extra}</xmpp:SupportedXep></implements>`;

describe("doap check: claims against measurements", () => {
  it("a generated DOAP file checked against the same report: no disagreement", () => {
    const r = report();
    // A partly failing RFC (listed without status) and a XEP failing throughout (left out) must round-trip too.
    r.targets[0]!.checks.find((c) => c.id === "rfc6120.unknown-iq-error")!.verdict = "fail";
    for (const c of r.targets[0]!.checks.filter((c) => c.spec.doc === "XEP-0280")) c.verdict = "fail";
    const project = parseDoap(renderDoap(r.targets[0]!, r.tool), "generated.doap");
    const c = compareDoap(project, r.targets[0]!);
    expect(c.claimedButFailing).toEqual([]);
    expect(c.workingButUnclaimed).toEqual([]);
    expect(c.claimedNotOffered).toEqual([]);
    expect(c.claimedUndetermined).toEqual([]);
    expect(c.claimedNotChecked).toEqual([]);
    expect(c.versionDifferences).toEqual([]);
    expect(c.agreeing.sort()).toEqual(["RFC 6120", "XEP-0030", "XEP-0156", "XEP-0191", "XEP-0206", "XEP-0280", "XEP-0313", "XEP-0359", "XEP-0369", "XEP-0386"]);
    expect(claimsContradicted(c)).toBe(false);
  });

  it("reports a spec claimed complete but failing, and one working but unclaimed", () => {
    const project = parseDoap(
      doapFile(
        [
          xep("0359", "complete"), // a check fails: contradicted
          xep("0386", "partial"), // a check fails, but partial says so
          xep("0030", "complete"),
          xep("0191", "wontfix"), // works anyway
          xep("0313", "complete", "<xmpp:version>0.6.3</xmpp:version>"),
          xep("0156", "complete"), // this server does not offer it
          xep("0206", "complete"), // not determined
          xep("0004", "complete"), // no check
          xep("0369", "planned"),
        ].join("\n"),
      ),
      "hand.doap",
    );
    const c = compareDoap(project, target());
    expect(c.claimedButFailing.map((f) => [f.doc, f.claimed, f.measured])).toEqual([["XEP-0359", "complete", "partial"]]);
    expect(c.claimedButFailing[0]!.detail).toBe("claimed complete; 2 of 3 checks pass; failing: xep0359.forged-stanza-id-removed");
    expect(c.workingButUnclaimed.map((f) => [f.doc, f.claimed])).toEqual([
      ["RFC 6120", "absent"],
      ["XEP-0191", "wontfix"],
      ["XEP-0280", "absent"],
    ]);
    expect(c.claimedNotOffered.map((f) => f.doc)).toEqual(["XEP-0156"]);
    expect(c.claimedUndetermined.map((f) => f.doc)).toEqual(["XEP-0206"]);
    expect(c.claimedNotChecked).toEqual(["XEP-0004"]);
    expect(c.versionDifferences.map((f) => [f.doc, f.detail])).toEqual([["XEP-0313", "the DOAP file says version 0.6.3; the checks follow 1.1.3"]]);
    expect(claimsContradicted(c)).toBe(true);
    const text = formatDoapComparison(c, { file: "hand.doap", project, report: report(), target: target() });
    expect(text).toContain("claimed but failing (1):\n  XEP-0359  claimed complete;");
    expect(text).toContain("working but unclaimed (3):");
    expect(text).toMatch(/\(exit 1\)\n$/);
  });

  it("a partial claim with nothing working is contradicted; an error is never read as failing", () => {
    const r = report();
    for (const c of r.targets[0]!.checks.filter((c) => c.spec.doc === "XEP-0280")) c.verdict = "fail";
    for (const c of r.targets[0]!.checks.filter((c) => c.spec.doc === "XEP-0313")) c.verdict = "error";
    const c = compareDoap(parseDoap(doapFile([xep("0280", "partial"), xep("0313", "complete")].join("\n")), "f.doap"), r.targets[0]!);
    expect(c.claimedButFailing.map((f) => [f.doc, f.measured])).toEqual([["XEP-0280", "failing"]]);
    expect(c.claimedUndetermined.map((f) => f.doc)).toEqual(["XEP-0313"]);
  });
});

describe("reading real DOAP files", () => {
  it("reads Prosody's shape: DOAP the default namespace on <Project>, comments inside implements, xmpp:until, entries without status", () => {
    const prosodyLike = `<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:foaf="http://xmlns.com/foaf/0.1/" xmlns:rdf="${RDF}" xmlns:schema="https://schema.org/" xmlns:xmpp="${XMPP}" xml:lang="en">
  <Project xmlns="${DOAP}">
    <name>Some Server</name>
    <maintainer><foaf:Person><foaf:name>Someone</foaf:name></foaf:Person></maintainer>
    <implements rdf:resource="https://www.rfc-editor.org/info/rfc6120"/>
    <implements rdf:resource="https://datatracker.ietf.org/doc/draft-example-xmpp/">
      <!-- since=0.1.0 -->
    </implements>
    <implements>
      <xmpp:SupportedXep>
        <xmpp:xep rdf:resource="https://xmpp.org/extensions/xep-0016.html"/>
        <xmpp:since>0.7.0</xmpp:since>
        <xmpp:until>0.10.0</xmpp:until>
        <xmpp:status>removed</xmpp:status>
      </xmpp:SupportedXep>
    </implements>
    <implements>
      <xmpp:SupportedXep>
        <xmpp:xep rdf:resource="https://xmpp.org/extensions/xep-0030.html"/>
        <xmpp:version>2.5.0</xmpp:version>
        <xmpp:note xml:lang="fr">découverte</xmpp:note>
        <xmpp:note xml:lang="en">mod_disco</xmpp:note>
        <xmpp:status>complete</xmpp:status>
      </xmpp:SupportedXep>
    </implements>
    <implements>
      <xmpp:SupportedXep>
        <xmpp:xep rdf:resource="https://xmpp.org/extensions/xep-0050.html"/>
        <xmpp:since>0.8.0</xmpp:since>
      </xmpp:SupportedXep>
    </implements>
  </Project>
</rdf:RDF>`;
    const p = parseDoap(prosodyLike, "doap.xml");
    expect(p.name).toBe("Some Server");
    expect(p.claims).toEqual([
      { doc: "RFC 6120", url: "https://www.rfc-editor.org/info/rfc6120", status: null },
      { doc: "XEP-0016", url: "https://xmpp.org/extensions/xep-0016.html", status: "removed", since: "0.7.0" },
      { doc: "XEP-0030", url: "https://xmpp.org/extensions/xep-0030.html", status: "complete", version: "2.5.0", note: "mod_disco" },
      { doc: "XEP-0050", url: "https://xmpp.org/extensions/xep-0050.html", status: null, since: "0.8.0" },
    ]);
    expect(p.other).toEqual(["https://datatracker.ietf.org/doc/draft-example-xmpp/"]);
  });

  it("reads ejabberd's shape: DOAP the default namespace on <rdf:RDF>, empty status, since and note", () => {
    const ejabberdLike = doapFile(`
    <implements rdf:resource="https://www.rfc-editor.org/info/rfc7590"/>
    <implements>
      <xmpp:SupportedXep>
        <xmpp:xep rdf:resource="https://xmpp.org/extensions/xep-0198.html"/>
        <xmpp:version>1.5.2</xmpp:version>
        <xmpp:since></xmpp:since>
        <xmpp:status></xmpp:status>
        <xmpp:note></xmpp:note>
      </xmpp:SupportedXep>
    </implements>`);
    expect(parseDoap(ejabberdLike, "ejabberd.doap").claims).toEqual([
      { doc: "RFC 7590", url: "https://www.rfc-editor.org/info/rfc7590", status: null },
      { doc: "XEP-0198", url: "https://xmpp.org/extensions/xep-0198.html", status: null, version: "1.5.2" },
    ]);
  });

  it("reads XEP-0453's own example forms: other prefixes, xmpp.org/rfcs addresses, a XEP by rdf:resource", () => {
    const text = `<r:RDF xmlns:r="${RDF}" xmlns:d="${DOAP}"><d:Project>
      <d:implements r:resource="https://xmpp.org/rfcs/rfc6121.html"/>
      <d:implements r:resource="https://xmpp.org/extensions/xep-0280.html"/>
    </d:Project></r:RDF>`;
    expect(parseDoap(text, "x.doap").claims.map((c) => [c.doc, c.status])).toEqual([
      ["RFC 6121", null],
      ["XEP-0280", null],
    ]);
  });

  const broken: [string, string, RegExp][] = [
    ["unclosed", `<rdf:RDF xmlns:rdf="${RDF}"><Project xmlns="${DOAP}">`, /bad\.doap is not well-formed XML: the document ends before <rdf:RDF> is closed/],
    ["mismatched", `<rdf:RDF xmlns:rdf="${RDF}"><Project></rdf:RDF>`, /bad\.doap is not well-formed XML: Project must be closed/],
    ["not XML", `just text`, /bad\.doap is not well-formed XML: no root element/],
    ["two roots", `<rdf:RDF xmlns:rdf="${RDF}"/><rdf:RDF xmlns:rdf="${RDF}"/>`, /after the root element/],
    ["wrong root", `<project xmlns="${DOAP}x"/>`, /bad\.doap: the root element is <project> \(namespace http:\/\/usefulinc\.com\/ns\/doap#x\), expected <rdf:RDF>/],
    ["no Project", `<rdf:RDF xmlns:rdf="${RDF}"><Project/></rdf:RDF>`, /holds no <Project> in the DOAP namespace/],
    ["no xep", doapFile(`<implements><xmpp:SupportedXep><xmpp:status>complete</xmpp:status></xmpp:SupportedXep></implements>`), /<implements> #1: <xmpp:SupportedXep> has no <xmpp:xep rdf:resource=/],
    ["bad status", doapFile(xep("0030", "completed")), /<implements> #1 \(https:\/\/xmpp\.org\/extensions\/xep-0030\.html\): <xmpp:status> is "completed", expected one of complete, partial/],
    [
      "another namespace",
      doapFile(`<implements><x:SupportedXep xmlns:x="https://linkedopendata.org/xmpp"/></implements>`),
      /holds <x:SupportedXep> \(namespace https:\/\/linkedopendata\.org\/xmpp\), expected <xmpp:SupportedXep> in https:\/\/linkmauve\.fr\/ns\/xmpp-doap#/,
    ],
    ["empty implements", doapFile(`<implements/>`), /<implements> #1 is empty/],
  ];
  it.each(broken)("rejects a DOAP file that is %s, naming the file and the problem", (_what, text, message) => {
    expect(() => parseDoap(text, "bad.doap")).toThrow(DoapInputError);
    expect(() => parseDoap(text, "bad.doap")).toThrow(message);
  });
});

describe("xepcheck doap generate / check", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "xepcheck-doap-"));
  const reportFile = path.join(dir, "run.json");
  writeFileSync(reportFile, JSON.stringify(report()));

  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const program = new Command().exitOverride();
    registerDoapCommands(program, { ok: 0, gate: 1, usage: 2 });
    let stdout = "";
    let stderr = "";
    vi.spyOn(process.stdout, "write").mockImplementation((s) => ((stdout += String(s)), true));
    vi.spyOn(process.stderr, "write").mockImplementation((s) => ((stderr += String(s)), true));
    process.exitCode = undefined;
    await program.parseAsync(["node", "xepcheck", ...args]);
    const code = Number(process.exitCode ?? 0);
    vi.restoreAllMocks();
    return { code, stdout, stderr };
  }

  it("generate -o writes a DOAP file that check then finds consistent (exit 0)", async () => {
    const out = path.join(dir, "generated.doap");
    expect((await cli("doap", "generate", reportFile, "-o", out)).code).toBe(0);
    expect(parse(readFileSync(out, "utf8")).getNS()).toBe(RDF);
    const check = await cli("doap", "check", out, reportFile);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain("claimed but failing: none\nworking but unclaimed: none\n");
  });

  it("check exits 1 when a claim is contradicted, and writes the comparison as JSON", async () => {
    const doap = path.join(dir, "claims.doap");
    writeFileSync(doap, doapFile(xep("0386", "complete")));
    const json = path.join(dir, "comparison.json");
    const check = await cli("doap", "check", doap, reportFile, "--json", json);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain("claimed but failing (1):\n  XEP-0386  claimed complete; 4 of 5 checks pass; failing: xep0386.inline-csi");
    expect(JSON.parse(readFileSync(json, "utf8")).claimedButFailing[0].doc).toBe("XEP-0386");
  });

  it("exits 2 naming the problem: an unreadable DOAP file, an unknown --target", async () => {
    const missing = await cli("doap", "check", path.join(dir, "nope.doap"), reportFile);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/xepcheck: cannot read .*nope\.doap: ENOENT/);
    const unknown = await cli("doap", "generate", reportFile, "--target", "other.example");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`has no target "other.example"; its targets: prosody.test`);
  });

  it("asks for --target when the report holds several", async () => {
    const r = report();
    r.targets.push({ ...structuredClone(r.targets[0]!), name: "second" });
    const two = path.join(dir, "two.json");
    writeFileSync(two, JSON.stringify(r));
    const res = await cli("doap", "generate", two);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("holds 2 targets (prosody.test, second): choose one with --target NAME");
    const chosen = await cli("doap", "generate", two, "--target", "second");
    expect(chosen.code).toBe(0);
    expect(chosen.stdout).toContain("<rdf:RDF");
  });
});
