import assert from "node:assert/strict";
import { readSafetensors } from "../models/io/safetensors.ts";
import { toFloat32 } from "../models/core/tensor.ts";
import { Rng } from "../models/core/random.ts";
import {
  closestRows,
  dbscan,
  discoverModes,
  gaussianMixture,
  herding,
  kmeans,
  MODE_METHODS,
  spectralClustering,
} from "../stages/modes/mod.ts";
import { topEigenpairs } from "../stages/modes/_sym_eigs.ts";

const FIXTURE = new URL("./fixtures/modes/modes.safetensors", import.meta.url).pathname;
const { tensors } = await readSafetensors(FIXTURE);

function matrix(name: string): { X: Float32Array; n: number; d: number } {
  const t = tensors.get(name)!;
  return { X: toFloat32(t), n: t.shape[0], d: t.shape[1] };
}
const f64 = (name: string) => tensors.get(name)!.data as Float64Array;
const i32 = (name: string) => tensors.get(name)!.data as Int32Array;
const mean = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => a + b, 0) / v.length;

function dist(a: Float32Array, ai: number, b: Float32Array, bi: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += (a[ai * d + j] - b[bi * d + j]) ** 2;
  return Math.sqrt(s);
}

/** Fraction of row pairs on which two labelings agree about "same cluster" (Rand index). */
function randIndex(a: Int32Array, b: Int32Array): number {
  let agree = 0;
  let total = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      agree += +((a[i] === a[j]) === (b[i] === b[j]));
      total++;
    }
  }
  return agree / total;
}

/** `perCluster` rows around each of `k` centers far apart in d dims, and the centers. */
function separated(k: number, d: number, perCluster: number, seed: number) {
  const rng = Rng.from(seed);
  const centers = new Float32Array(k * d);
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < d; j++) centers[c * d + j] = 10 * rng.normal();
  }
  const n = k * perCluster;
  const X = new Float32Array(n * d);
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    truth[i] = c;
    for (let j = 0; j < d; j++) X[i * d + j] = centers[c * d + j] + 0.3 * rng.normal();
  }
  return { X, n, d, centers, truth };
}

Deno.test("kmeans() reaches sklearn's inertia within 1% on the committed latents", () => {
  for (const name of ["km300", "km1300"]) {
    const { X, n, d } = matrix(`${name}.x`);
    const ours = kmeans(X, n, d, { k: 10, seed: 0 });
    const ratio = ours.inertia / f64(`${name}.inertia`)[0];
    assert.ok(Math.abs(ratio - 1) < 0.01, `${name}: inertia ratio ${ratio}`);
    // Over 20 seeds (one k-means++ run each) the mean inertia matches sklearn's too.
    const seeds = Array.from({ length: 20 }, (_, s) => kmeans(X, n, d, { k: 10, seed: s }).inertia);
    const meanRatio = mean(seeds) / mean(f64(`${name}.inertia_seeds`));
    assert.ok(Math.abs(meanRatio - 1) < 0.01, `${name}: mean inertia ratio ${meanRatio}`);
  }
});

Deno.test("kmeans() started from sklearn's k-means++ rows reproduces sklearn's labels", () => {
  for (const name of ["km300", "km1300"]) {
    const { X, n, d } = matrix(`${name}.x`);
    const init = new Float32Array(10 * d);
    i32(`${name}.init_indices`).forEach((r, c) => init.set(X.subarray(r * d, (r + 1) * d), c * d));
    const ours = kmeans(X, n, d, { k: 10, init });
    assert.deepEqual(ours.labels, i32(`${name}.labels`), name);
    const ratio = ours.inertia / f64(`${name}.inertia`)[0];
    assert.ok(Math.abs(ratio - 1) < 1e-5, `${name}: inertia ratio ${ratio}`);
    const centers = toFloat32(tensors.get(`${name}.centers`)!);
    for (let c = 0; c < 10; c++) assert.ok(dist(ours.centers, c, centers, c, d) < 1e-3);
  }
});

