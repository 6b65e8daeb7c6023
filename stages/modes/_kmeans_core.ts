/**
 * The two halves of one k-means run, with the semantics of scikit-learn 1.x
 * `KMeans(init="k-means++", algorithm="lloyd")` (read for semantics, not copied):
 * greedy k-means++ seeding, then Lloyd iterations with scikit-learn's stopping rules and
 * empty-cluster relocation.
 *
 * Notation: X [n, d] (already centered by the caller), xSq [n] = ||x_i||^2,
 * C [k, d] centers (Float64Array), labels [n] cluster index per row.
 *
 * @module
 */
import type { Rng } from "../../models/core/random.ts";
import { sqDistRows } from "./_dist.ts";
import { HamerlyAssigner } from "./_hamerly.ts";

/**
 * Greedy k-means++ (Arthur and Vassilvitskii 2007, as scikit-learn's `_kmeans_plusplus`):
 * the first center is a uniform random row; each further center is the best of
 * `nLocalTrials` rows drawn with probability proportional to D(x)^2, "best" meaning the
 * lowest resulting potential sum_i min_c ||x_i - c||^2.
 */
export function kmeansPlusPlus(
  X: Float64Array,
  n: number,
  d: number,
  xSq: Float64Array,
  k: number,
  rng: Rng,
  nLocalTrials = 2 + Math.floor(Math.log(k)), // scikit-learn's default, 2 + int(ln k)
): { centers: Float64Array; indices: Int32Array } {
  const centers = new Float64Array(k * d); // [k, d]
  const indices = new Int32Array(k);
  const first = rng.randint(n);
  copyRow(X, first, d, centers, 0);
  indices[0] = first;
  let closest = sqDistRows(X, n, d, xSq, rowOf(X, first, d), 1); // [n]
  let pot = sum(closest);
  const cum = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    // Candidates: searchsorted(cumsum(D^2), u * pot, side="left"), clipped to n - 1.
    let acc = 0;
    for (let i = 0; i < n; i++) cum[i] = acc += closest[i];
    const ids = new Int32Array(nLocalTrials);
    for (let t = 0; t < nLocalTrials; t++) {
      ids[t] = Math.min(searchLeft(cum, rng.random() * pot), n - 1);
    }
    const cand = new Float64Array(nLocalTrials * d); // [trials, d]
    ids.forEach((id, t) => copyRow(X, id, d, cand, t));
    const dist = sqDistRows(X, n, d, xSq, cand, nLocalTrials); // [n, trials]
    // Potential of each candidate: sum_i min(closest_i, dist_it); argmin, first on ties.
    let bestPot = Infinity;
    let bestT = 0;
    for (let t = 0; t < nLocalTrials; t++) {
      let p = 0;
      for (let i = 0; i < n; i++) p += Math.min(closest[i], dist[i * nLocalTrials + t]);
      if (p < bestPot) {
        bestPot = p;
        bestT = t;
      }
    }
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) next[i] = Math.min(closest[i], dist[i * nLocalTrials + bestT]);
    closest = next;
    pot = bestPot;
    copyRow(X, ids[bestT], d, centers, c);
    indices[c] = ids[bestT];
  }
  return { centers, indices };
}

/** Result of one Lloyd run. */
export interface LloydResult {
  centers: Float64Array; // [k, d]
  labels: Int32Array; // [n]
  inertia: number;
  nIter: number;
}

/**
 * Lloyd iterations from `init` (scikit-learn's `_kmeans_single_lloyd`): each iteration
 * assigns rows to the nearest center (with Hamerly's bounds, which skip distance
 * computations but give the same labels), moves the centers to the means (empty clusters take
 * the rows farthest from their centers), and stops when no label changes (strict
 * convergence) or when sum_c ||c_new - c_old||^2 <= tolAbs. Without strict convergence the
 * labels are recomputed once for the final centers.
 */
