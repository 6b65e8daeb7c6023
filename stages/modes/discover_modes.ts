/**
 * Mode discovery for one class (SPEC section 1 step 2; paper section 4.1, App. D and Table 7): from
 * the flattened latents X [n, d] of the class, k = IPC modes [k, d], one per image to
 * generate. A pure function; the pipeline stage reads latents from the store, calls it per
 * class and writes the modes.
 *
 * Methods (paper Table 7; SPEC sections 1 and 3):
 * | method   | modes                                   | indices | assignment |
 * | -------- | --------------------------------------- | ------- | ---------- |
 * | kmeans   | k-means centroids (the MGD3 default)    |         | yes        |
 * | closest  | real rows nearest the centroids         | yes     | yes        |
 * | gmm      | diagonal-GMM component means            |         | yes        |
 * | dbscan   | cluster means (count rule below)        |         | yes (-1)   |
 * | spectral | cluster means (count rule below)        |         | yes (-1)   |
 * | random   | k random real rows (seeded)             | yes     |            |
 * | herding  | greedy rows matching the class mean     | yes     |            |
 *
 * Count rule for dbscan and spectral (they may find a number of clusters other than k):
 * more -> the k largest clusters; fewer -> the largest cluster split by k-means (see
 * `_cluster_count.ts`). Modes are then ordered by decreasing cluster size.
 *
 * @module
 */
import { Rng } from "../../models/core/random.ts";
import { closestRows } from "./closest.ts";
import { dbscan, type DbscanOptions } from "./dbscan.ts";
import { gaussianMixture, type GaussianMixtureOptions } from "./gmm.ts";
import { herding } from "./herding.ts";
import { kmeans, type KMeansOptions } from "./kmeans.ts";
import { spectralClustering, type SpectralOptions } from "./spectral.ts";
import { modesFromLabels } from "./_cluster_count.ts";
import { checkChoice, checkData, checkInt, checkK } from "./_validate.ts";

/**
 * The mode-discovery methods (paper Table 7 rows, plus herding from SPEC section 3).
 *
 * @example
 * ```ts
 * import { MODE_METHODS } from "./discover_modes.ts";
 * MODE_METHODS.includes("gmm"); // true
 * ```
 */
export const MODE_METHODS = [
  "kmeans",
  "closest",
  "gmm",
  "dbscan",
  "spectral",
  "random",
  "herding",
] as const;

/**
 * One of {@link MODE_METHODS}.
 *
 * @example
 * ```ts
 * import type { ModeMethod } from "./discover_modes.ts";
 * const method: ModeMethod = "kmeans"; // SPEC section 1 default
 * ```
 */
export type ModeMethod = (typeof MODE_METHODS)[number];

/**
 * Options every method takes.
 *
 * @example
 * ```ts
 * import type { CommonModeOptions } from "./discover_modes.ts";
 * const common: CommonModeOptions = { k: 10, seed: 0 }; // IPC 10, random_state 0
 * ```
 */
export interface CommonModeOptions {
  /** Number of modes (k = IPC, SPEC section 1: one mode per generated image). */
  k: number;
  /** Seed (default 0 = sklearn random_state=0, SPEC section 1); record it with the modes. */
  seed?: number;
}

/**
 * k-means centroids, or the real rows closest to them (defaults: KMEANS_DEFAULTS).
 *
 * @example
 * ```ts
 * import type { KMeansModeOptions } from "./discover_modes.ts";
 * const o: KMeansModeOptions = { method: "closest", k: 10, seed: 0, maxIter: 300 };
 * ```
 */
export interface KMeansModeOptions
  extends CommonModeOptions, Pick<KMeansOptions, "maxIter" | "tol" | "nInit"> {
  /** "kmeans": the centroids; "closest": the real row nearest each centroid. */
  method: "kmeans" | "closest";
}

/**
 * Diagonal-GMM component means (defaults: GMM_DEFAULTS).
 *
 * @example
 * ```ts
 * import type { GmmModeOptions } from "./discover_modes.ts";
 * const o: GmmModeOptions = { method: "gmm", k: 10, regCovar: 1e-6 };
 * ```
 */
