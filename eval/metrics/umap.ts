/**
 * UMAP embedding through umap-js (npm `umap-js`, the PAIR-code port of umap-learn), as an
 * alternative to t-SNE for the metrics of SPEC section 5. Seeded: umap-js draws every
 * random number from the function it is given, here an {@link Rng}.
 *
 * @module
 */
import { UMAP } from "../../models/core/deps.ts";
import { Rng } from "../../models/core/random.ts";
import type { Points } from "./points.ts";

/** umap-learn defaults (n_neighbors 15, min_dist 0.1) and the t-SNE seed of SPEC 5. */
export const UMAP_DEFAULTS = {
  nNeighbors: 15, // umap-learn default
  minDist: 0.1, // umap-learn default
  seed: 42, // as t-SNE's random_state (SPEC section 5)
} as const;

/** Options of {@link umap}. */
export interface UmapOptions {
  /** Neighbours of the fuzzy graph (capped at n - 1). */
  nNeighbors?: number;
  /** Minimum distance between embedded points (default 0.1). */
  minDist?: number;
  /** Optimisation epochs (umap-js default: 500 for n <= 10000, else 200). */
  nEpochs?: number;
  /** Seed of every random draw (default 42). */
  seed?: number;
}

/**
 * Embeds points in 2-D with UMAP; deterministic for a seed.
 *
 * @example
 * ```ts
 * import { points } from "./points.ts";
 * import { umap } from "./umap.ts";
 * const x = points(new Float32Array(100 * 8).map((_, i) => Math.cos(i)), 8);
 * const y = umap(x, { seed: 42 }); // Float32Array [100 * 2]
 * ```
 */
export function umap(x: Points, options: UmapOptions = {}): Float32Array {
  const o = { ...UMAP_DEFAULTS, ...options };
  const [n, d] = x.shape;
  if (n < 3 || n * d !== x.data.length) {
    throw new RangeError(`UMAP needs at least 3 points, got shape [${n}, ${d}]`);
  }
  if (!Number.isInteger(o.nNeighbors) || o.nNeighbors < 2) {
    throw new RangeError(`UMAP nNeighbors must be an integer >= 2, got ${o.nNeighbors}`);
  }
  const rng = Rng.from(o.seed);
  const model = new UMAP({
    nComponents: 2,
    nNeighbors: Math.min(o.nNeighbors, n - 1),
    minDist: o.minDist,
    nEpochs: o.nEpochs,
    random: () => rng.random(),
  });
  const rows = Array.from({ length: n }, (_, i) => Array.from(x.data.subarray(i * d, (i + 1) * d)));
  const y = model.fit(rows);
  const out = new Float32Array(2 * n);
  y.forEach((p, i) => {
    out[2 * i] = p[0];
    out[2 * i + 1] = p[1];
  });
  return out;
}