Deno.test("discoverModes() returns k centroids per class, the same for a seed and others for another seed", () => {
  const { X, n, d } = matrix("km300.x");
  // Three "classes": thirds of the fixture rows.
  for (let cls = 0; cls < 3; cls++) {
    const rows = X.subarray(cls * 100 * d, (cls + 1) * 100 * d);
    const a = discoverModes(rows, 100, d, { method: "kmeans", k: 10, seed: 0 });
    assert.equal(a.modes.length, 10 * d);
    assert.equal(a.assignment!.length, 100);
    assert.equal(new Set(a.assignment).size, 10);
    const again = discoverModes(rows, 100, d, { method: "kmeans", k: 10, seed: 0 });
    assert.deepEqual(again.modes, a.modes);
    const other = discoverModes(rows, 100, d, { method: "kmeans", k: 10, seed: 1 });
    assert.notDeepEqual(other.modes, a.modes);
  }
  assert.equal(discoverModes(X, n, d, { method: "kmeans", k: 1 }).modes.length, d);
});

Deno.test("every clustering method recovers the true modes of well-separated clusters", () => {
  const { X, n, d, centers } = separated(4, 32, 40, 5);
  const options = [
    { method: "kmeans" },
    { method: "closest" },
    { method: "gmm" },
    { method: "dbscan" },
    { method: "spectral" },
    { method: "spectral", affinity: "nearest_neighbors" },
  ] as const;
  for (const o of options) {
    const r = discoverModes(X, n, d, { ...o, k: 4, seed: 0 });
    assert.equal(r.modes.length, 4 * d, o.method);
    // Every true center has its own mode, within half the cluster radius 0.3 sqrt(d) (means
    // of clusters) or 1.5 radii (real rows); the centers are about 80 apart.
    const radius = 0.3 * Math.sqrt(d);
    const tol = o.method === "closest" ? 1.5 * radius : 0.5 * radius;
    const used = new Set<number>();
    for (let c = 0; c < 4; c++) {
      let best = 0;
      for (let m = 1; m < 4; m++) {
        if (dist(centers, c, r.modes, m, d) < dist(centers, c, r.modes, best, d)) best = m;
      }
      assert.ok(dist(centers, c, r.modes, best, d) < tol, `${JSON.stringify(o)} center ${c}`);
      used.add(best);
    }
    assert.equal(used.size, 4, `${JSON.stringify(o)}: one mode per center`);
  }
});

Deno.test("the selection methods return distinct real rows, random ones depending on the seed", () => {
  const { X, n, d } = separated(4, 32, 40, 6);
  for (const method of ["closest", "random", "herding"] as const) {
    const r = discoverModes(X, n, d, { method, k: 10, seed: 0 });
    assert.equal(new Set(r.indices).size, 10, method);
    r.indices!.forEach((row, c) => {
      assert.deepEqual(r.modes.subarray(c * d, (c + 1) * d), X.subarray(row * d, (row + 1) * d));
    });
  }
  const a = discoverModes(X, n, d, { method: "random", k: 10, seed: 0 }).indices;
  assert.notDeepEqual(discoverModes(X, n, d, { method: "random", k: 10, seed: 1 }).indices, a);
  assert.deepEqual(discoverModes(X, n, d, { method: "random", k: 10, seed: 0 }).indices, a);
});

Deno.test("closestRows() gives each centroid its nearest row not taken by an earlier one", () => {
  const X = new Float32Array([0, 0, 1, 1, 9, 9]); // [3, 2]
  const C = new Float32Array([0.2, 0.2, 0.3, 0.3, 8, 8]); // first two share nearest row 0
  assert.deepEqual(closestRows(X, 3, 2, C, 3), new Int32Array([0, 1, 2]));
  const { X: L, n, d } = matrix("km300.x");
  const r = discoverModes(L, n, d, { method: "closest", k: 10, seed: 0 });
  const km = kmeans(L, n, d, { k: 10, seed: 0 });
  assert.deepEqual(r.indices, closestRows(L, n, d, km.centers, 10));
});

Deno.test("herding's running-mean error decreases and beats random selection", () => {
  const { X, n, d } = matrix("km300.x");
  const k = 20;
  const { indices, errors } = herding(X, n, d, k);
  assert.equal(new Set(indices).size, k);
  assert.ok(errors[k - 1] < 0.25 * errors[0], `errors ${errors[0]} -> ${errors[k - 1]}`);
  for (let t = 4; t < k; t += 5) assert.ok(errors[t] < errors[t - 4], `step ${t}`);
  // Same error recomputed from the chosen rows; random rows of the same count do worse.
  const err = (rows: ArrayLike<number>) => {
    let s = 0;
    for (let j = 0; j < d; j++) {
      let mu = 0;
      let sel = 0;
      for (let i = 0; i < n; i++) mu += X[i * d + j] / n;
      for (let t = 0; t < rows.length; t++) sel += X[rows[t] * d + j] / rows.length;
      s += (mu - sel) ** 2;
    }
    return Math.sqrt(s);
  };
  assert.ok(Math.abs(err(indices) - errors[k - 1]) < 1e-6 * errors[0]);
  const random = Array.from({ length: 10 }, (_, s) => err(Rng.from(s).permutation(n).slice(0, k)));
  assert.ok(errors[k - 1] < Math.min(...random));
});

