/**
 * XEP-0115 Entity Capabilities: the verification string, and a session that
 * announces caps and answers the disco#info queries for them.
 * https://xmpp.org/extensions/xep-0115.html
 */
import { createHash } from "node:crypto";
import { xml } from "@xmpp/xml";
import type { Actor } from "../scenario/actor.js";

export const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
export const NS_CAPS = "http://jabber.org/protocol/caps";

export interface CapsIdentity {
  category: string;
  type: string;
  lang?: string;
  name?: string;
}

/** The XEP-0115 §5.1 verification string (sha-1, base64) of identities and features. */
export function capsVer(identities: CapsIdentity[], features: string[]): string {
  const ids = identities
    .map((i) => `${i.category}/${i.type}/${i.lang ?? ""}/${i.name ?? ""}`)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const feats = [...features].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const text = [...ids, ...feats].map((x) => `${x}<`).join("");
  return createHash("sha1").update(text, "utf8").digest("base64");
}

export const CAPS_NODE = "https://xepcheck.invalid/caps";

/**
 * Makes `actor` available with XEP-0115 caps listing `features`, and
 * answers the disco#info queries for them. Resolves the returned promise
 * when the first query has been answered (or never, if nobody asks).
 */
export function availableWithCaps(actor: Actor, features: string[]): { ver: string; queried: Promise<void> } {
  const identity: CapsIdentity = { category: "client", type: "bot", name: "xepcheck" };
  const all = [NS_DISCO_INFO, NS_CAPS, ...features];
  const ver = capsVer([identity], all);
  let answered!: () => void;
  const queried = new Promise<void>((resolve) => (answered = resolve));
  actor.stream.answerRequests(
    (el) => el.is("iq") && el.attrs.type === "get" && !!el.getChild("query", NS_DISCO_INFO),
    (el) => {
      const node = el.getChild("query", NS_DISCO_INFO)?.attrs.node;
      setImmediate(answered);
      return xml(
        "iq",
        { type: "result", id: el.attrs.id, ...(el.attrs.from ? { to: el.attrs.from } : {}) },
        xml(
          "query",
          { xmlns: NS_DISCO_INFO, ...(node ? { node } : {}) },
          xml("identity", { category: identity.category, type: identity.type, name: identity.name }),
          ...all.map((f) => xml("feature", { var: f })),
        ),
      );
    },
  );
  actor.send(xml("presence", {}, xml("c", { xmlns: NS_CAPS, hash: "sha-1", node: CAPS_NODE, ver })));
  return { ver, queried };
}
