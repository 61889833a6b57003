/**
 * XEP-0115: Entity Capabilities (server side: caps in stream features)
 * https://xmpp.org/extensions/xep-0115.html
 *
 * The verification string of §5.1 is computed here as a pure function of a
 * disco#info <query/>; the scenario recomputes the server's announced 'ver'
 * from its disco#info (§5.4) and compares.
 */
import { createHash, getHashes } from "node:crypto";
import { xml, type Element } from "@xmpp/xml";
import parse from "@xmpp/xml/lib/parse.js";
import { NS_DATA, NS_DISCO_INFO } from "../probe/disco.js";
import { NS_CAPS, type CapsIdentity } from "../xmpp/caps.js";
import { advertisedOutcome, findDiscoFeature, findStreamFeature } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";


export interface CapsField {
  var: string;
  type?: string;
  values: string[];
}

/** A XEP-0128 form as the hash needs it: every field, FORM_TYPE included, with its type. */
export interface CapsForm {
  fields: CapsField[];
}

/** What §5.1 hashes: the identities, features and extended-info forms of one disco#info result. */
export interface CapsInput {
  identities: CapsIdentity[];
  features: string[];
  forms: CapsForm[];
}

/** Reads a disco#info <query/> (attributes and character data as they came, nothing normalised). */
export function capsInputFromQuery(query: Element): CapsInput {
  return {
    identities: query.getChildren("identity").map((i) => ({
      category: i.attrs.category ?? "",
      type: i.attrs.type ?? "",
      ...(i.attrs["xml:lang"] !== undefined ? { lang: i.attrs["xml:lang"] as string } : {}),
      ...(i.attrs.name !== undefined ? { name: i.attrs.name as string } : {}),
    })),
    features: query.getChildren("feature").map((f) => f.attrs.var ?? ""),
    forms: query.getChildren("x", NS_DATA).map((x) => ({
      fields: x.getChildren("field").map((f) => ({
        var: f.attrs.var ?? "",
        ...(f.attrs.type !== undefined ? { type: f.attrs.type as string } : {}),
        values: f.getChildren("value").map((v) => v.text()),
      })),
    })),
  };
}

