/**
 * XEP-0388 SASL2 on top of XmppStream, with what can ride inline in its
 * <authenticate/>: XEP-0386 Bind 2 (with Carbons, CSI and XEP-0198 <enable/>
 * inside <bind/>), XEP-0198 <resume/>, and XEP-0484 FAST tokens (requesting
 * one, and authenticating with one through an HT-* mechanism).
 * https://xmpp.org/extensions/xep-0388.html
 * https://xmpp.org/extensions/xep-0386.html
 * https://xmpp.org/extensions/xep-0484.html
 *
 * Nothing here stores a secret in a transcript: the stream's transcript
 * redacts every SASL2 payload and every <token/> (src/session/transcript.ts).
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { xml, type Element } from "@xmpp/xml";
import { SessionError } from "./errors.js";
import { checkBoundJid, connectSecure, loginWithoutBind, offeredChannelBindings, scramClientFor, type ConnectOptions, type Credentials, type LoginOptions, type Session } from "./login.js";
import { ChannelBindingError, channelBindingData, type ChannelBindingType, type ScramClient, ScramError } from "./scram.js";
import { NS_SM, StreamManagement, isStanza } from "./stream-management.js";
import { NS_STREAM, type XmppStream } from "./stream.js";
import { Transcript } from "./transcript.js";

export const NS_SASL2 = "urn:xmpp:sasl:2";
export const NS_BIND2 = "urn:xmpp:bind:0";
export const NS_FAST = "urn:xmpp:fast:0";
export const NS_CARBONS = "urn:xmpp:carbons:2";
export const NS_CSI = "urn:xmpp:csi:0";
export const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";

/** What the server offers in its SASL2 <authentication/> feature. */
export interface Sasl2Offer {
  mechanisms: string[];
  /** XEP-0440 channel-binding types, when the server lists them. */
  channelBindings?: string[];
  /** XEP-0386: Bind 2, with the features it can enable inline (disco vars). */
  bind?: { inline: string[] };
  /** XEP-0198 §9.2: <sm/> in <inline/>: resumption inside <authenticate/>. */
  sm: boolean;
  /** XEP-0484: the FAST mechanisms, and whether TLS 0-RTT data is allowed. */
  fast?: { mechanisms: string[]; tls0rtt: boolean };
}

export function sasl2Offer(features: Element): Sasl2Offer | undefined {
  const auth = features.getChild("authentication", NS_SASL2);
  if (!auth) return undefined;
  const inline = auth.getChild("inline");
  const bind = inline?.getChild("bind", NS_BIND2);
  const fast = inline?.getChild("fast", NS_FAST);
  const channelBindings = offeredChannelBindings(features);
  return {
    mechanisms: auth.getChildren("mechanism").map((m) => m.text().trim()),
    ...(channelBindings ? { channelBindings } : {}),
    ...(bind
      ? { bind: { inline: bind.getChild("inline")?.getChildren("feature").map((f) => f.attrs.var as string) ?? [] } }
      : {}),
    sm: Boolean(inline?.getChild("sm", NS_SM)),
    ...(fast
      ? {
          fast: {
            mechanisms: fast.getChildren("mechanism").map((m) => m.text().trim()),
            tls0rtt: fast.attrs["tls-0rtt"] === "true" || fast.attrs["tls-0rtt"] === "1",
          },
        }
      : {}),
  };
}

/** SASL2 mechanisms xepcheck prefers with a password: strongest SCRAM first, never -PLUS unless asked, PLAIN last. */
export const SASL2_PREFERENCE = ["SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"];

/** XEP-0388 §2.3 <user-agent/>: 'id' is a UUID v4, stable per client installation. */
export interface UserAgent {
  id: string;
  software?: string;
  device?: string;
}

export function newUserAgent(): UserAgent {
  return { id: randomUUID(), software: "xepcheck" };
}

/** XEP-0386 §3.2: what <bind/> asks for. */
export interface Bind2Request {
  tag?: string;
  /** XEP-0198 <enable/> inside <bind/> (XEP-0198 §9.1). */
  sm?: { resume?: boolean; max?: number };
  /** XEP-0280 <enable/>. */
  carbons?: boolean;
  /** XEP-0352: the session starts in this state. */
  csi?: "active" | "inactive";
}

