/**
 * Distance kernels for the mode-discovery functions: squared Euclidean distances through
 * the expansion ||x||^2 - 2 x.c + ||c||^2, with dot products blocked four rows at a time so
 * each value of X is loaded once per four centers.
 *
 * Notation: X [n, d] row-major samples (Float32Array), C [k, d] centers (Float64Array).
 *
 * @module
 */

/** Squared norm of every row: [n]. */
export function rowSqNorms(X: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = i * d, e = j + d; j < e; j++) s += X[j] * X[j];
    out[i] = s;
  }
  return out;
}

/** Column means of X: [d]. */
export function colMean(X: Float32Array | Float64Array, n: number, d: number): Float64Array {
  const m = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0, o = i * d; j < d; j++) m[j] += X[o + j];
  }
  for (let j = 0; j < d; j++) m[j] /= n;
  return m;
}

/**
 * Dot products of every row of X with every row of C: out[i * k + c] = X[i].C[c], [n, k].
 *
 * @param rows when given, only these rows of X: out[t * k + c] = X[rows[t]].C[c], [n, k]
 * with n = rows.length.
 */
export function dotsRows(
  X: Float64Array,
  n: number,
  d: number,
  C: Float64Array,
  k: number,
  out: Float64Array,
  rows?: Int32Array,
): Float64Array {
  // Blocked 2 rows x 4 centers so each loaded value serves several products.
  const at = (t: number) => (rows ? rows[t] : t) * d;
  let t = 0;
  for (; t + 1 < n; t += 2) {
    const a = at(t), b = at(t + 1), r = t * k, q = r + k;
    let c = 0;
    for (; c + 3 < k; c += 4) {
      const o0 = c * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
      for (let j = 0; j < d; j++) {
        const x = X[a + j], y = X[b + j];
        const c0 = C[o0 + j], c1 = C[o1 + j], c2 = C[o2 + j], c3 = C[o3 + j];
        s0 += x * c0, s1 += x * c1, s2 += x * c2, s3 += x * c3;
        t0 += y * c0, t1 += y * c1, t2 += y * c2, t3 += y * c3;
      }
      out[r + c] = s0, out[r + c + 1] = s1, out[r + c + 2] = s2, out[r + c + 3] = s3;
      out[q + c] = t0, out[q + c + 1] = t1, out[q + c + 2] = t2, out[q + c + 3] = t3;
    }
    for (; c < k; c++) {
      let s = 0, u = 0;
      for (let j = 0, oc = c * d; j < d; j++) {
        const v = C[oc + j];
        s += X[a + j] * v, u += X[b + j] * v;
      }
      out[r + c] = s, out[q + c] = u;
    }
  }
  for (; t < n; t++) {
    for (let c = 0, a = at(t); c < k; c++) {
      let s = 0;
      for (let j = 0, oc = c * d; j < d; j++) s += X[a + j] * C[oc + j];
      out[t * k + c] = s;
    }
  }
  return out;
}

/**
 * Squared distances of every row of X to every row of C, [n, k], clipped at 0
 * (out[i * k + c] = xSq[i] - 2 X[i].C[c] + ||C[c]||^2).
 */
export function sqDistRows(
  X: Float64Array,
  n: number,
  d: number,
  xSq: Float64Array,
  C: Float64Array,
  k: number,
): Float64Array {
  const cSq = rowSqNorms(C, k, d);
  const out = dotsRows(X, n, d, C, k, new Float64Array(n * k));
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const v = xSq[i] - 2 * out[i * k + c] + cSq[c];
      out[i * k + c] = v > 0 ? v : 0;
    }
  }
  return out;
}

/**
 * Nearest center of every row: labels[i] = argmin_c ||X[i] - C[c]||^2 (first on ties).
 * Returns the squared distance to it per row (clipped at 0).
 */
