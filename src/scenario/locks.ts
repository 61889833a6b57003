/**
 * Locks on account data that scenarios change and restore (the vCard, the
 * bookmarks): scenarios that change the same data of the same account run
 * one after the other, each restoring what it found. A lock is keyed by the
 * account, so one server's scenarios never wait for another's in a run of
 * many servers, while two targets sharing an account still take turns.
 */
import type { Scenario } from "./scenario.js";

const locks = new Map<string, Promise<void>>();

/** Takes the lock on `name` of the scenario's account until the scenario's cleanups have run. */
export async function holdLock(s: Scenario, name: string): Promise<void> {
  const key = `${s.bareJid("account").toLowerCase()} ${name}`;
  const previous = locks.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => mine);
  locks.set(key, tail);
  // Registered before anything else: cleanups run last-first, so this one runs last.
  s.cleanup(`release the ${name} lock`, async () => {
    release();
    if (locks.get(key) === tail) locks.delete(key);
  });
  await previous;
}
