/**
 * XEP-0030 Service Discovery and XEP-0128 extended info, as plain data.
 * https://xmpp.org/extensions/xep-0030.html
 */
import { xml, type Element } from "@xmpp/xml";
import { StanzaError } from "../session/errors.js";
import type { XmppStream } from "../session/stream.js";
import type { Identity, DataForm, DiscoInfo } from "../facts.js";

export type { Identity, DataForm, DiscoInfo };

export const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
export const NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items";
export const NS_DATA = "jabber:x:data";

export interface DiscoItem {
  jid: string;
  name?: string;
  node?: string;
}

export function parseDataForm(x: Element): DataForm {
  const fields: Record<string, string[]> = {};
  let formType: string | undefined;
  for (const field of x.getChildren("field")) {
    const name = field.attrs.var;
    if (!name) continue;
    const values = field.getChildren("value").map((v) => v.text());
    if (name === "FORM_TYPE") formType = values[0];
    else fields[name] = values;
  }
  return { formType, fields };
}

export function parseDiscoInfo(jid: string, query: Element | undefined): DiscoInfo {
  return {
    jid,
    identities: (query?.getChildren("identity") ?? []).map((i) => ({
      category: i.attrs.category ?? "",
      type: i.attrs.type ?? "",
      ...(i.attrs.name ? { name: i.attrs.name } : {}),
    })),
    features: (query?.getChildren("feature") ?? []).map((f) => f.attrs.var ?? "").filter(Boolean),
    forms: (query?.getChildren("x", NS_DATA) ?? []).map(parseDataForm),
  };
}

function failure(err: unknown): { error: string; errorKind: "stanza" | "no-answer" } {
  if (err instanceof StanzaError) return { error: err.condition, errorKind: "stanza" };
  return { error: (err as Error).message, errorKind: "no-answer" };
}

export async function discoInfo(stream: XmppStream, jid: string): Promise<DiscoInfo> {
  try {
    const result = await stream.iq(xml("iq", { type: "get", to: jid }, xml("query", { xmlns: NS_DISCO_INFO })));
    return parseDiscoInfo(jid, result.getChild("query", NS_DISCO_INFO));
  } catch (err) {
    return { ...parseDiscoInfo(jid, undefined), ...failure(err) };
  }
}

export async function discoItems(stream: XmppStream, jid: string): Promise<{ items: DiscoItem[]; error?: string }> {
  try {
    const result = await stream.iq(xml("iq", { type: "get", to: jid }, xml("query", { xmlns: NS_DISCO_ITEMS })));
    const items = (result.getChild("query", NS_DISCO_ITEMS)?.getChildren("item") ?? [])
      .filter((i) => i.attrs.jid)
      .map((i) => ({
        jid: i.attrs.jid!,
        ...(i.attrs.name ? { name: i.attrs.name } : {}),
        ...(i.attrs.node ? { node: i.attrs.node } : {}),
      }));
    return { items };
  } catch (err) {
    return { items: [], error: failure(err).error };
  }
}
