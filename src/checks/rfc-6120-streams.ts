/**
 * RFC 6120 §4 (XML streams), §5 (STARTTLS), §6 (SASL) and §11 (XML
 * usage), on connections of their own before authentication: what the
 * server answers to a stream header, how it negotiates TLS and refuses
 * failed SASL, and what it does with XML it must refuse. Each check quotes its row of
 * suites/rfc/rfc6120-6121-server-requirements.csv (`covers`), and its id
 * starts with the row's section, so `--only 'rfc6120.4.*'` runs a section.
 *
 * A refusal is proven by what the server sends (RFC 6120 §4.9.1.1: the
 * <error/>, then the closing tag); an acceptance by what the server answers
 * after it: the stream features, or the answer to a later request on the
 * same stream (§10.1, in order), never by silence.
 * https://www.rfc-editor.org/rfc/rfc6120
 */
import type { Element } from "@xmpp/xml";
import type { ProbeResult } from "../facts.js";
import type { Scenario } from "../scenario/scenario.js";
import { NS_SASL, SASL_CONDITIONS } from "../session/login.js";
import { NS_STREAM_ERRORS, type RawStream, type ServerSide } from "../session/raw-stream.js";
import { NS_STREAM, NS_TLS } from "../session/stream.js";
import { Transcript, type TranscriptEntry } from "../session/transcript.js";
import { rowCheck } from "./rfc-requirements.js";
import type { ScenarioDefinition } from "./types.js";


/** What the server has sent, in a line for an expected/actual pair. */
function described(server: ServerSide): string {
  const parts = [
    server.header ? "a response header" : "no response header",
    server.streamError ? `the stream error ${server.streamError.element.toString()}` : "no stream error",
    ...server.elements.filter((el) => el !== server.streamError?.element).map((el) => `<${el.getName()}/>`),
    ...(server.closedStream ? ["the closing </stream:stream>"] : []),
    server.closedConnection ? "then the connection closed" : "the connection still open",
    ...(server.unreadable ? [`XML xepcheck could not read (${server.unreadable})`] : []),
  ];
  return parts.join(", ");
}

/** Defined stream error conditions (RFC 6120 §4.9.3). */
const CONDITIONS = new Set([
  "bad-format", "bad-namespace-prefix", "conflict", "connection-timeout", "host-gone", "host-unknown", "improper-addressing",
  "internal-server-error", "invalid-from", "invalid-namespace", "invalid-xml", "not-authorized", "not-well-formed", "policy-violation",
  "remote-connection-failed", "reset", "resource-constraint", "restricted-xml", "see-other-host", "system-shutdown",
  "undefined-condition", "unsupported-encoding", "unsupported-feature", "unsupported-stanza-type", "unsupported-version",
]);

/** Answers to the request ignoredOrRefused and refusal send after the payload: the server went on with the stream. */
function isBarrierAnswer(el: Element): boolean {
  return el.is("proceed", NS_TLS) || el.is("failure", NS_TLS) || el.is("failure", NS_SASL) || el.is("challenge", NS_SASL) || el.is("success", NS_SASL);
}

/** The request that follows a payload: <starttls/> over STARTTLS, else a SASL <auth/> with a mechanism nobody offers. */
function barrierFor(s: Scenario, features?: Element): string {
  const starttls = features ? Boolean(features.getChild("starttls", NS_TLS)) : s.target.mode === "starttls";
  return starttls ? `<starttls xmlns='${NS_TLS}'/>` : `<auth xmlns='${NS_SASL}' mechanism='XEPCHECK-NONE'/>`;
}

/**
 * The server closed the stream with a stream error (§4.9.1.1: the <error/>
 * with one defined condition, §4.9.2, then the closing tag): `must` is the
 * condition the requirement demands, `should` the one it recommends. An
 * answer to a request sent after the offending data (barrierFor) shows the
 * server went on instead, without waiting for a deadline.
 */
async function refused(s: Scenario, raw: RawStream, want: { must?: string; should?: string }): Promise<string> {
  await raw.until((x) => x.closedConnection || (x.streamError !== undefined && x.closedStream) || x.elements.some(isBarrierAnswer), s.target.timeoutMs);
  const { server } = raw;
  const error = server.streamError;
  const named = want.must ?? want.should;
  const wentOn = server.elements.find(isBarrierAnswer);
  s.ensure(
    error,
    `a stream error${named ? ` (<${named}/>)` : ""} closing the stream`,
    wentOn ? `the server went on: it answered the request sent after it with ${wentOn.toString()} (${described(server)})` : described(server),
  );
  const condition = error!.condition;
  s.ensure(
    condition && CONDITIONS.has(condition),
    "one of the stream error conditions of RFC 6120 §4.9.3, in urn:ietf:params:xml:ns:xmpp-streams (§4.9.2)",
    error!.element.toString(),
  );
  if (want.must) s.ensure(condition === want.must, `<${want.must} xmlns='${NS_STREAM_ERRORS}'/>`, error!.element.toString());
  s.ensure(server.closedStream || server.closedConnection, "the stream closed after the error (§4.9.1.1)", described(server));
  if (want.should) s.should(condition === want.should, `<${want.should}/> (the condition the RFC recommends)`, `<${condition}/>`);
  return condition!;
}

