/** XML escaping shared by the XML-based reporters (JUnit, SVG badges). */

/** Characters XML 1.0 does not allow at all (even escaped): most C0 controls, lone surrogates, U+FFFE/U+FFFF. */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text for element content or a double-quoted attribute; drops characters XML cannot carry. */
export function escapeXml(value: string): string {
  return value
    .replace(FORBIDDEN, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** Escapes for an attribute value, keeping line breaks and tabs (which attribute normalization would turn into spaces). */
export function escapeXmlAttr(value: string): string {
  return escapeXml(value).replace(/\n/g, "&#10;").replace(/\r/g, "&#13;").replace(/\t/g, "&#9;");
}
