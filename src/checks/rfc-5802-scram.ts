/**
 * SASL SCRAM (RFC 5802, RFC 7677) and channel binding (RFC 9266, RFC 5929):
 * the mechanisms a server offers, and a real login with each SCRAM variant
 * it offers, including the -PLUS variants with each channel-binding type it
 * announces in <sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'/> (XEP-0440).
 * https://www.rfc-editor.org/rfc/rfc5802
 *
 * A login proves the variant works only because xepcheck verifies the server
 * signature (v=) of the server-final-message: with -PLUS the signature also
 * covers the channel-binding data, so a server that computed other binding
 * data (or a man in the middle) cannot produce it.
 * No RFC source is shipped with xepcheck: the requirements below are
 * paraphrases of the named sections, marked as such.
 */
import parse from "@xmpp/xml/lib/parse.js";
import type { Scenario } from "../scenario/scenario.js";
import { SessionError } from "../session/errors.js";
import { login, offeredChannelBindings, offeredMechanisms, type Session } from "../session/login.js";
import { sasl2Offer } from "../session/sasl2.js";
import type { ChannelBindingType } from "../session/scram.js";
import { featuresAt } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext, type CheckOutcome, type ScenarioDefinition } from "./types.js";
import { connectOptions, discoAnswered } from "../scenario/sasl2.js";

const rfc = (doc: string, section: string) => ({
  doc,
  version: "",
  section,
  url: `https://www.rfc-editor.org/rfc/${doc.toLowerCase().replace(" ", "")}#section-${section}`,
});

interface Offered {
  sasl: string[];
  sasl2: string[];
  fast: string[];
  /** XEP-0440 types; undefined when the server sends no <sasl-channel-binding/>. */
  bindings?: string[];
  tlsProtocol: string | null | undefined;
}

/** What the server offered before authentication, as the probe recorded it. */
export function offeredAuth(ctx: CheckContext): Offered {
  const snapshot = featuresAt(ctx.probe.streamFeatures, "before-auth");
  const features = snapshot ? parse(snapshot.xml) : undefined;
  const sasl2 = features ? sasl2Offer(features) : undefined;
  const bindings = features ? offeredChannelBindings(features) : undefined;
  return {
    sasl: features ? offeredMechanisms(features) : ctx.probe.sasl.offered,
    sasl2: sasl2?.mechanisms ?? [],
    fast: sasl2?.fast?.mechanisms ?? [],
    ...(bindings ? { bindings } : {}),
    tlsProtocol: ctx.probe.tls?.protocol,
  };
}

const SCRAM = /^SCRAM-SHA-(1|224|256|384|512)(-PLUS)?$/;

function mechanismsOutcome(ctx: CheckContext): CheckOutcome {
  const o = offeredAuth(ctx);
  const all = [...new Set([...o.sasl, ...o.sasl2, ...o.fast])];
  const scram = all.filter((m) => SCRAM.test(m));
  const rows = all.map((m) => [m, o.sasl.includes(m) ? "yes" : "", o.sasl2.includes(m) ? "yes" : "", o.fast.includes(m) ? "yes" : ""]);
  const bindings = o.bindings === undefined ? "not announced (no <sasl-channel-binding/>)" : o.bindings.join(", ") || "none";
  const evidence: CheckOutcome["evidence"] = [
    { type: "table", title: "SASL mechanisms offered before authentication", columns: ["mechanism", "SASL (RFC 6120)", "SASL2 (XEP-0388)", "FAST (XEP-0484)"], rows },
    { type: "note", text: `channel-binding types (XEP-0440): ${bindings}` },
  ];
  if (all.length === 0) {
    return { verdict: "na", advertised: false, works: null, summary: "no SASL mechanisms were recorded before authentication", evidence };
  }
  const summary = `offers ${o.sasl.join(", ") || "no RFC 6120 SASL"}` + (o.sasl2.length ? `; SASL2: ${o.sasl2.join(", ")}` : "") +
    (o.fast.length ? `; FAST: ${o.fast.join(", ")}` : "") + `; channel bindings: ${bindings}`;
  return {
    verdict: scram.length > 0 ? "pass" : "warn",
    advertised: true,
    works: null,
    summary: scram.length > 0 ? summary : `no SCRAM mechanism offered (RFC 6120 §13.8 makes SCRAM-SHA-1 mandatory): ${summary}`,
    evidence,
  };
}