/** "i;octet" collation (RFC 4790 §9.3): compare the UTF-8 bytes. */
function octet(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function byKeys<T>(...keys: ((t: T) => string)[]): (a: T, b: T) => number {
  return (a, b) => {
    for (const key of keys) {
      const c = octet(key(a), key(b));
      if (c !== 0) return c;
    }
    return 0;
  };
}

function formType(form: CapsForm): CapsField | undefined {
  return form.fields.find((f) => f.var === "FORM_TYPE");
}

/** §5.4 step 3.6: a form without a hidden FORM_TYPE is ignored. */
function hashedForms(input: CapsInput): CapsForm[] {
  return input.forms.filter((f) => formType(f)?.type === "hidden");
}

/** §5.4 steps 3.3–3.5: why this response is ill-formed (empty: it is well-formed). */
export function capsIllFormed(input: CapsInput): string[] {
  const problems: string[] = [];
  const dupes = (list: string[]) => [...new Set(list.filter((v, i) => list.indexOf(v) !== i))];
  const ids = input.identities.map((i) => `${i.category}/${i.type}/${i.lang ?? ""}/${i.name ?? ""}`);
  for (const d of dupes(ids)) problems.push(`identity ${d} appears more than once`);
  for (const d of dupes(input.features)) problems.push(`feature ${d} appears more than once`);
  const types = input.forms.map((f) => formType(f)).filter((f): f is CapsField => f !== undefined);
  for (const t of types) {
    if (new Set(t.values).size > 1) problems.push(`a FORM_TYPE has several different values (${t.values.join(", ")})`);
  }
  for (const d of dupes(types.map((t) => t.values[0] ?? ""))) problems.push(`two forms have the FORM_TYPE ${d}`);
  return problems;
}

/** The string S of §5.1 (before hashing). */
export function capsString(input: CapsInput): string {
  let s = "";
  const identities = [...input.identities].sort(
    byKeys<CapsIdentity>((i) => i.category, (i) => i.type, (i) => i.lang ?? ""),
  );
  for (const i of identities) s += `${i.category}/${i.type}/${i.lang ?? ""}/${i.name ?? ""}<`;
  for (const f of [...input.features].sort(octet)) s += `${f}<`;
  const forms = hashedForms(input).sort(byKeys<CapsForm>((f) => formType(f)?.values[0] ?? ""));
  for (const form of forms) {
    s += `${formType(form)?.values[0] ?? ""}<`;
    const fields = form.fields.filter((f) => f.var !== "FORM_TYPE").sort(byKeys<CapsField>((f) => f.var));
    for (const field of fields) {
      s += `${field.var}<`;
      for (const v of [...field.values].sort(octet)) s += `${v}<`;
    }
  }
  return s;
}

/** Node's name for a hash of the IANA "Hash Function Textual Names" registry ("sha-1" → "sha1"); undefined if unsupported. */
export function capsHashAlgorithm(hash: string): string | undefined {
  const name = hash.toLowerCase().replace(/^sha-(\d+)$/, "sha$1");
  return getHashes().includes(name) ? name : undefined;
}

/** The verification string of §5.1: base64 of the hash of S. */
export function capsVerificationString(input: CapsInput, hash = "sha-1"): string {
  const algorithm = capsHashAlgorithm(hash);
  if (!algorithm) throw new Error(`unsupported caps hash ${hash}`);
  return createHash(algorithm).update(capsString(input), "utf8").digest("base64");
}

/** The <c/> a session saw in its own stream features, latest stage first. */
function capsFeature(snapshots: { stage: string; xml: string }[]): Element | undefined {
  for (const snap of [...snapshots].reverse()) {
    const c = parse(snap.xml).getChild("c", NS_CAPS);
    if (c) return c;
  }
  return undefined;
}

function capsAdvertised(ctx: CheckContext): boolean {
  return (
    findStreamFeature(ctx, [{ name: "c", ns: NS_CAPS }], "before-auth").foundAt.length > 0 ||
    findStreamFeature(ctx, [{ name: "c", ns: NS_CAPS }], "after-auth").foundAt.length > 0
  );
}

export default [
  defineCheck({
    id: "xep0115.advertised",
    spec: { doc: "XEP-0115", version: "1.6.0", section: "6.3", url: "https://xmpp.org/extensions/xep-0115.html#stream" },
    level: "MAY",
    requirement:
      "A server MAY include its entity capabilities in a stream feature element so that connecting clients and peer servers do not need to send service discovery requests each time they connect.",
    title: "The server announces its entity capabilities",
    needs: ["account"],
    run: (ctx) =>
      advertisedOutcome(
        "Entity Capabilities",
        findStreamFeature(ctx, [{ name: "c", ns: NS_CAPS }], "before-auth"),
        findStreamFeature(ctx, [{ name: "c", ns: NS_CAPS }], "after-auth"),
        findDiscoFeature(ctx, NS_CAPS, ["domain"]),
      ),
  }),
  defineScenario({
    id: "xep0115.ver-matches",
    spec: { doc: "XEP-0115", version: "1.6.0", section: "5.1", url: "https://xmpp.org/extensions/xep-0115.html#ver-gen" },
    level: "MUST",
    requirement:
      "In order to help prevent poisoning of entity capabilities information, the value of the verification string MUST be generated according to the following method.",
    title: "The 'ver' in the server's caps stream feature matches its disco#info",
    needs: ["account"],
    advertised: capsAdvertised,
    run: async (s) => {
      const alice = await s.login("account", undefined, { fresh: true }); // the stream features of this login are judged
      const c = capsFeature(alice.stream.featureLog);
      if (!c) return s.skip("the server announced no <c xmlns='http://jabber.org/protocol/caps'/> in this session's stream features");
      s.note(`caps in the stream features: ${c.toString()}`);
      const { hash, node, ver } = c.attrs as Record<string, string | undefined>;
      if (!hash) return s.skip(`the <c/> feature has no 'hash' attribute: a legacy-format 'ver' (§13) that cannot be verified`);
      if (!capsHashAlgorithm(hash)) s.skip(`the caps hash '${hash}' is not one xepcheck can compute`);
      if (!ver) return s.fail("a 'ver' attribute on <c/>", c.toString());
      // §6.3: the disco#info request goes to the server's JID from the stream header.
      const server = alice.stream.header.from;
      if (!server) return s.fail("a 'from' address in the server's stream header (§6.3)", "a stream header without 'from'");
      const capsNode = node ? `${node}#${ver}` : undefined;
      let result: Element;
      try {
        result = await alice.iq(xml("iq", { type: "get", to: server }, xml("query", { xmlns: NS_DISCO_INFO, ...(capsNode ? { node: capsNode } : {}) })));
      } catch (err) {
        if (!capsNode) throw err;
        s.note(`disco#info of ${server} node ${capsNode} was refused (${(err as Error).message}); asking without node`);
        result = await alice.iq(xml("iq", { type: "get", to: server }, xml("query", { xmlns: NS_DISCO_INFO })));
      }
      const query = result.getChild("query", NS_DISCO_INFO);
      if (!query) return s.fail("a disco#info <query/> in the result", result.toString());
      const input = capsInputFromQuery(query);
      const problems = capsIllFormed(input);
      s.ensure(problems.length === 0, "a well-formed disco#info response (§5.4)", problems.join("; "));
      const computed = capsVerificationString(input, hash);
      s.evidence.push({ type: "note", text: `S = ${capsString(input)}` });
      s.ensure(computed === ver, `ver='${ver}' recomputed from the disco#info of ${server} (hash ${hash})`, `ver='${computed}'`);
      s.summary = `ver='${ver}' (${hash}) matches the disco#info of ${server}: ${input.identities.length} identities, ${input.features.length} features, ${hashedForms(input).length} forms`;
    },
  }),
];
