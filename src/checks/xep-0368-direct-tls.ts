/**
 * XEP-0368: SRV records for XMPP over TLS ("direct TLS")
 * https://xmpp.org/extensions/xep-0368.html
 *
 * One live scenario: is direct TLS advertised by _xmpps-client SRV records,
 * and does a login there work (TLS from the first byte with SNI = the
 * domain and ALPN xmpp-client, stream features over TLS, SASL, bind, ping)?
 * Where it connects: --direct-tls-port on --host; else the _xmpps-client
 * SRV targets; else, when the run itself uses direct TLS, its endpoint.
 */
import { xml } from "@xmpp/xml";
import { SessionError } from "../session/errors.js";
import { login, type Session } from "../session/login.js";
import { lookupSrv, resolveEndpoints, type Endpoint, type SrvAnswer } from "../session/resolve.js";
import { NS_PING, NS_TLS } from "../session/stream.js";
import { TrafficMeter } from "../session/traffic.js";
import { tlsFactRows } from "../session/tls-facts.js";
import { certificateProblems } from "../session/tls-facts.js";
import { endpointOf, type Scenario } from "../scenario/scenario.js";
import { defineScenario } from "./types.js";

const SERVICE = "_xmpps-client._tcp";

function describeAnswer(answer: SrvAnswer): string {
  switch (answer.status) {
    case "records":
      return `${answer.query}: ${answer.records.map((r) => `${r.name}:${r.port} (priority ${r.priority}, weight ${r.weight})`).join(", ")}`;
    case "none":
      return `${answer.query}: no such record${answer.code ? ` (${answer.code})` : ""}`;
    case "not-offered":
      return `${answer.query}: target "." (direct TLS is not offered)`;
    case "error":
      return `${answer.query}: lookup failed (${answer.message})`;
  }
}

/** Where to try direct TLS, and how that was decided; fails (not offered) or skips when there is nowhere. */
async function directEndpoints(s: Scenario, answer: SrvAnswer | undefined): Promise<{ endpoints: Endpoint[]; how: string }> {
  const t = s.target;
  if (t.directTlsPort) return { endpoints: [{ host: t.host, port: t.directTlsPort, source: "configured" }], how: `--direct-tls-port on ${t.host}` };
  if (answer?.status === "records") {
    return { endpoints: await resolveEndpoints(s.domain, "direct", {}, { dns: t.dns, timeoutMs: t.timeoutMs }), how: `the ${SERVICE} SRV records` };
  }
  if (t.mode === "direct") {
    return { endpoints: [{ host: t.host, port: t.port, source: t.configuredHost ? "configured" : "srv" }], how: "the run's own direct TLS endpoint" };
  }
  if (answer?.status === "not-offered") return s.fail("a direct TLS service (XEP-0368 §3)", `${answer.query} has the target ".": direct TLS is not offered`);
  if (answer?.status === "none") return s.fail(`${SERVICE} SRV records pointing at a direct TLS port`, `${answer.query} has no SRV record`);
  if (answer?.status === "error") throw new SessionError("network", "dns", `the SRV lookup of ${answer.query} failed: ${answer.message}`);
  return s.skip(
    "this run uses --host without --dns, so no _xmpps-client SRV record was looked up: give --direct-tls-port PORT " +
      "(the direct TLS port on that host), or --dns, or leave out --host",
  );
}

