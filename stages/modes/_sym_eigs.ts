/**
 * The m largest eigenpairs of a dense symmetric matrix: dense decomposition (ml-matrix)
 * for small matrices, block Lanczos with full reorthogonalisation and explicit restarts
 * otherwise (a block of b = m + max(2, m / 2) vectors, so an eigenvalue of multiplicity up to
 * b, e.g. a graph with m connected components, is found in full, and a cluster of nearly
 * equal eigenvalues around the m-th does not stall convergence).
 *
 * Notation: A [n, n] symmetric, Q [S, n] orthonormal Krylov basis (rows), AQ [S, n] = rows
 * of A Q^T, T = Q A Q^T [S, S], Ritz pairs (theta, Y^T Q).
 *
 * @module
 */
import { EigenvalueDecomposition, Matrix } from "../../models/core/deps.ts";
import type { Rng } from "../../models/core/random.ts";
import { dotsRows } from "./_dist.ts";

/** Options of {@link topEigenpairs}. */
export interface EigsOptions {
  /** "auto" (dense up to denseMax rows, else Lanczos), "dense" or "lanczos". */
  method?: "auto" | "dense" | "lanczos";
  /** Largest n solved densely by "auto" (default 300). */
  denseMax?: number;
  /** Residual tolerance ||A u - theta u|| <= tol * max(1, |theta_1|) (default 1e-8). */
  tol?: number;
  /** Maximum Lanczos restarts (default 100; the result then has converged = false). */
  maxRestarts?: number;
}

/** The m largest eigenpairs of a symmetric A [n, n] (see {@link topEigenpairs}). */
export interface Eigenpairs {
  /** Eigenvalues in decreasing order: [m]. */
  values: Float64Array;
  /** Unit eigenvectors as rows: [m, n]. */
  vectors: Float64Array;
  /** False when Lanczos stopped at maxRestarts before the residual tolerance. */
  converged: boolean;
}

/** The m largest eigenpairs of a symmetric A [n, n]. */
export function topEigenpairs(
  A: Float64Array,
  n: number,
  m: number,
  rng: Rng,
  options: EigsOptions = {},
): Eigenpairs {
  const method = options.method ?? "auto";
  const b = m + Math.max(2, Math.ceil(m / 2)); // block size, with oversampling
  const steps = Math.max(4, Math.ceil(Math.max(8 * m, 64) / b)); // Krylov blocks per restart
  const fits = steps * b < n;
  if (method === "dense" || !fits || (method === "auto" && n <= (options.denseMax ?? 300))) {
    return dense(A, n, m);
  }
  return blockLanczos(A, n, m, b, rng, steps, options);
}

function dense(A: Float64Array, n: number, m: number): Eigenpairs {
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(A.subarray(i * n, (i + 1) * n)));
  const e = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const order = e.realEigenvalues.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]);
  const values = new Float64Array(m);
  const vectors = new Float64Array(m * n);
  for (let c = 0; c < m; c++) {
    values[c] = order[c][0];
    const col = e.eigenvectorMatrix.getColumn(order[c][1]);
    vectors.set(normalize(Float64Array.from(col)), c * n);
  }
  return { values, vectors, converged: true };
}

