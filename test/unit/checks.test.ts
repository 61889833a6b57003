import { describe, expect, it } from "vitest";
import { ALL_CHECKS } from "../../src/checks/index.js";
import type { CheckContext, CheckOutcome } from "../../src/checks/types.js";
import { component, context, disco } from "./fixtures.js";

async function run(id: string, ctx: CheckContext): Promise<CheckOutcome> {
  const check = ALL_CHECKS.find((c) => c.id === id);
  if (check?.kind !== "advertisement") throw new Error(`no advertisement check ${id}`);
  return check.run(ctx);
}

const features = (...vars: string[]) =>
  `<query xmlns='http://jabber.org/protocol/disco#info'><identity category='server' type='im'/>${vars
    .map((v) => `<feature var='${v}'/>`)
    .join("")}</query>`;

describe("advertisement checks", () => {
  it("every check has an id, a spec section or RFC, a level and a requirement", () => {
    for (const c of ALL_CHECKS) {
      expect(c.id).toMatch(/^[a-z0-9]+\.[a-z0-9.-]+$/);
      expect(c.spec.url).toMatch(/^https:\/\//);
      expect(c.requirement.length).toBeGreaterThan(20);
      expect(c.title.length).toBeGreaterThan(5);
    }
  });

  it("carbons: pass when the domain lists the feature, na when nobody does", async () => {
    const yes = await run("xep0280.advertised", context({ domain: disco("example.org", features("urn:xmpp:carbons:2")) }));
    expect(yes.verdict).toBe("pass");
    expect(yes.advertised).toBe(true);
    expect(yes.evidence[0]).toMatchObject({ type: "advertisement", looked: "urn:xmpp:carbons:2", foundAt: ["disco#info of example.org"] });
    const no = await run("xep0280.advertised", context());
    expect(no.verdict).toBe("na");
    expect(no.advertised).toBe(false);
  });

  it("MUC is found on a component with the conference/text identity only", async () => {
    const muc = component(
      "conference.example.org",
      "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='conference' type='text'/><feature var='http://jabber.org/protocol/muc'/><feature var='urn:xmpp:mam:2'/></query>",
    );
    const notMuc = component(
      "pubsub.example.org",
      "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='pubsub' type='service'/><feature var='http://jabber.org/protocol/muc'/></query>",
    );
    const ctx = context({ components: [notMuc, muc] });
    const result = await run("xep0045.advertised", ctx);
    expect(result.verdict).toBe("pass");
    expect(result.evidence[0]).toMatchObject({ foundAt: ["disco#info of conference.example.org"] });
    expect((await run("xep0313.muc-advertised", ctx)).verdict).toBe("pass");
    expect((await run("xep0045.advertised", context({ components: [notMuc] }))).verdict).toBe("na");
  });

  it("MAM only on the domain warns: the archive lives on the bare JID", async () => {
    const result = await run("xep0313.account-advertised", context({ domain: disco("example.org", features("urn:xmpp:mam:2")) }));
    expect(result.verdict).toBe("warn");
    const onAccount = await run("xep0313.account-advertised", context({ account: disco("alice@example.org", features("urn:xmpp:mam:2")) }));
    expect(onAccount.verdict).toBe("pass");
  });

  it("stream management is read from the post-auth stream features", async () => {
    const ctx = context({
      streamFeatures: [
        { stage: "after-starttls", xml: "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>" },
        { stage: "after-auth", xml: "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>" },
      ],
    });
    expect((await run("xep0198.advertised", ctx)).verdict).toBe("pass");
    expect((await run("xep0352.advertised", ctx)).verdict).toBe("na");
  });

  it("SASL2, Bind2 and FAST come from the pre-auth features; CSI counts when Bind2 can enable it inline", async () => {
    const sasl2 =
      "<stream:features><authentication xmlns='urn:xmpp:sasl:2'><mechanism>SCRAM-SHA-1</mechanism><inline>" +
      "<bind xmlns='urn:xmpp:bind:0'><inline><feature var='urn:xmpp:csi:0'/><feature var='urn:xmpp:carbons:2'/></inline></bind>" +
      "<fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-NONE</mechanism></fast>" +
      "</inline></authentication></stream:features>";
    const ctx = context({
      streamFeatures: [
        { stage: "after-starttls", xml: sasl2 },
        { stage: "after-auth", xml: "<stream:features/>" },
      ],
    });
    expect((await run("xep0388.advertised", ctx)).verdict).toBe("pass");
    expect((await run("xep0386.advertised", ctx)).verdict).toBe("pass");
    expect((await run("xep0484.advertised", ctx)).verdict).toBe("pass");
    const csi = await run("xep0352.advertised", ctx);
    expect(csi.verdict).toBe("pass");
    expect(csi.summary).toContain("Bind2 inline");
    expect((await run("xep0388.advertised", context())).verdict).toBe("na");
  });

  it("software version: answered and advertised passes; advertised but unanswered fails", async () => {
    const domain = disco("example.org", features("jabber:iq:version"));
    expect((await run("xep0092.version", context({ domain, software: { name: "Prosody", version: "13.0.1" } }))).verdict).toBe("pass");
    expect((await run("xep0092.version", context({ domain, software: { error: "item-not-found", errorKind: "stanza" } }))).verdict).toBe("fail");
    // No answer at all: we cannot tell, whatever disco says.
    const silent = await run("xep0092.version", context({ domain, software: { error: "timed out after 10000 ms", errorKind: "no-answer" } }));
    expect(silent.verdict).toBe("error");
    expect(silent.summary).toMatch(/^could not tell: the software version query got no answer/);
    expect((await run("xep0092.version", context({ software: { name: "X" } }))).verdict).toBe("warn");
  });

  it("contact addresses come from the serverinfo form", async () => {
    const domain = disco(
      "example.org",
      "<query xmlns='http://jabber.org/protocol/disco#info'><x xmlns='jabber:x:data' type='result'>" +
        "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/network/serverinfo</value></field>" +
        "<field var='abuse-addresses'><value>mailto:abuse@example.org</value></field></x></query>",
    );
    const result = await run("xep0157.addresses", context({ domain, contactAddresses: { "abuse-addresses": ["mailto:abuse@example.org"] } }));
    expect(result.verdict).toBe("pass");
    expect(result.evidence[0]).toMatchObject({ type: "table", rows: [["abuse-addresses", "mailto:abuse@example.org"]] });
    expect((await run("xep0157.addresses", context())).verdict).toBe("na");
  });

  it("PEP specs need the pubsub/pep identity on the account", async () => {
    const account = disco(
      "alice@example.org",
      "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='pubsub' type='pep'/>" +
        "<feature var='http://jabber.org/protocol/pubsub#publish-options'/><feature var='http://jabber.org/protocol/pubsub#access-open'/></query>",
    );
    const ctx = context({ account });
    expect((await run("xep0163.advertised", ctx)).verdict).toBe("pass");
    expect((await run("xep0223.advertised", ctx)).verdict).toBe("pass");
    expect((await run("xep0384.prerequisites-advertised", ctx)).verdict).toBe("pass");
    expect((await run("xep0402.advertised", ctx)).verdict).toBe("warn");
    expect((await run("xep0223.advertised", context())).verdict).toBe("na");
  });

  it("disco#info answered with an error fails XEP-0030; no answer is an error, not a fail", async () => {
    const refused = { ...disco("example.org", "<query/>"), error: "service-unavailable", errorKind: "stanza" as const };
    expect((await run("xep0030.server-info", context({ domain: refused }))).verdict).toBe("fail");
    const silent = { ...disco("example.org", "<query/>"), error: "timed out", errorKind: "no-answer" as const };
    expect((await run("xep0030.server-info", context({ domain: silent }))).verdict).toBe("error");
  });

});