/** A FAST token (XEP-0484 §3.3), bound to its mechanism and to the user-agent id that asked for it. */
export interface FastToken {
  mechanism: string;
  token: string;
  expiry?: string;
}

export interface Sasl2Request {
  username: string;
  /** Authenticate with the password (SCRAM, or PLAIN when asked)… */
  password?: string;
  /** …or with a FAST token (XEP-0484 §3.4): its mechanism is used. */
  token?: FastToken;
  /** With a password: the mechanism (default: the first of SASL2_PREFERENCE offered). */
  mechanism?: string;
  /** For a -PLUS mechanism: the channel-binding type (default chooseChannelBinding). */
  channelBinding?: ChannelBindingType;
  userAgent: UserAgent;
  bind?: Bind2Request;
  /** XEP-0198 <resume/> inside <authenticate/> (XEP-0198 §9.2). */
  resume?: { previd: string; h: number };
  /** XEP-0484 §3.2: ask for a token for this FAST mechanism. */
  requestToken?: string;
  /** With a token: attributes of XEP-0484's <fast/> (count, invalidate). */
  fast?: { invalidate?: boolean; count?: number };
}

export interface Sasl2Outcome {
  success: Element;
  /** XEP-0388 §2.6.1: a bare JID, or the full JID once a resource is bound. */
  authorizationIdentifier: string | undefined;
  mechanism: string;
  channelBinding?: ChannelBindingType;
  /**
   * The server proved it knows the secret: the SCRAM server signature or the
   * HT "Responder" hash in <additional-data/> matched. False when the
   * mechanism has no such proof (PLAIN) or the server sent none.
   */
  serverVerified: boolean;
  /** XEP-0386 <bound/>, or <failed xmlns='urn:xmpp:bind:0'/>. */
  bound?: Element;
  bindFailed?: Element;
  /** XEP-0198 <enabled/> or <failed/> inside <bound/>. */
  smEnable?: Element;
  /** XEP-0198 <resumed/> or <failed/> directly inside <success/>. */
  smResume?: Element;
  /** XEP-0484 §3.3: a new token (also on rotation). */
  token?: FastToken;
  /** Stream features after <success/> (XEP-0388 §2.6.1); none after an inline resumption (XEP-0198 §9.2). */
  features?: Element;
}

/** The server's <failure/> (XEP-0388 §2.6.2) or a <continue/> xepcheck cannot follow. */
export class Sasl2Failure extends SessionError {
  constructor(
    message: string,
    readonly element: Element,
    condition?: string,
  ) {
    super("auth", "sasl", message, condition);
    this.name = "Sasl2Failure";
  }
}

/** A parsed HT-* mechanism name (draft-schmaus-kitten-sasl-ht): HT-<hash>-<channel binding>. */
export interface HtVariant {
  hash: "sha256" | "sha384" | "sha512";
  channelBinding?: ChannelBindingType;
}