/**
 * After `payload`, a request the server answers on a stream it kept: <starttls/>
 * where it offers STARTTLS, else a SASL <auth/> with a mechanism nobody
 * offers. Its answer, after what came before it (§10.1), shows the payload
 * was ignored; a stream error shows it was refused. Returns which.
 */
async function ignoredOrRefused(s: Scenario, raw: RawStream, features: Element | undefined, payload: string): Promise<"ignored" | "refused"> {
  const before = raw.server.elements.length;
  raw.write(payload + barrierFor(s, features));
  await raw.until((x) => x.streamError !== undefined || x.elements.length > before, s.target.timeoutMs);
  if (raw.server.streamError) return "refused";
  const answer = raw.server.elements.slice(before)[0];
  s.ensure(answer, "an answer to the request sent after it (the payload ignored), or a stream error (refused)", described(raw.server));
  s.note(`the server answered the request after it with <${answer!.getName()}/>: it ignored what came before`);
  return "ignored";
}

/** Opens a raw connection and sends a stream header with `attrs` changed; waits for the response header and features (or an error). */
async function opened(s: Scenario, attrs: Record<string, string> = {}, label = "raw"): Promise<{ raw: RawStream; features: Element | undefined }> {
  const raw = await s.rawConnection(label);
  raw.write(raw.header(attrs));
  const features = await raw.features(s.target.timeoutMs);
  return { raw, features };
}

// ---------------------------------------------------------------- the opening, observed once

/** One stream opened as RFC 6120 shows it, before TLS and (over STARTTLS) after it, shared by the checks of its facts. */
interface Opening {
  before: ServerSide;
  /** Over STARTTLS: the answer to <starttls/>, the bytes up to it, whether TLS came up and with a certificate. */
  starttls?: { answer: Element | undefined; bytes: string; secured: boolean; certificate: boolean };
  /** Over STARTTLS: the stream restarted on TLS with from='<bare JID>'. */
  after?: ServerSide;
  sentFrom?: string;
  entries: TranscriptEntry[];
}

const openings = new WeakMap<ProbeResult, Promise<Opening>>();

/**
 * The first check that needs it opens the stream; the others wait for the
 * same observation, and each shows its exchange in its transcript.
 */
async function opening(s: Scenario): Promise<Opening> {
  let observed = openings.get(s.ctx.probe);
  if (!observed) {
    observed = observeOpening(s);
    openings.set(s.ctx.probe, observed);
  }
  const result = await observed;
  s.note("the stream below was opened once for the checks of RFC 6120 §4.3–§4.8 and §11.5–§11.6 that judge the response header");
  for (const e of result.entries) s.transcript.record(e.dir, e.xml, e.actor);
  return result;
}

async function observeOpening(s: Scenario): Promise<Opening> {
  const transcript = new Transcript();
  const raw = await s.rawConnection("opening", transcript);
  raw.write(raw.header());
  const features = await raw.features(s.target.timeoutMs);
  const before = { ...raw.server, elements: [...raw.server.elements] };
  let after: ServerSide | undefined;
  let sentFrom: string | undefined;
  let starttls: Opening["starttls"];
  if (s.target.mode === "starttls" && features?.getChild("starttls", NS_TLS)) {
    const answered = await raw.starttls();
    const certificate = Boolean(raw.peerCertificate?.raw?.length);
    starttls = { answer: answered.answer, bytes: answered.bytes.toString("utf8"), secured: answered.secured, certificate };
    if (answered.secured) {
      sentFrom = s.bareJid("account");
      raw.write(raw.header({ from: sentFrom }));
      await raw.features(s.target.timeoutMs);
      after = { ...raw.server, elements: [...raw.server.elements] }; // as it was then: the connection is closed below
    }
  }
  await raw.close();
  return { before, ...(starttls ? { starttls } : {}), ...(after ? { after } : {}), ...(sentFrom ? { sentFrom } : {}), entries: transcript.entries };
}

/** The response header of the opening, which the check needs. */
function headerOf(s: Scenario, side: ServerSide | undefined, what: string): Record<string, string> {
  if (!side) s.skip(`${what}: the run uses direct TLS, or the server offered no STARTTLS, so no stream was restarted on TLS`);
  s.ensure(side.header, "a response stream header", described(side));
  return side.header!;
}

/** A check of the first response header of the opening alone. */
function headerCheck(key: string, def: { id: string; title: string; also?: string[]; judge(s: Scenario, header: Record<string, string>): void }): ScenarioDefinition {
  return rowCheck(key, {
    id: def.id,
    title: def.title,
    ...(def.also ? { also: def.also } : {}),
    run: async (s) => def.judge(s, headerOf(s, (await opening(s)).before, "the response header")),
  });
}

/** BCP 47 as RFC 5646 §2.1 writes it, loosely: subtags of letters and digits. */
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

