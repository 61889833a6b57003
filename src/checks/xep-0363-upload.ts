/**
 * XEP-0363: HTTP File Upload
 * https://xmpp.org/extensions/xep-0363.html
 *
 * The live scenarios upload a few bytes: files cannot be deleted over XMPP,
 * so each run leaves one tiny text file on the upload service.
 */
import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import { xml, type Element } from "@xmpp/xml";
import parse from "@xmpp/xml/lib/parse.js";
import type { DiscoInfo } from "../probe/disco.js";
import { FORM_UPLOAD, findForm } from "../probe/probe.js";
import { ScenarioFailure } from "../scenario/outcome.js";
import type { Scenario } from "../scenario/scenario.js";
import { SessionError, StanzaError } from "../session/errors.js";
import type { TlsSettings } from "../session/stream.js";
import { advertisedOutcome, componentsWith, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";

export const NS_UPLOAD = "urn:xmpp:http:upload:0";

const spec = (section: string, anchor: string) => ({
  doc: "XEP-0363",
  version: "1.2.0",
  section,
  url: `https://xmpp.org/extensions/xep-0363.html#${anchor}`,
});

/** Upload services: components listing the feature, and the domain itself if it does. */
function uploadServices(ctx: CheckContext): DiscoInfo[] {
  const services = componentsWith(ctx, {}).filter((c) => c.features.includes(NS_UPLOAD));
  if (ctx.probe.domain.features.includes(NS_UPLOAD)) services.push(ctx.probe.domain);
  return services;
}

function maxFileSize(service: DiscoInfo): number | undefined {
  const value = findForm(service.forms, FORM_UPLOAD)?.fields["max-file-size"]?.[0];
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
}

function uploadAdvertised(ctx: CheckContext): boolean {
  return findDiscoFeature(ctx, NS_UPLOAD, ["domain", "components"]).foundAt.length > 0;
}

/** The service to use, or a failure (verdict "not offered" when nothing advertises upload). */
function pickService(s: Scenario): DiscoInfo {
  const service = uploadServices(s.ctx)[0];
  if (service) return service;
  const unanswered = findDiscoFeature(s.ctx, NS_UPLOAD, ["domain", "components"]).unanswered;
  // A silent disco#info may hide the service: that is "could not tell", not "not offered".
  if (unanswered) throw new SessionError("timeout", "wait", `no upload service found, and no answer from ${unanswered.join("; ")}`);
  return s.fail(`an entity advertising ${NS_UPLOAD} (the domain or one of its disco#items)`, "none found");
}

/** §4: the only headers a slot may ask for; others MUST be ignored. */
const ALLOWED_HEADERS = new Set(["authorization", "cookie", "expires"]);

interface Slot {
  put: string;
  get: string;
  headers: [string, string][];
  ignored: string[];
}

function parseSlot(result: Element): Slot | undefined {
  const slot = result.getChild("slot", NS_UPLOAD);
  const put = slot?.getChild("put");
  const get = slot?.getChild("get");
  if (!put?.attrs.url || !get?.attrs.url) return undefined;
  const headers: [string, string][] = [];
  const ignored: string[] = [];
  for (const h of put.getChildren("header")) {
    // §4: strip newlines from name and value; keep the order.
    const name = (h.attrs.name ?? "").replace(/[\r\n]/g, "");
    const value = h.text().replace(/[\r\n]/g, "");
    if (ALLOWED_HEADERS.has(name.toLowerCase())) headers.push([name, value]);
    else ignored.push(name);
  }
  return { put: put.attrs.url, get: get.attrs.url, headers, ignored };
}

function slotRequest(to: string, filename: string, size: number, contentType: string): Element {
  return xml("iq", { type: "get", to }, xml("request", { xmlns: NS_UPLOAD, filename, size: String(size), "content-type": contentType }));
}

interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One HTTP(S) request with the session's TLS settings (--ca, --insecure)
 * and its deadline. A refused or reset connection is the service's failure;
 * a silent one is a timeout ("could not tell").
 */
function httpRequest(
  method: string,
  url: string,
  opts: { headers?: [string, string][]; body?: Buffer; tls: TlsSettings; timeoutMs: number },
): Promise<HttpResponse> {
  const target = new URL(url);
  const secure = target.protocol === "https:";
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of opts.headers ?? []) {
    const prior = headers[name];
    headers[name] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [String(prior)]), value];
  }
  if (opts.body) headers["Content-Length"] = String(opts.body.length);
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = { method, headers, timeout: opts.timeoutMs };
    if (secure) {
      // As for the XMPP connection: the system roots plus the --ca file.
      if (opts.tls.ca) options.ca = [...tls.rootCertificates, opts.tls.ca];
      if (opts.tls.insecure) options.rejectUnauthorized = false;
    }
    const req = (secure ? https : http).request(target, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("timeout", () => {
      req.destroy();
      reject(new SessionError("timeout", "wait", `no HTTP answer to ${method} ${target.origin}${target.pathname} within ${opts.timeoutMs} ms`));
    });
    req.on("error", (err) => {
      reject(err instanceof SessionError ? err : new ScenarioFailure(`an HTTP answer to ${method} ${url}`, err.message));
    });
    req.end(opts.body);
  });
}

