/**
 * XEP-0368: SRV records for XMPP over TLS ("direct TLS")
 * https://xmpp.org/extensions/xep-0368.html
 */
import { notDeterminedYet } from "./advertisement.js";
import { defineCheck } from "./types.js";

export default [
  defineCheck({
    id: "xep0368.direct-tls",
    spec: { doc: "XEP-0368", version: "1.1.0", section: "3", url: "https://xmpp.org/extensions/xep-0368.html#reqs" },
    level: "MUST",
    requirement: "When ALPN is used, the ALPN protocol MUST be 'xmpp-client', where the SRV service is 'xmpps-client'.",
    title: "Clients can connect with direct TLS",
    needs: ["account"],
    run: (ctx) => {
      if (ctx.tlsMode !== "direct") {
        return notDeterminedYet("direct TLS is shown by a direct TLS login; run with --tls direct (SRV discovery of it comes later)");
      }
      const alpn = ctx.probe.tls?.alpn;
      return {
        verdict: "pass",
        advertised: null,
        works: true,
        summary: `logged in over direct TLS (${ctx.probe.tls?.protocol ?? "?"}${alpn ? `, ALPN ${alpn}` : ", no ALPN negotiated"})`,
        evidence: [{ type: "note", text: `TLS from the first byte; ALPN offered: xmpp-client; negotiated: ${alpn || "none"}` }],
      };
    },
  }),
];
