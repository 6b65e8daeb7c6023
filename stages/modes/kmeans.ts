/**
 * k-means with the objective and semantics of scikit-learn 1.x
 * `KMeans(n_clusters=k, random_state=seed, n_init="auto")` (SPEC section 1, step 2):
 * greedy k-means++ seeding, Lloyd iterations (max_iter 300, tol 1e-4 times the mean
 * per-feature variance, compared with the total squared center shift), n_init "auto" = one
 * run for k-means++, the run with the lowest inertia kept, empty clusters relocated to the
 * farthest rows. As scikit-learn does, the data are centered before fitting and the mean
 * added back to the centers. Random draws come from {@link Rng}, so results are
 * reproducible for a seed but not bit-identical to numpy's. The assignment step uses
 * Hamerly's bounds to skip distances that cannot change a label (same labels as Lloyd).
 *
 * Notation: X [n, d] samples, k clusters (k = IPC modes), C [k, d] centers, inertia =
 * sum_i ||x_i - C[label_i]||^2.
 *
 * @module
 */
import { Rng } from "../../models/core/random.ts";
import { colMean, rowSqNorms } from "./_dist.ts";
import { kmeansPlusPlus, lloyd, type LloydResult } from "./_kmeans_core.ts";
import { checkData, checkInt, checkK, checkPositive } from "./_validate.ts";

/**
 * scikit-learn `KMeans` defaults (SPEC section 1: sklearn KMeans, n_init="auto").
 *
 * @example
 * ```ts
 * import { KMEANS_DEFAULTS } from "./kmeans.ts";
 * KMEANS_DEFAULTS.maxIter; // 300
 * ```
 */
export const KMEANS_DEFAULTS = {
  /** max_iter = 300, sklearn default. */
  maxIter: 300,
  /** tol = 1e-4, sklearn default (relative: scaled by the mean per-feature variance). */
  tol: 1e-4,
  /** n_init = "auto": one run for k-means++ init (sklearn >= 1.2 docs). */
  nInit: "auto",
  /** random_state = 0 (SPEC section 1). */
  seed: 0,
} as const;

/**
 * Options for {@link kmeans}.
 *
 * @example
 * ```ts
 * import type { KMeansOptions } from "./kmeans.ts";
 * const o: KMeansOptions = { k: 10, seed: 0, nInit: "auto" };
 * ```
 */
export interface KMeansOptions {
  /** Number of clusters (k = IPC, SPEC section 1). */
  k: number;
  /** Seed of the generator (default 0 = sklearn random_state=0, SPEC section 1). */
  seed?: number;
  /** A generator to draw from instead of `Rng.from(seed)` (it advances). */
  rng?: Rng;
  /** Maximum Lloyd iterations per run (default 300, sklearn). */
  maxIter?: number;
  /** Relative tolerance on the center shift (default 1e-4, sklearn). */
  tol?: number;
  /** Number of k-means++ runs; "auto" = 1 (default, sklearn n_init="auto"). */
  nInit?: number | "auto";
  /**
   * Initial centers [k, d] instead of k-means++ (sklearn `init=array`: one run, no
   * randomness). Default: k-means++.
   */
  init?: Float32Array;
}

/**
 * Result of {@link kmeans}.
 *
 * @example
 * ```ts
 * import { kmeans, type KMeansResult } from "./kmeans.ts";
 * const r: KMeansResult = kmeans(new Float32Array([0, 1, 9, 10]), 4, 1, { k: 2 });
 * r.inertia; // 1
 * ```
 */
export interface KMeansResult {
  /** Cluster centers: [k, d] row-major. */
  centers: Float32Array;
  /** Cluster index of every row: [n]. */
  labels: Int32Array;
  /** Sum of squared distances of the rows to their centers (float64). */
  inertia: number;
  /** Lloyd iterations of the kept run. */
  nIter: number;
  /** Rows chosen by k-means++ as initial centers of the kept run (-1 for `init`): [k]. */
  initIndices: Int32Array;
}

/**
 * Clusters the rows of X with k-means (scikit-learn `KMeans` semantics, see the module
 * comment).
 *
 * @example
 * ```ts
 * import { kmeans } from "./kmeans.ts";
 * const X = new Float32Array([0, 0, 0, 1, 10, 10, 10, 11]); // [4, 2]
 * const { centers, labels, inertia } = kmeans(X, 4, 2, { k: 2, seed: 0 });
 * // centers ~ [[0, 0.5], [10, 10.5]] (in some order), inertia = 1
 * ```
 */
export function kmeans(
  X: Float32Array,
  n: number,
  d: number,
  options: KMeansOptions,
): KMeansResult {
  const fn = "kmeans()";
  checkData(fn, X, n, d);
  const { k } = options;
  checkK(fn, k, n);
  const maxIter = options.maxIter ?? KMEANS_DEFAULTS.maxIter;
  const tol = options.tol ?? KMEANS_DEFAULTS.tol;
  const nInitOpt = options.nInit ?? KMEANS_DEFAULTS.nInit;
  checkInt(fn, "maxIter", maxIter, 1);
  checkPositive(fn, "tol", tol, true);
  if (nInitOpt !== "auto") checkInt(fn, "nInit", nInitOpt, 1);
  const given = options.init;
  if (given !== undefined && (!(given instanceof Float32Array) || given.length !== k * d)) {
    throw new RangeError(`${fn}: option init must be a Float32Array of k * d = ${k * d} values`);
  }
  const nInit = nInitOpt === "auto" || given ? 1 : nInitOpt;
  const rng = options.rng ?? Rng.from(options.seed ?? KMEANS_DEFAULTS.seed);

  // Center the data (sklearn does this for dense input: more accurate distances).
  const mean = colMean(X, n, d); // [d]
  const Xc = new Float64Array(n * d); // [n, d]
  for (let i = 0; i < n; i++) {
    for (let j = 0, o = i * d; j < d; j++) Xc[o + j] = X[o + j] - mean[j];
  }
  const xSq = rowSqNorms(Xc, n, d); // [n]
  const tolAbs = meanVariance(Xc, n, d) * tol; // sklearn _tolerance

  let best: (LloydResult & { initIndices: Int32Array }) | null = null;
  for (let run = 0; run < nInit; run++) {
    const init = given ? centeredInit(given, mean, k, d) : kmeansPlusPlus(Xc, n, d, xSq, k, rng);
    const r = lloyd(Xc, n, d, xSq, init.centers, k, maxIter, tolAbs);
    // sklearn keeps a later run only if its inertia is lower by a relative 1e-6.
    if (best === null || r.inertia < best.inertia * (1 - 1e-6)) {
      best = { ...r, initIndices: init.indices };
    }
  }
  const centers = new Float32Array(k * d);
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < d; j++) centers[c * d + j] = best!.centers[c * d + j] + mean[j];
  }
  return {
    centers,
    labels: best!.labels,
    inertia: best!.inertia,
    nIter: best!.nIter,
    initIndices: best!.initIndices,
  };
}

function centeredInit(init: Float32Array, mean: Float64Array, k: number, d: number) {
  const centers = new Float64Array(k * d);
  for (let i = 0; i < k * d; i++) centers[i] = init[i] - mean[i % d];
  return { centers, indices: new Int32Array(k).fill(-1) };
}

/** Mean over features of the per-feature variance of centered data (ddof 0). */
function meanVariance(Xc: Float64Array, n: number, d: number): number {
  let s = 0;
  for (let i = 0; i < n * d; i++) s += Xc[i] * Xc[i];
  return s / n / d;
}
