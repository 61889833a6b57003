/**
 * XEP-0215: External Service Discovery
 * https://xmpp.org/extensions/xep-0215.html
 * The scenarios only ask for the list and for credentials; they never
 * connect to the STUN/TURN servers listed.
 */
import { xml, type Element } from "@xmpp/xml";
import type { Actor } from "../scenario/actor.js";
import { discoAdvertised, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";

export const NS_EXTDISCO = "urn:xmpp:extdisco:2";

const spec = (section: string, anchor: string) => ({
  doc: "XEP-0215",
  version: "1.0.0",
  section,
  url: `https://xmpp.org/extensions/xep-0215.html#${anchor}`,
});

function extdiscoAdvertised(ctx: CheckContext): boolean {
  return findDiscoFeature(ctx, NS_EXTDISCO, ["domain", "account"]).foundAt.length > 0;
}

const isTrue = (v: string | undefined) => v === "true" || v === "1";
const hasCredentials = (service: Element) => Boolean(service.attrs.username && service.attrs.password);
const isTurn = (service: Element) => service.attrs.type === "turn" || service.attrs.type === "turns";
const label = (service: Element) =>
  `${service.attrs.type ?? "?"} ${service.attrs.host ?? "?"}${service.attrs.port ? `:${service.attrs.port}` : ""}${service.attrs.transport ? `/${service.attrs.transport}` : ""}`;

/** §3.1: all services the server knows of. */
async function listServices(actor: Actor, domain: string): Promise<Element[]> {
  const result = await actor.iq(xml("iq", { type: "get", to: domain }, xml("services", { xmlns: NS_EXTDISCO })));
  const services = result.getChild("services", NS_EXTDISCO);
  return services ? services.getChildren("service") : [];
}

/** The list as a table; credentials are shown as present or absent, never their values. */
function servicesTable(services: Element[]) {
  return {
    type: "table" as const,
    title: "External services",
    columns: ["type", "host", "port", "transport", "restricted", "credentials", "expires"],
    rows: services.map((s) => [
      s.attrs.type ?? "(missing)",
      s.attrs.host ?? "(missing)",
      s.attrs.port ?? "",
      s.attrs.transport ?? "",
      isTrue(s.attrs.restricted) ? "yes" : "no",
      hasCredentials(s) ? "username + password" : "none",
      s.attrs.expires ?? "",
    ]),
  };
}

export default [
  defineCheck({
    id: "xep0215.advertised",
    spec: spec("5", "disco"),
    level: "MUST",
    requirement:
      "If an XMPP entity supports this protocol, it MUST report that fact by including a service discovery feature of \"urn:xmpp:extdisco:2\" (see Protocol Namespaces regarding issuance of one or more permanent namespaces) in response to a Service Discovery (XEP-0030) information request:",
    title: "External Service Discovery (STUN/TURN) is advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "External Service Discovery", NS_EXTDISCO, ["domain", "account"]),
  }),
  defineScenario({
    id: "xep0215.services",
    spec: spec("2", "protocol"),
    level: "SHOULD",
    requirement:
      "The responding entity (XMPP server or discovery service) SHOULD return the list of external services it is aware of, but MAY instead return an appropriate error, such as <service-unavailable/> if the responding entity does not support this protocol or <forbidden/> if the requesting entity does not have permission to receive the list of external services.",
    title: "External Service Discovery: the server lists its external services",
    needs: ["account"],
    advertised: extdiscoAdvertised,
    run: async (s) => {
      const alice = await s.login("account");
      const services = await listServices(alice, s.domain);
      s.evidence.push(servicesTable(services));
      // §2: 'host' and 'type' are REQUIRED on every <service/>.
      const incomplete = services.filter((svc) => !svc.attrs.host || !svc.attrs.type);
      s.ensure(incomplete.length === 0, "'host' and 'type' on every <service/> (§2: REQUIRED)", incomplete.map((e) => e.toString()).join(" "));
      s.summary = services.length
        ? `the server lists ${services.length} external service(s): ${services.map(label).join(", ")}`
        : "the server answers with an empty list of external services";
    },
  }),
  defineScenario({
    id: "xep0215.turn-credentials",
    spec: spec("3.3", "credentials"),
    level: "SHOULD",
    requirement: "The server then returns credentials if possible.",
    title: "External Service Discovery: TURN services come with credentials, or give them on request",
    needs: ["account"],
    advertised: extdiscoAdvertised,
    run: async (s) => {
      const alice = await s.login("account");
      const services = await listServices(alice, s.domain);
      s.evidence.push(servicesTable(services));
      const turn = services.filter(isTurn);
      if (!turn.length) return s.skip("the server lists no TURN service");
      const rows: string[][] = [];
      for (const svc of turn) {
        const restricted = isTrue(svc.attrs.restricted);
        const listed = hasCredentials(svc);
        if (!restricted) {
          rows.push([label(svc), listed ? "in the list" : "none (not restricted)", svc.attrs.expires ?? ""]);
          continue;
        }
        // §3.3: restricted means credentials "will need to be requested if not already
        // provided"; ask for them, naming the service by host, type (and port).
        const wanted = { host: svc.attrs.host!, type: svc.attrs.type!, ...(svc.attrs.port ? { port: svc.attrs.port } : {}) };
        const result = await alice.iq(
          xml("iq", { type: "get", to: s.domain }, xml("credentials", { xmlns: NS_EXTDISCO }, xml("service", wanted))),
        );
        const given = (result.getChild("credentials", NS_EXTDISCO)?.getChildren("service") ?? []).filter(
          (c) => c.attrs.host === wanted.host && c.attrs.type === wanted.type,
        );
        s.ensure(
          given.some(hasCredentials),
          `<credentials><service host='${wanted.host}' type='${wanted.type}' username='…' password='…'/></credentials>`,
          result.toString().replace(/password=(["'])[^"']*\1/g, "password=$1…$1"),
        );
        rows.push([label(svc), listed ? "in the list, and on request" : "on request", given.find(hasCredentials)?.attrs.expires ?? ""]);
      }
      s.evidence.push({ type: "table", title: "TURN credentials", columns: ["service", "credentials", "expires"], rows });
      s.summary = `credentials for ${rows.length} TURN service(s): ${rows.map((r) => `${r[0]} (${r[1]})`).join(", ")}`;
    },
  }),
];