Deno.test("gaussianMixture() matches sklearn's diagonal GMM means, weights and lower bound", () => {
  const { X, n, d } = matrix("gmm.x");
  const r = gaussianMixture(X, n, d, { k: 3, seed: 0 });
  const ref = toFloat32(tensors.get("gmm.means")!);
  const refVar = toFloat32(tensors.get("gmm.covariances")!);
  const refW = toFloat32(tensors.get("gmm.weights")!);
  for (let c = 0; c < 3; c++) {
    let m = 0;
    for (let o = 1; o < 3; o++) {
      if (dist(ref, c, r.means, o, d) < dist(ref, c, r.means, m, d)) m = o;
    }
    assert.ok(dist(ref, c, r.means, m, d) < 1e-4, `component ${c}`);
    assert.ok(dist(refVar, c, r.variances, m, d) < 1e-4, `variances ${c}`);
    assert.ok(Math.abs(refW[c] - r.weights[m]) < 1e-6);
  }
  assert.ok(Math.abs(r.lowerBound - f64("gmm.lower_bound")[0]) < 1e-5, `${r.lowerBound}`);
  assert.ok(r.converged);
  assert.equal(randIndex(r.labels, i32("gmm.labels")), 1);
});

Deno.test("dbscan() labels the 2-D fixture exactly as sklearn does", () => {
  const { X, n, d } = matrix("dbscan.x");
  const r = dbscan(X, n, d, { eps: 0.5, minSamples: 5 });
  assert.deepEqual(r.labels, i32("dbscan.labels"));
  assert.equal(r.nClusters, 3);
});

Deno.test("spectralClustering() partitions the circles as sklearn does for both affinities", () => {
  const { X, n, d } = matrix("spectral.x");
  const rbf = spectralClustering(X, n, d, { nClusters: 2, gamma: 20, seed: 0 });
  assert.equal(randIndex(rbf.labels, i32("spectral.rbf_labels")), 1);
  const knn = spectralClustering(X, n, d, {
    nClusters: 2,
    affinity: "nearest_neighbors",
    nNeighbors: 10,
  });
  assert.equal(randIndex(knn.labels, i32("spectral.knn_labels")), 1);
  // k-means alone cannot separate concentric circles.
  assert.ok(randIndex(kmeans(X, n, d, { k: 2 }).labels, i32("spectral.truth")) < 0.9);
});

Deno.test("with more clusters than k, dbscan and spectral keep the k largest", () => {
  const { X, n, d } = matrix("dbscan.x");
  const labels = i32("dbscan.labels");
  const sizes = [0, 1, 2].map((c) => labels.filter((l) => l === c).length);
  const r = discoverModes(X, n, d, { method: "dbscan", k: 2, eps: 0.5, minSamples: 5 });
  assert.equal(r.details.clustersFound, 3);
  const smallest = sizes.indexOf(Math.min(...sizes));
  labels.forEach((l, i) => {
    if (l === smallest || l < 0) assert.equal(r.assignment![i], -1);
  });
  assert.equal(new Set(r.assignment).size, 3); // modes 0, 1 and -1
  const s = separated(4, 8, 30, 7);
  const sp = discoverModes(s.X, s.n, s.d, { method: "spectral", k: 3, nClusters: 4 });
  assert.equal(sp.details.clustersFound, 4);
  assert.equal(sp.assignment!.filter((a) => a < 0).length, 30);
});

