import assert from "node:assert/strict";
import { pcaInit } from "../eval/metrics/_pca_init.ts";
import {
  centeredGram,
  jointProbabilitiesFull,
  jointProbabilitiesKnn,
  sqDistancesFromGram,
} from "../eval/metrics/_tsne_affinities.ts";
import { gradientDescent } from "../eval/metrics/_tsne_descent.ts";
import { type Affinities, klDivergence, klGradient } from "../eval/metrics/_tsne_gradient.ts";
import { classMetrics } from "../eval/metrics/class_metrics.ts";
import { diversity, embeddingScale, representativeness } from "../eval/metrics/diversity.ts";
import { diversityTable, formatDiversityTable } from "../eval/metrics/diversity_table.ts";
import { embedClass } from "../eval/metrics/embed_class.ts";
import { type Points, points } from "../eval/metrics/points.ts";
import { tsne } from "../eval/metrics/tsne.ts";
import { umap } from "../eval/metrics/umap.ts";
import { readSafetensors } from "../models/io/safetensors.ts";
import { type Tensor, toFloat32 } from "../models/core/tensor.ts";
import { Rng } from "../models/core/random.ts";

const FIXTURE = new URL("./fixtures/eval/tsne.safetensors", import.meta.url).pathname;

async function sklearnFixture() {
  const { tensors, metadata } = await readSafetensors(FIXTURE);
  const get = (k: string): Tensor => {
    const t = tensors.get(k);
    if (!t) throw new Error(`Fixture ${FIXTURE} has no tensor "${k}"`);
    return t;
  };
  const x = get("x");
  const [n, d] = x.shape;
  return {
    get,
    metadata,
    x: points(toFloat32(x), d),
    n,
    d,
    perplexity: Number(metadata.perplexity),
  };
}

/** Gaussian clusters: `k` centers at distance about `sep` apart, `per` points each. */
function clusters(k: number, per: number, d: number, sep: number, seed: number) {
  const rng = Rng.from(seed);
  const centers = Array.from({ length: k }, () => rng.randn(d).map((v) => v * sep));
  const data = new Float32Array(k * per * d);
  const labels = new Int32Array(k * per);
  for (let i = 0; i < k * per; i++) {
    labels[i] = i % k;
    const z = rng.randn(d);
    for (let j = 0; j < d; j++) data[i * d + j] = centers[i % k][j] + z[j];
  }
  return { x: points(data, d), labels };
}

/** Leave-one-out k-NN accuracy of the labels in an embedding [n, 2]. */
function knnAccuracy(y: Float32Array, labels: Int32Array, k = 5): number {
  const n = labels.length;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const order = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i)
      .sort((a, b) =>
        (y[2 * a] - y[2 * i]) ** 2 + (y[2 * a + 1] - y[2 * i + 1]) ** 2 -
        ((y[2 * b] - y[2 * i]) ** 2 + (y[2 * b + 1] - y[2 * i + 1]) ** 2)
      );
    const votes = new Map<number, number>();
    for (const j of order.slice(0, k)) votes.set(labels[j], (votes.get(labels[j]) ?? 0) + 1);
    const best = [...votes.entries()].sort((a, b) => b[1] - a[1])[0][0];
    if (best === labels[i]) correct++;
  }
  return correct / n;
}

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>, floor: number): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor));
  }
  return m;
}

Deno.test("t-SNE input affinities match scikit-learn's exact and nearest-neighbour P", async () => {
  const { get, x, n, d, perplexity } = await sklearnFixture();
  const dist = sqDistancesFromGram(centeredGram(x.data, n, d), n);
  const full = jointProbabilitiesFull(dist, n, perplexity);
  assert.ok(maxRelErr(full, get("p_exact").data as Float64Array, 1e-300) < 1e-9);
  const knn = jointProbabilitiesKnn(dist, n, perplexity);
  const dense = new Float64Array(n * n);
  knn.p.forEach((p, c) => dense[knn.i[c] * n + knn.j[c]] = dense[knn.j[c] * n + knn.i[c]] = p);
  const expected = get("p_knn").data as Float64Array;
  assert.ok(maxRelErr(dense, expected, 1e-300) < 1e-9);
  assert.equal(dense.filter((v) => v > 0).length, expected.filter((v) => v > 0).length);
});

