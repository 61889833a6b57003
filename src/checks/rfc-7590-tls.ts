/**
 * RFC 7590: Use of TLS in XMPP
 * https://www.rfc-editor.org/rfc/rfc7590
 *
 * Judged from the TLS facts of the main session (ctx.probe.tls, recorded by
 * src/session/tls-facts.ts), and one live probe: authentication is refused
 * before TLS. No RFC source is shipped with xepcheck: the requirements are
 * paraphrases of the named sections, marked as such.
 *
 * Under --insecure the run goes on with a certificate that did not verify;
 * these checks still report it (fail), they never hide it.
 */
import { xml, type Element } from "@xmpp/xml";
import { NS_SASL, offeredMechanisms } from "../session/login.js";
import { NS_STREAM, NS_TLS } from "../session/stream.js";
import { certificateProblems, matchKind, tlsFactRows, type TlsInfo } from "../session/tls-facts.js";
import { defineCheck, defineScenario, type CheckContext, type CheckOutcome, type Evidence } from "./types.js";

const rfc = (section: string) => ({
  doc: "RFC 7590",
  version: "",
  section,
  url: `https://www.rfc-editor.org/rfc/rfc7590#section-${section}`,
});

/** A certificate expiring sooner than this many days gets a warning. */
export const EXPIRY_WARNING_DAYS = 14;

/** TLS versions below 1.2 (RFC 7525 §3.1.1). */
const OLD_PROTOCOLS = new Set(["SSLv2", "SSLv3", "TLSv1", "TLSv1.1"]);

function facts(info: TlsInfo): Evidence {
  return { type: "table", title: "TLS facts of the main session", columns: ["fact", "value"], rows: tlsFactRows(info) };
}

function outcome(verdict: CheckOutcome["verdict"], summary: string, info: TlsInfo, extra: Evidence[] = []): CheckOutcome {
  return {
    verdict,
    advertised: null,
    works: verdict === "pass" || verdict === "warn" ? true : verdict === "fail" ? false : null,
    summary,
    evidence: [...extra, facts(info)],
  };
}

function noTls(ctx: CheckContext): CheckOutcome | undefined {
  if (ctx.probe.tls) return undefined;
  return {
    verdict: "skip",
    advertised: null,
    works: null,
    summary: "the main session recorded no TLS facts (its transport does not expose the TLS connection)",
    evidence: [],
  };
}

