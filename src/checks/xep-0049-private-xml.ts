/**
 * XEP-0049: Private XML Storage
 * https://xmpp.org/extensions/xep-0049.html
 */
import { xml } from "@xmpp/xml";
import { live } from "../scenario/account-state.js";
import { NS_PRIVATE, privateGet, privateSet } from "../xmpp/private-xml.js";
import { errorOf } from "../xmpp/pubsub.js";
import { canonical } from "../xmpp/xml.js";
import { discoAdvertised, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";


// The XEP's sections have no anchors: the links go to the document.
const spec = (section: string) => ({ doc: "XEP-0049", version: "1.2", section, url: "https://xmpp.org/extensions/xep-0049.html" });

/** Advertised on the domain or the account; servers that serve it without listing it get "works, not advertised". */
const privateAdvertised = (ctx: CheckContext) => findDiscoFeature(ctx, NS_PRIVATE, ["domain", "account"]).foundAt.length > 0;

export default [
  defineCheck({
    id: "xep0049.advertised",
    spec: spec("4"),
    level: "MUST",
    requirement:
      "A server MUST NOT allow any entity other than an authorized resource of the user to create, update, or delete private XML stored on behalf of that user.",
    title: "Private XML Storage is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Private XML Storage", NS_PRIVATE, ["domain", "account"]),
  }),
  defineScenario({
    id: "xep0049.round-trip",
    spec: spec("2.1"),
    level: "MUST",
    requirement:
      "Using this method, Jabber entities can store private data on the server and retrieve it whenever necessary.",
    title: "Private XML: data stored under its own namespace comes back unchanged",
    needs: ["account"],
    advertised: privateAdvertised,
    run: async (s) => {
      const alice = await s.login("account", "A");
      const ns = `urn:xepcheck:private:${s.token()}`;
      const token = s.token();
      const data = xml("prefs", { xmlns: ns, version: "1" }, xml("colour", { name: "background" }, token), xml("flag", {}));
      await privateSet(alice, data);
      // A namespace of our own: nothing was stored under it before; leave it empty again.
      s.cleanup(`empty the private XML of ${ns}`, async () => privateSet(await live(s, alice, "account"), xml("prefs", { xmlns: ns })));
      const reader = await s.login("account", "B");
      const got = await privateGet(reader, "prefs", ns);
      s.ensure(got && canonical(got) === canonical(data), data.toString(), got?.toString() ?? "no <prefs/> in the result");
      s.summary = `private XML stored under ${ns} came back unchanged to another session`;
    },
  }),
  defineScenario({
    id: "xep0049.other-user-refused",
    spec: spec("2.3"),
    level: "MUST",
    requirement:
      "If a user attempts to get or set jabber:iq:private data that belongs to another user, the server MUST return a \"Forbidden\" or \"Service Unavailable\" error to the sender (the latter condition is in common use by existing implementations, although the former is preferable).",
    title: "Private XML: another user cannot read the user's private data",
    needs: ["account", "peer"],
    advertised: privateAdvertised,
    run: async (s) => {
      s.bareJid("peer"); // without a second account: skip before changing anything
      const alice = await s.login("account", "A");
      const ns = `urn:xepcheck:private:${s.token()}`;
      const token = s.token();
      await privateSet(alice, xml("secret", { xmlns: ns }, token));
      s.cleanup(`empty the private XML of ${ns}`, async () => privateSet(await live(s, alice, "account"), xml("secret", { xmlns: ns })));
      const bob = await s.login("peer", "B");
      let answer = "";
      const condition = await errorOf(
        bob
          .iq(xml("iq", { type: "get", to: alice.bare }, xml("query", { xmlns: NS_PRIVATE }, xml("secret", { xmlns: ns }))))
          .then((r) => (answer = r.toString())),
      );
      s.ensure(
        condition === "forbidden" || condition === "service-unavailable",
        `forbidden or service-unavailable for ${bob.bare}`,
        condition ?? `a result: ${answer}`,
      );
      s.summary = `${bob.bare} asking for alice's private XML got ${condition}`;
    },
  }),
];