const HT_HASHES: Record<string, HtVariant["hash"]> = { "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };
const HT_BINDINGS: Record<string, ChannelBindingType | null> = {
  NONE: null,
  UNIQ: "tls-unique",
  ENDP: "tls-server-end-point",
  EXPR: "tls-exporter",
};

export function htVariant(mechanism: string): HtVariant | undefined {
  const m = /^HT-(SHA-\d+)-([A-Z]+)$/.exec(mechanism);
  const hash = m ? HT_HASHES[m[1]!] : undefined;
  const cb = m ? HT_BINDINGS[m[2]!] : undefined;
  if (!hash || cb === undefined) return undefined;
  return { hash, ...(cb ? { channelBinding: cb } : {}) };
}

/**
 * HT initial response: authcid NUL HMAC(token, "Initiator" || cb-data); the
 * server answers HMAC(token, "Responder" || cb-data).
 */
export function htInitiator(variant: HtVariant, username: string, token: string, cbData: Buffer = Buffer.alloc(0)): Buffer {
  const mac = createHmac(variant.hash, Buffer.from(token, "utf8")).update(Buffer.concat([Buffer.from("Initiator"), cbData])).digest();
  return Buffer.concat([Buffer.from(username, "utf8"), Buffer.from([0]), mac]);
}

export function htResponder(variant: HtVariant, token: string, cbData: Buffer = Buffer.alloc(0)): Buffer {
  return createHmac(variant.hash, Buffer.from(token, "utf8")).update(Buffer.concat([Buffer.from("Responder"), cbData])).digest();
}

/**
 * The FAST mechanisms of `offered` that this stream can compute, channel
 * binding first (XEP-0484 §5: "Channel binding mechanisms ... MUST be
 * preferred by the client"): EXPR, ENDP, UNIQ, then NONE.
 */
export function usableFastMechanisms(stream: XmppStream, offered: string[]): string[] {
  const rank = (m: string) => ["EXPR", "ENDP", "UNIQ", "NONE"].indexOf(m.split("-").at(-1) ?? "");
  return offered
    .filter((m) => {
      const v = htVariant(m);
      if (!v) return false;
      if (!v.channelBinding) return true;
      try {
        return stream.tlsSocket !== undefined && channelBindingData(stream.tlsSocket, v.channelBinding).length > 0;
      } catch {
        return false;
      }
    })
    .sort((a, b) => rank(a) - rank(b));
}

const b64 = (data: string | Buffer) => (typeof data === "string" ? Buffer.from(data, "utf8") : data).toString("base64");
const unb64 = (text: string) => Buffer.from(text.trim(), "base64");

function failureCondition(el: Element): string {
  return el.getChildElements().find((c) => c.getNS() === NS_SASL && c.getName() !== "text")?.getName() ??
    el.getChildElements().find((c) => c.getName() !== "text")?.getName() ??
    "failure";
}

/**
 * One SASL2 authentication on a TLS-protected stream whose features offer
 * SASL2 (XEP-0388 §2.3–2.6). Returns what the server said in <success/> and
 * the features that follow it; throws Sasl2Failure on <failure/> or
 * <continue/>. Each request the client waits on counts as a round trip.
 */
export async function authenticateSasl2(stream: XmppStream, request: Sasl2Request): Promise<Sasl2Outcome> {
  const offer = sasl2Offer(stream.features);
  if (!offer) throw new SessionError("protocol", "sasl", "the server does not offer SASL2 (<authentication xmlns='urn:xmpp:sasl:2'/>) on this stream");
  if (!stream.isSecure) throw new SessionError("tls", "sasl", "SASL2 only after TLS (XEP-0388 §3)");

  let mechanism: string;
  let initial: Buffer;
  let scram: ScramClient | undefined;
  let ht: { variant: HtVariant; cbData: Buffer; token: string } | undefined;
  let cbType: ChannelBindingType | undefined;
  if (request.token) {
    mechanism = request.token.mechanism;
    const variant = htVariant(mechanism);
    if (!variant) throw new SessionError("auth", "sasl", `xepcheck cannot authenticate with the FAST mechanism ${mechanism}`);
    let cbData: Buffer = Buffer.alloc(0);
    if (variant.channelBinding) {
      if (!stream.tlsSocket) throw new SessionError("auth", "sasl", `${mechanism} needs TLS for channel binding`);
      try {
        cbData = channelBindingData(stream.tlsSocket, variant.channelBinding);
      } catch (err) {
        if (err instanceof ChannelBindingError) throw new SessionError("auth", "sasl", `${mechanism}: ${err.message}`);
        throw err;
      }
      cbType = variant.channelBinding;
    }
    ht = { variant, cbData, token: request.token.token };
    initial = htInitiator(variant, request.username, request.token.token, cbData);
  } else {
    if (request.password === undefined) throw new SessionError("auth", "sasl", "SASL2 needs a password or a FAST token");
    const chosen = request.mechanism ?? SASL2_PREFERENCE.find((m) => offer.mechanisms.includes(m));
    if (!chosen) {
      throw new SessionError("auth", "sasl", `no usable SASL2 mechanism: the server offers ${offer.mechanisms.join(", ") || "none"}`);
    }
    mechanism = chosen;
    const credentials: Credentials = { username: request.username, password: request.password };
    scram = scramClientFor(stream, mechanism, credentials, request.channelBinding);
    if (scram) {
      initial = Buffer.from(scram.clientFirst(), "utf8");
      cbType = scram.channelBinding?.type;
    } else if (mechanism === "PLAIN") {
      initial = Buffer.from(`\0${request.username}\0${request.password}`, "utf8");
    } else {
      throw new SessionError("auth", "sasl", `xepcheck cannot authenticate with ${mechanism}`);
    }
  }

  const authenticate = xml(
    "authenticate",
    { xmlns: NS_SASL2, mechanism },
    xml("initial-response", {}, b64(initial)),
    userAgentElement(request.userAgent),
  );
  if (request.resume) {
    authenticate.append(xml("resume", { xmlns: NS_SM, previd: request.resume.previd, h: String(request.resume.h) }));
  }
  if (request.bind) authenticate.append(bindElement(request.bind));
  if (request.requestToken) authenticate.append(xml("request-token", { xmlns: NS_FAST, mechanism: request.requestToken }));
  if (request.token) {
    const attrs: Record<string, string> = { xmlns: NS_FAST };
    if (request.fast?.invalidate) attrs.invalidate = "true";
    if (request.fast?.count !== undefined) attrs.count = String(request.fast.count);
    authenticate.append(xml("fast", attrs));
  }

  const isSasl2 = (el: Element) => el.getNS() === NS_SASL2;
  let answer = await stream.request(authenticate, isSasl2, "sasl");
  let verified = false;
  try {
    for (let steps = 0; answer.is("challenge"); steps++) {
      if (!scram || steps > 1) throw new SessionError("protocol", "sasl", `unexpected SASL2 challenge for ${mechanism}`);
      let response: Element;
      if (steps === 0) {
        response = xml("response", { xmlns: NS_SASL2 }, b64(await scram.clientFinal(unb64(answer.text()).toString("utf8"))));
      } else {
        // A server-final sent as a challenge: verify it, answer with an empty response.
        scram.verifyServerFinal(unb64(answer.text()).toString("utf8"));
        verified = true;
        response = xml("response", { xmlns: NS_SASL2 });
      }
      answer = await stream.request(response, isSasl2, "sasl");
    }
  } catch (err) {
    if (err instanceof ScramError) throw new SessionError("auth", "sasl", `${mechanism}: ${err.message}`);
    throw err;
  }

  if (answer.is("failure")) {
    const condition = failureCondition(answer);
    const text = answer.getChildText("text");
    throw new Sasl2Failure(
      `SASL2 authentication as ${request.username} with ${mechanism} failed: ${condition}${text ? ` (${text})` : ""}`,
      answer,
      condition,
    );
  }
  if (answer.is("continue")) {
    const tasks = answer.getChild("tasks")?.getChildren("task").map((t) => t.text()) ?? [];
    throw new Sasl2Failure(`the server asks for SASL2 tasks xepcheck cannot perform: ${tasks.join(", ") || "none named"}`, answer, "continue");
  }
  if (!answer.is("success")) throw new SessionError("protocol", "sasl", `unexpected SASL2 answer <${answer.getName()}/>`);

  const additional = answer.getChildText("additional-data");
  try {
    if (scram && additional) {
      scram.verifyServerFinal(unb64(additional).toString("utf8"));
      verified = true;
    } else if (scram && !verified) {
      throw new SessionError("auth", "sasl", `${mechanism}: the server sent no server-final-message: it did not prove it knows the password`);
    }
  } catch (err) {
    if (err instanceof ScramError) throw new SessionError("auth", "sasl", `${mechanism}: ${err.message}`);
    throw err;
  }
  if (ht && additional) {
    const expected = htResponder(ht.variant, ht.token, ht.cbData);
    const got = unb64(additional);
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      throw new SessionError("auth", "sasl", `${mechanism}: the server's Responder hash does not match: it does not know the token`);
    }
    verified = true;
  }

  const bound = answer.getChild("bound", NS_BIND2);
  const bindFailed = answer.getChild("failed", NS_BIND2);
  const smEnable = bound?.getChildElements().find((c) => c.getNS() === NS_SM && (c.is("enabled") || c.is("failed")));
  const smResume = answer.getChildElements().find((c) => c.getNS() === NS_SM && (c.is("resumed") || c.is("failed")));
  const tokenEl = answer.getChild("token", NS_FAST);
  const authorizationIdentifier = answer.getChildText("authorization-identifier")?.trim() || undefined;
  const outcome: Sasl2Outcome = {
    success: answer,
    authorizationIdentifier,
    mechanism,
    ...(cbType ? { channelBinding: cbType } : {}),
    serverVerified: verified,
    ...(bound ? { bound } : {}),
    ...(bindFailed ? { bindFailed } : {}),
    ...(smEnable ? { smEnable } : {}),
    ...(smResume ? { smResume } : {}),
    ...(tokenEl?.attrs.token
      ? {
          token: {
            mechanism: request.requestToken ?? mechanism,
            token: tokenEl.attrs.token as string,
            ...(tokenEl.attrs.expiry ? { expiry: tokenEl.attrs.expiry as string } : {}),
          },
        }
      : {}),
  };
  if (bound && authorizationIdentifier?.includes("/")) {
    checkBoundJid(stream, authorizationIdentifier, "bind");
    stream.jid = authorizationIdentifier;
  }
  if (smResume?.is("resumed")) {
    // XEP-0198 §9.2: the stream is re-established right after <success/>; no features follow.
    return outcome;
  }
  // XEP-0388 §2.6.1: <success/> is immediately followed by the new stream features (no restart).
  const features = await stream.waitFor((el) => el.is("features", NS_STREAM), "stream-features");
  stream.features = features;
  stream.featureLog.push({ stage: "after-sasl2", xml: features.toString() });
  return { ...outcome, features };
}

