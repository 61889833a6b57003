/**
 * XEP-0054 vcard-temp: the own vCard, setting it, and its PHOTO (XEP-0153).
 * https://xmpp.org/extensions/xep-0054.html
 */
import { xml, type Element } from "@xmpp/xml";
import type { Actor } from "../scenario/actor.js";
import { StanzaError } from "../session/errors.js";
import { serialized } from "./pubsub.js";

export const NS_VCARD = "vcard-temp";

/** The own vCard: the element, or undefined when the server has none (an error reply). */
export async function ownVcard(actor: Actor): Promise<Element | undefined> {
  try {
    const result = await actor.iq(xml("iq", { type: "get" }, xml("vCard", { xmlns: NS_VCARD })));
    return result.getChild("vCard", NS_VCARD) ?? xml("vCard", { xmlns: NS_VCARD });
  } catch (err) {
    if (err instanceof StanzaError && err.condition === "item-not-found") return undefined;
    throw err;
  }
}

export async function setVcard(actor: Actor, vcard: Element): Promise<void> {
  await serialized(actor, () => actor.iq(xml("iq", { type: "set" }, vcard)));
}

/** A vCard whose <PHOTO/> holds a PNG (XEP-0153 §3.1), with the given other fields. */
export function vcardWithPhoto(png: Buffer, ...fields: Element[]): Element {
  return xml(
    "vCard",
    { xmlns: NS_VCARD },
    ...fields,
    xml("PHOTO", {}, xml("TYPE", {}, "image/png"), xml("BINVAL", {}, png.toString("base64"))),
  );
}

/** The PHOTO of a vCard: its TYPE and the decoded BINVAL. */
export function vcardPhoto(vcard: Element | undefined): { type?: string; bytes?: Buffer; extval?: string } | undefined {
  const photo = vcard?.getChild("PHOTO");
  if (!photo) return undefined;
  const binval = photo.getChildText("BINVAL");
  return {
    type: photo.getChildText("TYPE") ?? undefined,
    bytes: binval ? Buffer.from(binval.replace(/\s+/g, ""), "base64") : undefined,
    extval: photo.getChildText("EXTVAL") ?? undefined,
  };
}
