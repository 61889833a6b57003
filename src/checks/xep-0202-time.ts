/**
 * XEP-0202: Entity Time
 * https://xmpp.org/extensions/xep-0202.html
 */
import { xml } from "@xmpp/xml";
import { discoAdvertised, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario } from "./types.js";

/** XEP-0082 TZD: "Z" or ±hh:mm. */
export const TZD = /^(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
/** XEP-0082 DateTime, expressed in UTC as XEP-0202 §2 requires. */
export const UTC_DATETIME = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?Z$/;
/** How far the server's clock may be from ours before we call its answer wrong. */
export const MAX_SKEW_MS = 5 * 60_000;

export const NS_TIME = "urn:xmpp:time";

export default [
  defineCheck({
    id: "xep0202.advertised",
    spec: { doc: "XEP-0202", version: "2.0", section: "4", url: "https://xmpp.org/extensions/xep-0202.html#disco" },
    level: "MUST",
    requirement:
      "If an entity supports the Entity Time protocol, it MUST report that by including a service discovery feature of \"urn:xmpp:time\" in response to a Service Discovery (XEP-0030) information request:",
    title: "Entity Time is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Entity Time", NS_TIME, ["domain"]),
  }),
  defineScenario({
    id: "xep0202.server-time",
    spec: { doc: "XEP-0202", version: "2.0", section: "2", url: "https://xmpp.org/extensions/xep-0202.html#protocol" },
    level: "MUST",
    requirement:
      "The UTC time according to the responding entity. The format MUST conform to the dateTime profile specified in XMPP Date and Time Profiles (XEP-0082) and MUST be expressed in UTC.",
    title: "The server tells its time: a valid offset and a UTC time close to ours",
    needs: ["account"],
    advertised: (ctx) => findDiscoFeature(ctx, NS_TIME, ["domain"]).foundAt.length > 0,
    run: async (s) => {
      const alice = await s.login("account");
      const asked = Date.now();
      const result = await alice.iq(xml("iq", { type: "get", to: s.domain }, xml("time", { xmlns: NS_TIME })));
      const answered = Date.now();
      const time = result.getChild("time", NS_TIME);
      const tzo = time?.getChildText("tzo")?.trim() ?? "";
      const utc = time?.getChildText("utc")?.trim() ?? "";
      s.ensure(TZD.test(tzo), "a <tzo/> in the XEP-0082 TZD format (Z or ±hh:mm)", time ? `<tzo>${tzo}</tzo>` : result.toString());
      s.ensure(UTC_DATETIME.test(utc) && !Number.isNaN(Date.parse(utc)), "a <utc/> in the XEP-0082 DateTime format, in UTC (ending in Z)", `<utc>${utc}</utc>`);
      const at = Date.parse(utc);
      const skew = at < asked ? at - asked : at > answered ? at - answered : 0;
      s.ensure(
        Math.abs(skew) <= MAX_SKEW_MS + 1000, // utc may carry no fraction of a second
        `a UTC time within ${MAX_SKEW_MS / 60_000} minutes of ours (${new Date(asked).toISOString()})`,
        `${utc} (${Math.round(skew / 1000)} s off)`,
      );
      s.summary = `${s.domain} says ${utc}, offset ${tzo} (${Math.round(skew / 1000)} s from our clock)`;
    },
  }),
];