function blockLanczos(
  A: Float64Array,
  n: number,
  m: number,
  b: number,
  rng: Rng,
  steps: number,
  options: EigsOptions,
): Eigenpairs {
  const S = steps * b;
  const tol = options.tol ?? 1e-8;
  const maxRestarts = options.maxRestarts ?? 100;
  const Q = new Float64Array(S * n); // [S, n]
  const AQ = new Float64Array(S * n); // [S, n]
  let block: Float64Array = new Float64Array(b * n); // [b, n]
  for (let i = 0; i < b * n; i++) block[i] = rng.normal();
  for (let r = 0; r < b; r++) orthonormalizeRow(block, r, Q, 0, block, n, rng);
  let result: Eigenpairs = {
    values: new Float64Array(m),
    vectors: new Float64Array(m * n),
    converged: false,
  };
  for (let restart = 0; restart <= maxRestarts; restart++) {
    // 1. Block Krylov basis Q = [B, A B, A^2 B, ...], orthonormalised against all before.
    for (let s = 0; s < steps; s++) {
      Q.set(block, s * b * n);
      const prod = matmulRows(A, n, block, b); // [b, n]
      AQ.set(prod, s * b * n);
      if (s === steps - 1) break;
      for (let r = 0; r < b; r++) orthonormalizeRow(prod, r, Q, (s + 1) * b, prod, n, rng);
      block = prod;
    }
    // 2. Rayleigh-Ritz: T = Q A Q^T, eigenvectors Y, Ritz vectors U = Y^T Q.
    const T = new Float64Array(S * S);
    dotsRows(Q, S, n, AQ, S, T);
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < i; j++) T[i * S + j] = T[j * S + i] = 0.5 * (T[i * S + j] + T[j * S + i]);
    }
    const { values, vectors: Y } = dense(T, S, b); // Y [b, S]
    const U = combine(Y, Q, b, S, n); // [b, n]
    const AU = combine(Y, AQ, b, S, n); // [b, n]
    // 3. Converged when the residual ||A u - theta u|| of each of the top m pairs is small.
    let worst = 0;
    for (let c = 0; c < m; c++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += (AU[c * n + j] - values[c] * U[c * n + j]) ** 2;
      worst = Math.max(worst, Math.sqrt(s));
    }
    const converged = worst <= tol * Math.max(1, Math.abs(values[0]));
    result = { values: values.slice(0, m), vectors: U.slice(0, m * n), converged };
    if (converged) break;
    block = U; // explicit restart from the current Ritz vectors
  }
  return result;
}

/** Rows of (A X^T)^T for X [m, n]: [m, n]. */
function matmulRows(A: Float64Array, n: number, X: Float64Array, m: number): Float64Array {
  const t = dotsRows(A, n, n, X, m, new Float64Array(n * m)); // [n, m]
  const out = new Float64Array(m * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < m; c++) out[c * n + i] = t[i * m + c];
  return out;
}

/** out[c] = sum_s Y[c, s] B[s] for Y [m, S], B [S, n]: [m, n]. */
function combine(Y: Float64Array, B: Float64Array, m: number, S: number, n: number) {
  const out = new Float64Array(m * n);
  for (let c = 0; c < m; c++) {
    for (let s = 0; s < S; s++) {
      const y = Y[c * S + s];
      for (let j = 0; j < n; j++) out[c * n + j] += y * B[s * n + j];
    }
  }
  return out;
}

/**
 * Makes row r of X orthonormal to the first `count` rows of Q and to rows 0..r-1 of `same`
 * (classical Gram-Schmidt, twice); a row that vanishes is replaced by a random one.
 */
function orthonormalizeRow(
  X: Float64Array,
  r: number,
  Q: Float64Array,
  count: number,
  same: Float64Array,
  n: number,
  rng: Rng,
): void {
  const v = X.subarray(r * n, (r + 1) * n);
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = Math.sqrt(dot(v, v));
    for (let pass = 0; pass < 2; pass++) {
      for (let q = 0; q < count; q++) project(v, Q.subarray(q * n, (q + 1) * n));
      for (let q = 0; q < r; q++) project(v, same.subarray(q * n, (q + 1) * n));
    }
    const after = Math.sqrt(dot(v, v));
    if (after > 1e-10 * Math.max(before, 1e-300)) {
      for (let j = 0; j < n; j++) v[j] /= after;
      return;
    }
    for (let j = 0; j < n; j++) v[j] = rng.normal(); // breakdown: invariant subspace found
  }
  throw new Error(`topEigenpairs(): cannot extend the Krylov basis beyond ${count + r} vectors`);
}

function project(v: Float64Array, q: Float64Array): void {
  const h = dot(v, q);
  for (let j = 0; j < v.length; j++) v[j] -= h * q[j];
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j] * b[j];
  return s;
}

function normalize(v: Float64Array): Float64Array {
  const s = Math.sqrt(dot(v, v)) || 1;
  for (let j = 0; j < v.length; j++) v[j] /= s;
  return v;
}
