/**
 * Stream Management (XEP-0198) for scenarios: enabling it on an actor's
 * stream, reconnecting, settling the counts, dropping a connection.
 */
import { SessionError } from "../session/errors.js";
import { NS_SM, StreamManagement, StreamManagementError } from "../session/stream-management.js";
import type { XmppStream } from "../session/stream.js";
import type { Actor } from "./actor.js";
import { ScenarioFailure } from "./outcome.js";
import type { Scenario } from "./scenario.js";

/** Runs a step of the protocol that the server must answer: a silent server fails the check instead of "could not tell". */
export async function answered<T>(what: string, step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (err) {
    if (err instanceof StreamManagementError) {
      throw new ScenarioFailure(what, err.failed?.toString() ?? err.message);
    }
    if (err instanceof SessionError && err.kind === "timeout") throw new ScenarioFailure(what, "no answer within the deadline");
    throw err;
  }
}

/**
 * Starts stream management on `actor`'s stream, ending the session cleanly
 * (resuming it first if it was dropped) when the scenario ends.
 */
export async function manage(s: Scenario, actor: Actor, resume: boolean): Promise<StreamManagement> {
  const open = actor.session.openAuthenticated;
  if (resume && !open) s.skip("this session cannot open a new authenticated connection to resume on");
  const sm = new StreamManagement(actor.stream);
  const enabled = await answered(`<enabled xmlns='${NS_SM}'/>`, sm.enable({ resume }));
  s.cleanup(`end ${actor.label}'s managed session`, () => (open ? sm.end(open) : sm.close()));
  if (resume) {
    if (!enabled.resume) s.skip(`the server enables Stream Management without resumption: ${enabled.element.toString()}`);
    s.ensure(enabled.id, "an 'id' attribute (the SM-ID) on <enabled resume='true'/> (§5)", enabled.element.toString());
  }
  return sm;
}

/** Opens a new authenticated (unbound) connection for `actor`, recorded in the scenario's transcript. */
export async function reconnect(s: Scenario, actor: Actor, label: string): Promise<XmppStream> {
  const stream = await actor.session.openAuthenticated!();
  stream.useTranscript(s.transcript, label);
  s.note(`${label}: new connection, authenticated, not bound`);
  return stream;
}

/**
 * Makes sure the server has processed everything we sent, including our last
 * <a h/>: after its <a/> to our <r/>, nothing of ours is left in flight.
 */
export async function settle(sm: StreamManagement): Promise<number> {
  sm.ack();
  return answered(`<a xmlns='${NS_SM}' h='…'/> answering <r/>`, sm.requestAck());
}

/**
 * Drops the connection without closing the stream. No pause follows: a
 * stanza routed to the session before the server notices is written to a
 * dead connection, stays unacknowledged, and is kept for resumption (and
 * pushed, where push is on: both servers push for what is unacknowledged
 * when the session hibernates), as one routed afterwards is.
 */
export async function dropConnection(s: Scenario, sm: StreamManagement): Promise<void> {
  sm.drop();
  s.note(`dropped the TCP connection of ${sm.stream.actor ?? "the session"} without closing the stream`);
}
