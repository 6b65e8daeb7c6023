/**
 * Reproducible dropout: in train mode the keep-mask is a graph input (values 0 or
 * 1 / (1 - p)) that the caller fills from a seeded generator at each step, so a run is
 * replayable from its seed; in eval mode dropout is the identity.
 *
 * @module
 */
import type { Value } from "../graph.ts";
import { mul } from "./elementwise.ts";

let counter = 0;

/**
 * Dropout with drop probability `p`. In training it adds an input `dropout_mask_<k>` of
 * `x`'s shape, listed in `graph.randomInputs` (the trainer fills it).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { dropout } from "./dropout.ts";
 * const g = new Graph();
 * const y = dropout(g.input("x", [4, 8]), 0.5, true);
 * g.randomInputs[0].value.name; // "dropout_mask_..."
 * ```
 */
export function dropout(x: Value, p: number, training: boolean, name?: string): Value {
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: p must be in [0, 1), got ${p}`);
  if (!training || p === 0) return x;
  const g = x.graph;
  const mask = g.input(
    name ?? `dropout_mask_${g.randomInputs.length}_${counter++}`,
    x.shape,
    x.dtype,
  );
  g.randomInputs.push({ value: mask, kind: "dropout", p });
  return mul(x, mask);
}

/**
 * Fills a keep-mask: each entry is `1 / (1 - p)` with probability `1 - p`, else 0.
 *
 * @example
 * ```ts
 * import { fillDropoutMask } from "./dropout.ts";
 * const m = fillDropoutMask(new Float32Array(8), 0.5, Math.random);
 * ```
 */
export function fillDropoutMask<T extends Float32Array | Float64Array>(
  out: T,
  p: number,
  random: () => number,
): T {
  const keep = 1 / (1 - p);
  for (let i = 0; i < out.length; i++) out[i] = random() < p ? 0 : keep;
  return out;
}
