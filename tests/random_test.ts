import assert from "node:assert/strict";
import { Rng } from "../models/core/random.ts";

Deno.test("Rng.from() gives the same stream for the same seed and keys, another for other keys", () => {
  assert.deepEqual([...Rng.from(0, 3, 17).randn(8)], [...Rng.from(0, 3, 17).randn(8)]);
  assert.notDeepEqual([...Rng.from(0, 3, 17).randn(8)], [...Rng.from(0, 3, 18).randn(8)]);
  assert.notDeepEqual([...Rng.from(0).rand(4)], [...Rng.from(1).rand(4)]);
});

Deno.test("randn() draws have mean 0 and variance 1 and random() is uniform", () => {
  const z = Rng.from(42).randn(200_000);
  let m = 0;
  let v = 0;
  for (const x of z) m += x;
  m /= z.length;
  for (const x of z) v += (x - m) ** 2;
  v /= z.length;
  assert.ok(Math.abs(m) < 0.01, `mean ${m}`);
  assert.ok(Math.abs(v - 1) < 0.01, `variance ${v}`);
  const u = Rng.from(7).rand(100_000);
  const bins = new Array(10).fill(0);
  for (const x of u) bins[Math.floor(x * 10)]++;
  for (const b of bins) assert.ok(Math.abs(b - 10_000) < 500, `bin ${b}`);
});

Deno.test("permutation() is a permutation and beta(1, 1) is uniform on [0, 1]", () => {
  const p = Rng.from(1).permutation(1000);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  const rng = Rng.from(2);
  let mean = 0;
  for (let i = 0; i < 20_000; i++) mean += rng.beta(1) / 20_000;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
});

Deno.test("Rng.from() rejects seeds that are not 32-bit unsigned integers", () => {
  assert.throws(() => Rng.from(-1), /Random seed and keys must be integers/);
  assert.throws(() => Rng.from(0.5), /Random seed and keys must be integers/);
});
