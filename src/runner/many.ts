/**
 * Runs several targets at once, politely: at most `parallel` targets in all
 * and `perServer` on any one server (targets sharing a host), each target's
 * scenarios limited by its own `concurrency`.
 */
import pLimit, { type LimitFunction } from "p-limit";
import type { TargetReport } from "../report/types.js";
import type { TraceSink } from "../session/trace.js";
import { LoginFailure, runTarget, type RunHooks, type RunOptions } from "./run.js";

export interface TargetToRun {
  name: string;
  /** Targets with the same key share the per-server limit. */
  server: string;
  options: RunOptions;
}

export interface ManyHooks {
  /** Hooks for one target (progress), made when it starts. */
  forTarget?(target: TargetToRun): RunHooks;
  onTargetDone?(report: TargetReport): void;
  onLoginFailure?(name: string, failure: LoginFailure): void;
}

/** Target reports in the order given, whatever order they finished in. */
export async function runTargets(
  targets: TargetToRun[],
  limits: { parallel: number; perServer: number; trace?: TraceSink },
  hooks: ManyHooks = {},
): Promise<TargetReport[]> {
  const global = pLimit(Math.max(1, limits.parallel));
  const perServer = new Map<string, LimitFunction>();
  const serverLimit = (key: string) => {
    let limit = perServer.get(key);
    if (!limit) perServer.set(key, (limit = pLimit(Math.max(1, limits.perServer))));
    return limit;
  };
  // The server limit is taken first, so a busy server never holds a global slot while it waits.
  return Promise.all(
    targets.map((t) =>
      serverLimit(t.server)(() =>
        global(async () => {
          let report: TargetReport;
          try {
            const run = () => runTarget(t.options, hooks.forTarget?.(t) ?? {});
            report = await (limits.trace ? limits.trace.run(t.name, run) : run());
          } catch (err) {
            if (!(err instanceof LoginFailure)) throw err;
            hooks.onLoginFailure?.(t.name, err);
            report = err.report;
          }
          hooks.onTargetDone?.(report);
          return report;
        }),
      ),
    ),
  );
}
