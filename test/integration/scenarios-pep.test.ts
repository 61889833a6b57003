/**
 * The PEP and storage scenarios (XEP-0163, 0223, 0384, 0054, 0153, 0398,
 * 0049, 0048, 0402) against real Prosody 13 and ejabberd 24.12: the built
 * CLI runs them once per server; each proves what the server implements,
 * carries its transcript, and leaves the accounts as it found them. The
 * accounts are given some data first (a vCard with a photo, a bookmark with
 * an extension, a named roster item), so that "as found" is not just "empty".
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { xml, type Element } from "@xmpp/xml";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { TargetReport } from "../../src/report/types.js";
import { tinyPng } from "../../src/xmpp/avatar.js";
import { canonical } from "../../src/xmpp/xml.js";
import { StanzaError } from "../../src/session/errors.js";
import type { Session } from "../../src/session/login.js";
import { runCli, loginAs, readTargetReport } from "../cli.js";
import type { ServerInfo } from "../servers/harness.js";

const servers = inject("servers");
const tmp = mkdtempSync(path.join(os.tmpdir(), "xepcheck-pep-"));

const ONLY = ["xep0163.*", "xep0223.*", "xep0384.*", "xep0054.*", "xep0153.*", "xep0398.*", "xep0049.*", "xep0048.*", "xep0402.*"];

/** Scenario id → verdict, per server (both servers implement all of them). */
const SCENARIOS: Record<"prosody" | "ejabberd", Record<string, string>> = {
  prosody: {
    "xep0163.publish-retrieve": "pass",
    "xep0163.notify-on-publish": "pass",
    "xep0163.last-item-on-presence": "pass",
    "xep0223.private-node": "pass",
    // Prosody does not list pubsub#access-open: advertised is "cannot tell", the scenario decides.
    "xep0384.open-bundles": "pass",
    "xep0054.own-vcard": "pass",
    "xep0054.other-vcard": "pass",
    "xep0153.vcard-photo": "pass",
    "xep0398.pep-to-vcard": "pass",
    "xep0398.vcard-to-pep": "pass",
    "xep0049.round-trip": "pass",
    "xep0049.other-user-refused": "pass",
    "xep0048.private-storage": "pass",
    "xep0402.publish-retrieve": "pass",
    "xep0402.compat-private-storage": "pass",
  },
  ejabberd: {
    "xep0163.publish-retrieve": "pass",
    "xep0163.notify-on-publish": "pass",
    "xep0163.last-item-on-presence": "pass",
    "xep0223.private-node": "pass",
    "xep0384.open-bundles": "pass",
    "xep0054.own-vcard": "pass",
    "xep0054.other-vcard": "pass",
    "xep0153.vcard-photo": "pass",
    "xep0398.pep-to-vcard": "pass",
    "xep0398.vcard-to-pep": "pass",
    // ejabberd serves jabber:iq:private without advertising it: works, not advertised.
    "xep0049.round-trip": "warn",
    "xep0049.other-user-refused": "warn",
    "xep0048.private-storage": "pass",
    "xep0402.publish-retrieve": "pass",
    "xep0402.compat-private-storage": "pass",
  },
};

const NS_PUBSUB = "http://jabber.org/protocol/pubsub";
const PO = (fields: Record<string, string>) =>
  xml(
    "publish-options",
    {},
    xml(
      "x",
      { xmlns: "jabber:x:data", type: "submit" },
      xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, `${NS_PUBSUB}#publish-options`)),
      ...Object.entries(fields).map(([k, v]) => xml("field", { var: `pubsub#${k}` }, xml("value", {}, v))),
    ),
  );

async function connect(s: ServerInfo, index: number): Promise<Session> {
  const account = s.accounts[index]!;
  return loginAs(s, account);
}

const iq = (session: Session, el: Element) => session.stream.iq(el);

function rosterText(result: Element): string[] {
  return (result.getChild("query", "jabber:iq:roster")?.getChildren("item") ?? [])
    .map((i) => `${i.attrs.jid} subscription=${i.attrs.subscription ?? "none"} ask=${i.attrs.ask ?? "-"} name=${i.attrs.name ?? "-"} groups=${i.getChildren("group").map((g) => g.text()).sort().join(",")}`)
    .sort();
}

