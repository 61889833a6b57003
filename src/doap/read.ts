/**
 * Reading a project's DOAP file (XEP-0453, RDF/XML): the specs its
 * doap:implements entries claim, in both forms real files use — the bare
 * `<implements rdf:resource="…rfc6120"/>` and the nested
 * `<implements><xmpp:SupportedXep><xmpp:xep rdf:resource="…"/>
 * <xmpp:status>complete</xmpp:status>…`. Elements are matched by namespace,
 * not prefix (Prosody declares DOAP as the default namespace on <Project>,
 * ejabberd on <rdf:RDF>). Anything that cannot be understood is a
 * DoapInputError naming the file and what is wrong (exit 2), never a guess.
 */
import { readFileSync } from "node:fs";
import { Parser, type Element } from "@xmpp/xml";
import { DOAP_STATUSES, docOfUrl, NS_DOAP, NS_RDF, NS_XMPP_DOAP, type DoapStatus } from "./vocabulary.js";
import { DoapInputError } from "./errors.js";

/** A DOAP file that cannot be read or understood: a usage error, exit 2. */
export { DoapInputError };

export interface DoapClaim {
  /** The report's name for the spec: "XEP-0030", "RFC 6120". */
  doc: string;
  /** The address the file names it by. */
  url: string;
  /** XEP-0453 status; null when the file states none (the rdf:resource form, RFCs, an empty <xmpp:status/>). */
  status: DoapStatus | null;
  /** XEP version implemented. */
  version?: string;
  /** Software version the support appeared in. */
  since?: string;
  note?: string;
}

export interface DoapProject {
  name?: string;
  /** One per spec, in file order (a spec named twice keeps its first entry). */
  claims: DoapClaim[];
  /** implements entries naming neither a XEP nor an RFC (drafts, Unicode reports…): not compared. */
  other: string[];
}

/** Parses a whole document: the @xmpp/xml parser is a stream parser, so what it forgives (an unclosed root, a second root) is checked here. */
function parseDocument(text: string, file: string): Element {
  const parser = new Parser();
  let root: Element | undefined;
  let ended = false;
  let trailing = false;
  let error: Error | undefined;
  parser.on("start", (el) => (root = el));
  parser.on("element", (el) => (ended ? (trailing = true) : root!.append(el)));
  parser.on("end", () => (ended = true));
  parser.on("error", (err) => (error ??= err));
  try {
    parser.write(text.replace(/^\uFEFF/, ""));
  } catch (err) {
    error ??= err as Error;
  }
  const notXml = (why: string) => new DoapInputError(`${file} is not well-formed XML: ${why}`);
  if (error) throw notXml(error.message);
  if (!root) throw notXml("no root element");
  if (!ended) throw notXml(`the document ends before <${root.name}> is closed`);
  if (trailing) throw notXml(`there is an element after the root element </${root.name}>`);
  return root;
}

/** The namespace a prefix is bound to where `el` stands. */
function namespaceOf(el: Element, prefix: string): string | undefined {
  for (let at: Element | null = el; at; at = at.parent) {
    const ns = at.attrs[`xmlns:${prefix}`];
    if (ns !== undefined) return ns;
  }
  return undefined;
}

/** The rdf:resource attribute, whatever prefix the file binds RDF to. */
function rdfResource(el: Element): string | undefined {
  for (const [name, value] of Object.entries(el.attrs)) {
    const colon = name.indexOf(":");
    if (colon > 0 && name.slice(colon + 1) === "resource" && namespaceOf(el, name.slice(0, colon)) === NS_RDF) return value.trim();
  }
  return undefined;
}

const describe = (el: Element) => `<${el.name}>${el.getNS() ? ` (namespace ${el.getNS()})` : " (no namespace)"}`;

/** Text of the first child `name` in the xmpp-doap namespace, preferring English where several languages are given. */
function xmppText(entry: Element, name: string): string | undefined {
  const all = entry.getChildren(name, NS_XMPP_DOAP);
  const chosen = all.find((e) => /^en\b/i.test(e.attrs["xml:lang"] ?? "")) ?? all[0];
  const text = chosen?.getText().trim();
  return text ? text : undefined;
}

function supportedXep(entry: Element, where: string, file: string): { url: string; status: DoapStatus | null; version?: string; since?: string; note?: string } {
  const xep = entry.getChild("xep", NS_XMPP_DOAP);
  const url = xep && rdfResource(xep);
  if (!url) throw new DoapInputError(`${file}: ${where}: <xmpp:SupportedXep> has no <xmpp:xep rdf:resource="https://xmpp.org/extensions/xep-NNNN.html"/> (XEP-0453 §4.2 requires it)`);
  const statusText = xmppText(entry, "status");
  if (statusText !== undefined && !(DOAP_STATUSES as readonly string[]).includes(statusText)) {
    throw new DoapInputError(`${file}: ${where} (${url}): <xmpp:status> is "${statusText}", expected one of ${DOAP_STATUSES.join(", ")} (XEP-0453 §4.2)`);
  }
  const version = xmppText(entry, "version");
  const since = xmppText(entry, "since");
  const note = xmppText(entry, "note");
  return {
    url,
    status: (statusText as DoapStatus | undefined) ?? null,
    ...(version ? { version } : {}),
    ...(since ? { since } : {}),
    ...(note ? { note } : {}),
  };
}

function projectOf(root: Element, file: string): Element {
  if (root.is("Project", NS_DOAP)) return root; // RDF/XML may omit <rdf:RDF> around a single node
  if (!root.is("RDF", NS_RDF)) {
    throw new DoapInputError(`${file}: the root element is ${describe(root)}, expected <rdf:RDF> in ${NS_RDF} (XEP-0453 requires RDF/XML)`);
  }
  const projects = root.getChildren("Project", NS_DOAP);
  if (projects.length === 0) throw new DoapInputError(`${file}: <rdf:RDF> holds no <Project> in the DOAP namespace ${NS_DOAP}`);
  if (projects.length > 1) throw new DoapInputError(`${file}: <rdf:RDF> holds ${projects.length} DOAP <Project> elements; a project's DOAP file describes one`);
  return projects[0]!;
}

/** Reads the claims of a DOAP document; `file` names it in errors. */
export function parseDoap(text: string, file: string): DoapProject {
  const project = projectOf(parseDocument(text, file), file);
  const claims: DoapClaim[] = [];
  const other: string[] = [];
  project.getChildren("implements", NS_DOAP).forEach((implement, i) => {
    const where = `<implements> #${i + 1}`;
    const resource = rdfResource(implement);
    const children = implement.getChildElements();
    let found: Omit<DoapClaim, "doc">;
    if (resource) {
      found = { url: resource, status: null };
    } else if (children.length === 0) {
      throw new DoapInputError(`${file}: ${where} is empty: expected rdf:resource="…" or an <xmpp:SupportedXep> inside`);
    } else if (children[0]!.is("SupportedXep", NS_XMPP_DOAP)) {
      found = supportedXep(children[0]!, where, file);
    } else {
      throw new DoapInputError(`${file}: ${where} holds ${describe(children[0]!)}, expected <xmpp:SupportedXep> in ${NS_XMPP_DOAP} (XEP-0453 §4.2)`);
    }
    const doc = docOfUrl(found.url);
    if (!doc) other.push(found.url);
    else if (!claims.some((c) => c.doc === doc)) claims.push({ doc, ...found });
  });
  const name = project.getChildText("name", NS_DOAP)?.trim();
  return { ...(name ? { name } : {}), claims, other };
}

export function readDoapFile(file: string): DoapProject {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new DoapInputError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseDoap(text, file);
}
