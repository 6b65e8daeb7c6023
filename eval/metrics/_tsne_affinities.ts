/**
 * Input-space affinities of t-SNE with scikit-learn 1.2's semantics (sklearn/manifold/
 * _t_sne.py `_joint_probabilities`, `_joint_probabilities_nn`, and `_utils.pyx`
 * `_binary_search_perplexity`).
 *
 * Notation: D [n, n] squared Euclidean distances (rounded to float32, as sklearn casts
 * them), beta_i = 1 / (2 sigma_i^2), p_{j|i} conditional probabilities, P joint (symmetric,
 * sums to 1 over i != j).
 *
 * @module
 */

/** Binary-search steps and entropy tolerance (sklearn `_binary_search_perplexity`). */
const N_STEPS = 100;
const PERPLEXITY_TOLERANCE = 1e-5;
/** Floor of a row sum (sklearn EPSILON_DBL). */
const EPSILON_DBL = 1e-8;
/** np.finfo(np.double).eps, the floor of P entries in the exact method. */
export const MACHINE_EPSILON = 2.220446049250313e-16;

/**
 * Centered Gram matrix G = Xc Xc^T (float64, [n, n]) of row-major X [n, d], Xc = X - mean.
 */
export function centeredGram(x: Float32Array, n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k] += x[i * d + k];
  for (let k = 0; k < d; k++) mean[k] /= n;
  const xc = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) xc[i * d + k] = x[i * d + k] - mean[k];
  const g = new Float64Array(n * n);
  // 2 x 2 register blocks: rows i, i + 1 against rows j, j + 1.
  for (let i = 0; i < n; i += 2) {
    const i2 = Math.min(i + 1, n - 1);
    const oi = i * d;
    const oi2 = i2 * d;
    for (let j = i; j < n; j += 2) {
      const j2 = Math.min(j + 1, n - 1);
      const oj = j * d;
      const oj2 = j2 * d;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
      for (let k = 0; k < d; k++) {
        const a = xc[oi + k];
        const b = xc[oi2 + k];
        const u = xc[oj + k];
        const v = xc[oj2 + k];
        s00 += a * u;
        s01 += a * v;
        s10 += b * u;
        s11 += b * v;
      }
      g[i * n + j] = g[j * n + i] = s00;
      g[i * n + j2] = g[j2 * n + i] = s01;
      g[i2 * n + j] = g[j * n + i2] = s10;
      g[i2 * n + j2] = g[j2 * n + i2] = s11;
    }
  }
  return g;
}

/** Squared distances ||xi||^2 + ||xj||^2 - 2 xi.xj from a Gram matrix, >= 0, float32-rounded. */
export function sqDistancesFromGram(g: Float64Array, n: number): Float64Array {
  const dist = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = Math.fround(Math.max(g[i * n + i] + g[j * n + j] - 2 * g[i * n + j], 0));
      dist[i * n + j] = v;
      dist[j * n + i] = v;
    }
  }
  return dist;
}

/**
 * Conditional probabilities p_{j|i} over the candidates `dist[0..m)` of one point, with
 * beta found by sklearn's bisection so that the entropy is log(perplexity). Writes `out`.
 */
export function conditionalRow(dist: Float64Array, perplexity: number, out: Float64Array): void {
  const m = dist.length;
  const desiredEntropy = Math.log(perplexity);
  let betaMin = -Infinity;
  let betaMax = Infinity;
  let beta = 1;
  for (let step = 0; step < N_STEPS; step++) {
    let sumP = 0;
    for (let j = 0; j < m; j++) {
      out[j] = Math.exp(-dist[j] * beta);
      sumP += out[j];
    }
    if (sumP === 0) sumP = EPSILON_DBL;
    let sumDistP = 0;
    for (let j = 0; j < m; j++) {
      out[j] /= sumP;
      sumDistP += dist[j] * out[j];
    }
    const entropyDiff = Math.log(sumP) + beta * sumDistP - desiredEntropy;
    if (Math.abs(entropyDiff) <= PERPLEXITY_TOLERANCE) break;
    if (entropyDiff > 0) {
      betaMin = beta;
      beta = betaMax === Infinity ? beta * 2 : (beta + betaMax) / 2;
    } else {
      betaMax = beta;
      beta = betaMin === -Infinity ? beta / 2 : (beta + betaMin) / 2;
    }
  }
}

