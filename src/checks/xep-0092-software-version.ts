/**
 * XEP-0092: Software Version
 * https://xmpp.org/extensions/xep-0092.html
 */
import { xml } from "@xmpp/xml";
import { findDiscoFeature, advertisementEvidence } from "./advertisement.js";
import { defineCheck, defineScenario, type Verdict } from "./types.js";

export const NS_VERSION = "jabber:iq:version";

export default [
  defineCheck({
    id: "xep0092.version",
    spec: { doc: "XEP-0092", version: "1.1", section: "1", url: "https://xmpp.org/extensions/xep-0092.html#intro" },
    level: "MAY",
    requirement:
      "However, the jabber:iq:version protocol MAY be used to determine the identity of entities from which an application does not receive presence (e.g., servers and many kinds of components).",
    title: "The server tells its software name and version",
    needs: ["account"],
    run: (ctx) => {
      const found = findDiscoFeature(ctx, NS_VERSION, ["domain"]);
      // A disco#info that got no answer says nothing either way.
      const advertised = found.foundAt.length > 0 ? true : found.unanswered ? null : false;
      const { software } = ctx.probe;
      const works = Boolean(software.name);
      // A query that got no answer (a timeout, a lost stream) says nothing about the feature.
      const unanswered = !works && software.errorKind === "no-answer";
      const verdict: Verdict = works ? (advertised === false ? "warn" : "pass") : advertised === null || unanswered ? "error" : advertised ? "fail" : "na";
      const said = works ? `${software.name} ${software.version ?? ""}`.trim() : `no answer (${software.error ?? "empty"})`;
      return {
        verdict,
        advertised,
        works,
        summary: works
          ? `${said}${advertised === false ? ", though jabber:iq:version is not advertised" : ""}`
          : advertised === null
            ? `could not tell: disco#info of ${ctx.domain} got no answer, and the query failed: ${software.error ?? "no name in the answer"}`
            : unanswered
              ? `could not tell: the software version query got no answer: ${software.error}`
            : advertised
              ? `jabber:iq:version is advertised but the query failed: ${software.error ?? "no name in the answer"}`
              : "software version is neither advertised nor answered",
        evidence: [
          advertisementEvidence(found),
          { type: "table", columns: ["name", "version", "os"], rows: [[software.name ?? "", software.version ?? "", software.os ?? ""]] },
        ],
      };
    },
  }),
  defineScenario({
    id: "xep0092.query",
    spec: { doc: "XEP-0092", version: "1.1", section: "2", url: "https://xmpp.org/extensions/xep-0092.html#protocol" },
    level: "MUST",
    requirement: "<name/> -- The natural-language name of the software. This element is REQUIRED in a result.",
    title: "A software version query to the server gets its name and version",
    needs: ["account"],
    advertised: (ctx) => findDiscoFeature(ctx, NS_VERSION, ["domain"]).foundAt.length > 0,
    run: async (s) => {
      const alice = await s.login("account");
      const result = await alice.iq(xml("iq", { type: "get", to: s.domain }, xml("query", { xmlns: NS_VERSION })));
      const query = result.getChild("query", NS_VERSION);
      const name = query?.getChildText("name")?.trim();
      const version = query?.getChildText("version")?.trim();
      s.ensure(name, "a result with a non-empty <name/> (REQUIRED)", result.toString());
      s.ensure(version, "a result with a non-empty <version/> (REQUIRED)", result.toString());
      const os = query?.getChildText("os")?.trim();
      s.summary = `${s.domain} runs ${name} ${version}${os ? ` on ${os}` : ""}`;
    },
  }),
];