Deno.test("t-SNE's PCA initialisation matches scikit-learn's (first column std 1e-4, svd_flip signs)", async () => {
  const { get, x, n, d } = await sklearnFixture();
  const init = pcaInit(centeredGram(x.data, n, d), n, 2, Rng.from(42));
  const expected = toFloat32(get("pca_init"));
  let err = 0;
  for (let i = 0; i < init.length; i++) err = Math.max(err, Math.abs(init[i] - expected[i]));
  assert.ok(err < 1e-4 * 1e-3, `max abs err ${err} at scale 1e-4`);
  let s = 0;
  for (let i = 0; i < n; i++) s += init[2 * i] ** 2;
  assert.ok(Math.abs(Math.sqrt(s / n) - 1e-4) < 1e-9);
});

Deno.test("the t-SNE gradient matches scikit-learn's and finite differences of the KL divergence", async () => {
  const { get, n } = await sklearnFixture();
  const p = get("p_exact").data as Float64Array;
  const dense: Affinities = { kind: "dense", p };
  const grad = new Float64Array(2 * n);
  klGradient(toFloat32(get("pca_init")), n, dense, 12, grad);
  assert.ok(maxRelErr(grad, toFloat32(get("grad0")), 1e-9) < 1e-5);
  // Finite differences at a spread-out point, for dense and sparse P (float64 objective).
  const sparse = jointProbabilitiesKnn(
    sqDistancesFromGram(centeredGram(toFloat32(get("x")), n, 12), n),
    n,
    10,
  );
  const rng = Rng.from(1);
  for (const aff of [dense, { kind: "sparse", pairs: sparse } as Affinities]) {
    const y = rng.randn(2 * n).map((v) => v * 3);
    klGradient(y, n, aff, 1, grad);
    for (const c of [0, 7, 51, 2 * n - 1]) {
      const h = 1e-2;
      const plus = y.slice();
      const minus = y.slice();
      plus[c] += h;
      minus[c] -= h;
      const step = plus[c] - minus[c]; // the float32 step actually taken
      const fd = (klDivergence(plus, n, aff, 1) - klDivergence(minus, n, aff, 1)) / step;
      assert.ok(
        Math.abs(fd - grad[c]) < 1e-4 + 1e-3 * Math.abs(grad[c]),
        `${aff.kind} ${c}: ${fd} vs ${grad[c]}`,
      );
    }
  }
});

Deno.test("the first t-SNE iterations match scikit-learn's gradient descent step for step", async () => {
  const { get, n } = await sklearnFixture();
  const aff: Affinities = { kind: "dense", p: get("p_exact").data as Float64Array };
  for (const k of [1, 2, 5]) {
    const y = toFloat32(get("pca_init")).slice(); // updated in place
    gradientDescent(y, n, aff, {
      start: 0,
      end: k,
      momentum: 0.5,
      exaggeration: 12,
      patience: 250,
      learningRate: 50,
      minGradNorm: 1e-7,
    });
    const expected = toFloat32(get(`steps_${k}`));
    let scale = 0;
    for (const v of expected) scale = Math.max(scale, Math.abs(v));
    let err = 0;
    for (let i = 0; i < y.length; i++) err = Math.max(err, Math.abs(y[i] - expected[i]));
    assert.ok(err < 1e-5 * scale, `after ${k} steps: max abs err ${err}, scale ${scale}`);
  }
});