/**
 * Exact joint probabilities (sklearn method="exact"): dense P [n, n], P_ij = max((p_{j|i} +
 * p_{i|j}) / sum, eps) for i != j, 0 on the diagonal.
 */
export function jointProbabilitiesFull(
  dist: Float64Array,
  n: number,
  perplexity: number,
): Float64Array {
  const cond = new Float64Array(n * n);
  const row = new Float64Array(n - 1);
  const out = new Float64Array(n - 1);
  for (let i = 0; i < n; i++) {
    for (let j = 0, k = 0; j < n; j++) if (j !== i) row[k++] = dist[i * n + j];
    conditionalRow(row, perplexity, out);
    for (let j = 0, k = 0; j < n; j++) if (j !== i) cond[i * n + j] = out[k++];
  }
  let sum = 0;
  for (let i = 0; i < n * n; i++) sum += cond[i];
  sum = Math.max(2 * sum, MACHINE_EPSILON); // sum of cond + cond^T
  const p = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = Math.max((cond[i * n + j] + cond[j * n + i]) / sum, MACHINE_EPSILON);
      p[i * n + j] = v;
      p[j * n + i] = v;
    }
  }
  return p;
}

/** Sparse symmetric P as a list of pairs i < j (each pair stands for p_ij = p_ji). */
export interface SparsePairs {
  i: Int32Array;
  j: Int32Array;
  p: Float64Array;
}

/**
 * Nearest-neighbour joint probabilities (sklearn method="barnes_hut"): each point's
 * k = min(n - 1, floor(3 * perplexity + 1)) nearest neighbours, conditional probabilities
 * over them, P = (C + C^T) / sum.
 */
export function jointProbabilitiesKnn(
  dist: Float64Array,
  n: number,
  perplexity: number,
): SparsePairs {
  const k = Math.min(n - 1, Math.floor(3 * perplexity + 1));
  const pairs = new Map<number, number>();
  const rowDist = new Float64Array(n - 1);
  const row = new Float64Array(k);
  const out = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const base = i * n;
    for (let j = 0, c = 0; j < n; j++) if (j !== i) rowDist[c++] = dist[base + j];
    // k-th smallest distance (native numeric sort), then the candidates up to it, ordered
    // by (distance, index) so that ties are broken by index.
    const kth = rowDist.slice().sort()[k - 1];
    const order: number[] = [];
    for (let j = 0; j < n; j++) if (j !== i && dist[base + j] <= kth) order.push(j);
    order.sort((a, b) => dist[base + a] - dist[base + b] || a - b);
    order.length = k;
    for (let c = 0; c < k; c++) row[c] = dist[base + order[c]];
    conditionalRow(row, perplexity, out);
    for (let c = 0; c < k; c++) {
      const j = order[c];
      const key = i < j ? i * n + j : j * n + i;
      pairs.set(key, (pairs.get(key) ?? 0) + out[c]);
      total += 2 * out[c];
    }
  }
  total = Math.max(total, MACHINE_EPSILON);
  const m = pairs.size;
  const result: SparsePairs = {
    i: new Int32Array(m),
    j: new Int32Array(m),
    p: new Float64Array(m),
  };
  const keys = [...pairs.keys()].sort((a, b) => a - b);
  keys.forEach((key, c) => {
    result.i[c] = Math.floor(key / n);
    result.j[c] = key % n;
    result.p[c] = pairs.get(key)! / total;
  });
  return result;
}
