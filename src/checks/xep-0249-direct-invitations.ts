/**
 * XEP-0249: Direct MUC Invitations. For a server, support means delivering
 * the invitation message intact; the feature var is mostly a client's.
 * https://xmpp.org/extensions/xep-0249.html
 */
import { xml, type Element } from "@xmpp/xml";
import { mucService } from "../scenario/muc.js";
import { NS_PING } from "../session/stream.js";
import { advertisedOutcome, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";

export const NS_CONFERENCE = "jabber:x:conference";

const spec = { doc: "XEP-0249", version: "1.2" };

function advertisedAt(ctx: CheckContext) {
  return findDiscoFeature(ctx, NS_CONFERENCE, ["domain", "components"], { category: "conference", type: "text" });
}

export default [
  defineCheck({
    id: "xep0249.advertised",
    spec: { ...spec, section: "3", url: "https://xmpp.org/extensions/xep-0249.html#support" },
    level: "MUST",
    requirement:
      "If an entity supports the protocol specified herein, it MUST advertise that fact by returning a feature of \"jabber:x:conference\" in response to Service Discovery (XEP-0030) information requests (see Protocol Namespaces regarding issuance of one or more permanent namespaces).",
    title: "Direct MUC invitations are advertised",
    needs: ["account"],
    run: (ctx) => {
      const outcome = advertisedOutcome("Direct MUC Invitations", advertisedAt(ctx));
      if (outcome.advertised) return outcome;
      // Not advertising is normal for servers: only delivering an invitation shows support (xep0249.delivered).
      return {
        ...outcome,
        verdict: "skip",
        summary: "not determined by advertisement: jabber:x:conference is not advertised, and a server's part is delivering invitations (see xep0249.delivered)",
      };
    },
  }),
  defineScenario({
    id: "xep0249.delivered",
    spec: { ...spec, section: "2", url: "https://xmpp.org/extensions/xep-0249.html#howitworks" },
    level: "MUST",
    requirement:
      "A user invites a contact to a room by sending a <message/> stanza containing only an <x/> element qualified by the 'jabber:x:conference' namespace.",
    title: "A direct MUC invitation reaches the contact intact",
    needs: ["account", "peer"],
    // jabber:x:conference is a client feature (the invitee's client shows the
    // invitation); servers rarely list it, and their whole part is to deliver
    // the message unchanged. So an advertisement counts when present, and its
    // absence says nothing (null): a delivered invitation is a pass, not a
    // "works but not advertised" warning.
    advertised: (ctx) => (advertisedAt(ctx).foundAt.length > 0 ? true : null),
    run: async (s) => {
      const [alice, bob] = await Promise.all([s.login("account"), s.login("peer")]);
      // Messages to a bare JID go to available resources (RFC 6121 §8.5.2).
      bob.available();
      // RFC 6120 §10.1: the server handles bob's stanzas in order, so once his ping is answered his presence has
      // taken effect (waiting for its echo to bob would make an RFC 6121 matter a condition of this check).
      await s.precondition("bob available (initial presence, then a ping answered)", () =>
        bob.iq(xml("iq", { type: "get", to: s.domain }, xml("ping", { xmlns: NS_PING }))),
      );
      // The server does not look into the invitation; a room JID on the
      // service (it need not exist) is what a client would send.
      const room = `${s.token("xepcheck-room")}@${mucService(s.ctx) ?? `conference.${s.domain}`}`;
      const reason = `join us ${s.token()}`;
      const password = s.token("pw");
      const invitation = (el: Element) => el.is("message") && el.getChild("x", NS_CONFERENCE)?.attrs.reason === reason;
      const got = bob.expect(invitation, "the invitation at the invitee");
      alice.send(
        xml("message", { to: bob.bare, id: alice.stream.nextId() }, xml("x", { xmlns: NS_CONFERENCE, jid: room, reason, password })),
      );
      const x = (await got).getChild("x", NS_CONFERENCE)!;
      s.ensure(x.attrs.jid === room, `jid='${room}'`, `jid='${x.attrs.jid ?? ""}'`);
      s.ensure(x.attrs.password === password, `password='${password}'`, `password='${x.attrs.password ?? ""}'`);
      const from = (await got).attrs.from ?? "";
      s.ensure(from.split("/")[0] === alice.bare, `from the inviter ${alice.bare}`, `from='${from}'`);
      s.summary = `the invitation to ${room} reached ${bob.bare} with its jid, reason and password unchanged`;
    },
  }),
];
