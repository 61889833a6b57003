/**
 * XEP-0398: User Avatar to vCard-Based Avatars Conversion
 * https://xmpp.org/extensions/xep-0398.html
 */
import { xml, type Element } from "@xmpp/xml";
import { guardProfile, until } from "../scenario/account-state.js";
import { NS_AVATAR_DATA, NS_AVATAR_METADATA, sha1Hex, tinyPng } from "../xmpp/avatar.js";
import { fetchItems, publish } from "../xmpp/pubsub.js";
import { ownVcard, setVcard, vcardPhoto, vcardWithPhoto } from "../xmpp/vcard.js";
import { discoAdvertised, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";

export const NS_CONVERSION = "urn:xmpp:pep-vcard-conversion:0";

const spec = (section: string, anchor: string) => ({
  doc: "XEP-0398",
  version: "1.0.0",
  section,
  url: `https://xmpp.org/extensions/xep-0398.html#${anchor}`,
});

const conversionAdvertised = (ctx: CheckContext) => findDiscoFeature(ctx, NS_CONVERSION, ["account", "domain"]).foundAt.length > 0;

const sha1Of = (b64: string | null | undefined) => (b64 ? sha1Hex(Buffer.from(b64.replace(/\s+/g, ""), "base64")) : undefined);

export default [
  defineCheck({
    id: "xep0398.advertised",
    spec: spec("2", "disco"),
    level: "MUST",
    requirement:
      "The service MUST include a Service Discovery (XEP-0030) feature of \"urn:xmpp:pep-vcard-conversion:0\" on the account.",
    title: "Avatar conversion between PEP and vCard is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "User Avatar to vCard-Based Avatars Conversion", NS_CONVERSION, ["account", "domain"]),
  }),
  defineScenario({
    id: "xep0398.pep-to-vcard",
    spec: spec("3.1", "pep2vcard"),
    level: "MUST",
    requirement:
      "Upon receiving a publication request to the 'urn:xmpp:avatar:metadata' node the service MUST look up the corresponding item published in the 'urn:xmpp:avatar:data' node and store the content of the data element as a photo in the vcard.",
    title: "Avatar conversion: an avatar published in PEP (XEP-0084) appears as the vCard photo",
    needs: ["account"],
    serialized: "profile",
    advertised: conversionAdvertised,
    run: async (s) => {
      const alice = await s.login("account", "A");
      await guardProfile(s, alice);
      const png = tinyPng(s.token());
      const hash = sha1Hex(png);
      // XEP-0084 §3.1, §3.2: the data, then the metadata pointing at it.
      await publish(alice, NS_AVATAR_DATA, xml("data", { xmlns: NS_AVATAR_DATA }, png.toString("base64")), { id: hash });
      await publish(
        alice,
        NS_AVATAR_METADATA,
        xml("metadata", { xmlns: NS_AVATAR_METADATA }, xml("info", { bytes: String(png.length), id: hash, type: "image/png", width: "1", height: "1" })),
        { id: hash },
      );
      const reader = await s.login("account", "B");
      let vcard: Element | undefined;
      await until(
        s,
        async () => sha1Hex(vcardPhoto((vcard = await ownVcard(reader)))?.bytes ?? Buffer.alloc(0)) === hash,
        `the vCard's <PHOTO/><BINVAL/> holding the published image (SHA-1 ${hash})`,
        () => vcard?.toString() ?? "no vCard",
      );
      s.summary = `after publishing the avatar ${hash} to PEP, the vCard's photo is the same image`;
    },
  }),
  defineScenario({
    id: "xep0398.vcard-to-pep",
    spec: spec("3.2", "vcard2pep"),
    level: "MUST",
    requirement:
      "Upon receiving a vCard publication request with a valid photo attached to it a service MUST first publish an item to the 'urn:xmpp:avatar:data' node on behalf of the requesting entity.",
    title: "Avatar conversion: a vCard photo appears as the PEP avatar (XEP-0084)",
    needs: ["account"],
    serialized: "profile",
    advertised: conversionAdvertised,
    run: async (s) => {
      const alice = await s.login("account", "A");
      await guardProfile(s, alice);
      const png = tinyPng(s.token());
      const hash = sha1Hex(png);
      await setVcard(alice, vcardWithPhoto(png));
      let data: Element[] = [];
      await until(
        s,
        async () => {
          data = await fetchItems(alice, NS_AVATAR_DATA, { ids: [hash] }).catch(() => []);
          return data.some((i) => i.attrs.id === hash && sha1Of(i.getChildText("data", NS_AVATAR_DATA)) === hash);
        },
        `an item ${hash} (the SHA-1 of the image) in urn:xmpp:avatar:data holding the image`,
        () => (data.length ? data.map((i) => i.attrs.id).join(", ") : "no such item"),
      );
      // §3.2: afterwards a metadata item with one info element for the image, typed as in the vCard.
      let metadata: Element[] = [];
      await until(
        s,
        async () => {
          metadata = await fetchItems(alice, NS_AVATAR_METADATA).catch(() => []);
          return metadata.some((i) => i.getChild("metadata", NS_AVATAR_METADATA)?.getChildren("info").some((info) => info.attrs.id === hash));
        },
        `a urn:xmpp:avatar:metadata item with <info id='${hash}'/>`,
        () => metadata.map((i) => i.toString()).join(" ") || "no items",
      );
      const info = metadata
        .flatMap((i) => i.getChild("metadata", NS_AVATAR_METADATA)?.getChildren("info") ?? [])
        .find((i) => i.attrs.id === hash)!;
      s.ensure(info.attrs.type === "image/png", "the info element's type image/png, as in the vCard", `type='${info.attrs.type ?? ""}'`);
      s.summary = `after storing a vCard photo, PEP holds the avatar data item ${hash} and metadata pointing at it`;
    },
  }),
];