function userAgentElement(ua: UserAgent): Element {
  const el = xml("user-agent", { id: ua.id });
  if (ua.software) el.append(xml("software", {}, ua.software));
  if (ua.device) el.append(xml("device", {}, ua.device));
  return el;
}

function bindElement(bind: Bind2Request): Element {
  const el = xml("bind", { xmlns: NS_BIND2 });
  if (bind.tag) el.append(xml("tag", {}, bind.tag));
  if (bind.carbons) el.append(xml("enable", { xmlns: NS_CARBONS }));
  if (bind.sm) {
    const attrs: Record<string, string> = { xmlns: NS_SM };
    if (bind.sm.resume) attrs.resume = "true";
    if (bind.sm.max !== undefined) attrs.max = String(bind.sm.max);
    el.append(xml("enable", attrs));
  }
  if (bind.csi) el.append(xml(bind.csi, { xmlns: NS_CSI }));
  return el;
}

export interface Sasl2LoginOptions extends ConnectOptions, Omit<Sasl2Request, "username" | "password"> {
  credentials: Credentials | { username: string; password?: undefined };
}

export interface Sasl2Login {
  stream: XmppStream;
  outcome: Sasl2Outcome;
  offer: Sasl2Offer;
}

/** The stream features after TLS hold no SASL2 <authentication/>: not offered, not a failure. */
export class Sasl2NotOffered extends SessionError {
  constructor() {
    super("protocol", "sasl", "the server does not offer SASL2 on this stream");
  }
}

