import assert from "node:assert/strict";
import { FIXTURE_SAMPLE } from "./_store_fixture.ts";
import { Store } from "../stages/store/store.ts";
import { sample, type SampleOptions } from "../stages/sample.ts";
import { GaussianSchedule, linearBetas, spaceTimesteps } from "../models/diffusion/schedule.ts";
import { sampleBatch } from "../stages/diffusion/sampler.ts";
import { OptionError } from "../stages/option_error.ts";
import { Rng } from "../models/core/random.ts";
import { gmmDenoiser } from "./_gmm_denoiser.ts";

const DIM = 16;
const base = GaussianSchedule.fromBetas(linearBetas(1000));
const rng = Rng.from(5);
const classes = [0, 1, 2].map(() => ({
  weights: [0.5, 0.5],
  means: [Array.from(rng.randn(DIM)), Array.from(rng.randn(DIM))],
  std: 0.3,
}));
const model = gmmDenoiser(classes, base, DIM);

async function storeWithModes(): Promise<Store> {
  const store = await Store.open(await Deno.makeTempDir({ prefix: "mgd3-sample-" }));
  const modes = await store.artifact("modes", { kind: "modes", options: { k: 2 }, seed: 0 });
  for (let c = 0; c < 3; c++) {
    const data = Float32Array.from(classes[c].means.flat());
    await modes.writeShard(`class-${c}`, { modes: { dtype: "F32", shape: [2, DIM, 1, 1], data } }, {
      class: String(c),
      name: `c${c}`,
    });
  }
  return store;
}

const OPTS: SampleOptions = FIXTURE_SAMPLE; // DDPM defaults, cfg 1, all channels, fixed small

async function latents(store: Store, name = "samples"): Promise<number[]> {
  const a = await store.open(name);
  const all: number[] = [];
  for (const s of await a.shards()) {
    all.push(...(await a.readShard(s)).tensors.get("latents")!.data as Float32Array);
  }
  return all;
}

Deno.test("sample() writes one latent per mode for every class, and a re-run skips finished classes", async () => {
  const store = await storeWithModes();
  const first = await sample(store, model, OPTS);
  assert.deepEqual(first.written, ["class-0", "class-1", "class-2"]);
  const again = await sample(store, model, OPTS);
  assert.deepEqual(again.written, []);
  assert.deepEqual(again.skipped, ["class-0", "class-1", "class-2"]);
  const { tensors, metadata } = await (await store.open("samples")).readShard("class-1");
  assert.deepEqual(tensors.get("latents")!.shape, [2, DIM, 1, 1]);
  assert.equal(metadata.class, "1");
});

Deno.test("sample() results do not depend on batch size or on --shard", async () => {
  const whole = await storeWithModes();
  await sample(whole, model, { ...OPTS, batchSize: 8 });
  const split = await storeWithModes();
  await sample(split, model, { ...OPTS, batchSize: 1, shard: { index: 1, count: 2 } });
  assert.deepEqual(await (await split.open("samples")).shards(), ["class-1"]);
  await sample(split, model, { ...OPTS, batchSize: 1, shard: { index: 0, count: 2 } });
  assert.deepEqual(await latents(split), await latents(whole));
});

Deno.test("sample() refuses to overwrite samples made with another seed or lambda", async () => {
  const store = await storeWithModes();
  await sample(store, model, OPTS);
  await assert.rejects(() => sample(store, model, { ...OPTS, seed: 1 }), /Refusing to overwrite/);
  await assert.rejects(
    () => sample(store, model, { ...OPTS, guidance: { lambda: 0.2, tStop: 25 } }),
    /guidance=.*lambda":0.1.*\(now .*lambda":0.2/,
  );
  const r = await sample(store, model, { ...OPTS, seed: 1, overwrite: true });
  assert.equal(r.written.length, 3);
});

Deno.test("sample() rejects modes whose latent shape does not fit the model", async () => {
  const store = await Store.open(await Deno.makeTempDir());
  const modes = await store.artifact("modes", { kind: "modes", options: {}, seed: 0 });
  await modes.writeShard("class-0", {
    modes: { dtype: "F32", shape: [1, 4, 2, 2], data: new Float32Array(16) },
  }, {
    class: "0",
  });
  await assert.rejects(
    () => sample(store, model, OPTS),
    /are \[4,2,2\] latents; the model takes \[16,1,1\]/,
  );
});

Deno.test("sample() refuses, before writing, mode guidance that would act on no step: t_stop must be below steps-1 (the D4M start with strength)", async () => {
  const store = await storeWithModes();
  for (const o of [{ steps: 3, tStop: 2 }, { steps: 50, tStop: 49 }, { steps: 4, tStop: 25 }]) {
    await assert.rejects(
      () =>
        sample(store, model, {
          ...OPTS,
          steps: o.steps,
          guidance: { lambda: 0.1, tStop: o.tStop },
        }),
      (e) =>
        e instanceof OptionError &&
        /guidance\.lambda 0\.1, --lambda\) would act on no step/.test(e.message) &&
        new RegExp(`guidance\\.tStop ${o.tStop} \\(--t-stop\\)`).test(e.message),
    );
  }
  await assert.rejects(
    () => sample(store, model, { ...OPTS, steps: 50, strength: 0.5 }), // start index 24 < 25
    /starts at respaced index 24 \(steps 50, --steps; strength 0\.5, --strength\)/,
  );
  assert.equal(await store.has("samples"), false);
  // Exact: t_stop = steps-2 guides one step (index steps-1), which moves the samples.
  await sample(store, model, { ...OPTS, steps: 3, guidance: { lambda: 0.1, tStop: 1 } });
  await sample(store, model, { ...OPTS, steps: 3, guidance: null, out: "plain" });
  assert.notDeepEqual(await latents(store), await latents(store, "plain"));
  // The sampler itself refuses it too.
  const schedule = base.respace(spaceTimesteps(1000, "3"));
  const rng = Rng.from(0);
  await assert.rejects(
    () =>
      sampleBatch(model, [{
        classId: 0,
        mode: new Float32Array(DIM),
        noise: { initial: () => rng.randn(DIM), step: () => rng.randn(DIM) },
      }], {
        schedule,
        method: "ddpm",
        cfgScale: 1,
        cfgChannels: "all",
        variance: "fixed_small",
        guidance: { lambda: 0.1, tStop: 2 },
      }),
    /Mode guidance \(lambda 0\.1\) would run on no step: .* tStop 2, and sampling starts at index 2/,
  );
});

Deno.test("sample() checks cfgChannels against the model's latent channels before writing, naming the option and flag", async () => {
  const store = await storeWithModes();
  for (const cfgChannels of [17, 0, 2.5]) {
    await assert.rejects(
      () => sample(store, model, { ...OPTS, cfgChannels }),
      /option cfgChannels \(--cfg-channels\) must be "all" or an integer in 1\.\.16 \(the model's latent channels\)/,
    );
  }
  assert.equal(await store.has("samples"), false);
  assert.equal((await sample(store, model, { ...OPTS, cfgChannels: 16 })).written.length, 3);
});

Deno.test("sample() refuses an artifact that is not a modes artifact, naming it, its kind and the kind expected", async () => {
  const store = await storeWithModes();
  await sample(store, model, OPTS);
  await assert.rejects(
    () => sample(store, model, { ...OPTS, modes: "samples", out: "again" }),
    /Artifact 'samples' \(.*\/samples\) is a 'samples' artifact; sample option modes \(--modes\) expects 'modes'/,
  );
  assert.equal(await store.has("again"), false);
});
