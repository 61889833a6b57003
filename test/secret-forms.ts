/**
 * Test helper: the forms a secret can take in bytes xepcheck writes, for
 * scanning outputs (test/unit/secrets.test.ts, test/integration/secrets.test.ts).
 *
 * Base64 is searched alignment-free: the secret inside any longer base64 blob
 * (a SASL PLAIN payload "\0user\0password", a token wrapped in other bytes)
 * shows as one of three fragments, whatever precedes it.
 */

/** The characters of base64(prefix + secret + suffix) that depend on the secret alone, for each of the 3 alignments. */
export function base64Fragments(secret: Buffer): string[] {
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const b64 = Buffer.concat([Buffer.alloc(k), secret]).toString("base64");
    const from = Math.ceil((8 * k) / 6);
    const to = Math.floor((8 * (k + secret.length)) / 6);
    const fragment = b64.slice(from, to);
    out.push(fragment, fragment.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return out;
}

export interface SecretForm {
  form: string;
  text: string;
}

/**
 * The forms of `secret` worth searching for: as is, XML-, JSON- and URL-escaped,
 * hex, base64 anywhere in a blob, and the whole SASL PLAIN payloads of
 * `username` (with and without an authzid).
 */
export function secretForms(secret: string, opts: { username?: string; domain?: string } = {}): SecretForm[] {
  const bytes = Buffer.from(secret, "utf8");
  const forms: SecretForm[] = [
    { form: "plain", text: secret },
    // Escaped for XML text, XML/HTML attributes or JSON, each escaper its own way: the part before the first such character.
    { form: "head before any escaped character", text: /^[^&<>'"\\]*/.exec(secret)![0] },
    { form: "xml-escaped", text: secret.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;") },
    { form: "json-escaped", text: JSON.stringify(secret).slice(1, -1) },
    { form: "url-encoded", text: encodeURIComponent(secret) },
    { form: "hex", text: bytes.toString("hex") },
    { form: "HEX", text: bytes.toString("hex").toUpperCase() },
    ...base64Fragments(bytes).map((text, i) => ({ form: `base64 (alignment ${i >> 1}${i % 2 ? ", url-safe" : ""})`, text })),
  ];
  if (opts.username) {
    const u = opts.username;
    const payloads = [`\0${u}\0${secret}`, `${u}\0${u}\0${secret}`];
    if (opts.domain) payloads.push(`${u}@${opts.domain}\0${u}\0${secret}`);
    for (const p of payloads) forms.push({ form: `SASL PLAIN ${JSON.stringify(p.replace(secret, "<secret>"))}`, text: Buffer.from(p).toString("base64") });
  }
  // Very short secrets would match by accident; the callers use long ones.
  return forms.filter((f) => f.text.length >= 8);
}

/** The forms of any of `secrets` found in `haystack`, as "form in where". */
export function findSecrets(haystack: string, secrets: SecretForm[], where: string): string[] {
  return secrets.filter((s) => haystack.includes(s.text)).map((s) => `${s.form} in ${where}`);
}