export default [
  defineScenario({
    id: "xep0368.direct-tls",
    spec: { doc: "XEP-0368", version: "1.1.0", section: "3", url: "https://xmpp.org/extensions/xep-0368.html#reqs" },
    level: "MUST",
    requirement: "Where 'service' starts with 'xmpps-' the client or server MUST connect with direct TLS enabled.",
    title: "Clients can log in with direct TLS",
    needs: ["account"],
    // Direct TLS is advertised by DNS, which the scenario asks (s.advertised); nothing in the probe says it.
    advertised: () => null,
    // Its login is the login-cost table's direct TLS row.
    measuresLogin: ["directTls"],
    run: async (s) => {
      const t = s.target;
      const domain = s.domain;
      // 1. What DNS says (not asked when --host was given without --dns: the
      //    public DNS of a test domain says nothing about the host under test).
      let answer: SrvAnswer | undefined;
      if (!t.configuredHost || t.dns) {
        answer = await lookupSrv(domain, SERVICE, { dns: t.dns, timeoutMs: t.timeoutMs });
        s.note(`DNS${t.dns ? ` (server ${t.dns})` : ""}: ${describeAnswer(answer)}`);
        if (answer.status !== "error") s.advertised = answer.status === "records";
      } else {
        s.note("DNS not asked: the run uses --host without --dns");
      }

      // 2. Where to connect.
      const { endpoints, how } = await directEndpoints(s, answer);
      s.note(`direct TLS endpoints from ${how}: ${endpoints.map((e) => `${e.host}:${e.port}${e.name ? ` (${e.name})` : ""}`).join(", ")}`);

      // 3. Log in there: TLS from the first byte, SNI and ALPN, features, SASL, bind.
      const credentials = s.credentials("account");
      const meter = new TrafficMeter(t.meter);
      let session: Session | undefined;
      let used: Endpoint | undefined;
      let lastError: SessionError | undefined;
      for (const endpoint of endpoints) {
        try {
          session = await s.connection(
            "a direct TLS login",
            () =>
              login({
                ...endpointOf(t),
                host: endpoint.host,
                port: endpoint.port,
                mode: "direct",
                meter,
                transcript: s.transcript,
                credentials,
                resource: `xepcheck-${s.token("r")}`,
              }),
            (x) => x.stream,
          );
          used = endpoint;
          break;
        } catch (err) {
          if (!(err instanceof SessionError)) throw err;
          lastError = err;
          // Only an unreachable endpoint makes the next one worth trying (RFC 6120 §3.2.1).
          if (err.step !== "tcp-connect") break;
        }
      }
      if (!session || !used) {
        const err = lastError!;
        if (err.kind === "timeout") throw err; // could not tell
        if (err.kind === "tls") return s.fail("a TLS handshake with a certificate validated as for STARTTLS (XEP-0368 §3)", err.message);
        if (err.step === "tcp-connect") return s.fail(`a direct TLS listener at ${endpoints.map((e) => `${e.host}:${e.port}`).join(", ")}`, err.message);
        return s.fail("a login over direct TLS", `${err.step}: ${err.message}`);
      }
      meter.add("logins");
      const stream = session.stream;
      s.loginCost("directTls", stream, `${session.mechanism} on port ${used.port}`);
      stream.useTranscript(s.transcript, `${credentials.username}/direct-tls`);
      try {
        const loginRoundTrips = meter.roundTrips;
        const info = stream.tlsInfo;
        s.ensure(info, "a TLS-protected stream from the first byte", "no TLS on the stream");
        s.evidence.push({ type: "table", title: `TLS of the direct TLS connection to ${used.host}:${used.port}`, columns: ["fact", "value"], rows: tlsFactRows(info!) });
        s.note(
          `TLS from the first byte: ${info!.protocol ?? "?"}, ${info!.cipher}; SNI ${info!.servername ?? "none"}; ` +
            `ALPN offered xmpp-client, negotiated ${info!.alpn ? String(info!.alpn) : "none"}`,
        );
        const problems = certificateProblems(info!, domain);
        if (problems.length > 0) s.note(`certificate of the direct TLS port: ${problems.join("; ")} (the login went on only because verification was off; rfc7590.certificate judges certificates)`);
        s.ensure(info!.servername === domain, `SNI set to the domain ${domain} (XEP-0368 §3)`, `SNI ${info!.servername ?? "none"}`);
        s.ensure(
          !info!.alpn || info!.alpn === "xmpp-client",
          "ALPN xmpp-client, or none (the server need not answer ALPN)",
          `the server chose the ALPN protocol ${String(info!.alpn)}`,
        );
        const first = stream.featureLog[0];
        s.ensure(first && first.stage === "initial", "stream features on the TLS stream", "none");
        if (first && first.xml.includes(NS_TLS)) s.note("the server offered STARTTLS on a direct TLS stream (XEP-0368 §3: STARTTLS MUST NOT be used there)");
        s.ensure(session.jid.split("/")[0] === `${credentials.username}@${domain}`, `a bound JID ${credentials.username}@${domain}/…`, session.jid);
        await stream.iq(xml("iq", { type: "get", to: domain }, xml("ping", { xmlns: NS_PING })));
        s.evidence.push({
          type: "table",
          title: "cost of the direct TLS login",
          columns: ["round trips", "bytes out", "bytes in"],
          rows: [[String(loginRoundTrips), String(meter.bytesOut), String(meter.bytesIn)]],
        });
        s.note(`direct TLS login: ${loginRoundTrips} round trips (TCP, TLS, stream, SASL, restart, bind)`);
        const srv = answer ? (answer.status === "records" ? `advertised by ${answer.records.length} ${SERVICE} SRV record(s)` : `not advertised in DNS (${answer.status})`) : "DNS not asked";
        s.summary =
          `logged in over direct TLS at ${used.host}:${used.port} as ${session.jid} ` +
          `(${info!.protocol ?? "?"}, ALPN ${info!.alpn ? String(info!.alpn) : "not negotiated"}, ${loginRoundTrips} round trips; ${srv})`;
        s.handOver(session); // as after login (a ping is all it was asked): the next scenario needs no login of its own
      } finally {
        s.closeAtEnd("the direct TLS session", stream);
      }
    },
  }),
];