const openingChecks = [
  rowCheck("6120/4.1#1", {
    id: "rfc6120.4.1.response-stream",
    title: "The server answers an initial stream header with a response stream header",
    also: ["6120/4.5#1", "6120/4.8.3#2"],
    run: async (s) => {
      const { before } = await opening(s);
      const header = headerOf(s, before, "the response header");
      s.summary = `a response header from '${header.from ?? ""}' with id '${header.id ?? ""}' on the same TCP connection`;
    },
  }),
  rowCheck("6120/4.3.2#1", {
    id: "rfc6120.4.3.2.features",
    title: "After the response header to version='1.0', the server sends <stream:features/>",
    run: async (s) => {
      const { before } = await opening(s);
      const features = before.elements[0];
      s.ensure(features?.is("features", NS_STREAM), "<stream:features/> as the first element after the header", described(before));
      s.summary = `<stream:features/> with ${features!.getChildElements().map((c) => `<${c.getName()}/>`).join(", ") || "nothing"}`;
    },
  }),
  rowCheck("6120/4.3.3#2", {
    id: "rfc6120.4.3.3.new-stream-id",
    title: "A stream restarted after STARTTLS gets a new stream ID",
    also: ["6120/5.3.2#1", "6120/5.4.3.3#2", "6120/6.4.1#2"],
    run: async (s) => {
      const { before, after } = await opening(s);
      const first = headerOf(s, before, "the first header").id;
      const second = headerOf(s, after, "a new stream ID").id;
      s.ensure(second && second !== first, `a stream ID other than '${first ?? ""}' after the restart`, `id='${second ?? ""}'`);
      s.summary = `id '${first}' before TLS, '${second}' after the restart`;
    },
  }),
  rowCheck("6120/4.3.4#1", {
    id: "rfc6120.4.3.4.features-after-restart",
    title: "After a stream restart the server sends its stream features again",
    also: ["6120/4.3.4#2", "6120/4.3.3#1"],
    run: async (s) => {
      const { after } = await opening(s);
      headerOf(s, after, "features after a restart");
      const features = after!.elements.find((el) => el.is("features", NS_STREAM));
      s.ensure(features, "<stream:features/> after the restarted header (possibly empty, §4.3.4)", described(after!));
      // §4.3.3: the restart reuses the connection; the old stream is not closed.
      s.ensure(!after!.closedStream && !after!.closedConnection, "the restarted stream open on the same connection", described(after!));
      s.summary = `features after the restart on TLS: ${features!.getChildElements().map((c) => `<${c.getName()}/>`).join(", ") || "(empty)"}`;
    },
  }),
  headerCheck("6120/4.7.1#1", {
    id: "rfc6120.4.7.1.response-from",
    title: "The response stream header carries 'from', the domain asked for",
    also: ["6120/4.7.1#2"],
    judge: (s, header) => {
      s.ensure(header.from, "a 'from' attribute on the response header", JSON.stringify(header));
      s.ensure(header.from!.toLowerCase() === s.domain.toLowerCase(), `from='${s.domain}' (the 'to' we sent)`, `from='${header.from}'`);
      s.summary = `from='${header.from}', in answer to a header without 'from'`;
    },
  }),
  rowCheck("6120/4.7.2#1", {
    id: "rfc6120.4.7.2.to-is-our-from",
    title: "After TLS, a header with from='<bare JID>' is answered with that JID as 'to'",
    run: async (s) => {
      const { after, sentFrom } = await opening(s);
      const header = headerOf(s, after, "the response to a header with 'from'");
      s.ensure(header.to?.toLowerCase() === sentFrom?.toLowerCase(), `to='${sentFrom}'`, header.to === undefined ? "no 'to'" : `to='${header.to}'`);
      s.summary = `to='${header.to}' in answer to from='${sentFrom}'`;
    },
  }),
  headerCheck("6120/4.7.2#2", {
    id: "rfc6120.4.7.2.no-to-without-from",
    title: "A header without 'from' is answered without 'to'",
    judge: (s, header) => {
      s.ensure(header.to === undefined, "no 'to' attribute", `to='${header.to}'`);
      s.summary = "no 'to' in answer to a header without 'from'";
    },
  }),
  headerCheck("6120/4.7.3#4", {
    id: "rfc6120.4.7.3.response-id",
    title: "The response stream header carries an 'id'",
    judge: (s, header) => {
      s.ensure(header.id, "an 'id' attribute on the response header", JSON.stringify(header));
      s.summary = `id='${header.id}'`;
    },
  }),
  headerCheck("6120/4.7.4#2", {
    id: "rfc6120.4.7.4.response-lang",
    title: "The response stream header carries 'xml:lang', a language tag, 'en' when asked for 'en'",
    also: ["6120/4.7.4#1", "6120/4.7.4#3"],
    judge: (s, header) => {
      const lang = header["xml:lang"];
      s.ensure(lang, "an 'xml:lang' attribute on the response header", JSON.stringify(header));
      s.ensure(LANGUAGE_TAG.test(lang!), "a language tag (BCP 47, an NMTOKEN)", `xml:lang='${lang}'`);
      s.ensure(lang!.toLowerCase() === "en" || lang!.toLowerCase().startsWith("en-"), "xml:lang='en', the language asked for", `xml:lang='${lang}'`);
      s.summary = `xml:lang='${lang}' in answer to xml:lang='en'`;
    },
  }),
  headerCheck("6120/4.7.5#3", {
    id: "rfc6120.4.7.5.version",
    title: "version='1.0' is answered with version='1.0'",
    judge: (s, header) => {
      s.ensure(header.version === "1.0", "version='1.0'", header.version === undefined ? "no 'version'" : `version='${header.version}'`);
      s.summary = "version='1.0'";
    },
  }),
  headerCheck("6120/4.8.2#1", {
    id: "rfc6120.4.8.2.content-namespace",
    title: "The response stream's content namespace is jabber:client",
    judge: (s, header) => {
      s.ensure(header.xmlns === "jabber:client", "xmlns='jabber:client' on the response header", header.xmlns === undefined ? "no default namespace" : `xmlns='${header.xmlns}'`);
      s.summary = "xmlns='jabber:client'";
    },
  }),
  rowCheck("6120/11.5#1", {
    id: "rfc6120.11.5.xml-declaration",
    title: "The response stream header is preceded by an XML declaration",
    run: async (s) => {
      const { before } = await opening(s);
      s.ensure(before.bytes.length > 0, "a response stream header", described(before));
      const text = before.bytes.toString("utf8").trimStart();
      s.should(text.startsWith("<?xml"), "<?xml version='1.0'?> before the stream header", text.slice(0, 80));
      s.summary = text.slice(0, text.indexOf("?>") + 2);
    },
  }),
  rowCheck("6120/11.5#2", {
    id: "rfc6120.11.5.no-standalone",
    title: "The server's XML declaration has no standalone document declaration",
    run: async (s) => {
      const { before } = await opening(s);
      s.ensure(before.bytes.length > 0, "a response stream header", described(before));
      const text = before.bytes.toString("utf8").trimStart();
      const declaration = text.startsWith("<?xml") ? text.slice(0, text.indexOf("?>") + 2) : "";
      s.ensure(!/standalone/.test(declaration), "no standalone='…' in the XML declaration", declaration);
      s.summary = declaration ? `${declaration}: no standalone` : "no XML declaration";
    },
  }),
  rowCheck("6120/11.6#2", {
    id: "rfc6120.11.6.utf-8",
    title: "The server speaks UTF-8 only: no other encoding declared, no byte order mark",
    also: ["6120/11.6#4"],
    run: async (s) => {
      const { before } = await opening(s);
      s.ensure(before.bytes.length > 0, "a response stream header", described(before));
      s.ensure(!(before.bytes[0] === 0xef && before.bytes[1] === 0xbb && before.bytes[2] === 0xbf), "no UTF-8 byte order mark (EF BB BF) first (§11.6)", "EF BB BF");
      const text = before.bytes.toString("utf8");
      const encoding = /^\s*<\?xml[^?]*encoding=["']([^"']+)["']/.exec(text)?.[1];
      s.ensure(!encoding || encoding.toUpperCase() === "UTF-8", "no encoding other than UTF-8 in the XML declaration", `encoding='${encoding}'`);
      s.ensure(!before.unreadable, "UTF-8 throughout", before.unreadable ?? "");
      s.summary = encoding ? `declared encoding='${encoding}'` : "no encoding declared (UTF-8), no byte order mark";
    },
  }),
];

