/**
 * XEP-0357: Push Notifications
 * https://xmpp.org/extensions/xep-0357.html
 *
 * The "App Server" is played by a session of the peer account: its full JID
 * is the push service JID, it expects the server's pubsub publish and
 * answers it with a result. Alice's device is a resumable Stream Management
 * session (XEP-0198) that loses its connection: both Prosody
 * (mod_cloud_notify) and ejabberd (mod_push) push for stanzas that reach
 * such a hibernating session, which is how mobile clients use push. The
 * session is resumed afterwards, so the message is delivered and nothing
 * goes to offline storage.
 *
 * The message goes to alice's full JID, so these scenarios run alongside the
 * others: a message another scenario sends to her bare JID may also reach
 * the hibernating session and be pushed (to this scenario's node, which
 * answers every publish), and after <disable/> nothing may be pushed for
 * either.
 */
import { xml, type Element } from "@xmpp/xml";
import { withBody, type Actor } from "../scenario/actor.js";
import type { Scenario } from "../scenario/scenario.js";
import { StanzaError } from "../session/errors.js";
import type { StreamManagement } from "../session/stream-management.js";
import { discoAdvertised, findDiscoFeature } from "./advertisement.js";
import { defineCheck, defineScenario, type CheckContext } from "./types.js";
import { ScenarioFailure } from "../scenario/outcome.js";
import { answered, dropConnection, manage, reconnect, settle } from "../scenario/stream-management.js";

export const NS_PUSH = "urn:xmpp:push:0";
export const NS_PUBSUB = "http://jabber.org/protocol/pubsub";

const spec = (section: string, anchor: string) => ({
  doc: "XEP-0357",
  version: "0.4.1",
  section,
  url: `https://xmpp.org/extensions/xep-0357.html${anchor}`,
});

function pushAdvertised(ctx: CheckContext): boolean {
  return findDiscoFeature(ctx, NS_PUSH, ["account", "domain"]).foundAt.length > 0;
}

/** Collects the publishes to `node` that reach the service until stop(), which returns them. */
function collect(service: Actor, node: string): { stop(): Element[] } {
  const got: Element[] = [];
  const off = service.stream.observe((el, direction) => {
    if (direction === "in" && publishTo(node)(el)) got.push(el);
  });
  return {
    stop: () => {
      off();
      return got;
    },
  };
}

/** The <publish/> of a push notification to `node` (§7): an iq set with pubsub/publish[@node]. */
function publishTo(node: string) {
  return (el: Element) =>
    el.is("iq") && el.attrs.type === "set" && el.getChild("pubsub", NS_PUBSUB)?.getChild("publish")?.attrs.node === node;
}

/** The push service's answer: the publish succeeded (XEP-0060 §7.1.2). */
function accepted(publish: Element): Element {
  return xml("iq", { type: "result", id: publish.attrs.id, ...(publish.attrs.from ? { to: publish.attrs.from } : {}) });
}

interface PushSetup {
  alice: Actor;
  sm: StreamManagement;
  /** The session whose full JID is the push service ("App Server"). */
  service: Actor;
  /** The node enabled at set-up. */
  node: string;
  /** Enables push to the service with `node`, or a fresh node; returns the node. */
  enable(node?: string): Promise<string>;
  /** Disables push to `node` on alice's session; the cleanup then leaves it alone. */
  disable(node: string): Promise<void>;
}

/**
 * Alice logs in with resumable Stream Management, becomes available and
 * enables push to the peer's full JID with a fresh node (§5). Cleanups
 * disable what is still enabled (from a fresh session, so it works whatever
 * happened) and end the managed session.
 */