export default [
  defineCheck({
    id: "rfc7590.tls-version",
    spec: rfc("3.1"),
    level: "MUST",
    requirement:
      "(paraphrase of RFC 7590 §3.1, which applies RFC 7525 to XMPP; RFC 7525 §3.1.1) TLS 1.2 or later is negotiated; SSL, TLS 1.0 and TLS 1.1 are not.",
    title: "TLS 1.2 or later is negotiated",
    needs: ["account"],
    run: (ctx) => {
      const skipped = noTls(ctx);
      if (skipped) return skipped;
      const info = ctx.probe.tls!;
      const protocol = info.protocol ?? "unknown";
      if (OLD_PROTOCOLS.has(protocol)) return outcome("fail", `negotiated ${protocol} (${info.cipher}): older than TLS 1.2`, info);
      if (protocol !== "TLSv1.2" && protocol !== "TLSv1.3") return outcome("error", `could not tell the TLS version (${protocol})`, info);
      return outcome("pass", `negotiated ${protocol} with ${info.cipher}`, info);
    },
  }),
  defineCheck({
    id: "rfc7590.certificate",
    spec: rfc("3.4"),
    level: "MUST",
    requirement:
      "(paraphrase of RFC 7590 §3.4 with RFC 6120 §13.7.2 and RFC 6125) The server presents a certificate that chains to a trusted root, is within its validity period, and identifies the XMPP domain by a DNS-ID, an SRV-ID (_xmpp-client) or an XmppAddr.",
    title: "The certificate is valid for the XMPP domain",
    needs: ["account"],
    run: (ctx) => {
      const skipped = noTls(ctx);
      if (skipped) return skipped;
      const info = ctx.probe.tls!;
      const problems = certificateProblems(info, ctx.domain);
      if (problems.length > 0) {
        const insecure: Evidence[] = info.authorized
          ? []
          : [{ type: "note", text: "the run went on only because certificate verification was off (--insecure); a client that verifies refuses this server" }];
        return outcome("fail", problems.join("; "), info, insecure);
      }
      const m = info.domainMatch!;
      const days = info.peerCertificate?.daysUntilExpiry;
      return outcome(
        "pass",
        `the chain verified and the certificate is valid for ${m.domain} by ${matchKind(m.by)} ${m.name}` +
          (days !== undefined ? ` (expires in ${days} days)` : ""),
        info,
      );
    },
  }),
  defineCheck({
    id: "rfc7590.certificate-expiry",
    spec: rfc("3.4"),
    level: "SHOULD",
    requirement: `(paraphrase of RFC 7590 §3.4 with RFC 5280 §4.1.2.5; the ${EXPIRY_WARNING_DAYS}-day margin is xepcheck's) The certificate is within its validity period, and is renewed well before it ends: one that expires within ${EXPIRY_WARNING_DAYS} days gets a warning.`,
    title: `The certificate does not expire within ${EXPIRY_WARNING_DAYS} days`,
    needs: ["account"],
    run: (ctx) => {
      const skipped = noTls(ctx);
      if (skipped) return skipped;
      const info = ctx.probe.tls!;
      const cert = info.peerCertificate;
      if (!cert || cert.daysUntilExpiry === undefined) return outcome("error", "the certificate's expiry date could not be read", info);
      const days = cert.daysUntilExpiry;
      if (info.authorizationError === "CERT_NOT_YET_VALID") return outcome("fail", `the certificate is not valid before ${cert.validFrom}`, info);
      if (days < 0) {
        const ago = Math.max(0, Math.floor((Date.now() - Date.parse(cert.validTo)) / 86_400_000));
        return outcome("fail", `the certificate expired ${ago} day(s) ago (${cert.validTo})`, info);
      }
      if (days < EXPIRY_WARNING_DAYS) return outcome("warn", `the certificate expires in ${days} day(s) (${cert.validTo}): renew it`, info);
      return outcome("pass", `the certificate expires in ${days} days (${cert.validTo})`, info);
    },
  }),
  defineScenario({
    id: "rfc7590.tls-required",
    spec: rfc("3.1"),
    level: "MUST",
    requirement:
      "(paraphrase of RFC 7590 §3.1 with RFC 6120 §5.3.1, §6.4.1 and §13.9.4) The server requires TLS on client streams: it offers no SASL mechanism and accepts no authentication before TLS is negotiated.",
    title: "Authentication is refused without TLS",
    needs: [],
    advertised: () => null,
    run: async (s) => {
      if (s.target.mode === "direct") s.skip("this run uses direct TLS: that port has TLS from the first byte; the STARTTLS port is tested by runs with --tls starttls");
      const stream = await s.rawStream("plain");
      s.ensure(!stream.isSecure, "a plain (not yet TLS) stream", "the stream is already TLS-protected");
      const features: Element = stream.features;
      const starttls = features.getChild("starttls", NS_TLS);
      s.ensure(starttls, "<starttls/> in the first stream features", features.toString());
      const mechanisms = offeredMechanisms(features);
      s.note(`before TLS: <starttls/>${starttls?.getChild("required") ? " with <required/>" : ""}; SASL mechanisms offered: ${mechanisms.join(", ") || "none"}`);
      s.ensure(mechanisms.length === 0, "no SASL mechanism offered before TLS", `offered before TLS: ${mechanisms.join(", ")}`);
      // Credentials that exist nowhere: nothing real ever goes out in the clear.
      const bogus = Buffer.from(`\0${s.token("nobody")}\0${s.token("nothing")}`).toString("base64");
      const answer = await stream
        .request(xml("auth", { xmlns: NS_SASL, mechanism: "PLAIN" }, bogus), (el) => el.getNS() === NS_SASL || el.is("error", NS_STREAM), "sasl")
        .catch((err: Error) => err);
      if (answer instanceof Error) {
        s.summary = `no SASL before TLS; an authentication attempt without TLS ended the stream (${answer.message})`;
        return;
      }
      s.ensure(!answer.is("success"), "authentication refused without TLS", answer.toString());
      const condition = answer.getChildElements()[0]?.getName() ?? answer.getName();
      s.summary = `no SASL mechanism before TLS; authentication without TLS refused with <${condition}/>`;
    },
  }),
];