// ---------------------------------------------------------------- STARTTLS and the SASL offer, from the opening

/** The features on the TLS-protected stream before authentication: after STARTTLS, or the first ones over direct TLS. */
function securedFeatures(s: Scenario, opening: Opening): Element {
  const side = s.target.mode === "direct" ? opening.before : opening.after;
  if (!side) s.skip("no stream was restarted on TLS: the server offered no STARTTLS, or it failed (rfc6120.5.* say which)");
  const features = side.elements.find((el) => el.is("features", NS_STREAM));
  s.ensure(features, "stream features on the TLS-protected stream", described(side));
  return features!;
}

/** STARTTLS as the opening negotiated it; a run over direct TLS negotiates none. */
function starttlsOf(s: Scenario, opening: Opening): NonNullable<Opening["starttls"]> {
  if (s.target.mode === "direct") s.skip("the run uses direct TLS (XEP-0368): no STARTTLS is negotiated");
  const features = opening.before.elements.find((el) => el.is("features", NS_STREAM));
  s.ensure(features?.getChild("starttls", NS_TLS), `<starttls xmlns='${NS_TLS}'/> in the first stream features`, features?.toString() ?? described(opening.before));
  s.ensure(opening.starttls?.answer, "an answer to <starttls/>", described(opening.before));
  return opening.starttls!;
}

