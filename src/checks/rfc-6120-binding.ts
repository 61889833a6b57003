/**
 * RFC 6120 §7, resource binding: whether <bind/> is offered where it must
 * be (the probe's stream features settle that), and what the server does
 * with the bind requests a client may send, each on a login of its own
 * stopped before binding. A session left bound and clean goes to the pool
 * for the scenarios after it. Each check quotes its row of
 * suites/rfc/rfc6120-6121-server-requirements.csv (`covers`).
 * https://www.rfc-editor.org/rfc/rfc6120#section-7
 */
import { xml, type Element } from "@xmpp/xml";
import parse from "@xmpp/xml/lib/parse.js";
import type { Scenario } from "../scenario/scenario.js";
import { connectOptions } from "../scenario/sasl2.js";
import { SessionError, StanzaError } from "../session/errors.js";
import { NS_BIND, loginWithoutBind, type Session } from "../session/login.js";
import { NS_PING, type XmppStream } from "../session/stream.js";
import type { FeatureSnapshot } from "../facts.js";
import { featuresAt } from "./advertisement.js";
import { rowCheck, rowJudgement } from "./rfc-requirements.js";

/** The probe's features after SASL, or the last ones before it, parsed. */
function featuresOf(snapshots: FeatureSnapshot[], stage: "after-auth" | "before-auth"): Element | undefined {
  const snapshot = featuresAt(snapshots, stage);
  return snapshot ? parse(snapshot.xml) : undefined;
}

/** A login of the account stopped after SASL and the stream restart: authenticated, no resource yet. */
async function unbound(s: Scenario, label: string): Promise<{ stream: XmppStream; login: Omit<Session, "jid" | "openAuthenticated"> }> {
  s.target.meter.add("logins");
  const login = await s.connection(
    "a login stopped before binding",
    () => loginWithoutBind({ ...connectOptions(s, label), credentials: s.credentials("account") }),
    (x) => x.stream,
  );
  s.closeAtEnd(label, login.stream);
  return { stream: login.stream, login };
}

const bindRequest = (resource?: string) =>
  xml("iq", { type: "set" }, xml("bind", { xmlns: NS_BIND }, resource === undefined ? undefined : xml("resource", {}, resource)));

/** The full JID of a bind result, or the stanza error's condition. */
async function bind(stream: XmppStream, resource?: string): Promise<{ jid?: string; condition?: string; answer: string }> {
  try {
    const result = await stream.iq(bindRequest(resource));
    const jid = result.getChild("bind", NS_BIND)?.getChildText("jid") ?? undefined;
    return { ...(jid ? { jid } : {}), answer: result.toString() };
  } catch (err) {
    if (err instanceof StanzaError) return { condition: err.condition, answer: `the error ${err.condition}` };
    throw err;
  }
}

const resourceOf = (jid: string) => jid.slice(jid.indexOf("/") + 1);

/** A session bound by these checks, as after login: handed to the pool. */
function handOver(s: Scenario, stream: XmppStream, jid: string, login: Omit<Session, "jid" | "openAuthenticated">): void {
  stream.jid = jid;
  s.handOver({ ...login, stream, jid });
}

