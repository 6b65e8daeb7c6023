/**
 * Nearest-center assignment across Lloyd iterations with Hamerly's bounds (Hamerly 2010,
 * "Making k-means even faster"): the same labels as computing every distance (up to exact
 * ties), but a row whose upper bound on the distance to its center is below both its lower
 * bound on the second-nearest distance and half the distance from its center to the
 * nearest other center keeps its label without any distance computation.
 *
 * Notation: u[i] >= ||x_i - C[a_i]||, l[i] <= min_{c != a_i} ||x_i - C[c]||,
 * s[c] = 0.5 min_{c' != c} ||C[c] - C[c']||.
 *
 * @module
 */
import { dotsRows, rowSqNorms, sqDistRows } from "./_dist.ts";

/** Keeps the bounds of one k-means run; call assign() then moved() once per iteration. */
export class HamerlyAssigner {
  private readonly upper: Float64Array;
  private readonly lower: Float64Array;
  private started = false;

  constructor(
    private readonly X: Float64Array,
    private readonly n: number,
    private readonly d: number,
    private readonly xSq: Float64Array,
    private readonly k: number,
  ) {
    this.upper = new Float64Array(n);
    this.lower = new Float64Array(n);
  }

  /** Sets labels[i] to the nearest center of row i (first on ties when computed). */
  assign(C: Float64Array, labels: Int32Array): void {
    const { X, n, d, xSq, k, upper, lower } = this;
    if (!this.started) {
      const dist = sqDistRows(X, n, d, xSq, C, k); // [n, k]
      for (let i = 0; i < n; i++) this.setRow(i, dist.subarray(i * k, (i + 1) * k), labels);
      this.started = true;
      return;
    }
    const cSq = rowSqNorms(C, k, d);
    const half = halfNearestCenter(C, k, d);
    // 1. Rows whose bounds do not settle them: tighten the upper bound (one distance).
    const todo = new Int32Array(n);
    let m = 0;
    for (let i = 0; i < n; i++) {
      const a = labels[i];
      const bound = Math.max(half[a], lower[i]);
      if (upper[i] <= bound) continue;
      upper[i] = Math.sqrt(Math.max(0, xSq[i] - 2 * dotRow(X, i, C, a, d) + cSq[a]));
      if (upper[i] > bound) todo[m++] = i;
    }
    // 2. The rest: all k distances, blocked over rows and centers.
    const rows = todo.subarray(0, m);
    const dots = dotsRows(X, m, d, C, k, new Float64Array(m * k), rows); // [m, k]
    for (let t = 0; t < m; t++) {
      const i = rows[t];
      for (let c = 0; c < k; c++) dots[t * k + c] = xSq[i] - 2 * dots[t * k + c] + cSq[c];
      this.setRow(i, dots.subarray(t * k, (t + 1) * k), labels);
    }
  }

  /** Loosens the bounds after the centers moved from `prev` to `C`. */
  moved(prev: Float64Array, C: Float64Array, labels: Int32Array): void {
    const { k, d } = this;
    const shift = new Float64Array(k);
    let max1 = 0;
    let max2 = 0;
    let arg = -1;
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = c * d, e = j + d; j < e; j++) s += (C[j] - prev[j]) ** 2;
      shift[c] = Math.sqrt(s);
      if (shift[c] > max1) {
        [max2, max1, arg] = [max1, shift[c], c];
      } else if (shift[c] > max2) max2 = shift[c];
    }
    for (let i = 0; i < this.n; i++) {
      const a = labels[i];
      this.upper[i] += shift[a];
      this.lower[i] -= a === arg ? max2 : max1;
    }
  }

  /** Label, upper and lower bound of row i from its squared distances to all centers. */
  private setRow(i: number, sq: Float64Array, labels: Int32Array): void {
    let best = 0;
    let second = Infinity;
    for (let c = 1; c < sq.length; c++) {
      if (sq[c] < sq[best]) {
        second = sq[best];
        best = c;
      } else if (sq[c] < second) second = sq[c];
    }
    labels[i] = best;
    this.upper[i] = Math.sqrt(Math.max(0, sq[best]));
    this.lower[i] = Math.sqrt(Math.max(0, second));
  }
}

function dotRow(X: Float64Array, i: number, C: Float64Array, c: number, d: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const a = i * d;
  const b = c * d;
  let j = 0;
  for (; j + 3 < d; j += 4) {
    s0 += X[a + j] * C[b + j];
    s1 += X[a + j + 1] * C[b + j + 1];
    s2 += X[a + j + 2] * C[b + j + 2];
    s3 += X[a + j + 3] * C[b + j + 3];
  }
  for (; j < d; j++) s0 += X[a + j] * C[b + j];
  return s0 + s1 + s2 + s3;
}

/** s[c] = 0.5 min_{c' != c} ||C[c] - C[c']|| (Infinity when k = 1). */
function halfNearestCenter(C: Float64Array, k: number, d: number): Float64Array {
  const s = new Float64Array(k).fill(Infinity);
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      let v = 0;
      for (let j = 0; j < d; j++) v += (C[a * d + j] - C[b * d + j]) ** 2;
      const h = 0.5 * Math.sqrt(v);
      if (h < s[a]) s[a] = h;
      if (h < s[b]) s[b] = h;
    }
  }
  return s;
}