async function setUp(s: Scenario): Promise<PushSetup> {
  const [alice, service] = await Promise.all([s.login("account", "A"), s.login("peer", "push")]);
  const enabled = new Set<string>();
  const command = (name: "enable" | "disable", node: string) => xml("iq", { type: "set" }, xml(name, { xmlns: NS_PUSH, jid: service.jid, node }));
  // Every publish to an enabled node is answered, whichever message caused it (see the module comment).
  service.stream.answerRequests(
    (el) => el.attrs.type === "set" && enabled.has(el.getChild("pubsub", NS_PUBSUB)?.getChild("publish")?.attrs.node ?? ""),
    (el) => accepted(el),
  );
  s.cleanup(`disable push to ${service.jid} where still enabled`, async () => {
    if (!enabled.size) return;
    const fresh = await s.login("account", "cleanup");
    for (const node of enabled) {
      // Already disabled: ejabberd then answers item-not-found, which is fine here.
      await fresh.iq(command("disable", node)).catch((err: unknown) => {
        if (!(err instanceof StanzaError && err.condition === "item-not-found")) throw err;
      });
    }
  });
  const enable = async (actor: Actor, node: string) => {
    enabled.add(node); // before the answer: a lost answer still leaves it to disable
    await actor.iq(command("enable", node));
  };
  let sm: StreamManagement;
  try {
    sm = await manage(s, alice, true);
  } catch (err) {
    if (!(err instanceof ScenarioFailure)) throw err;
    // Without stream management no session can hibernate; whether push exists at
    // all still decides between "not offered" (enable refused) and "not tested".
    await enable(await s.login("account", "no-sm"), s.token("node"));
    s.skip(`push can be enabled, but this scenario needs resumable stream management to make a session hibernate: ${err.message}`);
  }
  alice.available();
  const node = s.token("node");
  await enable(alice, node);
  s.note(`alice/A enabled push to ${service.jid} node ${node}`);
  return {
    alice,
    sm,
    service,
    node,
    enable: async (another = s.token("node")) => {
      await enable(alice, another);
      s.note(`alice/A enabled push to ${service.jid} node ${another}`);
      return another;
    },
    disable: async (node) => {
      await sm.stream.iq(command("disable", node));
      enabled.delete(node);
    },
  };
}

/**
 * Alice's connection drops (her session hibernates); the peer writes to her,
 * from the push service's session (one connection fewer; neither server
 * treats a message from the service differently). Returns the body.
 */
async function hibernateAndWrite(s: Scenario, { alice, sm, service }: PushSetup): Promise<string> {
  await settle(sm); // nothing of ours in flight, everything of the server's acknowledged
  await dropConnection(s, sm);
  const body = `while away ${s.token()}`;
  service.message(alice.jid, body);
  return body;
}

/** Resumes alice's session on a new connection and waits for the message sent while she was away. */
async function comeBack(s: Scenario, { alice, sm }: PushSetup, body: string): Promise<void> {
  const stream = await reconnect(s, alice, `${alice.label} (resumed)`);
  await answered(`<resumed xmlns='urn:xmpp:sm:3'/>`, sm.resume(stream));
  const got = await stream.waitFor(withBody(body), "wait", { timeoutMs: stream.options.timeoutMs }).catch(() => undefined);
  s.ensure(got, "the message sent while alice was away, delivered after resumption", "nothing arrived");
}

function notificationOf(publish: Element): Element | undefined {
  return publish.getChild("pubsub", NS_PUBSUB)?.getChild("publish")?.getChild("item")?.getChild("notification", NS_PUSH);
}

/** The fields of the optional urn:xmpp:push:summary form, as table rows. */
function summaryRows(notification: Element): string[][] {
  const form = notification.getChild("x", "jabber:x:data");
  return (form?.getChildren("field") ?? []).map((f) => [f.attrs.var ?? "", f.getChildren("value").map((v) => v.text()).join(", ")]);
}

