/**
 * t-SNE with the semantics of scikit-learn 1.2 `TSNE(n_components=2, perplexity=30,
 * early_exaggeration=12, learning_rate="auto", n_iter=1000, init="pca", random_state=42)`
 * (SPEC section 5), deterministic for a seed:
 *
 * 1. squared Euclidean distances (float32-rounded, as sklearn casts them);
 * 2. per-point perplexity calibration by bisection on beta (100 steps, tol 1e-5), then a
 *    symmetric joint P: over all pairs (`affinities: "exact"`, sklearn method="exact") or
 *    over the floor(3 * perplexity + 1) nearest neighbours (`"knn"`, the affinities of
 *    sklearn's default method="barnes_hut");
 * 3. init: PCA scores rescaled to std 1e-4 of the first component (or N(0, 1e-4^2));
 * 4. gradient descent with per-parameter gains (delta-bar-delta: +0.2 when the update and
 *    gradient disagree in sign, x0.8 otherwise, floor 0.01), learning rate "auto" =
 *    max(n / early_exaggeration / 4, 50): 250 iterations with P x 12 and momentum 0.5, then
 *    momentum 0.8 (updates and gains reset, as sklearn's second `_gradient_descent` call)
 *    up to n_iter; every 50 iterations the KL error is checked and the phase stops after
 *    250 (phase 1) / 300 (phase 2) iterations without progress or when the gradient norm
 *    is <= 1e-7;
 * 5. the gradient is exact, O(n^2) per iteration (sklearn's default approximates its
 *    repulsive part with a Barnes-Hut tree, angle 0.5). The optimizer state (embedding,
 *    updates, gains) is float32 as in sklearn.
 *
 * Notation: X [n, d] input, Y [n, 2] embedding (float32), P joint input affinities, e early
 * exaggeration, eta learning rate, mu momentum.
 *
 * @module
 */
import { Rng } from "../../models/core/random.ts";
import {
  centeredGram,
  jointProbabilitiesFull,
  jointProbabilitiesKnn,
  sqDistancesFromGram,
} from "./_tsne_affinities.ts";
import type { Affinities } from "./_tsne_gradient.ts";
import { gradientDescent } from "./_tsne_descent.ts";
import { pcaInit } from "./_pca_init.ts";
import type { Points } from "./points.ts";

/** t-SNE defaults of SPEC section 5 (sklearn TSNE defaults, random_state 42). */
export const TSNE_DEFAULTS = {
  perplexity: 30, // sklearn default, SPEC 5
  earlyExaggeration: 12, // sklearn default
  learningRate: "auto", // SPEC 5: max(n / early_exaggeration / 4, 50)
  nIter: 1000, // sklearn n_iter default
  init: "pca", // sklearn >= 1.2 default
  affinities: "knn", // the affinities of sklearn's default method="barnes_hut"
  seed: 42, // SPEC 5: random_state=42
  minGradNorm: 1e-7, // sklearn default
  nIterWithoutProgress: 300, // sklearn default
} as const;

/** Options of {@link tsne}. */
export interface TsneOptions {
  /** Perplexity of the affinities (default 30). */
  perplexity?: number;
  /** Factor on the affinities during early exaggeration (default 12). */
  earlyExaggeration?: number;
  /** Learning rate, or "auto": max(n / earlyExaggeration / 4, 50) (default). */
  learningRate?: number | "auto";
  /** Total iterations including the 250 of early exaggeration (>= 250). */
  nIter?: number;
  /** "pca" (default), "random" (N(0, 1e-4^2)), or initial coordinates [n, 2]. */
  init?: "pca" | "random" | Float32Array;
  /** "knn" (sklearn barnes_hut affinities, default) or "exact" (all pairs). */
  affinities?: "knn" | "exact";
  /** Seed of the initialisation (default 42). */
  seed?: number;
  /** Stop when the gradient norm falls to this (checked every 50 iterations; default 1e-7). */
  minGradNorm?: number;
  /**
   * After early exaggeration, stop after this many iterations without a lower KL divergence
   * (default 300).
   */
  nIterWithoutProgress?: number;
}

/** Result of {@link tsne}. */
export interface TsneResult {
  /** Y [n, 2] row-major. */
  embedding: Float32Array;
  /** Final KL divergence (sklearn `kl_divergence_`). */
  klDivergence: number;
  /** Index of the last iteration run (sklearn `n_iter_`). */
  nIter: number;
  /** The learning rate used (sklearn `learning_rate_`). */
  learningRate: number;
}

