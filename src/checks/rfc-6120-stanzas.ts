/**
 * RFC 6120 §8, XML stanzas: the rules for 'from', 'id' and 'type', what an
 * iq must hold, how errors look, and that what a server does not
 * understand is routed untouched. Each check uses sessions from the pool
 * (no login of its own) and quotes its row of
 * suites/rfc/rfc6120-6121-server-requirements.csv (`covers`).
 * "Nothing came back" is proven by a ping after it: its answer comes after
 * anything the server sent in reply to what came before (§10.1, in order).
 * https://www.rfc-editor.org/rfc/rfc6120#section-8
 */
import { xml, type Element } from "@xmpp/xml";
import parse from "@xmpp/xml/lib/parse.js";
import { withBody, type Actor } from "../scenario/actor.js";
import type { Scenario } from "../scenario/scenario.js";
import { SessionError } from "../session/errors.js";
import { NS_PING, NS_STANZAS } from "../session/stream.js";
import { canonical } from "../xmpp/xml.js";
import { rowCheck } from "./rfc-requirements.js";

/** The stanza error conditions of RFC 6120 §8.3.3 and their types (§8.3.2). */
const CONDITIONS = new Set([
  "bad-request", "conflict", "feature-not-implemented", "forbidden", "gone", "internal-server-error", "item-not-found", "jid-malformed",
  "not-acceptable", "not-allowed", "not-authorized", "policy-violation", "recipient-unavailable", "redirect", "registration-required",
  "remote-server-not-found", "remote-server-timeout", "resource-constraint", "service-unavailable", "subscription-required",
  "undefined-condition", "unexpected-request",
]);
const ERROR_TYPES = new Set(["auth", "cancel", "continue", "modify", "wait"]);

/**
 * Sends `raw` (XML text, so that it can break the rules) on the actor's
 * stream and returns the iq answering it (matched by id alone, whoever it
 * is from). A ping follows it: no answer before the ping's is no answer at
 * all (§10.1, in order), without waiting for a deadline.
 */
async function ask(s: Scenario, actor: Actor, raw: string, id: string): Promise<Element> {
  let got: Element | undefined;
  actor.stream
    .waitFor((r) => r.is("iq") && r.attrs.id === id, "wait", { timeoutMs: s.target.timeoutMs })
    .then((el) => void (got = el))
    .catch(() => {});
  actor.send(parse(raw));
  await actor.barrier();
  if (!got) s.fail(`an answer to ${raw.length > 120 ? `${raw.slice(0, 120)}…` : raw}`, "none before the answer to a ping sent after it");
  return got!;
}

/** What is wrong with an error stanza's <error/> (§8.3.2), or undefined. */
function errorProblem(stanza: Element): string | undefined {
  const error = stanza.getChild("error");
  if (!error) return "no <error/> child (§8.3.1)";
  if (!ERROR_TYPES.has(error.attrs.type ?? "")) return `an error type '${error.attrs.type ?? ""}' that is not auth, cancel, continue, modify or wait (§8.3.2)`;
  const conditions = error.getChildElements().filter((c) => c.getNS() === NS_STANZAS && c.getName() !== "text");
  if (conditions.length !== 1) return `${conditions.length} defined conditions in urn:ietf:params:xml:ns:xmpp-stanzas, not one (§8.3.2)`;
  if (!CONDITIONS.has(conditions[0]!.getName())) return `<${conditions[0]!.getName()}/>, not a condition of §8.3.3`;
  const text = error.getChild("text");
  if (text && text.getNS() !== NS_STANZAS) return "a <text/> outside urn:ietf:params:xml:ns:xmpp-stanzas (§8.3.2)";
  return undefined;
}

/** An error answer whose condition is `want`, and whose <error/> is well-formed. */
function refusedWith(s: Scenario, answer: Element, want: string): void {
  s.ensure(answer.attrs.type === "error", `an iq error <${want}/>`, answer.toString());
  const problem = errorProblem(answer);
  s.ensure(!problem, "an <error/> as §8.3.2 defines it", `${problem}: ${answer.toString()}`);
  const condition = answer.getChild("error")!.getChildElements().find((c) => c.getNS() === NS_STANZAS && c.getName() !== "text")!.getName();
  s.ensure(condition === want, `<${want} xmlns='${NS_STANZAS}'/>`, answer.toString());
}