export interface GmmModeOptions
  extends CommonModeOptions, Pick<GaussianMixtureOptions, "regCovar" | "maxIter" | "tol"> {
  /** Diagonal Gaussian mixture. */
  method: "gmm";
}

/**
 * DBSCAN cluster means (defaults: DBSCAN_DEFAULTS).
 *
 * @example
 * ```ts
 * import type { DbscanModeOptions } from "./discover_modes.ts";
 * const o: DbscanModeOptions = { method: "dbscan", k: 10, eps: "auto", minSamples: 5 };
 * ```
 */
export interface DbscanModeOptions extends CommonModeOptions, DbscanOptions {
  /** DBSCAN. */
  method: "dbscan";
}

/**
 * Spectral-clustering cluster means (defaults: SPECTRAL_DEFAULTS).
 *
 * @example
 * ```ts
 * import type { SpectralModeOptions } from "./discover_modes.ts";
 * const o: SpectralModeOptions = { method: "spectral", k: 10, affinity: "nearest_neighbors" };
 * ```
 */
export interface SpectralModeOptions
  extends
    CommonModeOptions,
    Pick<SpectralOptions, "affinity" | "gamma" | "nNeighbors" | "nInit">,
    Partial<Pick<SpectralOptions, "nClusters">> {
  /** Spectral clustering (nClusters defaults to k). */
  method: "spectral";
}

/**
 * Random real rows (seeded) or herding (deterministic).
 *
 * @example
 * ```ts
 * import type { SelectionModeOptions } from "./discover_modes.ts";
 * const o: SelectionModeOptions = { method: "herding", k: 10 };
 * ```
 */
export interface SelectionModeOptions extends CommonModeOptions {
  /** "random": k seeded random rows; "herding": greedy mean matching. */
  method: "random" | "herding";
}

/**
 * Options of {@link discoverModes}: `method` selects which other options apply.
 *
 * @example
 * ```ts
 * import type { DiscoverModesOptions } from "./discover_modes.ts";
 * const o: DiscoverModesOptions = { method: "gmm", k: 10, seed: 1, tol: 1e-3 };
 * ```
 */
export type DiscoverModesOptions =
  | KMeansModeOptions
  | GmmModeOptions
  | DbscanModeOptions
  | SpectralModeOptions
  | SelectionModeOptions;

/**
 * Result of {@link discoverModes}.
 *
 * @example
 * ```ts
 * import { discoverModes, type ModesResult } from "./discover_modes.ts";
 * const X = new Float32Array(40 * 4).map(() => Math.random()); // [40, 4]
 * const r: ModesResult = discoverModes(X, 40, 4, { method: "random", k: 3, seed: 0 });
 * r.indices; // Int32Array [3]: the chosen rows
 * ```
 */
export interface ModesResult {
  /** The method that made the modes. */
  method: ModeMethod;
  /** The modes: [k, d] row-major. */
  modes: Float32Array;
  /** Selected real rows, mode c = X[indices[c]] (closest, random, herding): [k]. */
  indices?: Int32Array;
  /** Mode of each row, -1 = none (kmeans, closest, gmm, dbscan, spectral): [n]. */
  assignment?: Int32Array;
  /**
   * kmeans and closest: the k-means inertia of the centroids; gmm, dbscan, spectral:
   * sum over assigned rows of ||x - mode||^2.
   */
  inertia?: number;
  /** Method diagnostics to record with the modes (iterations, eps used, clusters found). */
  details: Record<string, number | string | boolean>;
}

const METHOD_KEYS: Record<ModeMethod, readonly string[]> = {
  kmeans: ["maxIter", "tol", "nInit"],
  closest: ["maxIter", "tol", "nInit"],
  gmm: ["regCovar", "maxIter", "tol"],
  dbscan: ["eps", "minSamples"],
  spectral: ["affinity", "gamma", "nNeighbors", "nInit", "nClusters"],
  random: [],
  herding: [],
};