const tlsChecks = [
  rowCheck("6120/5.4.1#3", {
    id: "rfc6120.5.4.1.starttls-offered",
    title: "The first stream features offer STARTTLS",
    also: ["6120/5.2#1", "6120/5.4.1#1", "6120/5.4.1#2"],
    run: async (s) => {
      const starttls = starttlsOf(s, await opening(s));
      s.summary = `<starttls/> offered; the server answered <${starttls.answer!.getName()}/>`;
    },
  }),
  rowCheck("6120/5.3.1#1", {
    id: "rfc6120.5.3.1.only-starttls-when-required",
    title: "When STARTTLS is required, the first features advertise nothing else",
    run: async (s) => {
      const o = await opening(s);
      starttlsOf(s, o);
      const features = o.before.elements.find((el) => el.is("features", NS_STREAM))!;
      const required = Boolean(features.getChild("starttls", NS_TLS)?.getChild("required"));
      const others = features.getChildElements().filter((c) => !c.is("starttls", NS_TLS));
      if (!required) s.skip("STARTTLS is offered without <required/>: the requirement is about servers that make TLS mandatory");
      s.ensure(others.length === 0, "<starttls><required/></starttls> alone in the first features", `also ${others.map((c) => `<${c.getName()} xmlns='${c.getNS()}'/>`).join(", ")}`);
      s.summary = "<starttls><required/></starttls> and nothing else";
    },
  }),
  rowCheck("6120/5.4.2.1#1", {
    id: "rfc6120.5.4.2.1.proceed",
    title: "<starttls/> is answered with <proceed/> (or <failure/>) in the TLS namespace, and TLS follows",
    also: ["6120/5.4.2.3#1", "6120/5.4.2.3#2", "6120/5.4.3.1#1"],
    run: async (s) => {
      const tls = starttlsOf(s, await opening(s));
      const answer = tls.answer!;
      s.ensure(answer.is("proceed", NS_TLS) || answer.is("failure", NS_TLS), `<proceed xmlns='${NS_TLS}'/> or <failure xmlns='${NS_TLS}'/>`, answer.toString());
      s.ensure(tls.secured, "a TLS handshake right after <proceed/>", answer.is("failure", NS_TLS) ? "the server answered <failure/>" : "the handshake failed");
      s.summary = "<proceed/>, then the TLS handshake";
    },
  }),
  rowCheck("6120/5.3.3#1", {
    id: "rfc6120.5.3.3.no-whitespace",
    title: "No whitespace between <starttls/> and <proceed/>",
    run: async (s) => {
      const tls = starttlsOf(s, await opening(s));
      s.ensure(!/^\s/.test(tls.bytes), "<proceed/> with no whitespace before it", JSON.stringify(tls.bytes.slice(0, 40)));
      s.summary = "the server's next bytes after <starttls/> were <proceed/>";
    },
  }),
  rowCheck("6120/5.4.3.1#2", {
    id: "rfc6120.5.4.3.1.certificate",
    title: "The server presents a certificate in the TLS handshake",
    also: ["6120/5.4.3.1#6"],
    run: async (s) => {
      const tls = starttlsOf(s, await opening(s));
      s.ensure(tls.secured && tls.certificate, "a certificate in the TLS handshake after <proceed/>", tls.secured ? "none" : "no TLS");
      s.summary = "a certificate was presented (rfc7590.* judge it)";
    },
  }),
  rowCheck("6120/5.4.3.3#3", {
    id: "rfc6120.5.4.3.3.no-starttls-after-tls",
    title: "The features after TLS do not offer STARTTLS again",
    run: async (s) => {
      const o = await opening(s);
      starttlsOf(s, o);
      const features = securedFeatures(s, o);
      s.ensure(!features.getChild("starttls", NS_TLS), "no <starttls/> in the features after TLS", features.toString());
      s.summary = `after TLS: ${features.getChildElements().map((c) => `<${c.getName()}/>`).join(", ") || "(empty)"}`;
    },
  }),
  rowCheck("6120/6.2#1", {
    id: "rfc6120.6.2.sasl-offered",
    title: "The features on the TLS-protected stream offer SASL",
    also: ["6120/5.4.3.3#4", "6120/6.4.1#3"],
    run: async (s) => {
      const features = securedFeatures(s, await opening(s));
      const mechanisms = features.getChild("mechanisms", NS_SASL);
      s.ensure(mechanisms, `<mechanisms xmlns='${NS_SASL}'/> in the features after TLS`, features.toString());
      s.summary = `SASL offered: ${mechanisms!.getChildren("mechanism").map((m) => m.text()).join(", ")}`;
    },
  }),
  rowCheck("6120/6.4.1#4", {
    id: "rfc6120.6.4.1.one-mechanism-each",
    title: "<mechanisms/> holds one <mechanism/> per mechanism, each naming one",
    run: async (s) => {
      const features = securedFeatures(s, await opening(s));
      const mechanisms = features.getChild("mechanisms", NS_SASL);
      if (!mechanisms) s.skip("no <mechanisms/> offered (rfc6120.6.2.sasl-offered)");
      const names = mechanisms!.getChildren("mechanism").map((m) => m.text().trim());
      s.ensure(names.length > 0 && names.every((n) => /^[A-Z0-9_-]{1,20}$/.test(n)), "<mechanism/> children each holding one SASL mechanism name (RFC 4422 §3.1)", mechanisms!.toString());
      s.ensure(new Set(names).size === names.length, "each mechanism once", names.join(", "));
      s.summary = `${names.length} mechanisms, one <mechanism/> each`;
    },
  }),
];

// ---------------------------------------------------------------- SASL failures, on a TLS-protected stream of their own

/** A raw connection on TLS (STARTTLS or direct), its features read: where SASL is negotiated. */
async function securedRaw(s: Scenario): Promise<{ raw: RawStream; features: Element }> {
  const raw = await s.rawConnection("raw");
  raw.write(raw.header());
  let features = await raw.features(s.target.timeoutMs);
  if (s.target.mode === "starttls") {
    if (!features?.getChild("starttls", NS_TLS)) s.skip("the server offers no STARTTLS: SASL is not negotiated before TLS");
    const tls = await raw.starttls();
    if (!tls.secured) s.skip(`STARTTLS did not succeed (${tls.answer?.toString() ?? "no answer"}): rfc6120.5.* say why`);
    raw.write(raw.header());
    features = await raw.features(s.target.timeoutMs);
  }
  s.ensure(features?.getChild("mechanisms", NS_SASL), "SASL mechanisms on the TLS-protected stream", described(raw.server));
  return { raw, features: features! };
}

