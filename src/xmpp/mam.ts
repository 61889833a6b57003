/**
 * Message Archive Management (XEP-0313): one archive query with RSM paging,
 * and a search from the most recent end backwards. Facts only: what a result
 * must look like is the XEP-0313 check's to judge.
 * https://xmpp.org/extensions/xep-0313.html
 */
import { randomBytes } from "node:crypto";
import { xml, type Element } from "@xmpp/xml";
import type { Actor } from "../scenario/actor.js";

export const NS_MAM = "urn:xmpp:mam:2";
export const NS_FORWARD = "urn:xmpp:forward:0";
export const NS_DELAY = "urn:xmpp:delay";
export const NS_RSM = "http://jabber.org/protocol/rsm";

/** One archived message as a query returned it (§4.2). */
export interface MamResult {
  /** The archive UID: <result id='…'/>. */
  id: string;
  queryid: string | undefined;
  /** The forwarded <message/>. */
  message: Element | undefined;
  /** <delay stamp='…'/> of the forwarded element. */
  stamp: string | undefined;
  /** The whole result <message/> as received. */
  el: Element;
}

export interface MamPage {
  results: MamResult[];
  fin: Element | undefined;
}

export interface MamQuery {
  /** The archive: a room's bare JID; none for the account's own archive. */
  to?: string;
  /** The 'with' filter (§4.1.1). */
  with?: string;
  /** RSM page size. */
  max?: number;
  /** RSM <before/>: true for the last page (§4.3.3), or a UID to page backwards from. */
  before?: true | string;
}

/**
 * Runs one archive query (§4) and collects its result messages, which the
 * server sends before the iq result. An error reply throws StanzaError.
 */
export async function mamQuery(actor: Actor, q: MamQuery): Promise<MamPage> {
  const queryid = `q-${randomBytes(4).toString("hex")}`;
  const results: MamResult[] = [];
  const stop = actor.stream.onStanza((el) => {
    const result = el.is("message") ? el.getChild("result", NS_MAM) : undefined;
    if (!result || result.attrs.queryid !== queryid) return;
    const forwarded = result.getChild("forwarded", NS_FORWARD);
    results.push({
      id: result.attrs.id ?? "",
      queryid: result.attrs.queryid,
      message: forwarded?.getChild("message"),
      stamp: forwarded?.getChild("delay", NS_DELAY)?.attrs.stamp,
      el,
    });
  });
  const fields = [xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, NS_MAM))];
  if (q.with) fields.push(xml("field", { var: "with" }, xml("value", {}, q.with)));
  const rsm = xml("set", { xmlns: NS_RSM }, xml("max", {}, String(q.max ?? 20)));
  if (q.before !== undefined) rsm.append(xml("before", {}, q.before === true ? undefined : q.before));
  try {
    const answer = await actor.iq(
      xml(
        "iq",
        { type: "set", ...(q.to ? { to: q.to } : {}) },
        xml("query", { xmlns: NS_MAM, queryid }, xml("x", { xmlns: "jabber:x:data", type: "submit" }, ...fields), rsm),
      ),
    );
    return { results, fin: answer.getChild("fin", NS_MAM) };
  } finally {
    stop();
  }
}

/**
 * Looks for an archived message from the most recent end of the archive
 * backwards (last page, then earlier pages), as clients do (§4.3.3):
 * concurrent scenarios add messages too, so a few pages may be needed.
 */
export async function findArchived(
  actor: Actor,
  q: Omit<MamQuery, "before">,
  match: (r: MamResult) => boolean,
  pages = 4,
): Promise<{ found: MamResult | undefined; page: MamPage; first: MamPage }> {
  let before: true | string = true;
  let first: MamPage | undefined;
  for (let i = 0; i < pages; i++) {
    const page = await mamQuery(actor, { ...q, before });
    first ??= page;
    const found = page.results.find(match);
    if (found) return { found, page, first };
    const earliest = page.fin?.getChild("set", NS_RSM)?.getChildText("first");
    if (!earliest || page.results.length === 0 || page.fin?.attrs.complete === "true") break;
    before = earliest;
  }
  return { found: undefined, page: first!, first: first! };
}
