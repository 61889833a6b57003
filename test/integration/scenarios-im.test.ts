/**
 * The IM scenarios (RFC 6121 roster, subscription and routing; roster
 * versioning, disco, caps, ping, time, version, last activity, offline
 * messages, blocking, CSI) run by the built CLI against real Prosody 13 and
 * ejabberd 24.12: each works, and the accounts' rosters, blocklists and
 * offline storage are the same afterwards as before.
 *
 * On Prosody the accounts start with a relation and a blocklist of their
 * own (seeded here), so the scenarios' "read first, put back after" is
 * proven on a non-empty state; on ejabberd they start empty.
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { xml } from "@xmpp/xml";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { TargetReport } from "../../src/report/types.js";
import { Actor } from "../../src/scenario/actor.js";
import { clearRelation, restoreRelation, type Relation } from "../../src/scenario/roster.js";
import { runCli, loginAs, readTargetReport } from "../cli.js";
import type { ServerInfo } from "../servers/harness.js";

const servers = inject("servers");
const tmp = mkdtempSync(path.join(os.tmpdir(), "xepcheck-im-"));

const ONLY = [
  "rfc6121.*",
  "xep0237.*",
  "xep0030.*",
  "xep0115.*",
  "xep0199.*",
  "xep0202.*",
  "xep0092.*",
  "xep0012.*",
  "xep0160.*",
  "xep0191.*",
  "xep0352.*",
];

/** Every scenario of this group, and its verdict on both servers (all implemented and advertised). */
const SCENARIOS = [
  "rfc6121.roster-push",
  "rfc6121.subscription-both",
  "rfc6121.message-bare-jid",
  "xep0237.versioned-get",
  "xep0237.push-ver",
  "xep0030.account-info",
  "xep0115.ver-matches",
  "xep0199.server-ping",
  "xep0202.server-time",
  "xep0092.query",
  "xep0012.server-uptime",
  "xep0160.offline-delivery",
  "xep0191.block-unblock",
  "xep0352.state-changes",
];

const NS_BLOCKING = "urn:xmpp:blocking";
const NS_ROSTER = "jabber:iq:roster";

async function session(s: ServerInfo, index: number, label: string): Promise<Actor> {
  const account = s.accounts[index]!;
  const opened = await loginAs(s, account);
  return new Actor(label, opened, 10_000);
}

/** Roster items and blocklist of one account, read with plain iqs, in a canonical order. */
async function stateOf(actor: Actor): Promise<{ roster: string[]; blocklist: string[] }> {
  const roster = await actor.iq(xml("iq", { type: "get" }, xml("query", { xmlns: NS_ROSTER })));
  const blocklist = await actor.iq(xml("iq", { type: "get" }, xml("blocklist", { xmlns: NS_BLOCKING })));
  return {
    roster: (roster.getChild("query", NS_ROSTER)?.getChildren("item") ?? [])
      .map((i) => {
        const groups = i.getChildren("group").map((g) => g.text()).sort().join("|");
        return `${i.attrs.jid} subscription=${i.attrs.subscription ?? "none"} ask=${i.attrs.ask ?? ""} name=${i.attrs.name ?? ""} groups=${groups}`;
      })
      .sort(),
    blocklist: (blocklist.getChild("blocklist", NS_BLOCKING)?.getChildren("item") ?? []).map((i) => i.attrs.jid ?? "").sort(),
  };
}

async function snapshot(s: ServerInfo) {
  const alice = await session(s, 0, "alice");
  const bob = await session(s, 1, "bob");
  try {
    return { alice: await stateOf(alice), bob: await stateOf(bob) };
  } finally {
    await Promise.all([alice.close(), bob.close()]);
  }
}

/** A relation worth restoring: alice subscribed to bob (pending the other way), with names and groups. */
function seedRelation(s: ServerInfo): Relation {
  const [alice, bob] = [s.accounts[0]!.jid, s.accounts[1]!.jid];
  return {
    a: { jid: bob, name: "Bob", subscription: "to", groups: ["Friends", "Work"] },
    b: { jid: alice, name: "Alice", subscription: "from", ask: "subscribe", groups: [] },
  };
}
const SEEDED_BLOCK = "spammer@blocked.invalid";