/**
 * Opens a TLS-protected stream with from='<bare JID>' (ejabberd and Prosody's
 * FAST offer SASL2 only then) and authenticates with SASL2.
 */
export async function loginSasl2(options: Sasl2LoginOptions): Promise<Sasl2Login> {
  const { credentials } = options;
  const stream = await connectSecure({ ...options, from: `${credentials.username}@${options.domain}` });
  try {
    const offer = sasl2Offer(stream.features);
    if (!offer) throw new Sasl2NotOffered();
    const outcome = await authenticateSasl2(stream, {
      ...options,
      username: credentials.username,
      ...(credentials.password !== undefined ? { password: credentials.password } : {}),
    });
    return { stream, outcome, offer };
  } catch (err) {
    stream.destroy();
    throw err;
  }
}

/** A Session (as login() returns) for a SASL2 login that bound a resource. */
export function sasl2Session(login: Sasl2Login): Session {
  const jid = login.stream.jid;
  if (!jid) throw new SessionError("protocol", "bind", "the SASL2 login bound no resource");
  return {
    stream: login.stream,
    jid,
    mechanism: login.outcome.mechanism,
    offeredMechanisms: login.offer.mechanisms,
    ...(login.outcome.channelBinding ? { channelBinding: login.outcome.channelBinding } : {}),
  };
}

/**
 * A bound session the cheapest way SASL2 offers it, for sessions whose login
 * is not what a check looks at: Bind 2 inside the SASL2 exchange, two round
 * trips fewer than RFC 6120 (no stream restart, no separate bind), asking
 * for nothing inline, so that the session is as one RFC 6120 binds
 * (XEP-0386 §3: only what is requested inline is enabled). A fresh user
 * agent id each time: a server may take the same id for the same device and
 * replace its session. The mechanism is SASL2_PREFERENCE's; its
 * openAuthenticated (XEP-0198 resumption) logs in as RFC 6120 does.
 */
