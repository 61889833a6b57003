/**
 * The "mobile" live scenarios against real Prosody 13 and ejabberd 24.12:
 * Stream Management (acks, resumption), Push (publish, disable), HTTP File
 * Upload (round trip, file too large), External Services (list, TURN
 * credentials). One CLI run per server with --only; then what they could
 * leave behind: push registrations, hibernating sessions, offline messages,
 * and the rest of the accounts' state.
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { xml, type Element } from "@xmpp/xml";
import { beforeAll, describe, expect, inject, it } from "vitest";
import type { Verdict } from "../../src/checks/types.js";
import type { CheckResult, TargetReport } from "../../src/report/types.js";
import { runCli, loginAs, readTargetReport } from "../cli.js";
import { ejabberdctl, prosodyctl, type ServerInfo } from "../servers/harness.js";
import { diffStates, snapshotState, type ServerState } from "../servers/state.js";

const servers = inject("servers");
const tmp = mkdtempSync(path.join(os.tmpdir(), "xepcheck-mobile-"));
const USERS = ["alice", "bob"];

/** What each scenario concludes on the configured test servers. */
const EXPECTED: Record<"prosody" | "ejabberd", Record<string, Verdict>> = {
  prosody: {
    "xep0198.acks": "pass",
    "xep0198.resume": "pass",
    "xep0357.publish": "pass",
    "xep0357.disable": "pass",
    "xep0363.upload-roundtrip": "pass",
    "xep0363.file-too-large": "pass",
    "xep0215.services": "pass",
    "xep0215.turn-credentials": "pass",
  },
  ejabberd: {
    "xep0198.acks": "pass",
    "xep0198.resume": "pass",
    "xep0357.publish": "pass",
    "xep0357.disable": "pass",
    "xep0363.upload-roundtrip": "pass",
    "xep0363.file-too-large": "pass",
    "xep0215.services": "pass",
    "xep0215.turn-credentials": "pass",
  },
};

function target(s: ServerInfo): string[] {
  return ["--host", "127.0.0.1", "--port", String(s.ports.c2s), "--ca", s.caFile];
}

function transcriptOf(check: CheckResult) {
  const t = check.evidence.find((e) => e.type === "transcript");
  return t && t.type === "transcript" ? t.entries : [];
}

function table(check: CheckResult, title: RegExp) {
  return check.evidence.find((e) => e.type === "table" && title.test(e.title ?? ""));
}

/** Full JIDs of the user's sessions the server still holds, hibernating ones included. */
async function sessionsOf(s: ServerInfo, user: string): Promise<string[]> {
  const bare = `${user}@${s.domain}`;
  const out =
    s.kind === "prosody"
      ? (await prosodyctl(s.dir, ["shell", `c2s:show("${s.domain}")`])).stdout
      : (await ejabberdctl(s.dir, ["connected_users"])).stdout;
  return out.split("\n").flatMap((line) => line.match(new RegExp(`${bare.replace(/\./g, "\\.")}/\\S+`, "g")) ?? []);
}

/**
 * Logs each account in once before the "before" snapshot: Prosody's
 * mod_bookmarks creates the legacy storage:bookmarks PEP node on a first
 * resource bind, which is the server's doing, not a scenario's.
 */
async function warmUp(s: ServerInfo): Promise<void> {
  for (const account of s.accounts.slice(0, USERS.length)) await (await loginAs(s, account)).stream.close();
}

/** Logs alice in with presence: whatever the server delivers with a body came from offline storage. */
async function offlineMessages(s: ServerInfo): Promise<string[]> {
  const session = await loginAs(s, s.accounts[0]!);
  const got: string[] = [];
  session.stream.onStanza((el: Element) => {
    if (el.is("message") && el.getChild("body")) got.push(el.toString());
  });
  session.stream.send(xml("presence", {}, xml("priority", {}, "1")));
  await new Promise((r) => setTimeout(r, 1500));
  await session.stream.close();
  return got;
}