/** What the scenarios must leave as they found it. */
async function accountState(s: ServerInfo) {
  const alice = await connect(s, 0);
  const bob = await connect(s, 1);
  try {
    const vcard = await iq(alice, xml("iq", { type: "get" }, xml("vCard", { xmlns: "vcard-temp" }))).then(
      (r) => r.getChild("vCard", "vcard-temp")?.toString() ?? "(empty result)",
      (err: unknown) => (err instanceof StanzaError ? `error ${err.condition}` : Promise.reject(err)),
    );
    const bookmarks = (
      await iq(alice, xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:private" }, xml("storage", { xmlns: "storage:bookmarks" }))))
    )
      .getChild("query", "jabber:iq:private")
      ?.getChild("storage", "storage:bookmarks")
      ?.toString();
    const nodes = (await iq(alice, xml("iq", { type: "get", to: alice.jid.split("/")[0] }, xml("query", { xmlns: "http://jabber.org/protocol/disco#items" }))))
      .getChild("query")
      ?.getChildren("item")
      .filter((i) => i.attrs.node)
      .map((i) => i.attrs.node!)
      .sort();
    const pepBookmarks = nodes?.includes("urn:xmpp:bookmarks:1")
      ? (await iq(alice, xml("iq", { type: "get" }, xml("pubsub", { xmlns: NS_PUBSUB }, xml("items", { node: "urn:xmpp:bookmarks:1" })))))
          .getChild("pubsub", NS_PUBSUB)
          ?.getChild("items")
          ?.getChildren("item")
          // Canonical: a server that syncs the bookmark stores may write an item again with its attributes in another order.
          .map((i) => `${i.attrs.id} ${i.getChildElements().map(canonical).join("")}`)
          .sort() ?? []
      : [];
    const aliceRoster = rosterText(await iq(alice, xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" }))));
    const bobRoster = rosterText(await iq(bob, xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" }))));
    return { vcard, bookmarks, nodes, pepBookmarks, aliceRoster, bobRoster };
  } finally {
    await Promise.all([alice.stream.close(), bob.stream.close()]);
  }
}

/** Gives alice a vCard with a photo, a bookmark with an extension, and bob as a named contact without subscription. */
async function seed(s: ServerInfo): Promise<void> {
  const alice = await connect(s, 0);
  try {
    const png = tinyPng("seeded avatar").toString("base64");
    await iq(
      alice,
      xml(
        "iq",
        { type: "set" },
        xml(
          "vCard",
          { xmlns: "vcard-temp" },
          xml("FN", {}, "Alice Seeded"),
          xml("NICKNAME", {}, "seed"),
          xml("PHOTO", {}, xml("TYPE", {}, "image/png"), xml("BINVAL", {}, png)),
        ),
      ),
    );
    await iq(
      alice,
      xml(
        "iq",
        { type: "set" },
        xml(
          "pubsub",
          { xmlns: NS_PUBSUB },
          xml(
            "publish",
            { node: "urn:xmpp:bookmarks:1" },
            xml(
              "item",
              { id: `seeded@${s.services.muc}` },
              xml(
                "conference",
                { xmlns: "urn:xmpp:bookmarks:1", name: "Seeded", autojoin: "true" },
                xml("nick", {}, "seed"),
                xml("extensions", {}, xml("state", { xmlns: "urn:xepcheck:test:state", minimized: "true" })),
              ),
            ),
          ),
          PO({ persist_items: "true", max_items: "max", send_last_published_item: "never", access_model: "whitelist" }),
        ),
      ),
    );
    await iq(
      alice,
      xml("iq", { type: "set" }, xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: s.accounts[1]!.jid, name: "Bobby" }, xml("group", {}, "Friends")))),
    );
  } finally {
    await alice.stream.close();
  }
}

/** Takes the seeded data away again, so that later test files find fresh accounts. */
async function unseed(s: ServerInfo): Promise<void> {
  const alice = await connect(s, 0);
  try {
    await iq(alice, xml("iq", { type: "set" }, xml("vCard", { xmlns: "vcard-temp" })));
    await iq(alice, xml("iq", { type: "set" }, xml("query", { xmlns: "jabber:iq:private" }, xml("storage", { xmlns: "storage:bookmarks" }))));
    for (const node of ["urn:xmpp:bookmarks:1", "storage:bookmarks", "urn:xmpp:avatar:metadata", "urn:xmpp:avatar:data", "urn:xmpp:vcard4"]) {
      await iq(alice, xml("iq", { type: "set" }, xml("pubsub", { xmlns: `${NS_PUBSUB}#owner` }, xml("delete", { node })))).catch(() => undefined);
    }
    await iq(
      alice,
      xml("iq", { type: "set" }, xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: s.accounts[1]!.jid, subscription: "remove" }))),
    ).catch(() => undefined);
  } finally {
    await alice.stream.close();
  }
}

