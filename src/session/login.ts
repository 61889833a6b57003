/**
 * The login flow of RFC 6120: open, STARTTLS, SASL, restart, bind.
 * Each step runs under the stream's deadline and records its features.
 */
import { xml, type Element } from "@xmpp/xml";
import { SessionError, excerpt, type SessionStep } from "./errors.js";
import {
  CHANNEL_BINDING_TYPES,
  ChannelBindingError,
  ScramClient,
  ScramError,
  channelBinding,
  scramVariant,
  type ChannelBindingType,
} from "./scram.js";
import { NS_TLS, XmppStream, type StreamOptions } from "./stream.js";

export const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
/** XEP-0440: the channel-binding types a server supports, in its stream features. */
export const NS_SASL_CB = "urn:xmpp:sasl-cb:0";
export const NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind";
export const NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session";

/** RFC 6120 §6.5: the SASL error conditions. */
export const SASL_CONDITIONS: readonly string[] = [
  "aborted",
  "account-disabled",
  "credentials-expired",
  "encryption-required",
  "incorrect-encoding",
  "invalid-authzid",
  "invalid-mechanism",
  "malformed-request",
  "mechanism-too-weak",
  "not-authorized",
  "temporary-auth-failure",
];


/**
 * Strongest first. PLAIN is used only over TLS, and TLS is all we speak.
 * The -PLUS variants are not chosen by default: a channel binding that a
 * server computes differently (tls-server-end-point behind a TLS-terminating
 * proxy, tls-exporter on old TLS libraries) would fail every login of a run,
 * while the SCRAM exchange alone already proves the password. They are
 * tested on their own (rfc5802.* checks) and can be asked for with `mechanisms`.
 */
export const MECHANISM_PREFERENCE = ["SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"];

export interface Credentials {
  /** Local part of the account JID. */
  username: string;
  password: string;
}

export type ConnectOptions = Omit<StreamOptions, "from">;

export interface LoginOptions extends ConnectOptions {
  credentials: Credentials;
  resource?: string;
  /** Restrict or reorder the mechanisms tried (default MECHANISM_PREFERENCE). */
  mechanisms?: string[];
  /** Channel-binding type for a -PLUS mechanism (default: see chooseChannelBinding). */
  channelBinding?: ChannelBindingType;
}

export interface Session {
  stream: XmppStream;
  /** Full JID assigned by the server. */
  jid: string;
  mechanism: string;
  offeredMechanisms: string[];
  /** The channel-binding type used, for a -PLUS mechanism. */
  channelBinding?: ChannelBindingType;
  /**
   * Opens a new connection with the same settings and credentials,
   * authenticated but not bound (for XEP-0198 resumption). Set by login().
   */
  openAuthenticated?: () => Promise<XmppStream>;
}

/** Opens a stream and makes it TLS-protected (STARTTLS unless direct TLS). */
export async function connectSecure(options: ConnectOptions & { from?: string }): Promise<XmppStream> {
  const stream = await XmppStream.open(options);
  try {
    if (!stream.isSecure) {
      // WebSocket and BOSH get TLS from their URL (RFC 7395 §3.9, XEP-0206 §3), never from STARTTLS.
      if (stream.transport !== "tcp") {
        throw new SessionError("tls", "starttls", `${stream.url} is not TLS-protected (use wss:// or https://); xepcheck never authenticates without TLS`);
      }
      if (!stream.features.getChild("starttls", NS_TLS)) {
        throw new SessionError(
          "tls",
          "starttls",
          "the server does not offer STARTTLS; xepcheck never authenticates without TLS",
        );
      }
      await stream.startTls();
    }
    return stream;
  } catch (err) {
    stream.destroy();
    throw err;
  }
}

export function offeredMechanisms(features: Element): string[] {
  return (
    features
      .getChild("mechanisms", NS_SASL)
      ?.getChildren("mechanism")
      .map((m) => m.text().trim()) ?? []
  );
}

export function chooseMechanism(offered: string[], preference = MECHANISM_PREFERENCE): string | undefined {
  return preference.find((m) => offered.includes(m));
}

/**
 * XEP-0440: the channel-binding types listed in <sasl-channel-binding/>, or
 * undefined when the server sends no such element (it does not say).
 */
export function offeredChannelBindings(features: Element): string[] | undefined {
  const list = features.getChild("sasl-channel-binding", NS_SASL_CB);
  return list?.getChildren("channel-binding").map((c) => c.attrs.type as string);
}

