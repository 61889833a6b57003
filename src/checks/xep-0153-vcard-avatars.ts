/**
 * XEP-0153: vCard-Based Avatars. A server supports them by storing the
 * avatar in vcard-temp (XEP-0054); no feature of its own exists.
 * https://xmpp.org/extensions/xep-0153.html
 */
import { xml } from "@xmpp/xml";
import { guardProfile } from "../scenario/account-state.js";
import { sha1Hex, tinyPng } from "../xmpp/avatar.js";
import { NS_VCARD, setVcard, vcardPhoto, vcardWithPhoto } from "../xmpp/vcard.js";
import { advertisedOutcome, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";

const vcardAdvertised = (ctx: CheckContext) => findDiscoFeature(ctx, NS_VCARD, ["domain", "account"]).foundAt.length > 0;

const spec = { doc: "XEP-0153", version: "1.1.1", section: "4.5", url: "https://xmpp.org/extensions/xep-0153.html#bizrules-xml" };
const REQUIREMENT = "The <PHOTO/> element SHOULD contain a <BINVAL/> child whose XML character data is Base64-encoded data for the avatar image.";

export default [
  defineCheck({
    id: "xep0153.advertised",
    spec,
    level: "SHOULD",
    requirement: REQUIREMENT,
    title: "vCard storage for avatars is advertised (vcard-temp)",
    needs: ["account"],
    run: (ctx) => advertisedOutcome("vCard storage for avatars (vcard-temp)", findDiscoFeature(ctx, NS_VCARD, ["domain", "account"])),
  }),
  defineScenario({
    id: "xep0153.vcard-photo",
    spec,
    level: "SHOULD",
    requirement: REQUIREMENT,
    title: "vCard avatars: a contact gets the user's vCard with the photo, its hash matching",
    needs: ["account", "peer"],
    serialized: "profile",
    advertised: vcardAdvertised,
    run: async (s) => {
      s.bareJid("peer"); // without a second account: skip before changing anything
      const alice = await s.login("account", "A");
      await guardProfile(s, alice);
      const png = tinyPng(s.token());
      const hash = sha1Hex(png);
      // §3.1: the user's client publishes the image in its vCard.
      await setVcard(alice, vcardWithPhoto(png, xml("FN", {}, "xepcheck avatar")));
      // §3.2: a contact retrieves the vCard from the user's bare JID.
      const bob = await s.login("peer", "B");
      const result = await bob.iq(xml("iq", { type: "get", to: alice.bare }, xml("vCard", { xmlns: NS_VCARD })));
      const vcard = result.getChild("vCard", NS_VCARD);
      const photo = vcardPhoto(vcard);
      s.ensure(photo?.bytes, `a <PHOTO/> with a <BINVAL/> in alice's vCard for ${bob.bare}`, vcard?.toString() ?? result.toString());
      const got = sha1Hex(photo!.bytes!);
      s.ensure(got === hash, `the image with SHA-1 ${hash}`, `an image with SHA-1 ${got} (${photo!.bytes!.length} bytes)`);
      if (photo!.type !== "image/png") s.note(`the <TYPE/> came back as ${photo!.type ?? "(none)"}, not image/png`);
      s.summary = `${bob.bare} got alice's vCard with the ${png.length}-byte photo (SHA-1 ${hash})`;
    },
  }),
];
