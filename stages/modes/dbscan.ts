/**
 * DBSCAN (Ester et al. 1996) with the semantics of scikit-learn 1.x
 * `DBSCAN(eps, min_samples, metric="euclidean")`: a row is a core sample when at least
 * `minSamples` rows (itself included) lie within distance `eps` (inclusive); clusters are
 * the connected core samples plus the non-core rows within eps of them; the rest is noise
 * (label -1). Clusters are numbered in the order of their first core row, and a border row
 * within reach of two clusters joins the first one, as in scikit-learn. Paper Table 7 uses
 * the cluster means as modes.
 *
 * @module
 */
import { pairwiseSqDist } from "./_dist.ts";
import { dbscanFromDistances, medianKDistance } from "./_dbscan_core.ts";
import { checkData, checkInt, checkPositive } from "./_validate.ts";

/**
 * Defaults for {@link dbscan} (the paper gives no DBSCAN settings).
 *
 * @example
 * ```ts
 * import { DBSCAN_DEFAULTS } from "./dbscan.ts";
 * DBSCAN_DEFAULTS.minSamples; // 5
 * ```
 */
export const DBSCAN_DEFAULTS = {
  /**
   * eps = "auto": the median over rows of the distance to the minSamples-th nearest row
   * (itself counted), so about half of the rows are core samples. sklearn's default 0.5 is
   * meaningless for 4096-d latents.
   */
  eps: "auto",
  /** min_samples = 5 (sklearn default). */
  minSamples: 5,
} as const;

/**
 * Options for {@link dbscan}.
 *
 * @example
 * ```ts
 * import type { DbscanOptions } from "./dbscan.ts";
 * const o: DbscanOptions = { eps: 0.5, minSamples: 5 };
 * ```
 */
export interface DbscanOptions {
  /** Neighbourhood radius (Euclidean, inclusive), or "auto" (default, see DBSCAN_DEFAULTS). */
  eps?: number | "auto";
  /** Rows within eps, the row itself included, that make a core sample (default 5). */
  minSamples?: number;
}

/**
 * Result of {@link dbscan}.
 *
 * @example
 * ```ts
 * import { dbscan, type DbscanResult } from "./dbscan.ts";
 * const r: DbscanResult = dbscan(new Float32Array([0, 0.1, 5]), 3, 1, { eps: 0.2, minSamples: 2 });
 * r.labels; // Int32Array [0, 0, -1]
 * ```
 */
export interface DbscanResult {
  /** Cluster per row, 0..nClusters-1, or -1 for noise: [n]. */
  labels: Int32Array;
  /** Number of clusters found. */
  nClusters: number;
  /** 1 where the row is a core sample: [n]. */
  core: Uint8Array;
  /** The eps used (the computed one for "auto"). */
  eps: number;
}

/**
 * Clusters the rows of X with DBSCAN.
 *
 * @example
 * ```ts
 * import { dbscan } from "./dbscan.ts";
 * const X = new Float32Array([0, 0, 0, 0.1, 0.1, 0, 5, 5, 5, 5.1, 5.1, 5, 20, 20]); // [7, 2]
 * const { labels, nClusters } = dbscan(X, 7, 2, { eps: 0.5, minSamples: 3 });
 * // labels [0, 0, 0, 1, 1, 1, -1], nClusters 2
 * ```
 */
export function dbscan(
  X: Float32Array,
  n: number,
  d: number,
  options: DbscanOptions = {},
): DbscanResult {
  const fn = "dbscan()";
  checkData(fn, X, n, d);
  const epsOpt = options.eps ?? DBSCAN_DEFAULTS.eps;
  const minSamples = options.minSamples ?? DBSCAN_DEFAULTS.minSamples;
  if (epsOpt !== "auto") checkPositive(fn, "eps", epsOpt);
  checkInt(fn, "minSamples", minSamples, 1);
  const D = pairwiseSqDist(Float64Array.from(X), n, d); // [n, n]
  let eps = epsOpt === "auto" ? medianKDistance(D, n, minSamples) : epsOpt;
  if (eps === 0) eps = Number.MIN_VALUE; // all rows duplicated: only exact duplicates connect
  return { ...dbscanFromDistances(D, n, { eps, minSamples }), eps };
}