/** Logs in with `mechanism` over RFC 6120 SASL (and, for -PLUS, `binding`); closed when the scenario ends. */
async function loginWith(s: Scenario, mechanism: string, binding?: ChannelBindingType): Promise<Session> {
  const label = `alice (${mechanism}${binding ? ` ${binding}` : ""})`;
  s.target.meter.add("logins");
  let session: Session;
  try {
    session = await s.connection(
      `a ${mechanism} login`,
      () =>
        login({
          ...connectOptions(s, label),
          credentials: s.credentials("account"),
          mechanisms: [mechanism],
          ...(binding ? { channelBinding: binding } : {}),
          resource: `xepcheck-${s.token("r")}`,
        }),
      (x) => x.stream,
    );
  } catch (err) {
    if (err instanceof SessionError && err.kind === "auth") s.fail(`a successful ${mechanism} login${binding ? ` with ${binding}` : ""}`, err.message);
    throw err;
  }
  s.closeAtEnd(label, session.stream);
  return session;
}

function scramScenario(opts: { mechanism: string; level: ScenarioDefinition["level"]; spec: ScenarioDefinition["spec"]; requirement: string }): ScenarioDefinition {
  const { mechanism } = opts;
  return defineScenario({
    id: `rfc5802.${mechanism.toLowerCase()}`,
    spec: opts.spec,
    level: opts.level,
    requirement: opts.requirement,
    title: `${mechanism}: a login succeeds and the server signature verifies`,
    needs: ["account"],
    advertised: (ctx) => offeredAuth(ctx).sasl.includes(mechanism),
    run: async (s) => {
      const offered = offeredAuth(s.ctx).sasl;
      if (!offered.includes(mechanism)) s.fail(`${mechanism} among the SASL mechanisms`, offered.join(", ") || "none");
      const session = await loginWith(s, mechanism);
      await discoAnswered(s, session.stream);
      s.handOver(session); // as after login: the next scenario needs no login of its own
      s.summary = `logged in as ${session.jid} with ${mechanism}; the server signature verified and disco#info was answered`;
    },
  });
}

const PLUS = ["SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-512-PLUS"];

function bindingAdvertised(ctx: CheckContext, type: ChannelBindingType): boolean {
  const o = offeredAuth(ctx);
  if (!o.sasl.some((m) => PLUS.includes(m))) return false;
  // Without XEP-0440 the type is the TLS version's default (RFC 9266 §3, RFC 5802 §6).
  if (o.bindings === undefined) return o.tlsProtocol === "TLSv1.3" ? type === "tls-exporter" : type === "tls-unique";
  return o.bindings.includes(type);
}

function bindingScenario(opts: {
  type: ChannelBindingType;
  level: ScenarioDefinition["level"];
  spec: ScenarioDefinition["spec"];
  requirement: string;
}): ScenarioDefinition {
  const { type } = opts;
  return defineScenario({
    id: `rfc5802.plus-${type}`,
    spec: opts.spec,
    level: opts.level,
    requirement: opts.requirement,
    title: `SCRAM -PLUS with ${type} channel binding: every -PLUS variant offered logs in`,
    needs: ["account"],
    advertised: (ctx) => bindingAdvertised(ctx, type),
    run: async (s) => {
      const o = offeredAuth(s.ctx);
      const plus = PLUS.filter((m) => o.sasl.includes(m));
      if (plus.length === 0) s.fail("a SCRAM -PLUS mechanism among the SASL mechanisms", o.sasl.join(", ") || "none");
      if (!bindingAdvertised(s.ctx, type)) {
        s.fail(
          `${type} among the channel-binding types the server announces (XEP-0440)`,
          o.bindings === undefined ? "no <sasl-channel-binding/> announcement, and not the default for this TLS version" : o.bindings.join(", ") || "none",
        );
      }
      if (type === "tls-unique" && o.tlsProtocol === "TLSv1.3") s.skip("tls-unique is not defined for TLS 1.3 (RFC 8446 §C.5)");
      const rows: string[][] = [];
      for (const [i, mechanism] of plus.entries()) {
        const session = await loginWith(s, mechanism, type);
        rows.push([mechanism, type, session.jid, "server signature verified"]);
        // The last one, as after login, is the next scenario's: it needs no login of its own.
        if (i === plus.length - 1) s.handOver(session);
        else await session.stream.close();
      }
      s.evidence.push({ type: "table", title: `-PLUS logins with ${type}`, columns: ["mechanism", "channel binding", "bound JID", "result"], rows });
      s.summary = `${plus.join(", ")} with ${type}: each login succeeded and the server signature over the channel binding verified`;
    },
  });
}

