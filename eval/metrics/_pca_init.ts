/**
 * t-SNE's PCA initialisation (sklearn >= 1.2 `init="pca"`): the first principal-component
 * scores of the data, rescaled so that the first column has standard deviation 1e-4
 * (sklearn issue #18018), signs as sklearn's `svd_flip` (u-based: the largest-magnitude
 * score of each component is positive).
 *
 * The scores are U * S of the centered data; they are computed from the centered Gram
 * matrix G = Xc Xc^T = U S^2 U^T (which t-SNE needs anyway for the distances) by block
 * subspace iteration with Rayleigh-Ritz, started from a seeded random block. sklearn uses
 * a randomized SVD; both converge to the same components up to float error.
 *
 * @module
 */
import type { Rng } from "../../models/core/random.ts";

/** Std of the first embedding column after rescaling (sklearn _t_sne.py). */
export const PCA_INIT_STD = 1e-4;
/** Extra vectors in the iterated block (speeds up convergence of the leading ones). */
const OVERSAMPLE = 6;
const MAX_ITER = 500;
const TOL = 1e-10;

/** Leading `nComponents` eigenpairs of a symmetric PSD matrix g [n, n] (descending). */
export function topEigen(
  g: Float64Array,
  n: number,
  nComponents: number,
  rng: Rng,
): { values: Float64Array; vectors: Float64Array[] } {
  const k = Math.min(n, nComponents + OVERSAMPLE);
  // q: orthonormal block [n, k] row-major; each iteration: Rayleigh-Ritz on span(q), then
  // q <- orthonormalize(G * Ritz vectors).
  let q: Float64Array = Float64Array.from(rng.randn(n * k));
  orthonormalizeColumns(q, n, k);
  let prev: Float64Array = new Float64Array(nComponents);
  let values: Float64Array = new Float64Array(k);
  let ritz: Float64Array = new Float64Array(n * k);
  for (let iter = 0; iter < MAX_ITER; iter++) {
    const gq = blockMul(g, n, q, k); // [n, k]
    const b = new Float64Array(k * k); // q^T G q
    for (let r = 0; r < n; r++) {
      for (let a = 0; a < k; a++) {
        const qa = q[r * k + a];
        for (let c = 0; c < k; c++) b[a * k + c] += qa * gq[r * k + c];
      }
    }
    const eig = jacobiEigen(b, k);
    values = eig.values;
    ritz = rotate(q, n, k, eig.vectors, eig.order); // Ritz vectors
    const next = rotate(gq, n, k, eig.vectors, eig.order); // G * Ritz vectors
    let change = 0;
    for (let c = 0; c < nComponents; c++) {
      change = Math.max(
        change,
        Math.abs(values[c] - prev[c]) / Math.max(Math.abs(values[0]), 1e-300),
      );
    }
    prev = values.slice(0, nComponents);
    if (iter > 0 && change < TOL) break;
    orthonormalizeColumns(next, n, k);
    q = next;
  }
  const vectors = Array.from({ length: nComponents }, (_, c) => {
    const u = new Float64Array(n);
    for (let r = 0; r < n; r++) u[r] = ritz[r * k + c];
    return u;
  });
  return { values: values.slice(0, nComponents), vectors };
}

/**
 * PCA initial embedding [n, nComponents] (float32, row-major) from the centered Gram matrix.
 */
export function pcaInit(g: Float64Array, n: number, nComponents: number, rng: Rng): Float32Array {
  const { values, vectors } = topEigen(g, n, nComponents, rng);
  const scores = vectors.map((u, c) => {
    let maxAbs = 0;
    let sign = 1;
    for (const x of u) {
      if (Math.abs(x) > maxAbs) {
        maxAbs = Math.abs(x);
        sign = Math.sign(x);
      }
    }
    const s = sign * Math.sqrt(Math.max(values[c], 0));
    return u.map((x) => x * s);
  });
  let mean = 0;
  for (const x of scores[0]) mean += x;
  mean /= n;
  let variance = 0;
  for (const x of scores[0]) variance += (x - mean) ** 2;
  const std = Math.sqrt(variance / n);
  if (!(std > 0)) {
    throw new RangeError("t-SNE PCA initialisation failed: the points have zero variance");
  }
  const out = new Float32Array(n * nComponents);
  for (let c = 0; c < nComponents; c++) {
    for (let r = 0; r < n; r++) {
      out[r * nComponents + c] = Math.fround(scores[c][r]) / std * PCA_INIT_STD;
    }
  }
  return out;
}