export function lloyd(
  X: Float64Array,
  n: number,
  d: number,
  xSq: Float64Array,
  init: Float64Array,
  k: number,
  maxIter: number,
  tolAbs: number,
): LloydResult {
  let centers = Float64Array.from(init);
  let next = new Float64Array(k * d);
  const labels = new Int32Array(n);
  const old = new Int32Array(n).fill(-1);
  const assigner = new HamerlyAssigner(X, n, d, xSq, k); // exact, skips settled rows
  let strict = false;
  let it = 0;
  while (it < maxIter) {
    assigner.assign(centers, labels);
    const shift = updateCenters(X, n, d, centers, next, k, labels);
    assigner.moved(centers, next, labels);
    [centers, next] = [next, centers];
    it++;
    if (equal(labels, old)) {
      strict = true;
      break;
    }
    if (shift <= tolAbs) break;
    old.set(labels);
  }
  if (!strict) assigner.assign(centers, labels);
  return { centers, labels, inertia: inertiaOf(X, n, d, centers, labels), nIter: it };
}

/** sum_i ||x_i - C[labels_i]||^2, computed from the differences (not the expansion). */
export function inertiaOf(
  X: Float64Array,
  n: number,
  d: number,
  C: Float64Array,
  labels: Int32Array,
): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0, o = i * d, oc = labels[i] * d; j < d; j++) {
      const v = X[o + j] - C[oc + j];
      s += v * v;
    }
  }
  return s;
}

/** M-step: out = cluster means; returns the total squared center shift. */
function updateCenters(
  X: Float64Array,
  n: number,
  d: number,
  centers: Float64Array,
  out: Float64Array,
  k: number,
  labels: Int32Array,
): number {
  out.fill(0);
  const counts = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    counts[c]++;
    for (let j = 0, o = i * d, oc = c * d; j < d; j++) out[oc + j] += X[o + j];
  }
  relocateEmpty(X, n, d, centers, out, counts, labels);
  let shift = 0;
  for (let c = 0; c < k; c++) {
    const inv = counts[c] > 0 ? 1 / counts[c] : 0;
    for (let j = 0, oc = c * d; j < d; j++) {
      const v = out[oc + j] * inv;
      out[oc + j] = v;
      const s = v - centers[oc + j];
      shift += s * s;
    }
  }
  return shift;
}

/**
 * scikit-learn's `_relocate_empty_clusters_dense`: the e empty clusters take, in order, the
 * e rows farthest from their (old) centers; each such row leaves its old cluster's sum.
 * `labels` is not changed (as in scikit-learn), only the sums and counts.
 */
function relocateEmpty(
  X: Float64Array,
  n: number,
  d: number,
  centers: Float64Array,
  sums: Float64Array,
  counts: Float64Array,
  labels: Int32Array,
): void {
  const empty: number[] = [];
  for (let c = 0; c < counts.length; c++) if (counts[c] === 0) empty.push(c);
  if (empty.length === 0) return;
  const dist = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0, o = i * d, oc = labels[i] * d; j < d; j++) {
      const v = X[o + j] - centers[oc + j];
      s += v * v;
    }
    dist[i] = s;
  }
  const far = Array.from(dist.keys()).sort((a, b) => dist[b] - dist[a] || a - b);
  empty.forEach((c, e) => {
    const i = far[e];
    const from = labels[i];
    for (let j = 0, o = i * d; j < d; j++) {
      sums[from * d + j] -= X[o + j];
      sums[c * d + j] = X[o + j];
    }
    counts[c] = 1;
    counts[from] -= 1;
  });
}

function copyRow(X: Float64Array, i: number, d: number, out: Float64Array, r: number) {
  for (let j = 0; j < d; j++) out[r * d + j] = X[i * d + j];
}

function rowOf(X: Float64Array, i: number, d: number): Float64Array {
  return X.subarray(i * d, (i + 1) * d);
}

function sum(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

function searchLeft(cum: Float64Array, v: number): number {
  let lo = 0;
  let hi = cum.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function equal(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
