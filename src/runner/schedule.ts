/**
 * The order the live scenarios run in: at most `concurrency` at once, in
 * declaration order, except that jobs naming the same chain (scenarios
 * changing the same account state) run one after another, and once a chain
 * has started, its next job takes the next free slot: a chain's jobs add up
 * to the run's longest sequence, and a chain whose next job waited behind
 * every job declared after it would make the whole run wait for it at the
 * end. A job waiting for its chain holds no slot.
 */
export async function runScheduled<T>(
  jobs: readonly T[],
  chainOf: (job: T) => string | undefined,
  concurrency: number,
  run: (job: T) => Promise<void>,
): Promise<void> {
  const waiting = [...jobs];
  const started = new Set<string>();
  const runningChains = new Set<string>();
  const slots = Math.max(1, concurrency);
  let running = 0;

  const next = (): { job: T; chain?: string } | undefined => {
    const free = (job: T) => {
      const chain = chainOf(job);
      return chain === undefined || !runningChains.has(chain);
    };
    const continuing = waiting.findIndex((job) => {
      const chain = chainOf(job);
      return chain !== undefined && started.has(chain) && free(job);
    });
    const at = continuing >= 0 ? continuing : waiting.findIndex(free);
    if (at < 0) return undefined;
    const [job] = waiting.splice(at, 1) as [T];
    const chain = chainOf(job);
    if (chain !== undefined) started.add(chain);
    return { job, ...(chain !== undefined ? { chain } : {}) };
  };

  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      for (let picked = running < slots ? next() : undefined; picked; picked = running < slots ? next() : undefined) {
        const { job, chain } = picked;
        running++;
        if (chain !== undefined) runningChains.add(chain);
        run(job).then(
          () => {
            running--;
            if (chain !== undefined) runningChains.delete(chain);
            pump();
          },
          reject,
        );
      }
      if (running === 0) resolve();
    };
    pump();
  });
}
