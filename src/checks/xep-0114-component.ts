/**
 * XEP-0114: Jabber Component Protocol
 * https://xmpp.org/extensions/xep-0114.html
 *
 * Nothing a client sees advertises component support, so both checks
 * connect as the component the operator names with --component
 * DOMAIN:PORT (secret in XEPCHECK_COMPONENT_SECRET): the handshake, then a
 * message each way between the component and the account; and a wrong
 * secret, which the server must refuse. Without --component: skip.
 */
import { xml } from "@xmpp/xml";
import { ComponentStream, NS_COMPONENT } from "../session/component.js";
import { SessionError } from "../session/errors.js";
import type { Scenario } from "../scenario/scenario.js";
import { defineScenario } from "./types.js";

const spec = { doc: "XEP-0114", version: "1.6" };

const NOT_CONFIGURED =
  "a component can only be tested as one: give --component DOMAIN:PORT (a component name the server accepts and its component port on --host) " +
  "with the shared secret in XEPCHECK_COMPONENT_SECRET";

function component(s: Scenario): NonNullable<Scenario["target"]["component"]> {
  return s.target.component ?? s.skip(NOT_CONFIGURED);
}

async function open(s: Scenario, label: string): Promise<ComponentStream> {
  const c = component(s);
  const stream = await ComponentStream.open({ host: s.target.host, port: c.port, domain: c.domain, timeoutMs: s.target.timeoutMs, ...s.target.limits, transcript: s.transcript, label });
  s.cleanup(`close the component stream ${label}`, async () => stream.close());
  return stream;
}

export default [
  defineScenario({
    id: "xep0114.component",
    spec: { ...spec, section: "3", url: "https://xmpp.org/extensions/xep-0114.html#proto" },
    level: "MUST",
    requirement:
      "If the credentials are acceptable, the receiving application (in this case the server) MUST return an empty <handshake/> element.",
    title: "An external component connects and its stanzas are routed both ways",
    needs: ["account"],
    advertised: () => null,
    run: async (s) => {
      const c = component(s);
      const comp = await open(s, `component ${c.domain}`);
      try {
        await comp.handshake(c.secret);
      } catch (err) {
        if (err instanceof SessionError && (err.kind === "stream-error" || err.kind === "network")) {
          s.fail("an empty <handshake/> for the right secret", err.message);
        }
        throw err;
      }
      // §3: "Once authenticated, the component can send stanzas through the server and receive stanzas from the server."
      const alice = await s.login("account");
      const bot = `xepcheck-${s.token("bot")}@${c.domain}`;
      const inbound = s.token("to-component");
      const gotInbound = comp.waitFor((el) => el.is("message", NS_COMPONENT) && el.getChildText("body") === inbound, "the account's message at the component");
      alice.send(alice.message(bot, inbound));
      const atComponent = await gotInbound;
      s.ensure(atComponent.attrs.from === alice.jid, `from='${alice.jid}'`, `from='${atComponent.attrs.from ?? ""}'`);
      const outbound = s.token("from-component");
      const gotOutbound = alice.expect((el) => el.is("message") && el.getChildText("body") === outbound, "the component's message at the account");
      comp.send(xml("message", { xmlns: NS_COMPONENT, from: bot, to: alice.jid, type: "chat" }, xml("body", {}, outbound)));
      const atAccount = await gotOutbound;
      s.ensure(atAccount.attrs.from === bot, `from='${bot}'`, `from='${atAccount.attrs.from ?? ""}'`);
      s.summary = `${c.domain} completed the handshake, and messages went both ways between it and ${alice.bare}`;
    },
  }),
  defineScenario({
    id: "xep0114.wrong-secret-refused",
    spec: { ...spec, section: "3", url: "https://xmpp.org/extensions/xep-0114.html#proto" },
    level: "MUST",
    requirement:
      "If the credentials supplied by the initiator are not valid, the receiver MUST close the stream and the underlying TCP connection, and SHOULD return a <not-authorized/> stream error.",
    title: "A component with a wrong secret is refused",
    needs: ["account"],
    advertised: () => null,
    run: async (s) => {
      const c = component(s);
      const comp = await open(s, `component ${c.domain} (wrong secret)`);
      const handshake = comp.handshake(`${c.secret}-wrong-${s.token()}`).then(
        () => undefined,
        (err: unknown) => err,
      );
      const refused = await handshake;
      if (refused === undefined) s.fail("the stream closed (not-authorized)", "the server accepted a wrong secret with an empty <handshake/>");
      if (!(refused instanceof SessionError) || refused.kind === "timeout") throw refused;
      const ended = await comp.closedByServer().catch((err: unknown) => err);
      s.ensure(ended instanceof SessionError && ended.kind !== "timeout", "the server closes the stream", "the stream stayed open");
      s.note(`the server ended the stream: ${refused.message}`);
      if (refused.condition !== "not-authorized") {
        s.summary = `a wrong secret was refused, but with ${refused.condition ? `<${refused.condition}/>` : "no stream error"} rather than <not-authorized/> (a SHOULD)`;
      } else {
        s.summary = "a wrong secret was refused with <not-authorized/> and the stream closed";
      }
    },
  }),
];
