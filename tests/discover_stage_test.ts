import assert from "node:assert/strict";
import { FIXTURE_SAMPLE } from "./_store_fixture.ts";
import { Store } from "../stages/store/store.ts";
import { discover } from "../stages/discover.ts";
import { sample } from "../stages/sample.ts";
import { ALL } from "../stages/store/shard.ts";
import { Rng } from "../models/core/random.ts";
import { GaussianSchedule, linearBetas } from "../models/diffusion/schedule.ts";
import { gmmDenoiser } from "./_gmm_denoiser.ts";

const DIM = 8;
const rng = Rng.from(11);
const centers = [0, 1].map(() => [0, 1, 2].map(() => Array.from(rng.randn(DIM), (v) => 3 * v)));

async function latentsStore(): Promise<Store> {
  const store = await Store.open(await Deno.makeTempDir({ prefix: "mgd3-discover-" }));
  const a = await store.artifact("latents", { kind: "latents", options: {}, seed: null });
  for (let c = 0; c < 2; c++) {
    const data = new Float32Array(60 * DIM);
    for (let i = 0; i < 60; i++) {
      const m = centers[c][i % 3];
      for (let j = 0; j < DIM; j++) data[i * DIM + j] = m[j] + 0.1 * rng.normal();
    }
    await a.writeShard(
      `class-00${c}`,
      { latents: { dtype: "F32", shape: [60, DIM, 1, 1], data } },
      {
        class: String(c),
        name: `c${c}`,
      },
    );
  }
  return store;
}

Deno.test("discover() finds the k cluster centres of each class and records indices for selection methods", async () => {
  const store = await latentsStore();
  const r = await discover(store, {
    latents: "latents",
    out: "modes",
    modes: { method: "kmeans", k: 3, seed: 0 },
    shard: ALL,
    overwrite: false,
  });
  assert.deepEqual(r.written, ["class-000", "class-001"]);
  const { tensors, metadata } = await (await store.open("modes")).readShard("class-001");
  assert.deepEqual(tensors.get("modes")!.shape, [3, DIM, 1, 1]);
  assert.equal(metadata.name, "c1");
  const modes = tensors.get("modes")!.data as Float32Array;
  for (const c of centers[1]) {
    const best = Math.min(
      ...[0, 1, 2].map((k) => Math.hypot(...c.map((v, j) => v - modes[k * DIM + j]))),
    );
    assert.ok(best < 0.2, `a true centre is ${best} from the nearest mode`);
  }
  assert.deepEqual(tensors.get("assignment")!.shape, [60]);
  await discover(store, {
    latents: "latents",
    out: "closest",
    modes: { method: "closest", k: 3, seed: 0 },
    shard: ALL,
    overwrite: false,
  });
  const idx = (await (await store.open("closest")).readShard("class-000")).tensors.get("indices")!;
  assert.equal(new Set(idx.data as BigInt64Array).size, 3);
  // Resume: the same call skips both classes.
  const again = await discover(store, {
    latents: "latents",
    out: "modes",
    modes: { method: "kmeans", k: 3, seed: 0 },
    shard: ALL,
    overwrite: false,
  });
  assert.deepEqual(again.skipped, ["class-000", "class-001"]);
});

Deno.test("discover() then sample() runs end to end and names a class whose k is too large", async () => {
  const store = await latentsStore();
  await discover(store, {
    latents: "latents",
    out: "modes",
    modes: { method: "kmeans", k: 3, seed: 0 },
    shard: ALL,
    overwrite: false,
  });
  const base = GaussianSchedule.fromBetas(linearBetas(1000));
  const model = gmmDenoiser(
    centers.map((m) => ({ weights: [1 / 3, 1 / 3, 1 / 3], means: m, std: 0.1 })),
    base,
    DIM,
  );
  const r = await sample(store, model, FIXTURE_SAMPLE);
  assert.equal(r.written.length, 2);
  await assert.rejects(
    () =>
      discover(store, {
        latents: "latents",
        out: "big",
        modes: { method: "kmeans", k: 61, seed: 0 },
        shard: ALL,
        overwrite: false,
      }),
    /Class c0 .*k = 61/,
  );
});