export function assignNearest(
  X: Float64Array,
  n: number,
  d: number,
  xSq: Float64Array,
  C: Float64Array,
  k: number,
  labels: Int32Array,
): Float64Array {
  const cSq = rowSqNorms(C, k, d);
  const dots = dotsRows(X, n, d, C, k, new Float64Array(n * k)); // [n, k]
  const minDist = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestV = cSq[0] - 2 * dots[i * k];
    for (let c = 1; c < k; c++) {
      const v = cSq[c] - 2 * dots[i * k + c];
      if (v < bestV) {
        bestV = v;
        best = c;
      }
    }
    labels[i] = best;
    const dist = xSq[i] + bestV;
    minDist[i] = dist > 0 ? dist : 0;
  }
  return minDist;
}

/** All pairwise squared distances: [n, n] (symmetric, zero diagonal). */
export function pairwiseSqDist(X: Float64Array, n: number, d: number): Float64Array {
  const xSq = rowSqNorms(X, n, d);
  const D = new Float64Array(n * n);
  const put = (i: number, j: number, dot: number) => {
    const v = xSq[i] + xSq[j] - 2 * dot;
    D[i * n + j] = D[j * n + i] = v > 0 ? v : 0;
  };
  const n4 = n - (n % 4);
  for (let i = 0; i < n4; i += 4) {
    const a0 = i * d, a1 = a0 + d, a2 = a1 + d, a3 = a2 + d;
    for (let jb = i; jb < n4; jb += 4) {
      const b0 = jb * d, b1 = b0 + d, b2 = b1 + d, b3 = b2 + d;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let t = 0; t < d; t++) {
        const x0 = X[a0 + t], x1 = X[a1 + t], x2 = X[a2 + t], x3 = X[a3 + t];
        const y0 = X[b0 + t], y1 = X[b1 + t], y2 = X[b2 + t], y3 = X[b3 + t];
        s00 += x0 * y0, s01 += x0 * y1, s02 += x0 * y2, s03 += x0 * y3;
        s10 += x1 * y0, s11 += x1 * y1, s12 += x1 * y2, s13 += x1 * y3;
        s20 += x2 * y0, s21 += x2 * y1, s22 += x2 * y2, s23 += x2 * y3;
        s30 += x3 * y0, s31 += x3 * y1, s32 += x3 * y2, s33 += x3 * y3;
      }
      put(i, jb, s00), put(i, jb + 1, s01), put(i, jb + 2, s02), put(i, jb + 3, s03);
      put(i + 1, jb, s10), put(i + 1, jb + 1, s11), put(i + 1, jb + 2, s12);
      put(i + 1, jb + 3, s13), put(i + 2, jb, s20), put(i + 2, jb + 1, s21);
      put(i + 2, jb + 2, s22), put(i + 2, jb + 3, s23), put(i + 3, jb, s30);
      put(i + 3, jb + 1, s31), put(i + 3, jb + 2, s32), put(i + 3, jb + 3, s33);
    }
  }
  // Remaining rows (n not a multiple of 4) against everything.
  for (let i = n4; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let t = 0, a = i * d, b = j * d; t < d; t++) s += X[a + t] * X[b + t];
      put(i, j, s);
    }
  }
  for (let i = 0; i < n; i++) D[i * n + i] = 0;
  return D;
}

/** Per-cluster means of the rows with labels[i] = c in 0..k-1 (others ignored): [k, d]. */
export function clusterMeans(
  X: Float64Array,
  n: number,
  d: number,
  labels: Int32Array,
  k: number,
): { means: Float64Array; counts: Int32Array } {
  const means = new Float64Array(k * d);
  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    if (c < 0 || c >= k) continue;
    counts[c]++;
    for (let j = 0, o = i * d, oc = c * d; j < d; j++) means[oc + j] += X[o + j];
  }
  for (let c = 0; c < k; c++) {
    if (counts[c] === 0) continue;
    for (let j = 0, oc = c * d; j < d; j++) means[oc + j] /= counts[c];
  }
  return { means, counts };
}