const CORS_HEADERS = [
  "access-control-allow-origin",
  "access-control-allow-methods",
  "access-control-allow-headers",
  "access-control-allow-credentials",
];

function corsRows(request: string, res: HttpResponse): string[][] {
  return [
    [request, "status", String(res.status)],
    ...CORS_HEADERS.map((h) => [request, h, String(res.headers[h] ?? "(absent)")]),
  ];
}

export default [
  defineCheck({
    id: "xep0363.advertised",
    spec: spec("3", "disco"),
    level: "INFO",
    requirement:
      "An entity advertises support for this protocol by including the \"urn:xmpp:http:upload:0\" in its service discovery information features as specified in Service Discovery (XEP-0030) or section 6.3 of Entity Capabilities (XEP-0115).",
    title: "An HTTP File Upload service is advertised",
    needs: ["account"],
    run: (ctx) => {
      const outcome = advertisedOutcome("HTTP File Upload", findDiscoFeature(ctx, NS_UPLOAD, ["domain", "components"]));
      const services = componentsWith(ctx, {}).filter((c) => c.features.includes(NS_UPLOAD));
      if (services.length) {
        outcome.evidence.push({
          type: "table",
          title: "Upload services",
          columns: ["service", "max-file-size (bytes)"],
          rows: services.map((s) => [s.jid, findForm(s.forms, FORM_UPLOAD)?.fields["max-file-size"]?.[0] ?? "not announced"]),
        });
      }
      return outcome;
    },
  }),
  defineScenario({
    id: "xep0363.upload-roundtrip",
    spec: spec("7", "upload"),
    level: "MUST",
    requirement: "A HTTP status Code of 201 means that the server is now ready to serve the file via the provided GET URL.",
    title: "HTTP File Upload: a slot is granted, the PUT succeeds and the GET URL serves the same bytes",
    needs: ["account"],
    advertised: uploadAdvertised,
    run: async (s) => {
      const service = pickService(s);
      const alice = await s.login("account");
      const token = s.token();
      const payload = Buffer.from(`xepcheck upload test ${token}\n`, "utf8");
      const contentType = "text/plain";
      const result = await alice.iq(slotRequest(service.jid, `xepcheck-${token}.txt`, payload.length, contentType));
      const slot = parseSlot(result);
      s.ensure(slot, "<slot><put url='…'/><get url='…'/></slot> (§4)", result.toString());
      const { put, get, headers, ignored } = slot!;
      if (ignored.length) s.note(`ignored headers the slot may not ask for (§4): ${ignored.join(", ")}`);
      for (const url of new Set([put, get])) {
        if (!url.startsWith("https:")) s.note(`the slot URL ${url} is not HTTPS (§4: "The host MUST provide Transport Layer Security")`);
      }
      const http = { tls: alice.stream.options.tls, timeoutMs: alice.stream.options.timeoutMs };

      const putRes = await httpRequest("PUT", put, { ...http, headers: [["Content-Type", contentType], ...headers], body: payload });
      s.note(`PUT ${put} → HTTP ${putRes.status}`);
      s.ensure(putRes.status >= 200 && putRes.status < 300, "HTTP 201 Created for the PUT (§7)", `HTTP ${putRes.status}: ${putRes.body.toString("utf8").slice(0, 200)}`);
      const getRes = await httpRequest("GET", get, http);
      s.note(`GET ${get} → HTTP ${getRes.status}, ${getRes.body.length} bytes`);
      s.ensure(getRes.status === 200, "HTTP 200 for the GET URL", `HTTP ${getRes.status}`);
      s.ensure(getRes.body.equals(payload), `the ${payload.length} bytes uploaded`, `${getRes.body.length} bytes: ${JSON.stringify(getRes.body.toString("utf8").slice(0, 80))}`);

      // §8 (information, not a verdict): CORS headers that web clients need.
      const origin = "https://xepcheck.invalid";
      const preflight = await httpRequest("OPTIONS", put, {
        ...http,
        headers: [
          ["Origin", origin],
          ["Access-Control-Request-Method", "PUT"],
          ["Access-Control-Request-Headers", ["content-type", ...headers.map(([n]) => n.toLowerCase())].join(",")],
        ],
      }).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      const withOrigin = await httpRequest("GET", get, { ...http, headers: [["Origin", origin]] }).catch((err: unknown) =>
        err instanceof Error ? err : new Error(String(err)),
      );
      s.evidence.push({
        type: "table",
        title: `CORS headers of the upload service (Origin: ${origin}; §8, information only)`,
        columns: ["request", "header", "value"],
        rows: [
          ...(preflight instanceof Error ? [["OPTIONS (PUT preflight)", "error", preflight.message]] : corsRows("OPTIONS (PUT preflight)", preflight)),
          ...(withOrigin instanceof Error ? [["GET", "error", withOrigin.message]] : corsRows("GET", withOrigin)),
        ],
      });
      s.summary = `uploaded ${payload.length} bytes to ${service.jid} (PUT → HTTP ${putRes.status}) and got the same bytes back from the GET URL`;
    },
  }),
  defineScenario({
    id: "xep0363.file-too-large",
    spec: spec("6", "errors"),
    level: "MAY",
    requirement: "Instead of providing the client with a slot the service MAY respond with an error if the requested file size is too large.",
    title: "HTTP File Upload: a slot larger than the advertised max-file-size is refused with <file-too-large/>",
    needs: ["account"],
    advertised: (ctx) => uploadServices(ctx).some((service) => maxFileSize(service) !== undefined),
    run: async (s) => {
      const service = pickService(s);
      const max = maxFileSize(service);
      if (max === undefined) return s.skip(`${service.jid} announces no max-file-size (§3), so no size is known to be too large`);
      const alice = await s.login("account");
      const size = max + 1;
      let error: Element;
      try {
        const result = await alice.iq(slotRequest(service.jid, `xepcheck-${s.token()}.bin`, size, "application/octet-stream"));
        s.fail(`an error for a ${size}-byte request (max-file-size ${max})`, `a slot: ${result.toString()}`);
      } catch (err) {
        if (!(err instanceof StanzaError)) throw err;
        error = parse(err.stanza);
      }
      const tooLarge = error!.getChild("error")?.getChild("file-too-large", NS_UPLOAD);
      const condition = error!.getChild("error")?.getChildElements().find((c) => c.getNS() === "urn:ietf:params:xml:ns:xmpp-stanzas" && c.getName() !== "text")?.getName();
      s.ensure(tooLarge, `<file-too-large xmlns='${NS_UPLOAD}'/> in the error (§6)`, error!.toString());
      const told = tooLarge!.getChildText("max-file-size");
      if (told !== null) {
        s.ensure(Number(told) === max, `<max-file-size>${max}</max-file-size>, as advertised`, `<max-file-size>${told}</max-file-size>`);
      } else {
        s.note("the error does not repeat the maximum file size (it MAY)");
      }
      s.summary = `a ${size}-byte request was refused with ${condition ?? "an error"} and <file-too-large/>${told !== null ? ` (max-file-size ${told})` : ""}`;
    },
  }),
];
