/**
 * Secrets never reach a transcript or the --trace log: SASL payloads (PLAIN,
 * SCRAM, SASL2, FAST), FAST tokens, registration and MUC passwords, private
 * data-form fields, TURN credentials and HTTP upload slot headers, both ways.
 * Each case is the XML a real exchange carries; the scan looks for the secret
 * in every form (test/secret-forms.ts).
 */
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import parse from "@xmpp/xml/lib/parse.js";
import { describe, expect, it } from "vitest";
import { htInitiator, htVariant } from "../../src/session/sasl2.js";
import { ScramClient } from "../../src/session/scram.js";
import { TraceError, TraceSink, traceSection } from "../../src/session/trace.js";
import { REDACTED, Transcript, redactedXml } from "../../src/session/transcript.js";
import { base64Fragments, findSecrets, secretForms } from "../secret-forms.js";

const PASSWORD = "Pw-c0rrect horse/b@ttery+staple&<'\"é";
const USER = "alice";
const DOMAIN = "example.org";
const forms = secretForms(PASSWORD, { username: USER, domain: DOMAIN });
const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");
const tmp = mkdtempSync(path.join(os.tmpdir(), "xepcheck-trace-unit-"));

/** Redacts `xml` and returns the result, failing on any form of `secrets` left in it. */
function redacted(xml: string, secrets = forms): string {
  const out = redactedXml(parse(xml));
  expect(findSecrets(out, secrets, "the redacted XML")).toEqual([]);
  return out;
}