async function withPair(s: ServerInfo, fn: (a: Actor, b: Actor) => Promise<void>): Promise<void> {
  const a = await session(s, 0, "alice");
  const b = await session(s, 1, "bob");
  try {
    await fn(a, b);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

for (const kind of ["prosody", "ejabberd"] as const) {
  const server = servers[kind];
  const seeded = kind === "prosody";
  describe.runIf(server)(`IM scenarios against ${kind}${seeded ? " (accounts with a relation and a blocklist)" : ""}`, () => {
    const s = server!;
    let report: TargetReport;
    let before: Awaited<ReturnType<typeof snapshot>>;
    let after: Awaited<ReturnType<typeof snapshot>>;

    beforeAll(async () => {
      if (seeded) {
        await withPair(s, async (a, b) => {
          await restoreRelation(a, b, seedRelation(s));
          await a.iq(xml("iq", { type: "set" }, xml("block", { xmlns: NS_BLOCKING }, xml("item", { jid: SEEDED_BLOCK }))));
        });
      }
      before = await snapshot(s);
      const json = path.join(tmp, `${kind}.json`);
      const [alice, bob] = s.accounts;
      const result = await runCli(
        ["run", alice!.jid, "--peer", bob!.jid, "--host", "127.0.0.1", "--port", String(s.ports.c2s), "--ca", s.caFile, "--only", ONLY.join(","), "--json", json],
        { XEPCHECK_PASSWORD: alice!.password, XEPCHECK_PEER_PASSWORD: bob!.password },
      );
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      report = readTargetReport(json);
      after = await snapshot(s);
    });

    afterAll(async () => {
      if (!seeded) return;
      await withPair(s, async (a, b) => {
        await clearRelation(a, b);
        await a.iq(xml("iq", { type: "set" }, xml("unblock", { xmlns: NS_BLOCKING }, xml("item", { jid: SEEDED_BLOCK }))));
      });
    });

    it("runs every scenario of the group", () => {
      const ran = report.checks.filter((c) => c.kind === "scenario").map((c) => c.id).sort();
      expect(ran).toEqual([...SCENARIOS].sort());
    });

    for (const id of SCENARIOS) {
      it(`${id}: works and passes, with a transcript`, () => {
        const check = report.checks.find((c) => c.id === id)!;
        expect({ id, verdict: check.verdict, works: check.works, summary: check.summary }).toMatchObject({ id, verdict: "pass", works: true });
        expect(check.advertised).not.toBe(false);
        const transcript = check.evidence.find((e) => e.type === "transcript");
        expect(transcript?.type === "transcript" && transcript.entries.length).toBeGreaterThan(2);
      });
    }

    it("keeps the existing advertisement checks alongside the scenarios", () => {
      for (const id of ["xep0030.server-info", "xep0092.version", "xep0115.advertised", "xep0191.advertised", "xep0352.advertised"]) {
        expect(report.checks.find((c) => c.id === id)?.verdict, id).toBe("pass");
      }
    });

    it("every cleanup succeeded", () => {
      expect(report.errors).toEqual([]);
    });

    it("leaves the rosters and blocklists of both accounts as they were", () => {
      if (seeded) {
        expect(before.alice.roster.join("\n")).toContain("subscription=to");
        expect(before.alice.blocklist).toContain(SEEDED_BLOCK);
      }
      expect(after).toEqual(before);
      // The roster-versioning item (an account that does not exist) is gone too.
      expect(after.alice.roster.join("\n")).not.toMatch(/xepcheck-/);
    });

    it("leaves no test message in offline storage", async () => {
      const alice = await session(s, 0, "alice");
      try {
        const leftover = alice.expectNone((el) => el.is("message") && /^(offline|blocked|bare|unblocked) xc-/.test(el.getChildText("body") ?? ""), "no stored test message", 1500);
        alice.available();
        await leftover;
      } finally {
        await alice.close();
      }
    });
  });
}
