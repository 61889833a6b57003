/**
 * XEP-0156: Discovering Alternative XMPP Connection Methods (host-meta)
 * https://xmpp.org/extensions/xep-0156.html
 *
 * host-meta is fetched once per run (src/probe/host-meta.ts says where) and
 * judged by each scenario here. A domain that serves neither document does
 * not offer XEP-0156 ("na"); one that serves JRD without XRD breaks it.
 */
import {
  REL_BOSH,
  REL_WEBSOCKET,
  allLinks,
  hostMetaOffered,
  served,
  type HostMeta,
  type HostMetaDocument,
  type WebDiscovery,
} from "../probe/host-meta.js";
import type { Scenario } from "../scenario/scenario.js";
import { corsRows, discovery, table } from "../scenario/web.js";
import { SessionError } from "../session/errors.js";
import { defineScenario } from "./types.js";

const spec = (section: string, anchor: string) => ({
  doc: "XEP-0156",
  version: "1.4.0",
  section,
  url: `https://xmpp.org/extensions/xep-0156.html#${anchor}`,
});

const FORMATS_RULE =
  "Services implementing this XEP MUST offer the information in the Extensible Resource Descriptor (XRD) format and SHOULD additionally provide the JRD format (both formats are specified in RFC 6415).";

const XMPP_RELS = "urn:xmpp:alt-connections:";

function documentsTable(meta: HostMeta) {
  const row = (d: HostMetaDocument) => [
    d.format.toUpperCase(),
    d.url + (d.connectedTo ? ` (at ${d.connectedTo})` : ""),
    d.status === undefined ? "" : String(d.status),
    d.contentType ?? "",
    d.error ?? `${d.links.length} link(s)`,
  ];
  return table("host-meta documents", ["format", "URL", "status", "content type", "result"], [row(meta.xrd), row(meta.jrd)]);
}

function linksTable(meta: HostMeta) {
  const rows = [meta.xrd, meta.jrd].filter(served).flatMap((d) => d.links.map((l) => [d.format.toUpperCase(), l.rel, l.href]));
  return table("host-meta links", ["format", "rel", "href"], rows.length ? rows : [["", "(none)", ""]]);
}

/**
 * The run's host-meta, with its facts as evidence. Whether anything serves
 * host-meta decides `advertised`: neither document served means XEP-0156 is
 * not offered (a failure then reads "na"), unless TLS stood in the way.
 */
async function hostMeta(s: Scenario): Promise<{ meta: HostMeta; found: WebDiscovery }> {
  const found = await discovery(s);
  const meta = found.hostMeta;
  s.evidence.push(documentsTable(meta), linksTable(meta));
  for (const a of found.asked) s.note(`asked ${a.url}${a.connectedTo ? ` at ${a.connectedTo}` : ""}: ${a.result}`);
  const docs = [meta.xrd, meta.jrd];
  if (docs.every((d) => d.errorKind === "timeout")) {
    throw new SessionError("timeout", "wait", `host-meta of ${s.domain} did not answer: ${meta.xrd.error}`);
  }
  s.advertised = hostMetaOffered(meta);
  return { meta, found };
}

function describe(d: HostMetaDocument): string {
  return d.error ? `${d.url}: ${d.error}` : `${d.url}: served`;
}

function endpointsText(meta: HostMeta): string {
  const links = allLinks(meta);
  const ws = links.filter((l) => l.rel === REL_WEBSOCKET).map((l) => l.href);
  const bosh = links.filter((l) => l.rel === REL_BOSH).map((l) => l.href);
  return `WebSocket ${ws.join(", ") || "none"}; BOSH ${bosh.join(", ") || "none"}`;
}

export default [
  defineScenario({
    id: "xep0156.xrd",
    spec: spec("2.2", "httpbizrules"),
    level: "MUST",
    requirement: FORMATS_RULE,
    title: "host-meta is served as XRD (/.well-known/host-meta)",
    needs: [],
    advertised: () => null,
    run: async (s) => {
      const { meta } = await hostMeta(s);
      s.ensure(served(meta.xrd), `the XRD document at ${meta.xrd.url}`, describe(meta.xrd));
      s.summary = `host-meta (XRD) served at ${meta.xrd.url}: ${endpointsText(meta)}`;
    },
  }),
  defineScenario({
    id: "xep0156.jrd",
    spec: spec("2.2", "httpbizrules"),
    level: "SHOULD",
    requirement: FORMATS_RULE,
    title: "host-meta is also served as JRD (/.well-known/host-meta.json)",
    needs: [],
    advertised: () => null,
    run: async (s) => {
      const { meta } = await hostMeta(s);
      s.ensure(served(meta.jrd), `the JRD document at ${meta.jrd.url}`, describe(meta.jrd));
      s.summary = `host-meta (JRD) served at ${meta.jrd.url}: ${endpointsText(meta)}`;
    },
  }),
  defineScenario({
    id: "xep0156.secure-urls",
    spec: spec("2.2", "httpbizrules"),
    level: "MUST",
    requirement:
      "host-meta files MUST be fetched only over HTTPS, and MUST only use connection URLs starting with 'https://' or 'wss://'.",
    title: "host-meta lists only https:// and wss:// connection URLs",
    needs: [],
    advertised: () => null,
    run: async (s) => {
      const { meta } = await hostMeta(s);
      s.ensure(served(meta.xrd) || served(meta.jrd), "a host-meta document", `${describe(meta.xrd)}; ${describe(meta.jrd)}`);
      const links = allLinks(meta).filter((l) => l.rel.startsWith(XMPP_RELS));
      if (links.length === 0) s.skip("host-meta lists no XMPP connection method");
      const insecure = links.filter((l) => !/^(https|wss):\/\//i.test(l.href));
      s.ensure(insecure.length === 0, "only https:// and wss:// connection URLs", insecure.map((l) => `${l.rel} ${l.href}`).join("; "));
      s.summary = `all ${links.length} XMPP connection URL(s) in host-meta are https:// or wss://`;
    },
  }),
  defineScenario({
    id: "xep0156.cors",
    spec: spec("3", "impl"),
    level: "SHOULD",
    requirement:
      "To make connection discovery work in web clients (including those hosted on a different domain) the host service SHOULD set appropriate CORS headers for Web Host Metadata files.",
    title: "host-meta is served with CORS headers",
    needs: [],
    advertised: () => null,
    run: async (s) => {
      const { meta } = await hostMeta(s);
      const docs = [meta.xrd, meta.jrd].filter(served);
      s.ensure(docs.length > 0, "a host-meta document", `${describe(meta.xrd)}; ${describe(meta.jrd)}`);
      s.evidence.push(
        table(
          "CORS headers of host-meta (request Origin: https://xepcheck.invalid)",
          ["document", "header", "value"],
          docs.flatMap((d) => corsRows(d.format.toUpperCase(), d.cors)),
        ),
      );
      const missing = docs.filter((d) => !d.cors["access-control-allow-origin"]);
      s.ensure(missing.length === 0, "Access-Control-Allow-Origin on every host-meta document", `none on ${missing.map((d) => d.url).join(", ")}`);
      s.summary = docs.map((d) => `${d.format.toUpperCase()}: Access-Control-Allow-Origin ${d.cors["access-control-allow-origin"]}`).join("; ");
    },
  }),
];
