/** Comparing and copying XML elements as the storage scenarios need it. */
import type { Element } from "@xmpp/xml";
import parse from "@xmpp/xml/lib/parse.js";

/**
 * A comparable form of an element: namespace, name, sorted attributes,
 * children; whitespace-only text between elements is ignored.
 */
export function canonical(el: Element): string {
  const attrs = Object.entries(el.attrs)
    .filter(([k, v]) => v !== undefined && k !== "xmlns" && !k.startsWith("xmlns:"))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => ` ${k}=${JSON.stringify(String(v))}`)
    .join("");
  const parts: string[] = [];
  let text = "";
  const flush = () => {
    if (text.trim() !== "") parts.push(JSON.stringify(text));
    text = "";
  };
  for (const child of el.children) {
    if (typeof child === "string") text += child;
    else {
      flush();
      parts.push(canonical(child));
    }
  }
  flush();
  return `<{${el.getNS() ?? ""}}${el.getName()}${attrs}>${parts.join("")}</>`;
}

export function sameXml(a: Element | undefined, b: Element | undefined): boolean {
  if (!a || !b) return a === b;
  return canonical(a) === canonical(b);
}

/** A copy of `el` with its namespace written out, detached from the stanza it came in. */
export function detach(el: Element): Element {
  const copy = parse(el.toString());
  const ns = el.getNS();
  if (ns && copy.getNS() !== ns) copy.attrs.xmlns = ns;
  return copy;
}