for (const kind of ["prosody", "ejabberd"] as const) {
  const server = servers[kind];
  describe.runIf(server)(`mobile scenarios against ${kind}`, () => {
    const s = server!;
    const alice = s.accounts[0]!;
    const bob = s.accounts[1]!;
    const ids = Object.keys(EXPECTED[kind]);
    let report: TargetReport;
    let before: ServerState;
    let after: ServerState;

    beforeAll(async () => {
      await warmUp(s);
      before = await snapshotState(s, USERS);
      const json = path.join(tmp, `${kind}.json`);
      const result = await runCli(["run", alice.jid, "--peer", bob.jid, ...target(s), "--only", ids.join(","), "--json", json], {
        XEPCHECK_PASSWORD: alice.password,
        XEPCHECK_PEER_PASSWORD: bob.password,
      });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      report = readTargetReport(json);
      after = await snapshotState(s, USERS);
    }, 300_000);

    it("runs exactly the selected scenarios, without run errors", () => {
      expect(report.checks.map((c) => c.id).sort()).toEqual([...ids].sort());
      expect(report.errors).toEqual([]);
    });

    for (const id of Object.keys(EXPECTED[kind])) {
      it(`${id}: ${EXPECTED[kind][id]}, works, with a transcript`, () => {
        const check = report.checks.find((c) => c.id === id)!;
        expect(check, id).toBeDefined();
        expect({ verdict: check.verdict, works: check.works, advertised: check.advertised, summary: check.summary }).toMatchObject({
          verdict: EXPECTED[kind][id],
          works: true,
          advertised: true,
        });
        expect(transcriptOf(check).length).toBeGreaterThan(0);
        expect(check.evidence.some((e) => e.type === "note" && /cleanup failed/.test(e.text))).toBe(false);
      });
    }

    it("XEP-0198: the resumed stream carries <resume/> and <resumed/> and the message sent meanwhile", () => {
      const entries = transcriptOf(report.checks.find((c) => c.id === "xep0198.resume")!);
      const resumed = entries.filter((e) => e.actor?.endsWith("(resumed)"));
      expect(resumed.some((e) => e.dir === "out" && e.xml.startsWith("<resume "))).toBe(true);
      expect(resumed.some((e) => e.dir === "in" && e.xml.startsWith("<resumed "))).toBe(true);
      expect(resumed.some((e) => e.dir === "in" && /<body>meanwhile /.test(e.xml))).toBe(true);
    });

    it("XEP-0357: the publish reached the peer's full JID (the push service) with the node alice enabled", () => {
      const entries = transcriptOf(report.checks.find((c) => c.id === "xep0357.publish")!);
      const enable = entries.find((e) => e.dir === "out" && /<enable xmlns="urn:xmpp:push:0"/.test(e.xml))!;
      expect(enable).toBeDefined();
      const node = /node="([^"]+)"/.exec(enable.xml)![1]!;
      const publish = entries.find((e) => e.dir === "in" && e.actor === "bob/push" && e.xml.includes(`<publish node="${node}">`));
      expect(publish?.xml).toMatch(/<notification xmlns="urn:xmpp:push:0"/);
    });

    it("XEP-0363 and XEP-0215 report their tables (CORS headers, services, TURN credentials)", () => {
      expect(table(report.checks.find((c) => c.id === "xep0363.upload-roundtrip")!, /^CORS headers/)).toBeDefined();
      expect(table(report.checks.find((c) => c.id === "xep0215.services")!, /^External services$/)).toBeDefined();
      expect(table(report.checks.find((c) => c.id === "xep0215.turn-credentials")!, /^TURN credentials$/)).toBeDefined();
    });

    it("leaves no push registration for alice, and the rest of alice's and bob's state as it was", () => {
      expect(after.users.alice!.push).toEqual([]);
      expect(diffStates(before, after)).toEqual([]);
    });

    it("leaves no session (hibernating or not) of alice or bob", async () => {
      expect(await sessionsOf(s, "alice")).toEqual([]);
      expect(await sessionsOf(s, "bob")).toEqual([]);
    });

    it("leaves no offline message for alice", async () => {
      expect(await offlineMessages(s)).toEqual([]);
    });
  });
}