/** XML text of `s` (attribute-safe). */
function x(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

describe("the secret scanner", () => {
  // A scan that cannot find the password proves nothing: it must see every form.
  it("finds the password in base64 blobs at any alignment, and in its other forms", () => {
    for (const prefix of ["", "a", "ab", "abc", "\0alice\0"]) {
      const blob = b64(`${prefix}${PASSWORD}tail`);
      expect(base64Fragments(Buffer.from(PASSWORD)).some((f) => blob.includes(f)), `prefix ${JSON.stringify(prefix)}`).toBe(true);
    }
    const found = (text: string) => findSecrets(text, forms, "text").length > 0;
    expect(found(`<auth>${b64(`\0${USER}\0${PASSWORD}`)}</auth>`)).toBe(true);
    expect(found(`<auth>${b64(`${USER}@${DOMAIN}\0${USER}\0${PASSWORD}`)}</auth>`)).toBe(true);
    expect(found(`?p=${encodeURIComponent(PASSWORD)}`)).toBe(true);
    expect(found(Buffer.from(PASSWORD).toString("hex"))).toBe(true);
    expect(found(`<password>${x(PASSWORD)}</password>`)).toBe(true);
    expect(found(Buffer.from(PASSWORD).toString("base64url"))).toBe(true);
    expect(found("nothing to see")).toBe(false);
  });
});

describe("SASL (RFC 6120 §6) payloads", () => {
  it("PLAIN <auth/>, with and without an authzid, keeps the mechanism", () => {
    for (const payload of [`\0${USER}\0${PASSWORD}`, `${USER}@${DOMAIN}\0${USER}\0${PASSWORD}`]) {
      const out = redacted(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${b64(payload)}</auth>`);
      expect(out).toContain('mechanism="PLAIN"');
      expect(out).toContain(REDACTED);
    }
  });

  it("SCRAM: the client-final proof, the server's challenge and its <success/> data", async () => {
    const client = new ScramClient("sha256", USER, PASSWORD, "fyko+d2lbbFgONRv9qkxdawL");
    const first = client.clientFirst();
    const serverFirst = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const final = await client.clientFinal(serverFirst);
    const proof = /,p=(.+)$/.exec(final)![1]!;
    const secrets = [...forms, { form: "SCRAM proof", text: proof }, { form: "client-final", text: b64(final) }];
    redacted(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>${b64(first)}</auth>`, secrets);
    redacted(`<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${b64(serverFirst)}</challenge>`, [...secrets, { form: "salt", text: b64(serverFirst) }]);
    redacted(`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${b64(final)}</response>`, secrets);
    redacted(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${b64("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")}</success>`, [
      ...secrets,
      { form: "server-final", text: b64("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=") },
    ]);
  });

  it("an empty payload (=) stays readable: nothing to hide", () => {
    expect(redactedXml(parse("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>"))).toContain(">=<");
  });
});

describe("SASL2 (XEP-0388) and FAST (XEP-0484)", () => {
  const TOKEN = "WxPz5fK3tcZ1e2oFhSGi9mQeHY0Vn7DsLpRA-token";
  const tokenForms = [...forms, ...secretForms(TOKEN)];

  it("<authenticate/>: the initial response is hidden, the user agent and inline requests stay", () => {
    const out = redacted(
      `<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>${b64(`\0${USER}\0${PASSWORD}`)}</initial-response>` +
        "<user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'><software>xepcheck</software></user-agent>" +
        "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/></authenticate>",
    );
    expect(out).toContain("<software>xepcheck</software>");
    expect(out).toContain('mechanism="HT-SHA-256-NONE"');
  });

  it("<success/> from the server: additional data and the FAST token (its expiry stays)", () => {
    const out = redacted(
      "<success xmlns='urn:xmpp:sasl:2'>" +
        `<additional-data>${b64("v=msVHs/BzIOHDqXeVH7EmmDu9id8=")}</additional-data>` +
        `<authorization-identifier>${USER}@${DOMAIN}/xc</authorization-identifier>` +
        `<token xmlns='urn:xmpp:fast:0' expiry='2030-01-01T00:00:00Z' token='${TOKEN}'/></success>`,
      tokenForms,
    );
    expect(out).toContain('expiry="2030-01-01T00:00:00Z"');
    expect(out).toContain(`${USER}@${DOMAIN}/xc`);
  });

  it("an HT-* login sends the token's HMAC, never the token; both stay out", () => {
    const variant = htVariant("HT-SHA-256-NONE")!;
    const initial = htInitiator(variant, USER, TOKEN);
    const out = redacted(
      `<authenticate xmlns='urn:xmpp:sasl:2' mechanism='HT-SHA-256-NONE'><initial-response>${initial.toString("base64")}</initial-response>` +
        "<fast xmlns='urn:xmpp:fast:0' invalidate='true'/></authenticate>",
      [...tokenForms, { form: "HT initiator", text: initial.toString("base64") }, ...base64Fragments(initial.subarray(USER.length + 1)).map((text) => ({ form: "HMAC", text }))],
    );
    expect(out).toContain('invalidate="true"');
  });

  it("a token in element text (not the attribute) is hidden too", () => {
    redacted(`<success xmlns='urn:xmpp:sasl:2'><token xmlns='urn:xmpp:fast:0'>${TOKEN}</token></success>`, tokenForms);
  });
});

describe("passwords outside SASL", () => {
  it("XEP-0077: registration, password change, and a server echoing the password in its error", () => {
    redacted(`<iq type='set' id='r1'><query xmlns='jabber:iq:register'><username>${USER}</username><password>${x(PASSWORD)}</password></query></iq>`);
    redacted(`<iq type='set' to='${DOMAIN}' id='c1'><query xmlns='jabber:iq:register'><username>${USER}</username><password>${x(PASSWORD)}</password></query></iq>`);
    const echoed = redacted(
      `<iq type='error' id='r1'><query xmlns='jabber:iq:register'><username>${USER}</username><password>${x(PASSWORD)}</password></query>` +
        "<error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
    );
    expect(echoed).toContain("<conflict");
  });

  it("XEP-0077 and others as data forms: text-private fields and fields named password or secret", () => {
    const out = redacted(
      "<iq type='set' id='r2'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'>" +
        `<field var='username'><value>${USER}</value></field>` +
        `<field var='password'><value>${x(PASSWORD)}</value></field>` +
        `<field var='pin' type='text-private'><value>${x(PASSWORD)}</value></field>` +
        `<field var='muc#roomconfig_roomsecret'><value>${x(PASSWORD)}</value></field>` +
        "</x></query></iq>",
    );
    expect(out).toContain(`<value>${USER}</value>`);
  });

  it("XEP-0045: the password of a password-protected room", () => {
    redacted(`<presence to='room@muc.${DOMAIN}/alice'><x xmlns='http://jabber.org/protocol/muc'><password>${x(PASSWORD)}</password></x></presence>`);
  });

  it("XEP-0215: TURN credentials (password attribute)", () => {
    const out = redacted(
      `<iq type='result' id='e1'><services xmlns='urn:xmpp:extdisco:2'><service host='turn.${DOMAIN}' type='turn' port='3478' username='1700000000:alice' password='${x(PASSWORD)}'/></services></iq>`,
    );
    expect(out).toContain('username="1700000000:alice"');
  });
});

describe("XEP-0363 upload slots", () => {
  const AUTH = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLXRoZS1zbG90";
  const COOKIE = "foo=bar-secret-cookie-value";
  const slot =
    `<iq type='result' id='u1' from='upload.${DOMAIN}'><slot xmlns='urn:xmpp:http:upload:0'>` +
    `<put url='https://upload.${DOMAIN}/file/abc/x.txt'>` +
    `<header name='Authorization'>${AUTH}</header><header name='Cookie'>${COOKIE}</header><header name='Expires'>Tue, 01 Jan 2030 00:00:00 GMT</header>` +
    `</put><get url='https://upload.${DOMAIN}/file/abc/x.txt'/></slot></iq>`;

  it("hides every header value the slot asks for, keeps the names and URLs", () => {
    const out = redacted(slot, [...secretForms(AUTH), ...secretForms(COOKIE), ...secretForms("eyJzdWIiOiJhbGljZSJ9"), { form: "Expires", text: "01 Jan 2030" }]);
    expect(out).toContain('name="Authorization"');
    expect(out).toContain('name="Cookie"');
    expect(out).toContain(`url="https://upload.${DOMAIN}/file/abc/x.txt"`);
  });

  it("leaves <header/> of other namespaces (SHIM, XEP-0131) alone", () => {
    const shim = "<message><headers xmlns='http://jabber.org/protocol/shim'><header name='Urgency'>high</header></headers></message>";
    expect(redactedXml(parse(shim))).toBe(parse(shim).toString());
  });
});

describe("any password", () => {
  // Letters and the characters that need escaping in XML, URLs, JSON or base64.
  const ALPHABET = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", ..."&<>'\"/+=%\\ :@", "é", "€", "😀"];
  const passwords = fc.array(fc.constantFrom(...ALPHABET), { minLength: 12, maxLength: 64 }).map((a) => a.join(""));

  it("survives in no form in PLAIN, SASL2 or registration payloads (property)", () => {
    fc.assert(
      fc.property(passwords, (pw) => {
        const secrets = secretForms(pw, { username: USER, domain: DOMAIN });
        for (const xml of [
          `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${b64(`\0${USER}\0${pw}`)}</auth>`,
          `<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>${b64(`${USER}@${DOMAIN}\0${USER}\0${pw}`)}</initial-response></authenticate>`,
          `<iq type='set' id='r'><query xmlns='jabber:iq:register'><username>${USER}</username><password>${x(pw)}</password></query></iq>`,
        ]) {
          const out = redactedXml(parse(xml));
          expect(findSecrets(out, secrets, "the redacted XML")).toEqual([]);
          expect(out).toContain(REDACTED);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("--trace (TraceSink)", () => {
  it("writes every transcript entry inside a run, labelled, numbered, with the actor", () => {
    const file = path.join(tmp, "trace.log");
    const sink = TraceSink.open(file);
    sink.run(DOMAIN, () => {
      const a = new Transcript();
      const b = new Transcript();
      a.record("out", redactedXml(parse(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${b64(`\0${USER}\0${PASSWORD}`)}</auth>`)));
      b.record("in", '<message from="bob@example.org"><body>two\nlines</body></message>', "alice/A");
      traceSection("xep0045.join", () => new Transcript().note("in a section"));
    });
    new Transcript().note("outside the run: not traced");
    sink.close();
    const lines = readFileSync(file, "utf8").split("\n");
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z example\.org #1 out <auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">\[redacted\]<\/auth>$/);
    expect(lines[1]).toMatch(/ example\.org #2 \[alice\/A\] in <message from="bob@example\.org"><body>two$/);
    expect(lines[2]).toBe("    lines</body></message>");
    expect(lines[3]).toMatch(/ example\.org xep0045\.join #3 note in a section$/);
    expect(lines.slice(4)).toEqual([""]);
    expect(findSecrets(readFileSync(file, "utf8"), forms, "the trace")).toEqual([]);
  });

  it("keeps tracing after a transcript reaches its entry limit", () => {
    const file = path.join(tmp, "limit.log");
    const sink = TraceSink.open(file);
    const t = sink.run(DOMAIN, () => new Transcript(3));
    for (let i = 0; i < 10; i++) t.note(`entry ${i}`);
    sink.close();
    expect(t.entries.filter((e) => /^entry \d$/.test(e.xml)).length).toBeLessThan(10);
    const traced = readFileSync(file, "utf8").trim().split("\n");
    expect(traced.map((l) => l.replace(/^.* note /, ""))).toEqual(Array.from({ length: 10 }, (_, i) => `entry ${i}`));
  });

  it("the transcript is bound to the trace where it was created, even when written from elsewhere", async () => {
    const file = path.join(tmp, "context.log");
    const sink = TraceSink.open(file);
    const t = sink.run(DOMAIN, () => new Transcript());
    await new Promise((r) => setImmediate(r));
    t.note("written later, outside the run's call");
    sink.close();
    expect(readFileSync(file, "utf8")).toMatch(/ example\.org #1 note written later/);
  });

  it("an unwritable file is a TraceError naming the file", () => {
    const file = path.join(tmp, "no-such-dir", "trace.log");
    expect(() => TraceSink.open(file)).toThrow(TraceError);
    expect(() => TraceSink.open(file)).toThrow(`cannot write the trace to ${file}: ENOENT`);
  });

  it("is created owner-only (it names accounts and carries message bodies)", () => {
    const file = path.join(tmp, "mode.log");
    TraceSink.open(file).close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
