/**
 * The t-SNE objective (KL(P || Q), Student-t kernel with 1 degree of freedom for 2-D
 * embeddings) and its exact gradient, as sklearn 1.2 `_kl_divergence`:
 *
 *   w_ij = 1 / (1 + ||y_i - y_j||^2),  Z = sum_{i != j} w_ij,  q_ij = w_ij / Z,
 *   dC/dy_i = 4 sum_j (e p_ij - q_ij) w_ij (y_i - y_j)
 *           = 4 [sum_j e p_ij w_ij (y_i - y_j) - (1 / Z) sum_j w_ij^2 (y_i - y_j)],
 *
 * with e the early exaggeration (P is multiplied by it during the first phase). The
 * second form needs one pass over the pairs. P is dense [n, n] (method "exact") or a list
 * of pairs (nearest-neighbour P, sklearn's Barnes-Hut affinities); the repulsive term is
 * always exact (O(n^2)), no Barnes-Hut tree.
 *
 * @module
 */
import { MACHINE_EPSILON, type SparsePairs } from "./_tsne_affinities.ts";

/** Input affinities: dense [n, n] or sparse symmetric pairs. */
export type Affinities = { kind: "dense"; p: Float64Array } | {
  kind: "sparse";
  pairs: SparsePairs;
};

/** float32 smallest normal (sklearn's FLOAT32_TINY floor in the Barnes-Hut error). */
const FLOAT32_TINY = 1.1754943508222875e-38;

/**
 * Writes the gradient (float64, [n, 2]) of KL(e P || Q) at y into `grad`; returns Z.
 * Scratch arrays are reused across calls.
 */
export function klGradient(
  y: Float32Array,
  n: number,
  aff: Affinities,
  exaggeration: number,
  grad: Float64Array,
): number {
  grad.fill(0);
  const dense = aff.kind === "dense" ? aff.p : null;
  // rep[i] = sum_j w_ij^2 (y_i - y_j), att[i] = sum_j e p_ij w_ij (y_i - y_j) (dense only)
  const rep = new Float64Array(2 * n);
  let sumW = 0;
  for (let i = 0; i < n; i++) {
    const yi0 = y[2 * i];
    const yi1 = y[2 * i + 1];
    let r0 = 0, r1 = 0, a0 = 0, a1 = 0;
    const row = i * n;
    for (let j = i + 1; j < n; j++) {
      const d0 = yi0 - y[2 * j];
      const d1 = yi1 - y[2 * j + 1];
      const w = 1 / (1 + d0 * d0 + d1 * d1);
      sumW += w;
      const w2 = w * w;
      r0 += w2 * d0;
      r1 += w2 * d1;
      rep[2 * j] -= w2 * d0;
      rep[2 * j + 1] -= w2 * d1;
      if (dense) {
        const pw = exaggeration * dense[row + j] * w;
        a0 += pw * d0;
        a1 += pw * d1;
        grad[2 * j] -= pw * d0;
        grad[2 * j + 1] -= pw * d1;
      }
    }
    rep[2 * i] += r0;
    rep[2 * i + 1] += r1;
    grad[2 * i] += a0;
    grad[2 * i + 1] += a1;
  }
  if (aff.kind === "sparse") {
    const { i: pi, j: pj, p } = aff.pairs;
    for (let c = 0; c < p.length; c++) {
      const i = pi[c];
      const j = pj[c];
      const d0 = y[2 * i] - y[2 * j];
      const d1 = y[2 * i + 1] - y[2 * j + 1];
      const pw = exaggeration * p[c] / (1 + d0 * d0 + d1 * d1);
      grad[2 * i] += pw * d0;
      grad[2 * i + 1] += pw * d1;
      grad[2 * j] -= pw * d0;
      grad[2 * j + 1] -= pw * d1;
    }
  }
  const z = 2 * sumW;
  for (let c = 0; c < 2 * n; c++) grad[c] = 4 * (grad[c] - rep[c] / z);
  return z;
}

/** KL(e P || Q) at y (sklearn's error value, used for its convergence checks). */
export function klDivergence(
  y: Float32Array,
  n: number,
  aff: Affinities,
  exaggeration: number,
): number {
  const w = (i: number, j: number) => {
    const d0 = y[2 * i] - y[2 * j];
    const d1 = y[2 * i + 1] - y[2 * j + 1];
    return 1 / (1 + d0 * d0 + d1 * d1);
  };
  let sumW = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) sumW += w(i, j);
  const z = 2 * sumW;
  let kl = 0;
  if (aff.kind === "dense") {
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const p = exaggeration * aff.p[i * n + j];
        const q = Math.max(w(i, j) / z, MACHINE_EPSILON);
        kl += p * Math.log(Math.max(p, MACHINE_EPSILON) / q);
      }
    }
  } else {
    const { i: pi, j: pj, p } = aff.pairs;
    for (let c = 0; c < p.length; c++) {
      const pe = exaggeration * p[c];
      const q = Math.max(w(pi[c], pj[c]) / z, FLOAT32_TINY);
      kl += pe * Math.log(Math.max(pe, FLOAT32_TINY) / q);
    }
  }
  return 2 * kl;
}