/** Sends `request` and waits for the SASL answer: the <failure/>'s condition, or what came instead. */
async function saslAnswer(s: Scenario, raw: RawStream, request: string): Promise<Element> {
  const before = raw.server.elements.length;
  raw.write(request);
  await raw.until((x) => x.streamError !== undefined || x.elements.slice(before).some((el) => el.getNS() === NS_SASL), s.target.timeoutMs);
  const answer = raw.server.elements.slice(before).find((el) => el.getNS() === NS_SASL);
  s.ensure(answer, "a SASL answer (<failure/>, <challenge/> or <success/>)", described(raw.server));
  return answer!;
}

/** The defined condition of a SASL <failure/> (§6.5: one of its list). */
function failureCondition(s: Scenario, failure: Element, expected: string): string {
  s.ensure(failure.is("failure", NS_SASL), `<failure xmlns='${NS_SASL}'><${expected}/></failure>`, failure.toString());
  const condition = failure.getChildElements().find((c) => c.getName() !== "text")?.getName();
  s.ensure(condition && SASL_CONDITIONS.includes(condition), "one of the SASL error conditions of RFC 6120 §6.5", failure.toString());
  return condition!;
}

/** PLAIN for an account that does not exist: no real credentials ever go over a raw connection. */
const nobodyPlain = (s: Scenario) => Buffer.from(`\0${s.token("xepcheck-nobody")}\0${s.token("not-a-password")}`).toString("base64");

const saslChecks = [
  rowCheck("6120/6.4.5#1", {
    id: "rfc6120.6.4.5.invalid-mechanism",
    title: "<auth/> with a mechanism the server does not offer fails with <invalid-mechanism/>",
    also: ["6120/6.5#1"],
    run: async (s) => {
      const { raw } = await securedRaw(s);
      const condition = failureCondition(s, await saslAnswer(s, raw, `<auth xmlns='${NS_SASL}' mechanism='XEPCHECK-NONE'/>`), "invalid-mechanism");
      s.ensure(condition === "invalid-mechanism", "<invalid-mechanism/>", `<${condition}/>`);
      s.summary = "<failure><invalid-mechanism/></failure>";
    },
  }),
  rowCheck("6120/6.4.5#1", {
    id: "rfc6120.6.4.5.not-authorized",
    title: "PLAIN for an account that does not exist fails with <not-authorized/>",
    run: async (s) => {
      const { raw, features } = await securedRaw(s);
      const offered = features.getChild("mechanisms", NS_SASL)!.getChildren("mechanism").map((m) => m.text().trim());
      if (!offered.includes("PLAIN")) s.skip(`PLAIN is not offered (${offered.join(", ")}): the failure needs a mechanism that fails in one step`);
      const condition = failureCondition(s, await saslAnswer(s, raw, `<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${nobodyPlain(s)}</auth>`), "not-authorized");
      s.ensure(condition === "not-authorized", "<not-authorized/> (the credentials are wrong)", `<${condition}/>`);
      s.summary = "<failure><not-authorized/></failure> for an account that does not exist";
    },
  }),
  rowCheck("6120/6.4.5#2", {
    id: "rfc6120.6.4.5.retry",
    title: "After a failed <auth/>, the stream stays open for another attempt",
    run: async (s) => {
      const { raw } = await securedRaw(s);
      const first = await saslAnswer(s, raw, `<auth xmlns='${NS_SASL}' mechanism='XEPCHECK-NONE'/>`);
      failureCondition(s, first, "invalid-mechanism");
      const second = await saslAnswer(s, raw, `<auth xmlns='${NS_SASL}' mechanism='XEPCHECK-NONE'/>`);
      failureCondition(s, second, "invalid-mechanism");
      s.summary = "a second <auth/> after a <failure/> was answered on the same stream";
    },
  }),
  rowCheck("6120/6.3.10#1", {
    id: "rfc6120.6.3.10.no-initial-response",
    title: "<auth/> without an initial response is answered with a challenge (the less efficient mode)",
    run: async (s) => {
      const { raw, features } = await securedRaw(s);
      const offered = features.getChild("mechanisms", NS_SASL)!.getChildren("mechanism").map((m) => m.text().trim());
      const mechanism = ["SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"].find((m) => offered.includes(m));
      if (!mechanism) s.skip(`none of SCRAM-SHA-1, SCRAM-SHA-256, PLAIN offered (${offered.join(", ")})`);
      // No character data: no initial response; a zero-length one would be "=" (§6.4.2).
      const answer = await saslAnswer(s, raw, `<auth xmlns='${NS_SASL}' mechanism='${mechanism}'/>`);
      s.ensure(answer.is("challenge", NS_SASL), `a <challenge/> asking ${mechanism}'s initial response ("clients and servers MUST support the less efficient modes as well")`, answer.toString());
      s.summary = `${mechanism} without an initial response: the server asked for it with ${answer.toString()}`;
    },
  }),
  rowCheck("6120/6.4.4#1", {
    id: "rfc6120.6.4.4.abort",
    title: "<abort/> in the middle of a handshake is answered with <failure><aborted/></failure>",
    run: async (s) => {
      const { raw, features } = await securedRaw(s);
      const offered = features.getChild("mechanisms", NS_SASL)!.getChildren("mechanism").map((m) => m.text().trim());
      const mechanism = ["SCRAM-SHA-1", "SCRAM-SHA-256"].find((m) => offered.includes(m));
      if (!mechanism) s.skip(`no SCRAM-SHA-1 or SCRAM-SHA-256 offered (${offered.join(", ")}): a handshake of one step cannot be aborted`);
      // SCRAM's client-first names the account and a nonce, nothing secret; the server's challenge follows.
      const clientFirst = Buffer.from(`n,,n=${s.credentials("account").username},r=${s.token("nonce")}`).toString("base64");
      const challenge = await saslAnswer(s, raw, `<auth xmlns='${NS_SASL}' mechanism='${mechanism}'>${clientFirst}</auth>`);
      if (!challenge.is("challenge", NS_SASL)) s.skip(`the server ended the handshake at once (${challenge.toString()}): nothing in progress to abort`);
      const condition = failureCondition(s, await saslAnswer(s, raw, `<abort xmlns='${NS_SASL}'/>`), "aborted");
      s.ensure(condition === "aborted", "<aborted/>", `<${condition}/>`);
      s.summary = `${mechanism} handshake in progress; <abort/> got <failure><aborted/></failure>`;
    },
  }),
  rowCheck("6120/6.3.1#1", {
    id: "rfc6120.6.3.1.sasl-required",
    title: "A resource bind without SASL is refused",
    run: async (s) => {
      const { raw } = await securedRaw(s);
      const before = raw.server.elements.length;
      raw.write("<iq type='set' id='xc-bind-before-sasl'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>xepcheck</resource></bind></iq>");
      await raw.until((x) => x.streamError !== undefined || x.elements.length > before, s.target.timeoutMs);
      const answer = raw.server.streamError?.element ?? raw.server.elements[before];
      s.ensure(answer, "a refusal (a stream error, or an error reply)", described(raw.server));
      const bound = answer!.is("iq") && answer!.attrs.type === "result";
      s.ensure(!bound, "no resource bound before SASL", answer!.toString());
      s.summary = raw.server.streamError ? `refused with <${raw.server.streamError.condition}/>` : `refused: ${answer!.toString().slice(0, 120)}`;
    },
  }),
];

