/**
 * XEP-0386: Bind 2
 * https://xmpp.org/extensions/xep-0386.html
 */
import { advertisedOutcome, findStreamFeature, type Found } from "./advertisement.js";
import type { CheckContext } from "./types.js";
import { defineCheck } from "./types.js";
import { NS_SASL2 } from "./xep-0388-sasl2.js";

export const NS_BIND2 = "urn:xmpp:bind:0";

const bind2Path = [{ name: "authentication", ns: NS_SASL2 }, { name: "inline" }, { name: "bind", ns: NS_BIND2 }];

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

export default [
  defineCheck({
    id: "xep0386.advertised",
    spec: { doc: "XEP-0386", version: "1.1.0", section: "3.1", url: "https://xmpp.org/extensions/xep-0386.html" },
    level: "MUST",
    requirement:
      "If a server supports Bind 2, it MUST advertise this within the SASL2 <inline/> element in the stream features, with a feature named 'bind' in the namespace 'urn:xmpp:bind:0'.",
    title: "Bind 2 is offered inline in SASL2",
    needs: ["account"],
    run: (ctx) => advertisedOutcome("Bind 2", findStreamFeature(ctx, bind2Path, "before-auth")),
  }),
];