Deno.test("with fewer clusters than k, dbscan and spectral split the largest cluster", () => {
  const { X, n, d } = matrix("dbscan.x");
  const r = discoverModes(X, n, d, { method: "dbscan", k: 5, eps: 0.5, minSamples: 5 });
  assert.equal(r.details.clustersFound, 3);
  assert.equal(r.details.countRule, "split the largest");
  assert.deepEqual([...new Set(r.assignment)].sort(), [-1, 0, 1, 2, 3, 4]);
  // The two smaller DBSCAN clusters survive whole.
  const labels = i32("dbscan.labels");
  const sizes = [0, 1, 2].map((c) => labels.filter((l) => l === c).length);
  const largest = sizes.indexOf(Math.max(...sizes));
  for (const c of [0, 1, 2].filter((c) => c !== largest)) {
    const mine = new Set(r.assignment!.filter((_, i) => labels[i] === c));
    assert.equal(mine.size, 1, `cluster ${c} kept whole`);
  }
  // Everything noise (tiny eps): k-means on all rows.
  const none = discoverModes(X, n, d, { method: "dbscan", k: 3, eps: 1e-6, minSamples: 5 });
  assert.equal(none.details.clustersFound, 0);
  assert.equal(none.details.countRule, "k-means on all rows");
  assert.equal(new Set(none.assignment).size, 3);
  // Identical rows: one cluster, split into empty k-means clusters; modes stay on the data.
  const same = discoverModes(new Float32Array(20 * 3).fill(2), 20, 3, { method: "dbscan", k: 4 });
  assert.deepEqual(same.modes, new Float32Array(4 * 3).fill(2));
  const s = separated(2, 8, 30, 8);
  const sp = discoverModes(s.X, s.n, s.d, { method: "spectral", k: 3, nClusters: 2 });
  assert.equal(sp.details.countRule, "split the largest");
  assert.equal(new Set(sp.assignment).size, 3);
});

Deno.test("topEigenpairs() by block Lanczos agrees with the dense eigensolver", () => {
  const { X, d } = matrix("km300.x");
  const n = 300;
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) A[i * n + j] = Math.exp(-(dist(X, i, X, j, d) ** 2) / 800);
  }
  const dense = topEigenpairs(A, n, 6, Rng.from(0), { method: "dense" });
  const lanczos = topEigenpairs(A, n, 6, Rng.from(0), { method: "lanczos" });
  assert.ok(lanczos.converged);
  for (let c = 0; c < 6; c++) {
    assert.ok(Math.abs(dense.values[c] - lanczos.values[c]) < 1e-8 * dense.values[0]);
    let dot = 0;
    for (let i = 0; i < n; i++) dot += dense.vectors[c * n + i] * lanczos.vectors[c * n + i];
    assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-6, `vector ${c}: |dot| ${dot}`);
  }
});

Deno.test("bad options give clear errors naming the option", () => {
  const { X, n, d } = separated(2, 4, 5, 9); // [10, 4]
  const bad = (o: unknown, re: RegExp, data = X) =>
    assert.throws(() => discoverModes(data, n, d, o as { method: "kmeans"; k: number }), re);
  bad({ method: "kmeans", k: 11 }, /option k = 11 is invalid.*n = 10 samples/);
  bad({ method: "kmeans", k: 0 }, /option k = 0 is invalid; expected an integer in 1\.\.10/);
  bad({ method: "gmm", k: 2.5 }, /option k = 2.5/);
  bad({ method: "kmeans" }, /option k = undefined/);
  bad({ method: "kmedoids", k: 2 }, /option method = "kmedoids" is invalid; expected one of/);
  bad({ k: 2 }, /option method = undefined/);
  bad({ method: "kmeans", k: 2, eps: 0.5 }, /option eps does not apply to method "kmeans"/);
  bad({ method: "kmeans", k: 2, tol: -1 }, /option tol = -1/);
  bad({ method: "kmeans", k: 2, maxIter: 0 }, /option maxIter = 0/);
  bad({ method: "dbscan", k: 2, eps: -1 }, /option eps = -1/);
  bad({ method: "spectral", k: 2, gamma: 0 }, /option gamma = 0/);
  bad({ method: "spectral", k: 2, affinity: "cosine" }, /option affinity = "cosine"/);
  bad({ method: "random", k: 2, seed: -1 }, /option seed = -1/);
  const nan = X.slice();
  nan[2 * d + 3] = NaN;
  bad({ method: "kmeans", k: 2 }, /X contains NaN at row 2, column 3/, nan);
  bad({ method: "herding", k: 2 }, /X has 39 values, expected n \* d = 10 \* 4 = 40/, X.slice(1));
  assert.deepEqual([...MODE_METHODS].sort(), [
    "closest",
    "dbscan",
    "gmm",
    "herding",
    "kmeans",
    "random",
    "spectral",
  ]);
});
