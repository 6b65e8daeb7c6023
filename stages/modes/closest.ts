/**
 * "k-means closest sample" modes (paper Table 5 row 1 "mode discovery only" and Table 7):
 * the real sample nearest to each k-means centroid, all distinct.
 *
 * @module
 */
import { rowSqNorms, sqDistRows } from "./_dist.ts";
import { checkData, checkK } from "./_validate.ts";

/**
 * For each center in order, the index of the nearest row of X not already taken by an
 * earlier center (so the k indices are distinct; ties go to the lower index).
 *
 * @example
 * ```ts
 * import { closestRows } from "./closest.ts";
 * const X = new Float32Array([0, 0, 1, 1, 9, 9]); // [3, 2]
 * const C = new Float32Array([0.2, 0.2, 0.3, 0.3]); // [2, 2]: both nearest to row 0
 * closestRows(X, 3, 2, C, 2); // Int32Array [0, 1]
 * ```
 */
export function closestRows(
  X: Float32Array,
  n: number,
  d: number,
  centers: Float32Array,
  k: number,
): Int32Array {
  const fn = "closestRows()";
  checkData(fn, X, n, d);
  checkK(fn, k, n);
  if (centers.length !== k * d) {
    throw new RangeError(`${fn}: centers has ${centers.length} values, expected k * d = ${k * d}`);
  }
  const X64 = Float64Array.from(X);
  const dist = sqDistRows(X64, n, d, rowSqNorms(X64, n, d), Float64Array.from(centers), k); // [n, k]
  const taken = new Uint8Array(n);
  const out = new Int32Array(k);
  for (let c = 0; c < k; c++) {
    let best = -1;
    for (let i = 0; i < n; i++) {
      if (!taken[i] && (best < 0 || dist[i * k + c] < dist[best * k + c])) best = i;
    }
    taken[best] = 1;
    out[c] = best;
  }
  return out;
}
