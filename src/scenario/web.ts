/**
 * What the web scenarios (RFC 7395 WebSocket, XEP-0206 BOSH, XEP-0156
 * host-meta) share: where the endpoints are (--url, else host-meta, asked
 * once per run), logins over WebSocket or BOSH recorded in the scenario's
 * transcript, and the facts they leave in the report.
 */
import { xml, type Element } from "@xmpp/xml";
import type { Evidence } from "../checks/types.js";
import { hostMetaOffered, linksOf, served, webDiscovery, type WebDiscovery, type WebEndpoint } from "../probe/host-meta.js";
import { SessionError } from "../session/errors.js";
import { login, type Session } from "../session/login.js";
import { XmppStream } from "../session/stream.js";
import type { TrafficTotals } from "../session/traffic.js";
import { endpointOf, type Scenario } from "./scenario.js";

export type WebTransport = "websocket" | "bosh";

export const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";

export function transportName(kind: WebTransport): string {
  return kind === "websocket" ? "WebSocket" : "BOSH";
}

/** Host-meta of the run's domain (fetched once per run, shared by all web scenarios). */
export function discovery(s: Scenario): Promise<WebDiscovery> {
  return webDiscovery(s.target);
}

/**
 * The endpoint of `kind`. Without one: not offered (na) when the domain's
 * origin serves no host-meta or a host-meta that lists none, since that is
 * where a server advertises it (XEP-0156); a skip saying why when host-meta
 * could not be read (TLS, no answer).
 */
export async function endpointFor(s: Scenario, kind: WebTransport): Promise<{ endpoint: WebEndpoint; found: WebDiscovery }> {
  const found = await discovery(s);
  const endpoint = found[kind];
  if (!endpoint) {
    const asked = found.asked.map((a) => `${a.url}${a.connectedTo ? ` at ${a.connectedTo}` : ""}: ${a.result}`).join("; ");
    const example = kind === "websocket" ? "wss://…" : "https://…";
    if (hostMetaOffered(found.hostMeta) === null) {
      s.skip(`no ${transportName(kind)} endpoint is known: no --url, and host-meta (XEP-0156) could not be read (${asked}); give --url ${example}`);
    }
    s.advertised = false;
    s.fail(`a ${transportName(kind)} endpoint listed in host-meta (XEP-0156), or given with --url ${example}`, `none: ${asked}`);
  }
  s.note(
    `${transportName(kind)} endpoint ${endpoint.url} (from ${endpoint.source}${endpoint.connectHost ? `; connected at ${endpoint.connectHost}, as --host says` : ""})`,
  );
  return { endpoint, found };
}

/** Does host-meta list `kind`? null when no host-meta document was served (nothing could say). */
export function hostMetaLists(found: WebDiscovery, kind: WebTransport): boolean | null {
  if (!served(found.hostMeta.xrd) && !served(found.hostMeta.jrd)) return null;
  return linksOf(found.hostMeta, kind).length > 0;
}

function streamOptions(s: Scenario, kind: WebTransport, endpoint: WebEndpoint) {
  return {
    ...endpointOf(s.target),
    meter: s.target.meter,
    transcript: s.transcript,
    transport: kind,
    url: endpoint.url,
    ...(endpoint.connectHost ? { connectHost: endpoint.connectHost } : {}),
  };
}

/**
 * A failure to connect or log in at an endpoint the server names is the
 * server's failure; a timeout stays "could not tell".
 */
function asFailure(s: Scenario, what: string, err: unknown): never {
  if (err instanceof SessionError && err.kind !== "timeout") s.fail(what, err.message);
  throw err;
}

/** Logs in the account over WebSocket or BOSH; closed when the scenario ends. */
export async function webLogin(s: Scenario, kind: WebTransport, endpoint: WebEndpoint, name = "A"): Promise<Session> {
  const credentials = s.credentials("account");
  let session: Session;
  try {
    session = await s.connection(
      `a login over ${transportName(kind)}`,
      () => login({ ...streamOptions(s, kind, endpoint), credentials, resource: `xepcheck-${s.token("r")}` }),
      (x) => x.stream,
    );
  } catch (err) {
    asFailure(s, `a login over ${transportName(kind)} at ${endpoint.url}`, err);
  }
  s.target.meter.add("logins");
  const label = `${credentials.username}/${name}`;
  session.stream.useTranscript(s.transcript, label);
  s.note(`${label} logged in over ${transportName(kind)} as ${session.jid} with ${session.mechanism}`);
  s.cleanup(`close the ${transportName(kind)} session`, () => session.stream.close());
  return session;
}

/** Opens a stream over WebSocket or BOSH without logging in (stream header and features only). */
export async function webStream(s: Scenario, kind: WebTransport, endpoint: WebEndpoint, label = "raw"): Promise<XmppStream> {
  let stream: XmppStream;
  try {
    stream = await s.connection(`a stream over ${transportName(kind)}`, () => XmppStream.open(streamOptions(s, kind, endpoint)), (x) => x);
  } catch (err) {
    asFailure(s, `an XMPP stream over ${transportName(kind)} at ${endpoint.url}`, err);
  }
  stream.useTranscript(s.transcript, label);
  s.cleanup(`close the ${transportName(kind)} stream`, () => stream.close());
  return stream;
}

/** disco#info of the domain over the session: the server's identity and features. */
export async function discoDomain(s: Scenario, session: Session): Promise<Element> {
  const result = await session.stream.iq(xml("iq", { type: "get", to: s.domain }, xml("query", { xmlns: NS_DISCO_INFO })));
  const query = result.getChild("query", NS_DISCO_INFO);
  s.ensure(query, `a disco#info <query/> from ${s.domain}`, result.toString());
  s.ensure(
    query!.getChildren("identity").some((i) => i.attrs.category === "server"),
    `an identity of category 'server' in the disco#info of ${s.domain} (XEP-0030)`,
    query!.toString(),
  );
  return query!;
}

/** What the login cost, from the stream's own meter. */
export function costText(t: TrafficTotals): string {
  return `${t.roundTrips} round trips, ${t.bytesOut} bytes out, ${t.bytesIn} bytes in`;
}

export function table(title: string, columns: string[], rows: string[][]): Evidence {
  return { type: "table", title, columns, rows };
}

export function corsRows(where: string, cors: Record<string, string> | undefined): string[][] {
  const entries = Object.entries(cors ?? {});
  return entries.length ? entries.map(([name, value]) => [where, name, value]) : [[where, "(no Access-Control-* header)", ""]];
}