/**
 * Finds k modes of one class's latents X [n, d].
 *
 * @example
 * ```ts
 * import { discoverModes } from "./discover_modes.ts";
 * const X = new Float32Array(300 * 16).map(() => Math.random()); // [300, 16]
 * const { modes, assignment } = discoverModes(X, 300, 16, { method: "kmeans", k: 10, seed: 0 });
 * // modes: Float32Array [10 * 16], assignment: Int32Array [300]
 * ```
 */
export function discoverModes(
  X: Float32Array,
  n: number,
  d: number,
  options: DiscoverModesOptions,
): ModesResult {
  const fn = "discoverModes()";
  const method = options?.method;
  checkChoice(fn, "method", method, MODE_METHODS);
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && !["method", "k", "seed", ...METHOD_KEYS[method]].includes(key)) {
      throw new RangeError(`${fn}: option ${key} does not apply to method "${method}"`);
    }
  }
  checkData(fn, X, n, d);
  checkK(fn, options.k, n);
  const seed = options.seed ?? 0; // random_state = 0, SPEC section 1
  checkInt(fn, "seed", seed, 0, 2 ** 32 - 1);
  const { k } = options;
  const rng = Rng.from(seed);
  switch (options.method) {
    case "kmeans":
    case "closest": {
      const { maxIter, tol, nInit } = options;
      const r = kmeans(X, n, d, { k, rng, maxIter, tol, nInit });
      const base = { assignment: r.labels, inertia: r.inertia, details: { nIter: r.nIter } };
      if (options.method === "kmeans") return { method, modes: r.centers, ...base };
      const indices = closestRows(X, n, d, r.centers, k);
      return { method, modes: gather(X, d, indices), indices, ...base };
    }
    case "gmm": {
      const { regCovar, maxIter, tol } = options;
      const r = gaussianMixture(X, n, d, { k, rng, regCovar, maxIter, tol });
      const details = { lowerBound: r.lowerBound, converged: r.converged, nIter: r.nIter };
      return withInertia(X, d, { method, modes: r.means, assignment: r.labels, details });
    }
    case "dbscan": {
      const r = dbscan(X, n, d, { eps: options.eps, minSamples: options.minSamples });
      const m = modesFromLabels(X, n, d, r.labels, k, rng);
      const noise = r.labels.reduce((s, l) => s + (l < 0 ? 1 : 0), 0);
      const details = { eps: r.eps, clustersFound: m.found, noise, countRule: m.rule };
      return withInertia(X, d, { method, modes: m.modes, assignment: m.assignment, details });
    }
    case "spectral": {
      const { affinity, gamma, nNeighbors, nInit } = options;
      const nClusters = options.nClusters ?? k;
      const r = spectralClustering(X, n, d, {
        nClusters,
        rng,
        affinity,
        gamma,
        nNeighbors,
        nInit,
      });
      const m = modesFromLabels(X, n, d, r.labels, k, rng);
      const details = {
        gamma: r.gamma,
        clustersFound: m.found,
        countRule: m.rule,
        eigenConverged: r.converged,
      };
      return withInertia(X, d, { method, modes: m.modes, assignment: m.assignment, details });
    }
    case "random": {
      const indices = rng.permutation(n).slice(0, k);
      return { method, modes: gather(X, d, indices), indices, details: {} };
    }
    case "herding": {
      const { indices, errors } = herding(X, n, d, k);
      return { method, modes: gather(X, d, indices), indices, details: { error: errors[k - 1] } };
    }
  }
}

function gather(X: Float32Array, d: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * d);
  rows.forEach((i, t) => out.set(X.subarray(i * d, (i + 1) * d), t * d));
  return out;
}

/** Adds inertia = sum over assigned rows of ||x - mode||^2. */
function withInertia(X: Float32Array, d: number, r: ModesResult): ModesResult {
  let s = 0;
  r.assignment!.forEach((c, i) => {
    if (c < 0) return;
    for (let j = 0; j < d; j++) s += (X[i * d + j] - r.modes[c * d + j]) ** 2;
  });
  return { ...r, inertia: s };
}
