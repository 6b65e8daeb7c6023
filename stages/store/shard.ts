/**
 * `--shard i/n`: which classes one worker of n handles (class j goes to worker j mod n), so
 * an array job (Slurm, Kubernetes indexed Jobs) spreads a stage over machines that share
 * one store.
 *
 * @module
 */
import { OptionError } from "../option_error.ts";

/** Worker `index` of `count` (0-based). */
export interface Shard {
  /** This worker's index, 0 <= index < count. */
  index: number;
  /** Number of workers. */
  count: number;
}

/** The whole job on one worker. */
export const ALL: Readonly<Shard> = { index: 0, count: 1 };

/**
 * Parses "i/n" (0 <= i < n); anything else is an {@link OptionError} (a usage error on the
 * command line).
 *
 * @example
 * ```ts
 * import { parseShard } from "./shard.ts";
 * parseShard("2/8"); // { index: 2, count: 8 }
 * ```
 */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) {
    throw new OptionError(`--shard must be i/n with 0 <= i < n (e.g. 0/4), got '${text}'`);
  }
  return { index, count };
}

/**
 * The positions 0..total-1 that belong to a shard.
 *
 * @example
 * ```ts
 * import { shardItems } from "./shard.ts";
 * shardItems(10, { index: 1, count: 4 }); // [1, 5, 9]
 * ```
 */
export function shardItems(total: number, shard: Shard = ALL): number[] {
  const out: number[] = [];
  for (let j = shard.index; j < total; j += shard.count) out.push(j);
  return out;
}
