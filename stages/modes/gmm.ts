/**
 * Gaussian mixture with diagonal covariances fitted by EM, with the semantics of
 * scikit-learn 1.x `GaussianMixture(n_components=k, covariance_type="diag",
 * init_params="kmeans", random_state=seed)` (paper Table 7 "GMM": the component means are
 * the modes). Diagonal because a full covariance is singular for n = 1300 latents of
 * d = 4096 dimensions.
 *
 * Notation: X [n, d], k components with weights pi [k], means mu [k, d], variances
 * var [k, d]; resp [n, k] responsibilities; the lower bound is the mean over samples of
 * log sum_c pi_c N(x_i | mu_c, diag(var_c)) (what sklearn calls `lower_bound_`).
 *
 * @module
 */
import { Rng } from "../../models/core/random.ts";
import { dotsRows } from "./_dist.ts";
import { kmeans } from "./kmeans.ts";
import { checkData, checkInt, checkK, checkPositive } from "./_validate.ts";

/**
 * scikit-learn `GaussianMixture` defaults (the paper gives no GMM settings).
 *
 * @example
 * ```ts
 * import { GMM_DEFAULTS } from "./gmm.ts";
 * GMM_DEFAULTS.regCovar; // 1e-6
 * ```
 */
export const GMM_DEFAULTS = {
  /** reg_covar = 1e-6, added to every variance (sklearn default). */
  regCovar: 1e-6,
  /** max_iter = 100 EM iterations (sklearn default). */
  maxIter: 100,
  /** tol = 1e-3 on the change of the lower bound (sklearn default). */
  tol: 1e-3,
  /** random_state = 0, as for k-means (SPEC section 1). */
  seed: 0,
} as const;

/**
 * Options for {@link gaussianMixture}.
 *
 * @example
 * ```ts
 * import type { GaussianMixtureOptions } from "./gmm.ts";
 * const o: GaussianMixtureOptions = { k: 10, seed: 0, maxIter: 100, tol: 1e-3 };
 * ```
 */
export interface GaussianMixtureOptions {
  /** Number of components (k = IPC, SPEC section 1). */
  k: number;
  /** Seed of the k-means initialisation (default 0). */
  seed?: number;
  /** A generator to draw from instead of `Rng.from(seed)` (it advances). */
  rng?: Rng;
  /** Non-negative regularisation added to the variances (default 1e-6). */
  regCovar?: number;
  /** Maximum EM iterations (default 100). */
  maxIter?: number;
  /** Convergence threshold on the lower bound change (default 1e-3). */
  tol?: number;
}

/**
 * Result of {@link gaussianMixture}.
 *
 * @example
 * ```ts
 * import { gaussianMixture, type GaussianMixtureResult } from "./gmm.ts";
 * const X = new Float32Array([0, 0.1, 0.2, 9, 9.1, 9.2]); // [6, 1]
 * const r: GaussianMixtureResult = gaussianMixture(X, 6, 1, { k: 2 });
 * r.converged; // true
 * ```
 */
export interface GaussianMixtureResult {
  /** Component means: [k, d]. */
  means: Float32Array;
  /** Component variances (diagonal covariances): [k, d]. */
  variances: Float32Array;
  /** Mixture weights: [k]. */
  weights: Float64Array;
  /** Most responsible component per row after the fit: [n]. */
  labels: Int32Array;
  /** Lower bound (mean log-likelihood) of the last EM iteration. */
  lowerBound: number;
  /** Whether the lower bound changed by less than tol before maxIter. */
  converged: boolean;
  /** EM iterations run. */
  nIter: number;
}

/**
 * Fits a diagonal Gaussian mixture by EM from a k-means initialisation.
 *
 * @example
 * ```ts
 * import { gaussianMixture } from "./gmm.ts";
 * const X = new Float32Array([0, 0, 0.1, 0.2, 5, 5, 5.2, 5.1]); // [4, 2]
 * const { means, weights } = gaussianMixture(X, 4, 2, { k: 2, seed: 0 });
 * // means ~ [[0.05, 0.1], [5.1, 5.05]] in some order, weights [0.5, 0.5]
 * ```
 */