/**
 * The channel binding for a -PLUS mechanism on this stream: the first of
 * tls-exporter, tls-server-end-point, tls-unique that the server announces
 * (XEP-0440) and this TLS version defines; without an announcement, the
 * default of the TLS version (RFC 9266 §3: tls-exporter for TLS 1.3;
 * RFC 5802 §6: tls-unique before it).
 */
export function chooseChannelBinding(stream: XmppStream): ChannelBindingType {
  const tls13 = stream.tlsSocket?.getProtocol() === "TLSv1.3";
  const usable = CHANNEL_BINDING_TYPES.filter((t) => !(tls13 && t === "tls-unique"));
  const announced = offeredChannelBindings(stream.features);
  if (!announced) return tls13 ? "tls-exporter" : "tls-unique";
  const type = usable.find((t) => announced.includes(t));
  if (!type) {
    throw new SessionError("auth", "sasl", `no channel-binding type usable here among those the server announces: ${announced.join(", ") || "none"}`);
  }
  return type;
}

/**
 * A SCRAM client for `mechanism` on this stream; for a -PLUS mechanism with
 * the channel binding of `type` (default chooseChannelBinding) computed from
 * the stream's TLS connection.
 */
export function scramClientFor(
  stream: XmppStream,
  mechanism: string,
  credentials: Credentials,
  type?: ChannelBindingType,
): ScramClient | undefined {
  const variant = scramVariant(mechanism);
  if (!variant) return undefined;
  if (!variant.plus) return new ScramClient(variant.hash, credentials.username, credentials.password);
  const socket = stream.tlsSocket;
  if (!socket) throw new SessionError("auth", "sasl", `${mechanism} needs a TLS connection for channel binding`);
  const cbType = type ?? chooseChannelBinding(stream);
  try {
    return new ScramClient(variant.hash, credentials.username, credentials.password, undefined, channelBinding(socket, cbType));
  } catch (err) {
    if (err instanceof ChannelBindingError) throw new SessionError("auth", "sasl", `${mechanism}: ${err.message}`);
    throw err;
  }
}

export async function login(options: LoginOptions): Promise<Session> {
  const { stream, mechanism, offeredMechanisms: offered, channelBinding: cb } = await loginWithoutBind(options);
  try {
    stream.jid = await bind(stream, options.resource ?? `xepcheck-${Math.random().toString(36).slice(2, 8)}`);
    await establishLegacySession(stream);
    return {
      stream,
      jid: stream.jid,
      mechanism,
      offeredMechanisms: offered,
      ...(cb ? { channelBinding: cb } : {}),
      // A login the server sees like any other (counted where the first one was).
      openAuthenticated: async () => (options.meter?.add("logins"), (await loginWithoutBind(options)).stream),
    };
  } catch (err) {
    stream.destroy();
    throw err;
  }
}

/**
 * Everything of login() but binding: open, STARTTLS, SASL, restart. The
 * stream is authenticated and has no resource yet, as XEP-0198 resumption
 * needs it (<resume/> takes the place of <bind/>).
 */
export async function loginWithoutBind(options: LoginOptions): Promise<Omit<Session, "jid" | "openAuthenticated">> {
  const { credentials } = options;
  const bare = `${credentials.username}@${options.domain}`;
  const stream = await connectSecure({ ...options, from: bare });
  try {
    const offered = offeredMechanisms(stream.features);
    const mechanism = chooseMechanism(offered, options.mechanisms);
    if (!mechanism) {
      throw new SessionError(
        "auth",
        "sasl",
        `no usable SASL mechanism: the server offers ${offered.join(", ") || "none"}`,
      );
    }
    const cb = await authenticate(stream, mechanism, credentials, options.channelBinding);
    await stream.restart("after-auth");
    return { stream, mechanism, offeredMechanisms: offered, ...(cb ? { channelBinding: cb } : {}) };
  } catch (err) {
    stream.destroy();
    throw err;
  }
}

/**
 * RFC 6120 §6: one SASL exchange with the chosen mechanism. A -PLUS
 * mechanism binds to the TLS channel (`channelBindingType`, default
 * chooseChannelBinding); the channel-binding type used is returned.
 */