export default [
  rowCheck("6120/8.2.3#1", {
    id: "rfc6120.8.2.3.unknown-iq-type",
    title: "An iq of a type that does not exist is answered with <bad-request/>",
    also: ["6120/8.3.2#1", "6120/8.3.2#2", "6120/8.3.2#3"],
    needs: ["account"],
    run: async (s) => {
      const alice = await s.login("account");
      const id = s.token("xc-type");
      const answer = await ask(s, alice, `<iq type='xepcheck' id='${id}' to='${s.domain}'><ping xmlns='${NS_PING}'/></iq>`, id);
      refusedWith(s, answer, "bad-request");
      s.summary = "type='xepcheck' answered with <bad-request/>";
    },
  }),
  rowCheck("6120/8.2.3#5", {
    id: "rfc6120.8.2.3.one-child",
    title: "An iq get with no child, or with two, is answered with <bad-request/>",
    also: ["6120/8.2.3#2", "6120/8.2.3#7"],
    needs: ["account"],
    run: async (s) => {
      const alice = await s.login("account");
      const none = s.token("xc-none");
      const two = s.token("xc-two");
      const [empty, double] = await Promise.all([
        ask(s, alice, `<iq type='get' id='${none}' to='${s.domain}'/>`, none),
        ask(s, alice, `<iq type='get' id='${two}' to='${s.domain}'><ping xmlns='${NS_PING}'/><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, two),
      ]);
      refusedWith(s, empty, "bad-request");
      refusedWith(s, double, "bad-request");
      s.summary = "an iq get with no child and one with two were each answered with <bad-request/>";
    },
  }),
  rowCheck("6120/8.2.3#4", {
    id: "rfc6120.8.2.3.no-answer-to-answers",
    title: "An iq result or error sent to the server is not answered",
    also: ["6120/8.3.1#9"],
    needs: ["account"],
    run: async (s) => {
      const alice = await s.login("account");
      const ids = [s.token("xc-result"), s.token("xc-error"), s.token("xc-message-error")];
      const replies: Element[] = [];
      const stop = alice.stream.onStanza((el) => {
        if (ids.includes(el.attrs.id ?? "")) replies.push(el);
      });
      alice.send(xml("iq", { type: "result", id: ids[0], to: s.domain }));
      alice.send(xml("iq", { type: "error", id: ids[1], to: s.domain }, xml("error", { type: "cancel" }, xml("service-unavailable", { xmlns: NS_STANZAS }))));
      alice.send(xml("message", { type: "error", id: ids[2], to: s.domain }, xml("error", { type: "cancel" }, xml("service-unavailable", { xmlns: NS_STANZAS }))));
      await alice.barrier(); // what the server sent in reply to the three has arrived before this answer
      stop();
      s.ensure(replies.length === 0, "no answer to an iq result, an iq error or a message error before the answer to a later ping", replies.map((r) => r.toString()).join(" "));
      s.summary = "an iq result, an iq error and a message error went unanswered (the ping after them was answered)";
    },
  }),
  rowCheck("6120/8.2.3#3", {
    id: "rfc6120.8.2.3.id-preserved",
    title: "An answer carries the request's 'id' exactly, however unusual",
    also: ["6120/8.1.3#1", "6120/8.3.1#4", "6120/8.3.1#5"],
    needs: ["account"],
    run: async (s) => {
      const alice = await s.login("account");
      // Unicode, markup characters (escaped on the wire), and length.
      const unusual = [`xc-${s.token("ü日")}`, `xc-&lt;'&quot;&amp;-${s.token()}`, `xc-${"x".repeat(200)}-${s.token()}`];
      for (const raw of unusual) {
        const id = parse(`<x a="${raw}"/>`).attrs.a as string;
        const answer = await ask(s, alice, `<iq type='get' id="${raw}" to='${s.domain}'><ping xmlns='${NS_PING}'/></iq>`, id);
        s.ensure(answer.attrs.id === id, `id='${id}'`, `id='${answer.attrs.id ?? ""}'`);
      }
      // An error answer keeps it too.
      const errorId = `xc-${s.token("é")}`;
      const error = await ask(s, alice, `<iq type='get' id='${errorId}' to='${s.domain}'><query xmlns='urn:xepcheck:unknown:${s.token()}'/></iq>`, errorId);
      s.ensure(error.attrs.type === "error" && error.attrs.id === errorId, `an iq error with id='${errorId}'`, error.toString());
      s.summary = "three unusual ids (non-ASCII, markup characters, 200+ characters) and an error kept their ids";
    },
  }),
  rowCheck("6120/8.1.2.1#2", {
    id: "rfc6120.8.1.2.1.from-the-domain",
    title: "What the server answers on its own behalf comes from its domain",
    needs: ["account"],
    run: async (s) => {
      const alice = await s.login("account");
      const id = s.token("xc-from");
      // Asked raw: an answer from someone else is an answer too, and it is the one judged.
      const result = await ask(s, alice, `<iq type='get' id='${id}' to='${s.domain}'><ping xmlns='${NS_PING}'/></iq>`, id);
      s.ensure(result.attrs.from?.toLowerCase() === s.domain.toLowerCase(), `from='${s.domain}'`, result.attrs.from === undefined ? "no 'from'" : `from='${result.attrs.from}'`);
      s.summary = `the ping was answered from '${result.attrs.from}'`;
    },
  }),
  rowCheck("6120/8.1.2.1#1", {
    id: "rfc6120.8.1.2.1.from-stamped",
    title: "A forged 'from' is replaced by the sender's full JID before delivery",
    also: ["6120/8.1.2.1#4", "6120/8.1.1.1#1", "6120/8.2.1#1"],
    needs: ["account", "peer"],
    run: async (s) => {
      const [alice, bob] = await Promise.all([s.login("account"), s.login("peer")]);
      const body = `forged from ${s.token()}`;
      const after = `after it ${s.token()}`;
      alice.send(xml("message", { to: bob.jid, from: `mallory@${s.domain}/xepcheck`, type: "chat", id: s.token("xc") }, xml("body", {}, body)));
      // A plain message after it: once it is at bob, the forged one is there too or it was not delivered (§10.1, in order).
      // Unless the server ends alice's stream with <invalid-from/> (§4.9.3.9), which refuses the forgery too.
      const ended = alice.stream.waitFor(() => false, "wait", { timeoutMs: s.target.timeoutMs }).then(
        () => undefined,
        (err: unknown) => (err instanceof SessionError && err.kind === "stream-error" ? err : undefined),
      );
      alice.message(bob.jid, after);
      const first = await Promise.race([bob.expect(withBody(after), "alice's plain message at bob, sent after the forged one").then(() => undefined), ended]);
      if (first) {
        s.ensure(first.condition === "invalid-from", "the message delivered from alice's full JID, an error back, or her stream ended with <invalid-from/>", first.message);
        s.summary = "the stanza with a forged 'from' ended alice's stream with <invalid-from/>";
        return;
      }
      const got = bob.stream.takeArrived(withBody(body));
      if (!got) {
        await alice.barrier();
        const bounced = alice.stream.takeArrived((el) => el.is("message") && el.attrs.type === "error");
        s.ensure(bounced, `the message delivered from '${alice.jid}', or an error back to alice`, "neither: it was dropped without a word, while the message after it arrived");
        s.summary = `the message with a forged 'from' was refused with ${bounced!.toString().slice(0, 160)}`;
        return;
      }
      s.ensure(got.attrs.from === alice.jid, `from='${alice.jid}' (the sender's full JID)`, got.attrs.from === undefined ? "no 'from'" : `from='${got.attrs.from}'`);
      s.ensure(got.attrs.to === bob.jid, `to='${bob.jid}' unchanged (§8.1.1.1)`, `to='${got.attrs.to ?? ""}'`);
      s.summary = `delivered from '${got.attrs.from}', the forged 'from' replaced`;
    },
  }),
  rowCheck("6120/8.4#5", {
    id: "rfc6120.8.4.unknown-extension-routed",
    title: "A child the server does not understand is delivered unmodified, and xml:lang kept",
    also: ["6120/8.1.5#2"],
    needs: ["account", "peer"],
    run: async (s) => {
      const [alice, bob] = await Promise.all([s.login("account"), s.login("peer")]);
      const body = `extension ${s.token()}`;
      const extension = xml("x", { xmlns: `urn:xepcheck:test:${s.token()}`, a: "1", "xml:lang": "de" }, xml("y", { b: "2" }, "text & more"));
      alice.send(xml("message", { to: bob.jid, type: "chat", "xml:lang": "fr", id: s.token("xc") }, xml("body", {}, body), extension));
      const got = await bob.expect(withBody(body), "alice's message at bob");
      const arrived = got.getChild("x", extension.attrs.xmlns as string);
      // Compared canonically: attribute order and quoting may change on the way, nothing else.
      s.ensure(arrived && canonical(arrived) === canonical(extension), `the extension as sent: ${extension.toString()}`, arrived?.toString() ?? "no such child");
      s.ensure(got.attrs["xml:lang"] === "fr", "xml:lang='fr' on the message as sent (§8.1.5)", `xml:lang='${got.attrs["xml:lang"] ?? ""}'`);
      s.summary = "the unknown extension and both xml:lang values arrived as sent";
    },
  }),
];
