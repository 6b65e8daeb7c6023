/**
 * Herding selection (Welling 2009; the "Herding" baseline of dataset-distillation papers,
 * SPEC section 3): greedily pick the sample whose addition brings the running mean of the
 * selected samples closest to the class mean.
 *
 * Notation: mu = class mean, S_t = sum of the t selected rows; step t + 1 picks
 * argmin_i ||mu - (S_t + x_i) / (t + 1)||^2 over rows not yet selected.
 *
 * @module
 */
import { colMean, rowSqNorms } from "./_dist.ts";
import { checkData, checkK } from "./_validate.ts";

/**
 * Indices of k distinct rows chosen by herding, in selection order, and the distance
 * ||mu - mean of the first t selected|| after each step t = 1..k.
 *
 * @example
 * ```ts
 * import { herding } from "./herding.ts";
 * const X = new Float32Array([0, 0, 4, 0, 1, 0, 3, 0]); // [4, 2], mean (2, 0)
 * herding(X, 4, 2, 2).indices; // Int32Array [2, 3]: the running mean (2, 0) after two
 * ```
 */
export function herding(
  X: Float32Array,
  n: number,
  d: number,
  k: number,
): { indices: Int32Array; errors: Float64Array } {
  const fn = "herding()";
  checkData(fn, X, n, d);
  checkK(fn, k, n);
  const X64 = Float64Array.from(X); // [n, d]
  const mu = colMean(X64, n, d); // [d]
  const xSq = rowSqNorms(X64, n, d); // [n]
  const sum = new Float64Array(d); // S_t
  const r = new Float64Array(d); // (t + 1) mu - S_t
  const taken = new Uint8Array(n);
  const indices = new Int32Array(k);
  const errors = new Float64Array(k);
  for (let t = 0; t < k; t++) {
    // ||(t+1) mu - S_t - x||^2 = ||r||^2 - 2 r.x + ||x||^2: minimise -2 r.x + ||x||^2.
    for (let j = 0; j < d; j++) r[j] = (t + 1) * mu[j] - sum[j];
    let best = -1;
    let bestV = Infinity;
    for (let i = 0; i < n; i++) {
      if (taken[i]) continue;
      let s = 0;
      for (let j = 0, o = i * d; j < d; j++) s += r[j] * X64[o + j];
      const v = xSq[i] - 2 * s;
      if (v < bestV) {
        bestV = v;
        best = i;
      }
    }
    taken[best] = 1;
    indices[t] = best;
    let e = 0;
    for (let j = 0, o = best * d; j < d; j++) {
      sum[j] += X64[o + j];
      e += (mu[j] - sum[j] / (t + 1)) ** 2;
    }
    errors[t] = Math.sqrt(e);
  }
  return { indices, errors };
}