// ---------------------------------------------------------------- headers the server must accept

/** A header with `attrs` changed must still be answered with a stream: version 1.0 and features. */
function accepted(key: string, id: string, title: string, attrs: Record<string, string>, judge: (s: Scenario, header: Record<string, string>) => void): ScenarioDefinition {
  return rowCheck(key, {
    id,
    title,
    run: async (s) => {
      const { raw, features } = await opened(s, attrs);
      s.ensure(raw.server.header && features, "a response header and stream features (the header accepted)", described(raw.server));
      judge(s, raw.server.header!);
      await raw.close();
    },
  });
}

const headerChecks = [
  accepted("6120/4.7.5#2", "rfc6120.4.7.5.minor-version", "version='1.5' is answered with version='1.0' and the stream goes on", { version: "1.5" }, (s, h) => {
    s.ensure(h.version === "1.0", "version='1.0' (the lower of 1.5 and the server's 1.0)", `version='${h.version ?? ""}'`);
    s.summary = "version='1.5' answered with version='1.0' and features";
  }),
  accepted("6120/4.7.5#4", "rfc6120.4.7.5.numeric-version", "version='1.10' is compared as numbers: answered with version='1.0'", { version: "1.10" }, (s, h) => {
    s.ensure(h.version === "1.0", "version='1.0' (1.10 is higher than 1.0, numerically)", `version='${h.version ?? ""}'`);
    s.summary = "version='1.10' answered with version='1.0' and features";
  }),
  accepted("6120/4.7.3#3", "rfc6120.4.7.3.initial-id-ignored", "An 'id' in the initial stream header is ignored", { id: "xepcheck-initial-id" }, (s, h) => {
    s.ensure(h.id && h.id !== "xepcheck-initial-id", "a stream ID of the server's own, not the one we sent", `id='${h.id ?? ""}'`);
    s.summary = `our id ignored: the server's is '${h.id}'`;
  }),
];

// ---------------------------------------------------------------- input the server must refuse

/**
 * Sends a header (or the header and then more), and expects a stream error.
 * Where what was sent leaves the XML well-formed, a request follows it
 * (`barrier`): a server that goes on answers it, and the check need not
 * wait for a deadline to say so.
 */
function refusal(
  key: string,
  id: string,
  title: string,
  send: (raw: RawStream) => string | Buffer | (string | Buffer)[],
  want: { must?: string; should?: string; barrier?: boolean },
  extra?: (s: Scenario, raw: RawStream, condition: string) => void,
): ScenarioDefinition {
  return rowCheck(key, {
    id,
    title,
    ...(key === "6120/4.9.1.3#1" ? { also: ["6120/4.9.1.2#1"] } : {}),
    run: async (s) => {
      const raw = await s.rawConnection("raw");
      const parts = send(raw);
      for (const part of Array.isArray(parts) ? parts : [parts]) raw.write(part);
      if (want.barrier) raw.write(barrierFor(s));
      const condition = await refused(s, raw, want);
      extra?.(s, raw, condition);
      s.summary ??= `closed with <${condition}/>`;
    },
  });
}

/** The header, its features awaited first: the offending data then comes in the stream. */
const inStream = (raw: RawStream, data: string | Buffer) => [raw.header(), data];

