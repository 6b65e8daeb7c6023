/**
 * The per-sample metrics of the paper (section 5.2, App. B; SPEC section 5), computed in an
 * embedding space (t-SNE by default):
 *
 * - diversity of synthetic sample s: min over the other synthetic samples s' of its class
 *   of ||e_s - e_s'|| (larger = more diverse);
 * - representativeness of s: mean of ||e_s - e_o|| over the k = 50 nearest original
 *   samples o of its class (smaller = more representative);
 * - the class's embedding scale: the mean pairwise distance between its original points,
 *   used to normalise both (see sample_metrics.ts).
 *
 * All three work for points of any dimension.
 *
 * @module
 */
import type { Points } from "./points.ts";

/** Nearest originals averaged for representativeness (paper section 5.2: 50). */
export const REPRESENTATIVENESS_K = 50;

function distance(a: Float32Array, i: number, b: Float32Array, j: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) {
    const t = a[i * d + k] - b[j * d + k];
    s += t * t;
  }
  return Math.sqrt(s);
}

function checkDims(a: Points, b: Points): void {
  if (a.shape[1] !== b.shape[1]) {
    throw new RangeError(
      `Point sets of dimensions ${a.shape[1]} and ${b.shape[1]} cannot be compared`,
    );
  }
}

/**
 * Diversity of each synthetic sample: its distance to the nearest other synthetic sample
 * of the class (NaN when the class has a single sample).
 *
 * @example
 * ```ts
 * import { diversity } from "./diversity.ts";
 * import { points } from "./points.ts";
 * diversity(points(new Float32Array([0, 0, 3, 4, 0, -1]), 2)); // [1, 5, 1]
 * ```
 */
export function diversity(synthetic: Points): Float64Array {
  const [m, d] = synthetic.shape;
  const out = new Float64Array(m).fill(m < 2 ? NaN : Infinity);
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) {
      const v = distance(synthetic.data, i, synthetic.data, j, d);
      if (v < out[i]) out[i] = v;
      if (v < out[j]) out[j] = v;
    }
  }
  return out;
}

/**
 * Representativeness of each synthetic sample: the mean distance to its k nearest original
 * samples (k capped at the number of originals). Smaller is more representative.
 *
 * @example
 * ```ts
 * import { representativeness } from "./diversity.ts";
 * import { points } from "./points.ts";
 * const orig = points(new Float32Array([1, 0, -1, 0, 0, 3]), 2);
 * representativeness(points(new Float32Array([0, 0]), 2), orig, 2); // [1]
 * ```
 */
export function representativeness(
  synthetic: Points,
  original: Points,
  k: number = REPRESENTATIVENESS_K,
): Float64Array {
  checkDims(synthetic, original);
  const [m, d] = synthetic.shape;
  const n = original.shape[0];
  if (n === 0) throw new RangeError("Representativeness needs at least one original point");
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`Representativeness k must be >= 1, got ${k}`);
  }
  const kk = Math.min(k, n);
  const out = new Float64Array(m);
  const dist = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) dist[j] = distance(synthetic.data, i, original.data, j, d);
    dist.sort();
    let s = 0;
    for (let j = 0; j < kk; j++) s += dist[j];
    out[i] = s / kk;
  }
  return out;
}

/**
 * The embedding scale of a class: the mean pairwise distance between its original points.
 *
 * @example
 * ```ts
 * import { embeddingScale } from "./diversity.ts";
 * import { points } from "./points.ts";
 * embeddingScale(points(new Float32Array([0, 0, 2, 0]), 2)); // 2
 * ```
 */
export function embeddingScale(original: Points): number {
  const [n, d] = original.shape;
  if (n < 2) throw new RangeError(`The embedding scale needs at least 2 original points, got ${n}`);
  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) s += distance(original.data, i, original.data, j, d);
  }
  return s / (n * (n - 1) / 2);
}
