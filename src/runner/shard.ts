/**
 * --shard i/n: a deterministic slice of the targets, so n CI jobs can test
 * one list between them. Target k (0-based, file order) belongs to shard
 * (k mod n) + 1: round-robin keeps the slices even, and `xepcheck merge`
 * can put the merged targets back in file order.
 */
export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** Parses "i/n"; returns an error message (naming the problem) instead of throwing. */
export function parseShard(text: string): Shard | string {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(text.trim());
  if (!m) return `"${text}" is not i/n (e.g. 2/5: the second of five slices)`;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) return `"${text}": the number of shards must be at least 1`;
  if (index < 1 || index > count) return `"${text}": the shard number must be from 1 to ${count}`;
  return { index, count };
}

export function shardSlice<T>(items: readonly T[], shard: Shard): T[] {
  return items.filter((_, k) => k % shard.count === shard.index - 1);
}

/** Where item `position` of shard `index` stood in the unsharded list. */
export function unshardedPosition(shard: Shard, position: number): number {
  return position * shard.count + (shard.index - 1);
}
