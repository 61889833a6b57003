/** Account-data locks: scenarios on the same account take turns; on different accounts (servers) they do not wait. */
import { describe, expect, it } from "vitest";
import { holdLock } from "../../src/scenario/locks.js";
import type { Scenario } from "../../src/scenario/scenario.js";

/** The part of a Scenario that holdLock uses: its account and its cleanups. */
function fakeScenario(account: string) {
  const cleanups: (() => Promise<void>)[] = [];
  const s = { bareJid: () => account, cleanup: (_what: string, fn: () => Promise<void>) => void cleanups.push(fn) } as unknown as Scenario;
  return { s, finish: async () => { for (const fn of cleanups.reverse()) await fn(); } };
}

describe("holdLock", () => {
  it("makes a second scenario on the same account wait until the first has cleaned up", async () => {
    const a = fakeScenario("alice@one.example");
    const b = fakeScenario("Alice@one.example");
    await holdLock(a.s, "vCard");
    let bHolds = false;
    const waiting = holdLock(b.s, "vCard").then(() => (bHolds = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(bHolds).toBe(false);
    await a.finish();
    await waiting;
    expect(bHolds).toBe(true);
    await b.finish();
  });

  it("does not make a scenario of another server's account wait", async () => {
    const a = fakeScenario("alice@one.example");
    const b = fakeScenario("alice@two.example");
    await holdLock(a.s, "vCard");
    await holdLock(b.s, "vCard"); // would hang (vitest's timeout) if the lock were per process
    await Promise.all([a.finish(), b.finish()]);
  });
});
