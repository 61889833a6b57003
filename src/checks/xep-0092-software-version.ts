/**
 * XEP-0092: Software Version
 * https://xmpp.org/extensions/xep-0092.html
 */
import { findDiscoFeature, advertisementEvidence } from "./advertisement.js";
import { defineCheck, type Verdict } from "./types.js";

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
      const advertised = found.foundAt.length > 0;
      const { software } = ctx.probe;
      const works = Boolean(software.name);
      const verdict: Verdict = works ? (advertised ? "pass" : "warn") : advertised ? "fail" : "na";
      const said = works ? `${software.name} ${software.version ?? ""}`.trim() : `no answer (${software.error ?? "empty"})`;
      return {
        verdict,
        advertised,
        works,
        summary: works
          ? `${said}${advertised ? "" : ", though jabber:iq:version is not advertised"}`
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
];
