/**
 * XEP-0384: OMEMO Encryption — the server-side prerequisites (§7.1)
 * https://xmpp.org/extensions/xep-0384.html
 */
import { randomBytes } from "node:crypto";
import { xml } from "@xmpp/xml";
import { live } from "../scenario/account-state.js";
import { deleteNodeIfPresent, fetchItems, publish } from "../xmpp/pubsub.js";
import { canonical } from "../xmpp/xml.js";
import { advertisementEvidence } from "./advertisement.js";
import { allFound, pepFeature, pepIdentity } from "./pep.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";

export const NS_OMEMO = "urn:xmpp:omemo:2";

const REQUIREMENT =
  "The pubsub service MUST support the 'open' access model for node configuration and 'pubsub#access_model' as a publish option.";
const SPEC = { doc: "XEP-0384", version: "0.9.1", section: "7.1", url: "https://xmpp.org/extensions/xep-0384.html#server-side" };

/** true: all advertised; null: PEP with publish-options but access-open not listed (only publishing tells); false: no PEP/publish-options. */
function prerequisitesAdvertised(ctx: CheckContext): boolean | null {
  if (!allFound(pepIdentity(ctx), pepFeature(ctx, "publish-options"))) return false;
  return allFound(pepFeature(ctx, "access-open")) ? true : null;
}

/** A bundle as §5.3.2 describes it, with random keys (nothing here is ever used to encrypt). */
function bundle(): ReturnType<typeof xml> {
  const b64 = (n: number) => randomBytes(n).toString("base64");
  return xml(
    "bundle",
    { xmlns: NS_OMEMO },
    xml("spk", { id: "1" }, b64(32)),
    xml("spks", {}, b64(64)),
    xml("ik", {}, b64(32)),
    xml("prekeys", {}, xml("pk", { id: "1" }, b64(32)), xml("pk", { id: "2" }, b64(32))),
  );
}

export default [
  defineCheck({
    id: "xep0384.prerequisites-advertised",
    spec: SPEC,
    level: "MUST",
    requirement: REQUIREMENT,
    title: "PEP offers what OMEMO needs: publish-options and the open access model",
    needs: ["account"],
    run: (ctx) => {
      const pep = [pepIdentity(ctx), pepFeature(ctx, "publish-options")];
      const open = pepFeature(ctx, "access-open");
      const found = [...pep, open];
      const yes = allFound(...found);
      if (allFound(...pep) && !yes) {
        // Many PEP services support the open model without listing it; only publishing can tell.
        return {
          verdict: "skip",
          advertised: false,
          works: null,
          summary: "not determined yet: PEP has publish-options but does not list pubsub#access-open; only publishing with access_model=open can tell",
          evidence: found.map(advertisementEvidence),
        };
      }
      return {
        verdict: yes ? "pass" : "na",
        advertised: yes,
        works: null,
        summary: yes
          ? "PEP advertises publish-options and the open access model"
          : `not advertised: ${found.filter((f) => !f.foundAt.length).map((f) => f.looked).join(", ")} missing`,
        evidence: found.map(advertisementEvidence),
      };
    },
  }),
  defineScenario({
    id: "xep0384.open-bundles",
    spec: SPEC,
    level: "MUST",
    requirement: REQUIREMENT,
    title: "OMEMO prerequisites: bundles published with access_model=open and max_items=max can be fetched by anyone",
    needs: ["account", "peer"],
    advertised: prerequisitesAdvertised,
    run: async (s) => {
      s.bareJid("peer"); // without a second account: skip before changing anything
      const alice = await s.login("account", "A");
      // Not the real bundles node: a node of our own, shaped and configured like it (§5.3.2).
      const node = `${NS_OMEMO}:bundles-xepcheck-${s.token()}`;
      s.cleanup(`delete the node ${node}`, async () => deleteNodeIfPresent(await live(s, alice, "account"), node));
      const options = { persist_items: "true", max_items: "max", access_model: "open" };
      const devices = [String(1 + randomBytes(3).readUIntBE(0, 3)), String(0x1000000 + randomBytes(3).readUIntBE(0, 3))];
      const published = new Map<string, string>();
      for (const device of devices) {
        const payload = bundle();
        await publish(alice, node, payload, { id: device, options });
        published.set(device, canonical(payload));
      }
      // bob shares no presence with alice: only the open access model lets him read.
      const bob = await s.login("peer", "B");
      const items = await fetchItems(bob, node, { owner: alice.bare });
      for (const device of devices) {
        const got = items.find((i) => i.attrs.id === device)?.getChildElements()[0];
        s.ensure(
          got && canonical(got) === published.get(device),
          `the bundle of device ${device} for ${bob.bare} (both items kept: pubsub#max_items=max)`,
          items.length ? `items ${items.map((i) => i.attrs.id).join(", ")}` : "no items",
        );
      }
      s.summary = `two bundles published with access_model=open and max_items=max were both fetched by ${bob.bare}`;
    },
  }),
];