export default [
  rowJudgement("6120/7.4#1", {
    id: "rfc6120.7.4.bind-offered",
    title: "The stream features after SASL offer resource binding",
    also: ["6120/7.2#1"],
    run: (ctx) => {
      const features = featuresOf(ctx.probe.streamFeatures, "after-auth");
      const offered = Boolean(features?.getChild("bind", NS_BIND));
      return {
        verdict: offered ? "pass" : "fail",
        advertised: offered,
        works: null,
        summary: offered ? "<bind/> in the features after SASL" : `no <bind xmlns='${NS_BIND}'/> after SASL: ${features?.toString() ?? "no features recorded"}`,
        evidence: [{ type: "note", text: `features after SASL: ${features?.toString() ?? "none recorded"}` }],
      };
    },
  }),
  rowJudgement("6120/7.4#2", {
    id: "rfc6120.7.4.no-bind-before-auth",
    title: "Resource binding is not offered before authentication",
    run: (ctx) => {
      const features = featuresOf(ctx.probe.streamFeatures, "before-auth");
      const early = Boolean(features?.getChild("bind", NS_BIND));
      return {
        verdict: features ? (early ? "fail" : "pass") : "skip",
        advertised: null,
        works: null,
        summary: !features ? "no features before authentication recorded" : early ? `<bind/> offered before authentication: ${features.toString()}` : "no <bind/> before authentication",
        evidence: [{ type: "note", text: `features before authentication: ${features?.toString() ?? "none recorded"}` }],
      };
    },
  }),
  rowCheck("6120/7.6#1", {
    id: "rfc6120.7.6.generated-resource",
    title: "A bind without a resource gets one the server generates, different for each session",
    also: ["6120/7.6.1#1", "6120/7.5#1", "6120/7.1#1", "6120/7.3.2#1"],
    needs: ["account"],
    run: async (s) => {
      const [a, b] = await Promise.all([unbound(s, "alice/A"), unbound(s, "alice/B")]);
      const [first, second] = await Promise.all([bind(a.stream), bind(b.stream)]);
      for (const got of [first, second]) s.ensure(got.jid && resourceOf(got.jid), "a bind result with a full JID <jid/> (§7.6.1)", got.answer);
      s.ensure(resourceOf(first.jid!) !== resourceOf(second.jid!), "a different resource for each session (§7.5)", `${first.jid} and ${second.jid}`);
      // §7.3.2: no stream restart after binding; the answer to a ping comes on the same stream, with no new features before it.
      const features = a.stream.featureLog.length;
      await a.stream.iq(xml("iq", { type: "get", to: s.domain }, xml("ping", { xmlns: NS_PING }))).catch((err: unknown) => {
        if (!(err instanceof StanzaError)) throw err;
      });
      s.ensure(a.stream.featureLog.length === features, "no new stream features after the bind (§7.3.2: no restart)", a.stream.featureLog.at(-1)?.xml ?? "");
      handOver(s, a.stream, first.jid!, a.login);
      handOver(s, b.stream, second.jid!, b.login);
      s.summary = `two sessions bound ${first.jid} and ${second.jid}, both connected at once`;
    },
  }),
  rowCheck("6120/7.7.1#1", {
    id: "rfc6120.7.7.1.submitted-resource",
    title: "A resource the client submits is accepted as it is",
    also: ["6120/7.7.1#2"],
    needs: ["account"],
    run: async (s) => {
      const { stream, login } = await unbound(s, "alice/A");
      const wanted = s.token("xepcheck-balcony");
      const got = await bind(stream, wanted);
      s.ensure(got.jid, "a bind result with a full JID", got.answer);
      handOver(s, stream, got.jid!, login);
      // MAY (§7.7.1): a server may override it; the SHOULD is to accept it.
      s.ensure(resourceOf(got.jid!) === wanted, `the resource '${wanted}' as submitted`, `'${resourceOf(got.jid!)}'`);
      s.summary = `bound ${got.jid}`;
    },
  }),
  rowCheck("6120/7.7.2.2#1", {
    id: "rfc6120.7.7.2.2.resource-conflict",
    title: "A resource already in use: a generated one instead, a <conflict/> error, or the older session ended with <conflict/>",
    needs: ["account"],
    run: async (s) => {
      const [a, b] = await Promise.all([unbound(s, "alice/A"), unbound(s, "alice/B")]);
      const resource = s.token("xepcheck-twice");
      const first = await bind(a.stream, resource);
      s.ensure(first.jid, "a bind result for the first session", first.answer);
      const second = await bind(b.stream, resource);
      // Is the first session still there? Its ping answers, or its stream ended with <conflict/>.
      let firstEnded: string | undefined;
      await a.stream.iq(xml("iq", { type: "get", to: s.domain }, xml("ping", { xmlns: NS_PING }))).catch((err: unknown) => {
        if (err instanceof StanzaError) return;
        if (err instanceof SessionError) firstEnded = err.condition ?? err.message;
        else throw err;
      });
      if (second.jid && resourceOf(second.jid) !== resource) {
        s.summary = `(1) the second session got a generated resource: ${second.jid}`;
      } else if (second.condition === "conflict") {
        s.summary = "(2) the second bind was refused with <conflict/>";
      } else {
        s.ensure(second.jid && firstEnded === "conflict", "one of §7.7.2.2's three: a generated resource, a <conflict/> error, or the first session ended with <conflict/>", `the second bind: ${second.answer}; the first session: ${firstEnded ?? "still connected"}`);
        s.summary = "(3) the first session was ended with a <conflict/> stream error and the second got the resource";
      }
    },
  }),
  rowCheck("6120/7.1#2", {
    id: "rfc6120.7.1.stanza-before-bind",
    title: "A stanza to someone else after SASL but before binding is refused with <not-authorized/>",
    needs: ["account", "peer"],
    run: async (s) => {
      const { stream } = await unbound(s, "alice/A");
      stream.send(xml("message", { to: s.bareJid("peer"), type: "chat", id: s.token("before-bind") }, xml("body", {}, "before binding")));
      // The bind request after it, which every server answers: an answer shows the server went on (§10.1, in order).
      let ended: SessionError | undefined;
      let answered = "";
      await bind(stream)
        .then((r) => void (answered = r.answer))
        .catch((err: unknown) => {
          if (err instanceof SessionError && err.kind !== "timeout") ended = err;
          else throw err;
        });
      s.ensure(
        ended?.condition === "not-authorized",
        "the stream closed with a <not-authorized/> stream error",
        ended ? ended.message : `the server went on: it answered the bind request sent after the message with ${answered}`,
      );
      s.summary = "the stream was closed with <not-authorized/>";
    },
  }),
];
