/**
 * Spectral clustering with the semantics of scikit-learn 1.x
 * `SpectralClustering(n_clusters, affinity, gamma, n_neighbors, assign_labels="kmeans")`
 * (paper Table 7: the cluster means are the modes):
 * 1. affinity W: RBF exp(-gamma ||x_i - x_j||^2), or the symmetrised k-nearest-neighbour
 *    graph 0.5 (C + C^T) with C_ij = 1 when j is among the nNeighbors nearest rows of i
 *    (itself included, as sklearn's `kneighbors_graph(include_self=True)`);
 * 2. normalised Laplacian L = I - D^-1/2 W D^-1/2 (diagonal of W ignored, isolated rows
 *    kept apart, as scipy's `csgraph.laplacian(normed=True)`);
 * 3. embedding: the nClusters eigenvectors of L with the smallest eigenvalues, each divided
 *    by sqrt(degree), signs fixed so the largest-magnitude entry is positive;
 * 4. labels: k-means (nInit runs) on the rows of the embedding.
 *
 * @module
 */
import { Rng } from "../../models/core/random.ts";
import { pairwiseSqDist } from "./_dist.ts";
import { topEigenpairs } from "./_sym_eigs.ts";
import { kmeans } from "./kmeans.ts";
import { checkChoice, checkData, checkInt, checkPositive } from "./_validate.ts";

/**
 * Defaults for {@link spectralClustering} (the paper gives no spectral settings).
 *
 * @example
 * ```ts
 * import { SPECTRAL_DEFAULTS } from "./spectral.ts";
 * SPECTRAL_DEFAULTS.nNeighbors; // 10
 * ```
 */
export const SPECTRAL_DEFAULTS = {
  /** affinity = "rbf" (sklearn default). */
  affinity: "rbf",
  /**
   * gamma = "auto": 1 / median pairwise squared distance (the median heuristic); sklearn's
   * default 1.0 makes every affinity underflow to 0 for 4096-d latents.
   */
  gamma: "auto",
  /** n_neighbors = 10 for affinity "nearest_neighbors" (sklearn default). */
  nNeighbors: 10,
  /** n_init = 10 k-means runs on the embedding (sklearn default). */
  nInit: 10,
  /** random_state = 0, as for k-means (SPEC section 1). */
  seed: 0,
} as const;

/**
 * Affinities {@link spectralClustering} understands.
 *
 * @example
 * ```ts
 * import { SPECTRAL_AFFINITIES } from "./spectral.ts";
 * SPECTRAL_AFFINITIES.includes("rbf"); // true
 * ```
 */
export const SPECTRAL_AFFINITIES = ["rbf", "nearest_neighbors"] as const;

/**
 * Options for {@link spectralClustering}.
 *
 * @example
 * ```ts
 * import type { SpectralOptions } from "./spectral.ts";
 * const o: SpectralOptions = { nClusters: 10, affinity: "rbf", gamma: "auto" };
 * ```
 */
export interface SpectralOptions {
  /** Number of clusters = embedding dimension. */
  nClusters: number;
  /** Seed of the eigensolver start and the k-means runs (default 0). */
  seed?: number;
  /** A generator to draw from instead of `Rng.from(seed)` (it advances). */
  rng?: Rng;
  /** "rbf" (default) or "nearest_neighbors". */
  affinity?: (typeof SPECTRAL_AFFINITIES)[number];
  /** RBF width (> 0) or "auto" (default, median heuristic). */
  gamma?: number | "auto";
  /** Neighbours per row for "nearest_neighbors" (default 10). */
  nNeighbors?: number;
  /** k-means runs on the embedding (default 10). */
  nInit?: number;
}

/**
 * Result of {@link spectralClustering}.
 *
 * @example
 * ```ts
 * import { spectralClustering, type SpectralResult } from "./spectral.ts";
 * const X = new Float32Array([0, 0.1, 0.2, 9, 9.1, 9.2]); // [6, 1]
 * const r: SpectralResult = spectralClustering(X, 6, 1, { nClusters: 2, gamma: 1 });
 * r.embedding; // Float32Array [6 * 2]
 * ```
 */
export interface SpectralResult {
  /** Cluster per row: [n]. */
  labels: Int32Array;
  /** Spectral embedding: [n, nClusters]. */
  embedding: Float32Array;
  /** The nClusters smallest eigenvalues of the normalised Laplacian, increasing. */
  eigenvalues: Float64Array;
  /** The RBF gamma used (the computed one for "auto"; NaN for nearest_neighbors). */
  gamma: number;
  /** False when the iterative eigensolver stopped before its tolerance. */
  converged: boolean;
}