Deno.test("tsne() reaches scikit-learn's KL divergence and keeps its clusters apart", async () => {
  const { x, metadata, perplexity } = await sklearnFixture();
  const r = tsne(x, { perplexity, affinities: "exact" });
  const expectedKl = Number(metadata.kl_divergence);
  // The optimisation is chaotic (float32 rounding differences grow to O(1) within ~50
  // iterations), so the embedding is compared by its objective and structure, not values.
  assert.ok(
    Math.abs(r.klDivergence - expectedKl) < 0.05 * expectedKl,
    `${r.klDivergence} vs ${expectedKl}`,
  );
  assert.equal(r.nIter, Number(metadata.n_iter));
  assert.equal(r.learningRate, Number(metadata.learning_rate));
  const labels = Int32Array.from({ length: 90 }, (_, i) => Math.floor(i / 30));
  assert.equal(knnAccuracy(r.embedding, labels), 1);
});

Deno.test("tsne() separates well-separated clusters (kNN accuracy 1) and is deterministic for a seed", () => {
  const { x, labels } = clusters(4, 40, 24, 3, 7);
  const a = tsne(x, { perplexity: 15 });
  const b = tsne(x, { perplexity: 15 });
  assert.deepEqual(a.embedding, b.embedding);
  assert.equal(knnAccuracy(a.embedding, labels), 1);
  const c = tsne(x, { perplexity: 15, init: "random", seed: 1 });
  assert.notDeepEqual(c.embedding, a.embedding);
  assert.equal(knnAccuracy(c.embedding, labels), 1);
});

Deno.test("tsne() rejects a perplexity not below the number of points", () => {
  const x = points(new Float32Array(20), 2);
  assert.throws(() => tsne(x, { perplexity: 10 }), /perplexity must be in \(0, n_samples = 10\)/);
});

Deno.test("umap() separates well-separated clusters and is deterministic for a seed", () => {
  const { x, labels } = clusters(3, 30, 16, 3, 8);
  const a = umap(x, { seed: 3, nEpochs: 200 });
  const b = umap(x, { seed: 3, nEpochs: 200 });
  assert.deepEqual(a, b);
  assert.equal(knnAccuracy(a, labels), 1);
});

Deno.test("diversity() and representativeness() give the known answers on hand-made point sets", () => {
  assert.deepEqual([...diversity(points(new Float32Array([0, 0, 3, 4, 0, -1]), 2))], [1, 5, 1]);
  assert.ok(Number.isNaN(diversity(points(new Float32Array([1, 1]), 2))[0]));
  // Eight originals on the unit circle and two far away; k = 8 averages the circle only.
  const ring = Array.from(
    { length: 8 },
    (_, i) => [Math.cos(i * Math.PI / 4), Math.sin(i * Math.PI / 4)],
  );
  const original = points(new Float32Array([...ring.flat(), 100, 0, -100, 0]), 2);
  const synth = points(new Float32Array([0, 0, 100, 0]), 2);
  const rep = representativeness(synth, original, 8);
  assert.ok(Math.abs(rep[0] - 1) < 1e-6);
  // (100, 0): distance 0 to itself, then 99 to (1, 0), ... the 7 nearest ring points.
  const d100 = ring.map(([x, y]) => Math.hypot(100 - x, y)).sort((a, b) => a - b).slice(0, 7);
  assert.ok(Math.abs(rep[1] - d100.reduce((s, v) => s + v, 0) / 8) < 1e-4);
  // k above the number of originals uses them all.
  assert.deepEqual([
    ...representativeness(points(new Float32Array([0]), 1), points(new Float32Array([1, 3]), 1)),
  ], [2]);
  const square = points(new Float32Array([0, 0, 2, 0, 0, 2, 2, 2]), 2);
  assert.ok(Math.abs(embeddingScale(square) - (8 + 4 * Math.SQRT2) / 6) < 1e-12);
});