const refusalChecks = [
  refusal("6120/4.8.1#1", "rfc6120.4.8.1.stream-namespace", "A stream header in the wrong stream namespace is refused", (raw) =>
    raw.header({ "xmlns:stream": "http://wrong.example/streams" }), { should: "invalid-namespace" }),
  // The header declares the unknown content namespace; the first-level element qualified by it triggers the error.
  refusal("6120/4.8.3#1", "rfc6120.4.8.3.content-namespace", "A first-level element in a content namespace the server does not support is refused with <invalid-namespace/>", (raw) =>
    [raw.header({ xmlns: "jabber:xepcheck-unknown" }), "<iq type='get' id='xc-content-ns'><ping xmlns='urn:xmpp:ping'/></iq>"], { must: "invalid-namespace", barrier: true }),
  refusal("6120/4.9.1.3#1", "rfc6120.4.9.1.3.host-unknown", "A stream to a domain the server does not serve is refused with <host-unknown/>, after a response header from the server", (raw) =>
    raw.header({ to: "xepcheck-unknown.invalid" }), { should: "host-unknown" }, (s, raw) => {
    // §4.9.1.2: the opening tag before the error; §4.9.1.3: its 'from' one of the server's own names, or empty.
    s.ensure(raw.server.header, "the server's opening <stream> tag before the error (§4.9.1.2)", described(raw.server));
    const from = raw.server.header!.from ?? "";
    s.ensure(from !== "xepcheck-unknown.invalid", "a 'from' that is the server's own name or empty, not the unknown domain (§4.9.1.3)", `from='${from}'`);
  }),
  refusal("6120/4.3.5#2", "rfc6120.4.3.5.stanza-before-auth", "A stanza before authentication is refused with <not-authorized/>", (raw) =>
    inStream(raw, `<message to='xepcheck@${raw.options.domain}' type='chat' id='xc-before-auth'><body>before authentication</body></message>`), { must: "not-authorized", barrier: true }),
  refusal("6120/11.1#2", "rfc6120.11.1.comment", "An XML comment in the stream is refused (restricted XML)", (raw) =>
    inStream(raw, "<!-- xepcheck -->"), { should: "restricted-xml", barrier: true }),
  refusal("6120/11.1#2", "rfc6120.11.1.processing-instruction", "A processing instruction in the stream is refused (restricted XML)", (raw) =>
    inStream(raw, "<?xepcheck instruction?>"), { should: "restricted-xml", barrier: true }),
  refusal("6120/11.1#2", "rfc6120.11.1.doctype", "A document type declaration before the stream is refused (restricted XML)", (raw) =>
    raw.header({}, "<?xml version='1.0'?><!DOCTYPE stream:stream>"), { should: "restricted-xml", barrier: true }),
  refusal("6120/11.3#2", "rfc6120.11.3.not-well-formed", "XML that is not well-formed is refused with <not-well-formed/>", (raw) =>
    inStream(raw, "<message><body>xepcheck</message>"), { must: "not-well-formed" }),
  refusal("6120/11.6#3", "rfc6120.11.6.not-utf-8", "Bytes that are not UTF-8 are refused", (raw) =>
    inStream(raw, Buffer.from([0x3c, 0x6d, 0x65, 0x73, 0x73, 0x61, 0x67, 0x65, 0x3e, 0xc3, 0x28, 0xff, 0xfe, 0x3c, 0x2f, 0x6d, 0x65, 0x73, 0x73, 0x61, 0x67, 0x65, 0x3e])), { should: "unsupported-encoding" }),
];

// ---------------------------------------------------------------- input the server may ignore or refuse

function ignoredOrClosed(key: string, id: string, title: string, payload: (raw: RawStream) => string, should?: string): ScenarioDefinition {
  return rowCheck(key, {
    id,
    title,
    run: async (s) => {
      const { raw, features } = await opened(s);
      s.ensure(features, "stream features after the header", described(raw.server));
      const outcome = await ignoredOrRefused(s, raw, features, payload(raw));
      if (outcome === "refused") await refused(s, raw, should ? { should } : {});
      s.summary = outcome === "ignored" ? "ignored: the stream went on" : `refused with <${raw.server.streamError!.condition}/>`;
      raw.destroy();
    },
  });
}

const toleranceChecks = [
  rowCheck("6120/11.5#3", {
    id: "rfc6120.11.5.standalone-no",
    title: "An XML declaration with standalone='no' is ignored or refused with a stream error",
    run: async (s) => {
      const raw = await s.rawConnection("raw");
      raw.write(raw.header({}, "<?xml version='1.0' standalone='no'?>"));
      const features = await raw.features(s.target.timeoutMs);
      if (raw.server.streamError) {
        const condition = await refused(s, raw, { should: "restricted-xml" });
        s.summary = `refused with <${condition}/>`;
      } else {
        s.ensure(features, "stream features (the declaration ignored) or a stream error", described(raw.server));
        s.summary = "ignored: the stream went on with its features";
      }
      raw.destroy();
    },
  }),
  ignoredOrClosed("6120/4.8.4#2", "rfc6120.4.8.4.unknown-first-level", "A first-level element in an unknown namespace is ignored or refused with a stream error", () =>
    "<xepcheck xmlns='urn:xepcheck:unknown'/>", "unsupported-stanza-type"),
  ignoredOrClosed("6120/11.7#1", "rfc6120.11.7.whitespace", "Whitespace between first-level elements is accepted", () => "  \n\t  "),
];

export default [...openingChecks, ...tlsChecks, ...saslChecks, ...headerChecks, ...refusalChecks, ...toleranceChecks];
