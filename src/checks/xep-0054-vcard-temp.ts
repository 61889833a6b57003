/**
 * XEP-0054: vcard-temp
 * https://xmpp.org/extensions/xep-0054.html
 */
import { xml, type Element } from "@xmpp/xml";
import { guardProfile } from "../scenario/account-state.js";
import { NS_VCARD, ownVcard, setVcard } from "../xmpp/vcard.js";
import { NS_STANZAS } from "../session/stream.js";
import { discoAdvertised, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";


const spec = (section: string, anchor: string) => ({
  doc: "XEP-0054",
  version: "1.3.0",
  section,
  url: `https://xmpp.org/extensions/xep-0054.html#${anchor}`,
});

const vcardAdvertised = (ctx: CheckContext) => findDiscoFeature(ctx, NS_VCARD, ["domain", "account"]).foundAt.length > 0;

/** A vCard with a formatted name and a nickname carrying `token`. */
function testVcard(token: string): Element {
  return xml("vCard", { xmlns: NS_VCARD }, xml("FN", {}, `xepcheck ${token}`), xml("NICKNAME", {}, token));
}

const fields = (vcard: Element | undefined) => `FN=${JSON.stringify(vcard?.getChildText("FN") ?? null)} NICKNAME=${JSON.stringify(vcard?.getChildText("NICKNAME") ?? null)}`;

export default [
  defineCheck({
    id: "xep0054.advertised",
    spec: spec("4", "support"),
    level: "MUST",
    requirement:
      "If an entity supports the vcard-temp protocol, it MUST report that by including a service discovery feature of \"vcard-temp\" (see Protocol Namespaces regarding issuance of one or more permanent namespaces) in response to a Service Discovery (XEP-0030) information request:",
    title: "vcard-temp is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "vcard-temp", NS_VCARD, ["domain", "account"]),
  }),
  defineScenario({
    id: "xep0054.own-vcard",
    // §3.1 "Retrieving One's vCard" and §3.2 "Updating One's vCard" have no anchors of their own.
    spec: spec("3.1", "usecases"),
    level: "MUST",
    requirement: "If a vCard exists for the user, the server MUST return in an IQ-result:",
    title: "vCard: the user stores a vCard and gets it back",
    needs: ["account"],
    serialized: "profile",
    advertised: vcardAdvertised,
    run: async (s) => {
      const alice = await s.login("account", "A");
      await guardProfile(s, alice);
      const vcard = testVcard(s.token());
      await setVcard(alice, vcard);
      const reader = await s.login("account", "B");
      const got = await ownVcard(reader);
      s.ensure(fields(got) === fields(vcard), `the stored vCard with ${fields(vcard)}`, got ? got.toString() : "no vCard (an error)");
      s.summary = `the vCard set by ${alice.label} (${fields(vcard)}) came back to another session`;
    },
  }),
  defineScenario({
    id: "xep0054.other-vcard",
    spec: spec("3.3", "usecases"),
    level: "MUST",
    requirement:
      "In accordance with XMPP Core, a compliant server MUST respond on behalf of the requestor and not forward the IQ to the requestee's connected resource.",
    title: "vCard: another user gets the user's vCard from the server, not from the user's client",
    needs: ["account", "peer"],
    serialized: "profile",
    advertised: vcardAdvertised,
    run: async (s) => {
      s.bareJid("peer"); // without a second account: skip before changing anything
      const alice = await s.login("account", "A");
      await guardProfile(s, alice);
      const vcard = testVcard(s.token());
      await setVcard(alice, vcard);
      // alice is connected: a server that forwarded the request would reach her session.
      let forwarded: Element | undefined;
      alice.stream.answerRequests(
        (el) => el.is("iq") && el.attrs.type === "get" && !!el.getChild("vCard", NS_VCARD),
        (el) => {
          forwarded = el;
          return xml(
            "iq",
            { type: "error", id: el.attrs.id, ...(el.attrs.from ? { to: el.attrs.from } : {}) },
            xml("error", { type: "cancel" }, xml("service-unavailable", { xmlns: NS_STANZAS })),
          );
        },
      );
      const bob = await s.login("peer", "B");
      const result = await bob.iq(xml("iq", { type: "get", to: alice.bare }, xml("vCard", { xmlns: NS_VCARD })));
      const got = result.getChild("vCard", NS_VCARD);
      s.ensure(!forwarded, "no vCard request reaching alice's resource", forwarded?.toString() ?? "");
      s.ensure(
        got?.getChildText("FN") === vcard.getChildText("FN"),
        `alice's vCard with FN ${vcard.getChildText("FN")} for ${bob.bare}`,
        got ? got.toString() : result.toString(),
      );
      s.summary = `${bob.bare} got alice's vCard (FN "${vcard.getChildText("FN")}") from the server while alice was connected`;
    },
  }),
];