Deno.test("classMetrics() normalises by the class's mean pairwise original distance, keeping raw values", () => {
  const original = points(new Float32Array([0, 0, 2, 0, 0, 2, 2, 2]), 2);
  const m = classMetrics(
    { original, synthetic: { A: points(new Float32Array([0, 0, 2, 2]), 2) } },
    { k: 2 },
  );
  const scale = (8 + 4 * Math.SQRT2) / 6;
  assert.ok(Math.abs(m.scale - scale) < 1e-12);
  const a = m.methods.A;
  assert.ok(Math.abs(a.diversity[0] - 2 * Math.SQRT2) < 1e-6);
  assert.ok(Math.abs(a.diversityNorm[0] - 2 * Math.SQRT2 / scale) < 1e-6);
  assert.ok(Math.abs(a.representativeness[1] - 1) < 1e-12); // (2,2): 0 and 2 -> mean 1
  assert.ok(Math.abs(a.representativenessScore[1] - (1 - 1 / scale)) < 1e-12);
});

Deno.test("diversityTable() averages each class and min-max normalises over the whole table", () => {
  const original = points(new Float32Array([0, 0, 4, 0, 0, 4, 4, 4]), 2);
  const pts = (v: number[]) => points(new Float32Array(v), 2);
  const classes = [
    {
      className: "tench",
      metrics: classMetrics({
        original,
        synthetic: { DiT: pts([0, 0, 1, 0]), MGD3: pts([0, 0, 4, 0]) },
      }),
    },
    {
      className: "church",
      metrics: classMetrics({
        original,
        synthetic: { DiT: pts([0, 0, 2, 0]), MGD3: pts([0, 0, 3, 0]) },
      }),
    },
  ];
  const table = diversityTable(classes);
  assert.deepEqual(table.methods, ["DiT", "MGD3"]);
  assert.deepEqual(table.rows.map((r) => r.raw), [{ DiT: 1, MGD3: 4 }, { DiT: 2, MGD3: 3 }]);
  const v = table.rows.map((r) => [r.values.DiT, r.values.MGD3]);
  assert.deepEqual(
    v.flat().map((x) => Math.round(x * 1e9) / 1e9),
    [0, 1, 1 / 3, 2 / 3].map((x) => Math.round(x * 1e9) / 1e9),
  );
  assert.ok(Math.abs(table.average.values.MGD3 - (1 + 2 / 3) / 2) < 1e-12);
  const scaled = diversityTable(classes, { normalization: "class-scale" });
  assert.ok(Math.abs(scaled.rows[0].values.MGD3 - 4 / classes[0].metrics.scale) < 1e-12);
  const md = formatDiversityTable(table);
  assert.ok(md.startsWith("| class | DiT | MGD3 |\n|---|---|---|\n| tench | 0.00 | 1.00 |"));
  assert.ok(md.endsWith("| Average | 0.17 | 0.83 |"));
});

Deno.test("embedClass() fits one embedding on all sets and splits the coordinates back", () => {
  const { x } = clusters(2, 30, 8, 3, 9);
  const sub = (a: number, b: number): Points => points(x.data.slice(a * 8, b * 8), 8);
  const latents = {
    original: sub(0, 50),
    synthetic: { DiT: sub(50, 55), MGD3: sub(55, 60) },
    modes: sub(0, 2),
  };
  const e = embedClass(latents, { tsne: { perplexity: 10 } });
  assert.deepEqual(
    [e.original.shape, e.synthetic.DiT.shape, e.synthetic.MGD3.shape, e.modes?.shape],
    [[50, 2], [5, 2], [5, 2], [2, 2]],
  );
  const all = new Float32Array(62 * 8);
  all.set(x.data.slice(0, 60 * 8));
  all.set(x.data.slice(0, 2 * 8), 60 * 8);
  const direct = tsne(points(all, 8), { perplexity: 10 }).embedding;
  assert.deepEqual(e.synthetic.MGD3.data, direct.slice(110, 120));
  assert.deepEqual(e.modes?.data, direct.slice(120, 124));
  const u = embedClass(latents, { method: "umap", umap: { nEpochs: 50 } });
  assert.deepEqual(u.original.shape, [50, 2]);
});