export default [
  defineCheck({
    id: "xep0357.advertised",
    spec: spec("4.1", ""),
    level: "MUST",
    requirement:
      "If the user's server supports publishing push notifications and the account is provisioned to allow them, the server MUST include the feature 'urn:xmpp:push:0' in its list of supported features.",
    title: "Push Notifications are advertised",
    needs: ["account"],
    run: (ctx) => discoAdvertised(ctx, "Push Notifications", NS_PUSH, ["account", "domain"]),
  }),
  defineScenario({
    id: "xep0357.publish",
    spec: spec("7", "#publishing"),
    level: "MUST",
    requirement:
      "When the user's server detects an event warranting a push notification, it performs a PubSub publish to all XMPP Push Services registered for the user, where the item payload is a <notification /> element in the 'urn:xmpp:push:0' namespace.",
    title: "Push: a message to a disconnected session is published to the push service",
    needs: ["account", "peer"],
    connections: 3,
    advertised: pushAdvertised,
    run: async (s) => {
      const setup = await setUp(s);
      const { service, node } = setup;
      const publishing = service.expect(publishTo(node), `a pubsub publish to node ${node} at ${service.jid}`);
      publishing.catch(() => {});
      const body = await hibernateAndWrite(s, setup);
      const publish = await publishing;
      const notification = notificationOf(publish);
      s.ensure(notification, `<item><notification xmlns='${NS_PUSH}'/></item> in the publish`, publish.toString());
      const rows = summaryRows(notification!);
      if (rows.length) s.evidence.push({ type: "table", title: "Push summary form", columns: ["field", "value"], rows });
      await comeBack(s, setup, body);
      await setup.disable(node);
      s.summary = `a message to alice's hibernating session was pushed to node ${node} at ${service.jid} (from ${publish.attrs.from ?? "?"})`;
    },
  }),
  defineScenario({
    id: "xep0357.disable",
    spec: spec("6", "#disabling"),
    level: "MUST",
    requirement: "When a service is not enabled, the server MUST NOT attempt publishing notifications to the service.",
    title: "Push: after <disable/>, no more notifications are published",
    needs: ["account", "peer"],
    connections: 3,
    advertised: pushAdvertised,
    run: async (s) => {
      const setup = await setUp(s);
      const { service, node } = setup;
      // The barrier, where the server keeps more than one service per session (Prosody): a
      // second node stays enabled. The server publishes to every enabled service for the same
      // event, at once; once the second node's publish has arrived, a ping of the service's own
      // stream returns only after anything else the server already sent it (RFC 6120 §10.1, in
      // order on one route). ejabberd keeps one service per session (the last enabled): there
      // no barrier exists, and a bounded wait stands in for it.
      const control = await setup.enable();
      await setup.enable(node); // enabled last, so it is the one a server keeping only one keeps
      const seen = collect(service, control);
      const publishing = service.expect(publishTo(node), `a pubsub publish to node ${node} while push is enabled`);
      publishing.catch(() => {});
      const first = await hibernateAndWrite(s, setup);
      const sentAt = performance.now();
      await publishing;
      const pushedAfter = performance.now() - sentAt;
      await service.barrier();
      const barrier = seen.stop().length > 0;
      await comeBack(s, setup, first);
      // …after <disable/>, the same event must not be published to it.
      await setup.disable(node);
      s.note(`alice/A disabled push to ${service.jid} node ${node}`);
      const late = collect(service, node);
      const quiet = Math.min(4000, Math.max(1000, Math.round(3 * pushedAfter)));
      if (barrier) {
        const stillPushed = service.expect(publishTo(control), `a pubsub publish to node ${control}, still enabled, after ${node} was disabled`);
        stillPushed.catch(() => {});
        const second = await hibernateAndWrite(s, setup);
        await stillPushed;
        await service.barrier();
        s.ensure(late.stop().length === 0, `no publish to node ${node} after <disable/>`, late.stop()[0]?.toString() ?? "");
        await comeBack(s, setup, second);
        s.summary = `the event was pushed to nodes ${node} and ${control}; after <disable/> of ${node} the same event was pushed to ${control} only (seen up to a ping of the service's stream, which comes after anything sent before it)`;
      } else {
        // Three times as long as the control's publish took, at least 1 s, at most 4 s.
        await setup.disable(control).catch(() => {});
        const second = await hibernateAndWrite(s, setup);
        await new Promise((r) => setTimeout(r, quiet));
        s.ensure(late.stop().length === 0, `no publish to node ${node} after <disable/>`, late.stop()[0]?.toString() ?? "");
        await comeBack(s, setup, second);
        s.summary = `while enabled the event was pushed to node ${node}; after <disable/> nothing was published within ${(quiet / 1000).toFixed(1)} s (three times the ${Math.round(pushedAfter)} ms the push took while enabled, at least 1 s; the server pushes to one service per session, so no second node could serve as a barrier)`;
      }
    },
  }),
];