/** Iterations of early exaggeration (sklearn `_EXPLORATION_N_ITER`). */
const EXPLORATION_N_ITER = 250;
/** Momentum during / after early exaggeration (sklearn `_tsne`). */
const MOMENTUM_EXPLORATION = 0.5;
const MOMENTUM_FINAL = 0.8;
/** Std of the random initialisation (sklearn init="random"). */
const RANDOM_INIT_STD = 1e-4;
/** learning_rate="auto" = max(n / early_exaggeration / 4, 50) (sklearn >= 1.2). */
const AUTO_LR_DIVISOR = 4;
const AUTO_LR_MIN = 50;

/**
 * Embeds points in 2-D with t-SNE.
 *
 * @example
 * ```ts
 * import { points } from "./points.ts";
 * import { tsne } from "./tsne.ts";
 * const x = points(new Float32Array(200 * 16).map((_, i) => Math.sin(i * 0.37)), 16);
 * const { embedding } = tsne(x, { perplexity: 10, seed: 42 }); // Float32Array [200 * 2]
 * ```
 */
export function tsne(x: Points, options: TsneOptions = {}): TsneResult {
  const o = { ...TSNE_DEFAULTS, ...options };
  const [n, d] = x.shape;
  validate(n, d, x.data.length, o);
  checkFinite(x.data);
  const gram = centeredGram(x.data, n, d);
  const dist = sqDistancesFromGram(gram, n);
  const aff: Affinities = o.affinities === "exact"
    ? { kind: "dense", p: jointProbabilitiesFull(dist, n, o.perplexity) }
    : { kind: "sparse", pairs: jointProbabilitiesKnn(dist, n, o.perplexity) };
  const rng = Rng.from(o.seed);
  const y = o.init instanceof Float32Array
    ? o.init.slice()
    : o.init === "pca"
    ? pcaInit(gram, n, 2, rng)
    : rng.randn(2 * n).map((v) => v * RANDOM_INIT_STD);
  const learningRate = o.learningRate === "auto"
    ? Math.max(n / o.earlyExaggeration / AUTO_LR_DIVISOR, AUTO_LR_MIN)
    : o.learningRate;
  const phase = (
    start: number,
    end: number,
    momentum: number,
    exaggeration: number,
    patience: number,
  ) =>
    gradientDescent(y, n, aff, {
      start,
      end,
      momentum,
      exaggeration,
      patience,
      learningRate,
      minGradNorm: o.minGradNorm,
    });
  // Phase 1: P x early exaggeration; phase 2: plain P, updates and gains reset.
  const first = phase(
    0,
    EXPLORATION_N_ITER,
    MOMENTUM_EXPLORATION,
    o.earlyExaggeration,
    EXPLORATION_N_ITER,
  );
  let last = first;
  if (first.iter < EXPLORATION_N_ITER || o.nIter > EXPLORATION_N_ITER) {
    last = phase(first.iter + 1, o.nIter, MOMENTUM_FINAL, 1, o.nIterWithoutProgress);
  }
  return { embedding: y, klDivergence: last.error, nIter: last.iter, learningRate };
}

function validate(n: number, d: number, length: number, o: Required<TsneOptions>): void {
  if (n * d !== length || n < 2 || d < 1) {
    throw new RangeError(`t-SNE needs at least 2 points of dimension >= 1, got shape [${n}, ${d}]`);
  }
  if (!(o.perplexity > 0 && o.perplexity < n)) {
    throw new RangeError(`t-SNE perplexity must be in (0, n_samples = ${n}), got ${o.perplexity}`);
  }
  if (o.init instanceof Float32Array && o.init.length !== 2 * n) {
    throw new RangeError(`t-SNE init must hold [n, 2] = ${2 * n} values, got ${o.init.length}`);
  }
  if (!(o.earlyExaggeration >= 1)) {
    throw new RangeError(`t-SNE early exaggeration must be >= 1, got ${o.earlyExaggeration}`);
  }
  if (!Number.isInteger(o.nIter) || o.nIter < EXPLORATION_N_ITER) {
    throw new RangeError(`t-SNE nIter must be an integer >= ${EXPLORATION_N_ITER}, got ${o.nIter}`);
  }
  if (o.learningRate !== "auto" && !(o.learningRate > 0)) {
    throw new RangeError(`t-SNE learning rate must be > 0 or "auto", got ${o.learningRate}`);
  }
}

function checkFinite(data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new RangeError(`t-SNE input has a non-finite value at flat index ${i}`);
    }
  }
}