export async function authenticate(
  stream: XmppStream,
  mechanism: string,
  credentials: Credentials,
  channelBindingType?: ChannelBindingType,
): Promise<ChannelBindingType | undefined> {
  const isSasl = (el: Element) => el.getNS() === NS_SASL;
  const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
  const unb64 = (el: Element) => Buffer.from(el.text(), "base64").toString("utf8");
  /** A <failure/> names its condition; anything else in its place is the server not speaking SASL. */
  const failed = (el: Element, expected = "<success/>"): never => {
    if (!el.is("failure")) {
      throw new SessionError("protocol", "sasl", `the server answered ${mechanism} with <${el.getName()}/> where ${expected} or <failure/> was expected`);
    }
    const condition = el.getChildElements().find((c) => c.getName() !== "text")?.getName() ?? "failure";
    const text = el.getChildText("text");
    throw new SessionError(
      "auth",
      "sasl",
      `authentication as ${credentials.username} with ${mechanism} failed: ${condition}${text ? ` (${excerpt(text)})` : ""}`,
      condition,
    );
  };

  const scram = scramClientFor(stream, mechanism, credentials, channelBindingType);
  if (!scram) {
    if (mechanism !== "PLAIN") throw new SessionError("auth", "sasl", `xepcheck cannot authenticate with ${mechanism}`);
    const answer = await stream.request(
      xml("auth", { xmlns: NS_SASL, mechanism }, b64(`\0${credentials.username}\0${credentials.password}`)),
      isSasl,
      "sasl",
    );
    if (!answer.is("success")) failed(answer);
    return undefined;
  }

  const challenge = await stream.request(xml("auth", { xmlns: NS_SASL, mechanism }, b64(scram.clientFirst())), isSasl, "sasl");
  if (!challenge.is("challenge")) failed(challenge, "<challenge/>");
  try {
    const final = await scram.clientFinal(unb64(challenge));
    let answer = await stream.request(xml("response", { xmlns: NS_SASL }, b64(final)), isSasl, "sasl");
    if (answer.is("challenge")) {
      // Some servers send server-final as a challenge and expect an empty response.
      scram.verifyServerFinal(unb64(answer));
      answer = await stream.request(xml("response", { xmlns: NS_SASL }), isSasl, "sasl");
      if (!answer.is("success")) failed(answer);
      return scram.channelBinding?.type;
    }
    if (!answer.is("success")) failed(answer);
    scram.verifyServerFinal(unb64(answer));
    return scram.channelBinding?.type;
  } catch (err) {
    if (err instanceof ScramError) throw new SessionError("auth", "sasl", `${mechanism}: ${err.message}`);
    throw err;
  }
}

/** RFC 6120 §7: bind a resource and return the full JID. */
export async function bind(stream: XmppStream, resource: string): Promise<string> {
  if (!stream.features.getChild("bind", NS_BIND)) {
    throw new SessionError("protocol", "bind", "the server offers no resource binding after authentication");
  }
  const result = await stream.iq(
    xml("iq", { type: "set" }, xml("bind", { xmlns: NS_BIND }, xml("resource", {}, resource))),
    "bind",
  );
  const jid = result.getChild("bind", NS_BIND)?.getChildText("jid");
  if (!jid) throw new SessionError("protocol", "bind", "the bind result carries no JID");
  checkBoundJid(stream, jid, "bind");
  return jid;
}

/**
 * RFC 6120 §7.7.1: the server may override the resourcepart, not the user or the
 * domain. A JID bound to another account is refused: nothing may run as an
 * identity we did not log in as.
 */
export function checkBoundJid(stream: XmppStream, jid: string, step: SessionStep): void {
  const account = stream.options.from;
  const slash = jid.indexOf("/");
  const bare = slash < 0 ? jid : jid.slice(0, slash);
  if (!account || bare.toLowerCase() === account.toLowerCase()) return;
  throw new SessionError(
    "protocol",
    step,
    `the server bound the JID ${JSON.stringify(excerpt(jid, 100))}, which is not the account ${account} (RFC 6120 §7.7.1 lets a server override the resourcepart, never the user or domain)`,
  );
}

/** RFC 3921's session establishment, only where a server still requires it. */
async function establishLegacySession(stream: XmppStream): Promise<void> {
  const session = stream.features.getChild("session", NS_SESSION);
  if (!session || session.getChild("optional")) return;
  await stream.iq(xml("iq", { type: "set" }, xml("session", { xmlns: NS_SESSION })), "session");
}
