/**
 * The rule that turns the clusters of DBSCAN or spectral clustering into exactly k modes
 * (the paper does not say what it did when a method finds another number of clusters):
 *
 * - more than k clusters: keep the k largest (ties: the lower label); rows of the dropped
 *   clusters become unassigned (-1), like noise;
 * - fewer than k (c < k): the largest cluster is split by k-means into k - c + 1 clusters,
 *   the other c - 1 clusters are kept. With no cluster at all (DBSCAN: everything noise),
 *   k-means on all rows. When the largest cluster has fewer than k - c + 1 rows, the split
 *   uses all rows outside the kept clusters (noise included), and when even those are too
 *   few, k-means on all rows replaces the clustering.
 *
 * Either way the final clusters are ordered by decreasing size (ties: the lower original
 * label, split clusters after kept ones) and the modes are their means (a split cluster
 * left empty, possible only with duplicate rows, keeps its k-means center).
 *
 * @module
 */
import type { Rng } from "../../models/core/random.ts";
import { clusterMeans } from "./_dist.ts";
import { kmeans } from "./kmeans.ts";

/** k modes and the matching assignment from labels (-1 = unassigned) under the rule above. */
export function modesFromLabels(
  X: Float32Array,
  n: number,
  d: number,
  labels: Int32Array,
  k: number,
  rng: Rng,
): { modes: Float32Array; assignment: Int32Array; found: number; rule: string } {
  const sizes = new Map<number, number>();
  for (const l of labels) if (l >= 0) sizes.set(l, (sizes.get(l) ?? 0) + 1);
  const bySize = [...sizes.keys()].sort((a, b) => sizes.get(b)! - sizes.get(a)! || a - b);
  const found = bySize.length;
  // Split clusters get new labels after the largest original one.
  let work = Int32Array.from(labels);
  let keep = bySize.slice(0, k);
  let rule = found === k ? "exact" : found > k ? "kept the k largest" : "split the largest";
  let split: { first: number; centers: Float32Array } | null = null;
  if (found < k) {
    let base = bySize.slice(1);
    let pool = rowsWhere(work, (l) => found > 0 && l === bySize[0]);
    let need = k - base.length;
    if (pool.length < need) {
      pool = rowsWhere(work, (l) => !base.includes(l));
      rule = found === 0 ? "k-means on all rows" : "split the rows outside the kept clusters";
    }
    if (pool.length < need) {
      base = [];
      pool = rowsWhere(work, () => true);
      need = k;
      rule = "k-means on all rows";
    }
    const sub = kmeans(gatherRows(X, d, pool), pool.length, d, { k: need, rng });
    const first = Math.max(-1, ...sizes.keys()) + 1;
    split = { first, centers: sub.centers };
    work = work.map((l) => (base.includes(l) ? l : -1));
    pool.forEach((i, t) => (work[i] = first + sub.labels[t]));
    const size = new Map<number, number>();
    for (const l of [...base, ...Array.from({ length: need }, (_, c) => first + c)]) size.set(l, 0);
    for (const l of work) if (l >= 0) size.set(l, size.get(l)! + 1);
    keep = [...size.keys()].sort((a, b) => size.get(b)! - size.get(a)! || a - b);
  }
  const rank = new Map(keep.map((l, r) => [l, r]));
  const assignment = work.map((l) => rank.get(l) ?? -1);
  const { means, counts } = clusterMeans(Float64Array.from(X), n, d, assignment, k);
  const modes = Float32Array.from(means); // [k, d]
  // A split cluster left empty (duplicate rows) keeps its k-means center as its mode.
  keep.forEach((l, r) => {
    if (counts[r] === 0 && split) {
      const c = l - split.first;
      modes.set(split.centers.subarray(c * d, (c + 1) * d), r * d);
    }
  });
  return { modes, assignment, found, rule };
}

function rowsWhere(labels: Int32Array, pred: (l: number) => boolean): number[] {
  const rows: number[] = [];
  labels.forEach((l, i) => pred(l) && rows.push(i));
  return rows;
}

function gatherRows(X: Float32Array, d: number, rows: number[]): Float32Array {
  const out = new Float32Array(rows.length * d);
  rows.forEach((i, t) => out.set(X.subarray(i * d, (i + 1) * d), t * d));
  return out;
}