export default [
  defineCheck({
    id: "rfc5802.mechanisms",
    spec: { doc: "RFC 6120", version: "", section: "13.8", url: "https://www.rfc-editor.org/rfc/rfc6120#section-13.8" },
    level: "INFO",
    requirement:
      "(paraphrase of RFC 6120 §6.4.1 and §13.8) The server lists the SASL mechanisms it offers in its stream features; servers support SCRAM (RFC 5802), in particular SCRAM-SHA-1 and SCRAM-SHA-1-PLUS.",
    title: "SASL mechanisms and channel-binding types offered",
    needs: ["account"],
    run: mechanismsOutcome,
  }),
  scramScenario({
    mechanism: "SCRAM-SHA-1",
    level: "MUST",
    spec: rfc("RFC 5802", "5"),
    requirement:
      "(paraphrase of RFC 5802 §5 and RFC 6120 §13.8) The server supports SCRAM-SHA-1: after the client's proof it sends the server-final-message with its ServerSignature, which proves it knows the password.",
  }),
  scramScenario({
    mechanism: "SCRAM-SHA-256",
    level: "SHOULD",
    spec: rfc("RFC 7677", "3"),
    requirement:
      "(paraphrase of RFC 7677 §3) SCRAM-SHA-256 is SCRAM (RFC 5802) with SHA-256 as the hash function and HMAC-SHA-256 as the HMAC; the server proves it knows the password with its ServerSignature.",
  }),
  scramScenario({
    mechanism: "SCRAM-SHA-512",
    level: "MAY",
    spec: rfc("RFC 5802", "5"),
    requirement:
      "(paraphrase of RFC 5802 §5, with SHA-512 as in draft-melnikov-scram-sha-512) SCRAM-SHA-512 is SCRAM with SHA-512 and HMAC-SHA-512; the server proves it knows the password with its ServerSignature.",
  }),
  bindingScenario({
    type: "tls-exporter",
    level: "SHOULD",
    spec: rfc("RFC 9266", "2"),
    requirement:
      "(paraphrase of RFC 9266 §2–3 and RFC 5802 §6) With TLS 1.3, SCRAM's -PLUS variants bind to the 'tls-exporter' channel binding: 32 bytes of keying material exported with the label \"EXPORTER-Channel-Binding\" and an empty context, sent in the client-final-message's c= attribute after the gs2 header p=tls-exporter; the server checks them before it answers.",
  }),
  bindingScenario({
    type: "tls-server-end-point",
    level: "MAY",
    spec: rfc("RFC 5929", "4.1"),
    requirement:
      "(paraphrase of RFC 5929 §4.1 and RFC 5802 §6) The 'tls-server-end-point' channel binding is the hash of the server's TLS certificate, with the hash function of its signature algorithm (SHA-256 when that is MD5 or SHA-1), sent after the gs2 header p=tls-server-end-point; the server checks it before it answers.",
  }),
  bindingScenario({
    type: "tls-unique",
    level: "MAY",
    spec: rfc("RFC 5929", "3.1"),
    requirement:
      "(paraphrase of RFC 5929 §3.1 and RFC 5802 §6) Before TLS 1.3, the default 'tls-unique' channel binding is the first Finished message of the TLS handshake, sent after the gs2 header p=tls-unique; the server checks it before it answers.",
  }),
];