export async function loginBind2(options: LoginOptions): Promise<Session> {
  const login = await loginSasl2({
    ...options,
    userAgent: newUserAgent(),
    bind: { tag: "xepcheck" },
  });
  try {
    if (!login.outcome.bound) throw new SessionError("protocol", "bind", "the SASL2 login with Bind 2 bound no resource (no <bound/> in <success/>)");
    return {
      ...sasl2Session(login),
      openAuthenticated: async () => (options.meter?.add("logins"), (await loginWithoutBind(options)).stream),
    };
  } catch (err) {
    login.stream.destroy();
    throw err;
  }
}

/**
 * A StreamManagement for a session whose <enable/> went inline (XEP-0198
 * §9.1): the <enabled/> came inside <bound/>, so the counters start now.
 * StreamManagement only starts counting when it sees <enable/> and
 * <enabled/> go by on the stream; here it is shown them once, through a
 * view of the stream whose observe() it can be fed from.
 */
export function adoptInlineSm(stream: XmppStream, enabled: Element): StreamManagement {
  const hook: { feed?: (el: Element, dir: "in" | "out") => void } = {};
  const view = new Proxy(stream, {
    get(target, prop) {
      if (prop === "observe") {
        return (fn: (el: Element, dir: "in" | "out") => void) => {
          hook.feed = fn;
          return target.observe(fn);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
    set(target, prop, value) {
      return Reflect.set(target, prop, value, target);
    },
  });
  const sm = new StreamManagement(view);
  hook.feed?.(xml("enable", { xmlns: NS_SM }), "out");
  hook.feed?.(enabled, "in");
  const { id, max, location } = enabled.attrs;
  sm.enabled = {
    ...(id ? { id } : {}),
    resume: enabled.attrs.resume === "true" || enabled.attrs.resume === "1",
    ...(max !== undefined && Number.isFinite(Number(max)) ? { max: Number(max) } : {}),
    ...(location ? { location } : {}),
    element: enabled,
  };
  return sm;
}

/**
 * Counts the stanzas the server sends after SASL2 <success/> on `stream`;
 * start it before authenticating (stanzas can come in the same packet as
 * <success/>). `stop()` detaches and returns the count.
 */
export function countStanzasAfterSuccess(stream: XmppStream): { stop(): number } {
  let counting = false;
  let count = 0;
  const detach = stream.observe((el, dir) => {
    if (dir !== "in") return;
    if (el.is("success", NS_SASL2)) counting = true;
    else if (counting && isStanza(el)) count++;
  });
  return {
    stop() {
      detach();
      return count;
    },
  };
}

/**
 * The StreamManagement of a session resumed inside SASL2 <authenticate/>
 * (XEP-0198 §9.2), continuing `previous`'s counters on `stream`: our 'h' is
 * what we had handled plus what arrived since <success/>; the server's 'h'
 * from <resumed/> is what it got from us.
 */
export function adoptResumedSm(stream: XmppStream, previous: StreamManagement, resumed: Element, arrivedSinceSuccess: number): StreamManagement {
  if (!previous.enabled) throw new SessionError("protocol", "wait", "no Stream Management session to continue");
  stream.jid ??= previous.jid;
  const sm = adoptInlineSm(stream, previous.enabled.element);
  sm.inbound = (previous.inbound + arrivedSinceSuccess) % 2 ** 32;
  const h = Number(resumed.attrs.h);
  if (Number.isInteger(h)) sm.outbound = sm.acked = h;
  return sm;
}

/** A transcript view that labels every entry with `label` (for streams recorded before useTranscript()). */
export class LabelledTranscript extends Transcript {
  constructor(
    private readonly inner: Transcript,
    private readonly label: string,
  ) {
    super();
  }

  override record(dir: "in" | "out" | "note", text: string, actor?: string): void {
    this.inner.record(dir, text, actor ?? this.label);
  }
}

/** A short, non-secret fingerprint of a token, for notes that must not carry the token itself. */
export function tokenFingerprint(token: string): string {
  return createHash("sha256").update(token).digest("hex").slice(0, 8);
}