for (const kind of ["prosody", "ejabberd"] as const) {
  const server = servers[kind];
  describe.runIf(server)(`PEP and storage scenarios against ${kind}`, () => {
    const s = server!;
    let report: TargetReport;
    let before: Awaited<ReturnType<typeof accountState>>;
    let after: Awaited<ReturnType<typeof accountState>>;

    beforeAll(async () => {
      await seed(s);
      before = await accountState(s);
      const json = path.join(tmp, `${kind}.json`);
      const result = await runCli(
        ["run", s.accounts[0]!.jid, "--peer", s.accounts[1]!.jid, "--host", "127.0.0.1", "--port", String(s.ports.c2s), "--ca", s.caFile, "--only", ONLY.join(","), "--json", json],
        { XEPCHECK_PASSWORD: s.accounts[0]!.password, XEPCHECK_PEER_PASSWORD: s.accounts[1]!.password },
      );
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      report = readTargetReport(json);
      after = await accountState(s);
    });

    afterAll(async () => {
      await unseed(s);
    });

    it("the seeded data is there to be kept", () => {
      expect(before.vcard).toContain("Alice Seeded");
      expect(before.pepBookmarks.join()).toContain("urn:xepcheck:test:state");
      expect(before.aliceRoster.join()).toContain("name=Bobby");
    });

    it("each scenario proves what the server implements", () => {
      const got = Object.fromEntries(
        Object.keys(SCENARIOS[kind]).map((id) => {
          const check = report.checks.find((c) => c.id === id);
          return [id, check ? `${check.verdict} works=${check.works}` : "missing"];
        }),
      );
      const want = Object.fromEntries(Object.entries(SCENARIOS[kind]).map(([id, verdict]) => [id, `${verdict} works=true`]));
      expect(got).toEqual(want);
      expect(report.errors).toEqual([]);
    });

    it("each scenario carries its transcript, and no cleanup failed", () => {
      for (const id of Object.keys(SCENARIOS[kind])) {
        const check = report.checks.find((c) => c.id === id)!;
        const transcript = check.evidence.find((e) => e.type === "transcript");
        expect(transcript && transcript.type === "transcript" ? transcript.entries.length : 0, id).toBeGreaterThan(4);
        const notes = check.evidence.filter((e) => e.type === "note").map((e) => (e.type === "note" ? e.text : ""));
        expect(notes.filter((t) => t.startsWith("cleanup failed")), id).toEqual([]);
      }
    });

    it("proves the notifications, the refusals and the conversions it claims", () => {
      const summary = (id: string) => report.checks.find((c) => c.id === id)!.summary;
      expect(summary("xep0163.last-item-on-presence")).toMatch(/got the last published item from alice@/);
      expect(summary("xep0223.private-node")).toMatch(/got (not-allowed|forbidden|not-authorized|item-not-found)$/);
      expect(summary("xep0049.other-user-refused")).toMatch(/got (forbidden|service-unavailable)/);
      expect(summary("xep0153.vcard-photo")).toMatch(/SHA-1 [0-9a-f]{40}/);
    });

    it("leaves alice's vCard, bookmarks, PEP nodes and both rosters as it found them", () => {
      expect(after).toEqual(before);
    });
  });
}