/**
 * Clusters the rows of X by spectral clustering.
 *
 * @example
 * ```ts
 * import { spectralClustering } from "./spectral.ts";
 * const X = new Float32Array([0, 0, 0, 0.1, 0.1, 0, 5, 5, 5, 5.1, 5.1, 5]); // [6, 2]
 * const { labels } = spectralClustering(X, 6, 2, { nClusters: 2, gamma: 1 });
 * // labels [a, a, a, b, b, b] with a !== b
 * ```
 */
export function spectralClustering(
  X: Float32Array,
  n: number,
  d: number,
  options: SpectralOptions,
): SpectralResult {
  const fn = "spectralClustering()";
  checkData(fn, X, n, d);
  const m = options.nClusters;
  checkInt(fn, "nClusters", m, 1, n, ` (cannot exceed the n = ${n} samples)`);
  const affinity = options.affinity ?? SPECTRAL_DEFAULTS.affinity;
  checkChoice(fn, "affinity", affinity, SPECTRAL_AFFINITIES);
  const gammaOpt = options.gamma ?? SPECTRAL_DEFAULTS.gamma;
  if (gammaOpt !== "auto") checkPositive(fn, "gamma", gammaOpt);
  const nNeighbors = options.nNeighbors ?? SPECTRAL_DEFAULTS.nNeighbors;
  if (affinity === "nearest_neighbors") {
    checkInt(fn, "nNeighbors", nNeighbors, 1, n, ` (cannot exceed the n = ${n} samples)`);
  }
  const nInit = options.nInit ?? SPECTRAL_DEFAULTS.nInit;
  checkInt(fn, "nInit", nInit, 1);
  const rng = options.rng ?? Rng.from(options.seed ?? SPECTRAL_DEFAULTS.seed);

  // 1. Affinity W [n, n].
  const D = pairwiseSqDist(Float64Array.from(X), n, d); // [n, n]
  let gamma = NaN;
  let W: Float64Array;
  if (affinity === "rbf") {
    gamma = gammaOpt === "auto" ? 1 / (medianOffDiagonal(D, n) || 1) : gammaOpt;
    W = D.map((v) => Math.exp(-gamma * v));
  } else {
    W = knnGraph(D, n, nNeighbors);
  }
  // 2. M = I - L = D^-1/2 W D^-1/2 with the diagonal of W ignored; isolated rows get M_ii = 1.
  const sqrtDeg = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    W[i * n + i] = 0;
    let s = 0;
    for (let j = 0; j < n; j++) s += W[i * n + j];
    sqrtDeg[i] = s > 0 ? Math.sqrt(s) : 1;
    if (s === 0) W[i * n + i] = 1;
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) if (i !== j) W[i * n + j] /= sqrtDeg[i] * sqrtDeg[j];
  }
  // 3. Embedding: top eigenvectors of M (= bottom of L) divided by sqrt(degree), sign-fixed.
  const eig = topEigenpairs(W, n, m, rng);
  const embedding = new Float32Array(n * m); // [n, m]
  for (let c = 0; c < m; c++) {
    const v = eig.vectors.subarray(c * n, (c + 1) * n);
    let arg = 0;
    for (let i = 0; i < n; i++) {
      if (Math.abs(v[i] / sqrtDeg[i]) > Math.abs(v[arg] / sqrtDeg[arg])) arg = i;
    }
    const sign = v[arg] < 0 ? -1 : 1;
    for (let i = 0; i < n; i++) embedding[i * m + c] = (sign * v[i]) / sqrtDeg[i];
  }
  // 4. k-means on the embedding rows.
  const { labels } = kmeans(embedding, n, m, { k: m, rng, nInit });
  const eigenvalues = eig.values.map((v) => 1 - v);
  return { labels, embedding, eigenvalues, gamma, converged: eig.converged };
}

function medianOffDiagonal(D: Float64Array, n: number): number {
  const v = new Float64Array((n * (n - 1)) / 2);
  let t = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) v[t++] = D[i * n + j];
  v.sort();
  const h = v.length >> 1;
  return v.length === 0 ? 0 : v.length % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

/** 0.5 (C + C^T), C_ij = 1 for the nNeighbors nearest j of i (itself included): [n, n]. */
function knnGraph(D: Float64Array, n: number, nNeighbors: number): Float64Array {
  const W = new Float64Array(n * n);
  const idx = Array.from({ length: n }, (_, j) => j);
  for (let i = 0; i < n; i++) {
    const row = D.subarray(i * n, (i + 1) * n);
    const near = idx.slice().sort((
      a,
      b,
    ) => (a === i ? -1 : b === i ? 1 : row[a] - row[b] || a - b));
    for (let t = 0; t < nNeighbors; t++) {
      const j = near[t];
      W[i * n + j] += 0.5;
      W[j * n + i] += 0.5;
    }
  }
  return W;
}
