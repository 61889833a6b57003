/**
 * Where servers advertise what they support: disco#info of the domain, of the
 * account's bare JID, of components found by disco#items, and stream features
 * (including the SASL2 <inline/> list). Pure functions of the probe.
 */
import parse from "@xmpp/xml/lib/parse.js";
import type { Element } from "@xmpp/xml";
import type { DiscoInfo, Identity } from "../probe/disco.js";
import { NS_BIND2, NS_SASL2 } from "../session/sasl2.js";
import type { FeatureSnapshot } from "../session/stream.js";
import type { CheckContext, CheckOutcome, Evidence } from "./types.js";

export type DiscoPlace = "domain" | "account" | "components";

export interface Found {
  looked: string;
  foundAt: string[];
  searched: string[];
  /** Places searched that did not answer (timeout, lost connection): nothing is known of them. */
  unanswered?: string[];
}

function hasIdentity(info: DiscoInfo, identity?: Partial<Identity>): boolean {
  if (!identity) return true;
  return info.identities.some(
    (i) => (!identity.category || i.category === identity.category) && (!identity.type || i.type === identity.type),
  );
}

/** Entities among `at` whose disco#info lists `feature` (and, for components, carry `identity`). */
export function findDiscoFeature(
  ctx: CheckContext,
  feature: string,
  at: DiscoPlace[],
  identity?: Partial<Identity>,
): Found {
  const places: { label: string; info: DiscoInfo }[] = [];
  for (const place of at) {
    if (place === "domain") places.push({ label: `disco#info of ${ctx.probe.domain.jid}`, info: ctx.probe.domain });
    if (place === "account") places.push({ label: `disco#info of ${ctx.probe.account.jid}`, info: ctx.probe.account });
    if (place === "components") {
      for (const c of ctx.probe.components) {
        if (hasIdentity(c, identity)) places.push({ label: `disco#info of ${c.jid}`, info: c });
      }
    }
  }
  const unanswered = places.filter((p) => p.info.errorKind === "no-answer").map((p) => `${p.label} (${p.info.error})`);
  return {
    looked: feature,
    foundAt: places.filter((p) => p.info.features.includes(feature)).map((p) => p.label),
    searched: places.map((p) => p.label + (p.info.error ? ` (error: ${p.info.error})` : "")),
    ...(unanswered.length ? { unanswered } : {}),
  };
}

/** Components (disco#items entries) with the given identity. */
export function componentsWith(ctx: CheckContext, identity: Partial<Identity>): DiscoInfo[] {
  return ctx.probe.components.filter((c) => hasIdentity(c, identity));
}

export type FeatureStage = "before-auth" | "after-auth";

/** The stream features the server sent at `stage`. */
export function featuresAt(snapshots: FeatureSnapshot[], stage: FeatureStage): FeatureSnapshot | undefined {
  if (stage === "after-auth") return snapshots.find((s) => s.stage === "after-auth");
  return [...snapshots].reverse().find((s) => s.stage !== "after-auth");
}

/**
 * Looks for a stream feature, possibly nested: [{sasl2 authentication}, {inline}, {bind}]
 * finds Bind2 inside SASL2's inline features.
 */
export function findStreamFeature(
  ctx: CheckContext,
  path: { name: string; ns?: string }[],
  stage: FeatureStage,
): Found & { element?: Element } {
  const snapshot = featuresAt(ctx.probe.streamFeatures, stage);
  const looked = path.map((p) => `<${p.name}${p.ns ? ` xmlns='${p.ns}'` : ""}/>`).join(" in ");
  const inside = path.length > 1 ? ` (inside ${path.slice(0, -1).map((p) => p.name).join("/")})` : "";
  const label = `stream features ${snapshot?.stage ?? stage}${inside}`;
  if (!snapshot) return { looked, foundAt: [], searched: [] };
  let el: Element | undefined = parse(snapshot.xml);
  for (const step of [...path]) {
    el = el?.getChildElements().find((c) => c.getName() === step.name && (!step.ns || c.getNS() === step.ns));
  }
  return { looked, foundAt: el ? [label] : [], searched: [label], ...(el ? { element: el } : {}) };
}

export function advertisementEvidence({ looked, foundAt, searched }: Found): Evidence {
  return { type: "advertisement", looked, foundAt, searched };
}

/**
 * pass when advertised, na ("not offered") when not: what an advertisement
 * check concludes. Not found while a place searched did not answer is
 * "could not tell" (error), never "not offered".
 */
export function advertisedOutcome(what: string, ...found: Found[]): CheckOutcome {
  const yes = found.some((f) => f.foundAt.length > 0);
  const where = found.flatMap((f) => f.foundAt);
  const unanswered = found.flatMap((f) => f.unanswered ?? []);
  if (!yes && unanswered.length) {
    return {
      verdict: "error",
      advertised: null,
      works: null,
      summary: `could not tell whether ${what} is advertised: no answer from ${unanswered.join("; ")}`,
      evidence: found.map(advertisementEvidence),
    };
  }
  return {
    verdict: yes ? "pass" : "na",
    advertised: yes,
    works: null,
    summary: yes ? `${what} is advertised (${where.join("; ")})` : `${what} is not advertised`,
    evidence: found.map(advertisementEvidence),
  };
}

/** Checks a disco feature at the given places and concludes. */
export function discoAdvertised(
  ctx: CheckContext,
  what: string,
  feature: string,
  at: DiscoPlace[],
  identity?: Partial<Identity>,
): CheckOutcome {
  return advertisedOutcome(what, findDiscoFeature(ctx, feature, at, identity));
}

/**
 * For features the spec puts on MUC rooms: advertised by the service → pass;
 * no MUC service → na; a service that does not repeat it → not determined
 * (a room may still have it, and this version creates no room to ask).
 */
export function mucRoomFeatureOutcome(ctx: CheckContext, what: string, feature: string): CheckOutcome {
  const muc = { category: "conference", type: "text" };
  const outcome = advertisedOutcome(what, findDiscoFeature(ctx, feature, ["components"], muc));
  if (outcome.advertised || outcome.verdict === "error" || componentsWith(ctx, muc).length === 0) return outcome;
  return {
    ...outcome,
    verdict: "skip",
    summary: `not determined yet: the MUC service does not advertise ${feature}; the spec puts it on rooms, and this version creates no room to ask`,
  };
}

/** Where Bind 2 (XEP-0386) is offered: inline in SASL2's <authentication/>. */
export const bind2Path = [{ name: "authentication", ns: NS_SASL2 }, { name: "inline" }, { name: "bind", ns: NS_BIND2 }];

/** A feature Bind2 can enable inline: <bind><inline><feature var='…'/></inline></bind>. */
export function bind2InlineFeature(ctx: CheckContext, feature: string): Found {
  const bind = findStreamFeature(ctx, bind2Path, "before-auth");
  const vars = bind.element?.getChild("inline")?.getChildren("feature").map((f) => f.attrs.var) ?? [];
  return {
    looked: `Bind2 inline feature ${feature}`,
    foundAt: vars.includes(feature) ? bind.foundAt.map((w) => `${w} (Bind2 inline)`) : [],
    searched: bind.searched,
  };
}
