import assert from "node:assert/strict";
import { classCoverage, median, poolCoverage } from "../eval/metrics/coverage.ts";
import { coverageTable, formatCoverageTable } from "../eval/metrics/coverage_table.ts";
import { classMetrics } from "../eval/metrics/class_metrics.ts";
import { points } from "../eval/metrics/points.ts";

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} != ${b}`);

// Class A: modes (0,0), (10,0), (0,10); samples (1,0), (1,1), (0,7), sample i paired with mode i.
const MODES_A = points(new Float32Array([0, 0, 10, 0, 0, 10]), 2);
const SAMPLES_A = points(new Float32Array([1, 0, 1, 1, 0, 7]), 2);
// Class B: modes (0,0), (4,0); samples (3,0), (1,0): each sample ends nearer the other mode.
const MODES_B = points(new Float32Array([0, 0, 4, 0]), 2);
const SAMPLES_B = points(new Float32Array([3, 0, 1, 0]), 2);

Deno.test("classCoverage() gives the hand-computed distances, nearest-sample hits and covered modes", () => {
  const c = classCoverage(SAMPLES_A, MODES_A);
  assert.deepEqual([...c.toMode].map((x) => +x.toFixed(6)), [1, +Math.sqrt(82).toFixed(6), 3]);
  close(c.meanToMode, (4 + Math.sqrt(82)) / 3, "mean");
  close(c.medianToMode, 3, "median");
  // Mode 0's nearest sample is s0 (hit), mode 1's is s0 (9 < sqrt 82: miss), mode 2's is s2 (hit).
  assert.equal(c.guidedNearest, 2);
  // s0 and s1 are nearest to mode 0, s2 to mode 2: two distinct modes covered of three.
  assert.equal(c.covered, 2);
  assert.equal(c.modes, 3);
  close(c.modeSpacing, 10, "spacing");
  const b = classCoverage(SAMPLES_B, MODES_B);
  assert.equal(b.guidedNearest, 0); // swapped: no mode's nearest sample is its own
  assert.equal(b.covered, 2); // but both modes are covered
  assert.deepEqual([...b.toMode], [3, 3]);
});

Deno.test("classCoverage() with rms divides every distance by sqrt(d), and refuses unpaired sets", () => {
  const c = classCoverage(SAMPLES_A, MODES_A, { rms: true });
  close(c.toMode[2], 3 / Math.SQRT2, "rms to mode");
  close(c.modeSpacing, 10 / Math.SQRT2, "rms spacing");
  assert.throws(() => classCoverage(SAMPLES_B, MODES_A), /2 samples for 3 modes/);
  assert.throws(() => classCoverage(points(new Float32Array(9), 3), MODES_A), /dimension 3/);
});

Deno.test("poolCoverage() pools samples and modes over classes and states chance as mean 1/k", () => {
  const p = poolCoverage([classCoverage(SAMPLES_A, MODES_A), classCoverage(SAMPLES_B, MODES_B)]);
  close(p.meanToMode, (1 + Math.sqrt(82) + 3 + 3 + 3) / 5, "pooled mean");
  close(p.medianToMode, 3, "pooled median");
  close(p.guidedNearestShare, 2 / 5, "share");
  close(p.chance, (1 / 3 + 1 / 2) / 2, "chance");
  assert.equal(p.covered, 4);
  assert.equal(p.modes, 5);
  close(p.modeSpacing, 7, "spacing");
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

Deno.test("coverageTable() puts coverage beside diversity and representativeness, one row per space and method", () => {
  const original = points(new Float32Array([0, 0, 10, 0, 0, 10, 10, 10]), 2);
  const metrics = classMetrics({ original, synthetic: { MGD3: SAMPLES_A, DiT: SAMPLES_A } }, {
    k: 1,
  });
  const input = {
    coverage: {
      MGD3: classCoverage(SAMPLES_A, MODES_A),
      DiT: classCoverage(points(new Float32Array([5, 5, 5, 5, 5, 5]), 2), MODES_A),
    },
    metrics,
  };
  const t = coverageTable({ latent: [input], tsne: [input] });
  assert.deepEqual(t.rows.map((r) => `${r.space}/${r.method}`), [
    "latent/MGD3",
    "latent/DiT",
    "tsne/MGD3",
    "tsne/DiT",
  ]);
  const dit = t.rows[1];
  assert.equal(dit.covered, 1); // three samples on one point all pick mode 0 (first on ties)
  // Diversity: sample minimum distances 1, 1, 6.08 over scale = mean pairwise original distance.
  const scale = (4 * 10 + 2 * Math.sqrt(200)) / 6;
  close(t.rows[0].diversity, (1 + 1 + Math.sqrt(37)) / 3 / scale, "diversity");
  const md = formatCoverageTable(t);
  assert.match(md, /\| latent \| MGD3 \| 4\.352 \| 3\.000 \| 10\.000 \| 67% \(33%\) \| 2\/3 \|/);
  assert.equal(md.split("\n").length, 2 + 4);
});
