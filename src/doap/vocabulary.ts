/**
 * The DOAP vocabulary of XEP-0453 (DOAP usage in XMPP,
 * https://xmpp.org/extensions/xep-0453.html): RDF/XML with DOAP elements and
 * the xmpp-doap extension's <SupportedXep/>. Shared by the generator and the
 * reader so both speak the same namespaces and spec addresses.
 */

export const NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
export const NS_DOAP = "http://usefulinc.com/ns/doap#";
/** XEP-0453 §4.2; Prosody's and ejabberd's DOAP files use it too. */
export const NS_XMPP_DOAP = "https://linkmauve.fr/ns/xmpp-doap#";

/** XEP-0453 §4.2: the values of <xmpp:status/>. */
export const DOAP_STATUSES = ["complete", "partial", "planned", "deprecated", "removed", "wontfix"] as const;
export type DoapStatus = (typeof DOAP_STATUSES)[number];

/** The address a DOAP file names a spec by: xmpp.org for XEPs, the RFC Editor's info page for RFCs (as Prosody and ejabberd do). */
export function specUrl(doc: string): string | undefined {
  const xep = /^XEP-(\d{4})$/.exec(doc);
  if (xep) return `https://xmpp.org/extensions/xep-${xep[1]}.html`;
  const rfc = /^RFC (\d+)$/.exec(doc);
  if (rfc) return `https://www.rfc-editor.org/info/rfc${rfc[1]}`;
  return undefined;
}

/**
 * The report's name for a spec ("XEP-0030", "RFC 6120") from a DOAP address,
 * whichever site it points at (xmpp.org/extensions, xmpp.org/rfcs,
 * rfc-editor.org, tools.ietf.org, datatracker.ietf.org); undefined for
 * anything else (drafts, Unicode reports…).
 */
export function docOfUrl(url: string): string | undefined {
  const xep = /\/xep-(\d{1,4})(?:\.html)?\/?(?:#.*)?$/i.exec(url);
  if (xep) return `XEP-${xep[1]!.padStart(4, "0")}`;
  const rfc = /\/rfc(\d{1,5})(?:\.html|\.txt)?\/?(?:#.*)?$/i.exec(url);
  if (rfc) return `RFC ${Number(rfc[1])}`;
  return undefined;
}

/** Orders "RFC …" before "XEP-…", each numerically. */
export function compareDocs(a: string, b: string): number {
  const key = (doc: string): [number, number] => [doc.startsWith("RFC") ? 0 : 1, Number(/\d+/.exec(doc)?.[0] ?? 0)];
  const [ka, kb] = [key(a), key(b)];
  return ka[0] - kb[0] || ka[1] - kb[1] || a.localeCompare(b);
}