export function gaussianMixture(
  X: Float32Array,
  n: number,
  d: number,
  options: GaussianMixtureOptions,
): GaussianMixtureResult {
  const fn = "gaussianMixture()";
  checkData(fn, X, n, d);
  const { k } = options;
  checkK(fn, k, n);
  const regCovar = options.regCovar ?? GMM_DEFAULTS.regCovar;
  const maxIter = options.maxIter ?? GMM_DEFAULTS.maxIter;
  const tol = options.tol ?? GMM_DEFAULTS.tol;
  checkPositive(fn, "regCovar", regCovar, true);
  checkInt(fn, "maxIter", maxIter, 1);
  checkPositive(fn, "tol", tol, true);
  const rng = options.rng ?? Rng.from(options.seed ?? GMM_DEFAULTS.seed);

  const X64 = Float64Array.from(X); // [n, d]
  const X2 = X64.map((v) => v * v); // [n, d]
  // 1. Initialise: one-hot responsibilities from a single k-means run (sklearn init_params).
  const init = kmeans(X, n, d, { k, rng, nInit: 1 });
  const resp = new Float64Array(n * k); // [n, k]
  for (let i = 0; i < n; i++) resp[i * k + init.labels[i]] = 1;
  let p = mStep(X64, n, d, resp, k, regCovar);
  // 2. EM until the lower bound changes by less than tol.
  let lowerBound = -Infinity;
  let converged = false;
  let nIter = 0;
  while (nIter < maxIter) {
    nIter++;
    const prev = lowerBound;
    lowerBound = eStep(X64, X2, n, d, p, k, resp);
    p = mStep(X64, n, d, resp, k, regCovar);
    if (Math.abs(lowerBound - prev) < tol) {
      converged = true;
      break;
    }
  }
  // 3. A last E-step so the labels agree with the final parameters (as sklearn).
  eStep(X64, X2, n, d, p, k, resp);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (resp[i * k + c] > resp[i * k + best]) best = c;
    labels[i] = best;
  }
  return {
    means: Float32Array.from(p.means),
    variances: Float32Array.from(p.vars),
    weights: p.weights,
    labels,
    lowerBound,
    converged,
    nIter,
  };
}

interface Params {
  weights: Float64Array; // [k]
  means: Float64Array; // [k, d]
  vars: Float64Array; // [k, d]
}

/** M-step: weights, means and diagonal variances from responsibilities (sklearn's +10 eps). */
function mStep(
  X: Float64Array,
  n: number,
  d: number,
  resp: Float64Array,
  k: number,
  regCovar: number,
): Params {
  const nk = new Float64Array(k).fill(10 * Number.EPSILON);
  const means = new Float64Array(k * d);
  const vars = new Float64Array(k * d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const r = resp[i * k + c];
      if (r === 0) continue;
      nk[c] += r;
      for (let j = 0, o = i * d, oc = c * d; j < d; j++) means[oc + j] += r * X[o + j];
    }
  }
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < d; j++) means[c * d + j] /= nk[c];
  }
  // Variances from the differences (more accurate than E[x^2] - mu^2; same quantity).
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const r = resp[i * k + c];
      if (r === 0) continue;
      for (let j = 0, o = i * d, oc = c * d; j < d; j++) {
        const v = X[o + j] - means[oc + j];
        vars[oc + j] += r * v * v;
      }
    }
  }
  let total = 0;
  for (let c = 0; c < k; c++) total += nk[c];
  const weights = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    weights[c] = nk[c] / total;
    for (let j = 0; j < d; j++) vars[c * d + j] = vars[c * d + j] / nk[c] + regCovar;
  }
  return { weights, means, vars };
}

/**
 * E-step: fills resp [n, k] with the responsibilities and returns the mean log-likelihood.
 * log N(x | mu, var) = -0.5 (d log 2 pi + sum_j log var_j + sum_j (x_j - mu_j)^2 / var_j),
 * the quadratic term expanded as sum x^2/var - 2 x.(mu/var) + sum mu^2/var.
 */
function eStep(
  X: Float64Array,
  X2: Float64Array,
  n: number,
  d: number,
  p: Params,
  k: number,
  resp: Float64Array,
): number {
  const prec = p.vars.map((v) => 1 / v); // [k, d]
  const muPrec = p.means.map((m, i) => m * prec[i]); // [k, d]
  const constant = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let s = d * Math.log(2 * Math.PI);
    for (let j = 0, oc = c * d; j < d; j++) {
      s += Math.log(p.vars[oc + j]) + p.means[oc + j] * muPrec[oc + j];
    }
    constant[c] = Math.log(p.weights[c]) - 0.5 * s;
  }
  const cross = dotsRows(X, n, d, muPrec, k, new Float64Array(n * k)); // [n, k]
  const sq = dotsRows(X2, n, d, prec, k, new Float64Array(n * k)); // [n, k]
  let total = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) {
      const o = i * k + c;
      const v = constant[c] - 0.5 * (sq[o] - 2 * cross[o]);
      resp[o] = v;
      if (v > max) max = v;
    }
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(resp[i * k + c] - max);
    const norm = max + Math.log(s); // logsumexp
    for (let c = 0; c < k; c++) resp[i * k + c] = Math.exp(resp[i * k + c] - norm);
    total += norm;
  }
  return total / n;
}