/** G [n, n] times a block x [n, k] (row-major), four columns per pass over G. */
function blockMul(g: Float64Array, n: number, x: Float64Array, k: number): Float64Array {
  const y = new Float64Array(n * k);
  const col = (a: number) => Float64Array.from({ length: n }, (_, r) => x[r * k + a]);
  for (let a = 0; a < k; a += 4) {
    const x0 = col(a);
    const x1 = a + 1 < k ? col(a + 1) : new Float64Array(n);
    const x2 = a + 2 < k ? col(a + 2) : new Float64Array(n);
    const x3 = a + 3 < k ? col(a + 3) : new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const o = r * n;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let c = 0; c < n; c++) {
        const grc = g[o + c];
        s0 += grc * x0[c];
        s1 += grc * x1[c];
        s2 += grc * x2[c];
        s3 += grc * x3[c];
      }
      y[r * k + a] = s0;
      if (a + 1 < k) y[r * k + a + 1] = s1;
      if (a + 2 < k) y[r * k + a + 2] = s2;
      if (a + 3 < k) y[r * k + a + 3] = s3;
    }
  }
  return y;
}

/** x [n, k] times the eigenvector matrix w [k, k], columns taken in `order`. */
function rotate(
  x: Float64Array,
  n: number,
  k: number,
  w: Float64Array,
  order: number[],
): Float64Array {
  const y = new Float64Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      const idx = order[c];
      let s = 0;
      for (let a = 0; a < k; a++) s += x[r * k + a] * w[a * k + idx];
      y[r * k + c] = s;
    }
  }
  return y;
}

/** Modified Gram-Schmidt on the columns of x [n, k], twice for stability. */
function orthonormalizeColumns(x: Float64Array, n: number, k: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < a; b++) {
        let p = 0;
        for (let r = 0; r < n; r++) p += x[r * k + a] * x[r * k + b];
        for (let r = 0; r < n; r++) x[r * k + a] -= p * x[r * k + b];
      }
      let norm = 0;
      for (let r = 0; r < n; r++) norm += x[r * k + a] ** 2;
      norm = Math.sqrt(norm);
      for (let r = 0; r < n; r++) x[r * k + a] = norm > 0 ? x[r * k + a] / norm : 0;
    }
  }
}

/** Cyclic Jacobi eigensolver for a small symmetric matrix; `order` sorts values descending. */
function jacobiEigen(
  a0: Float64Array,
  k: number,
): { values: Float64Array; vectors: Float64Array; order: number[] } {
  const a = a0.slice();
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += a[p * k + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < k; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = a[p * k + q];
        if (apq === 0) continue;
        const theta = (a[q * k + q] - a[p * k + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) {
          const arp = a[r * k + p];
          const arq = a[r * k + q];
          a[r * k + p] = c * arp - s * arq;
          a[r * k + q] = s * arp + c * arq;
        }
        for (let r = 0; r < k; r++) {
          const apr = a[p * k + r];
          const aqr = a[q * k + r];
          a[p * k + r] = c * apr - s * aqr;
          a[q * k + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r * k + p];
          const vrq = v[r * k + q];
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const diag = Float64Array.from({ length: k }, (_, i) => a[i * k + i]);
  const order = Array.from({ length: k }, (_, i) => i).sort((x, y) => diag[y] - diag[x]);
  return { values: Float64Array.from(order, (i) => diag[i]), vectors: v, order };
}
