/**
 * models/scales: loadScale() hands out the codec, the denoiser, the class ids and the sampling
 * settings that fit them (cpu: the shipped U-Net with TAEF2; paper: the tiny DiT fixture with
 * the tiny AutoencoderKL), and the stages take a scale with no model-specific option.
 */
import assert from "node:assert/strict";
import { loadCodec, loadScale, SHIPPED_CPU_MODEL } from "../models/scales/mod.ts";
import { sha256File } from "../models/core/hash.ts";
import { Rng } from "../models/core/random.ts";
import { Store } from "../stages/store/store.ts";
import { sample, SAMPLE_DEFAULTS } from "../stages/sample.ts";
import { encode, ENCODE_DEFAULTS } from "../stages/encode.ts";
import { MGD3_DEFAULTS } from "../stages/diffusion/guidance.ts";
import { setProgressMode } from "../stages/progress.ts";
import { randomModel } from "./_tiny_model.ts";

setProgressMode("silent");
const ROOT = new URL("../", import.meta.url).pathname;
const DATA = `${ROOT}data/imagenette-64/train`;
const DIT_TINY = `${ROOT}tests/fixtures/dit/dit_tiny.pt`; // DiT-T/2, input 8, 10 classes
const AKL_SMALL = `${ROOT}tests/fixtures/vae/akl_small`; // downsampling 2: 16 px -> 8x8

/** A store with a modes artifact: k random [32, 8, 8] modes for each of two classes. */
async function storeWithModes(k: number): Promise<Store> {
  const store = await Store.open(await Deno.makeTempDir({ prefix: "mgd3-scales-" }));
  const modes = await store.artifact("modes", { kind: "modes", options: { k }, seed: 0 });
  const rng = Rng.from(11);
  for (const c of [0, 1]) {
    await modes.writeShard(`class-00${c}`, {
      modes: { dtype: "F32", shape: [k, 32, 8, 8], data: rng.randn(k * 32 * 8 * 8) },
    }, { class: String(c), name: `c${c}` });
  }
  return store;
}

async function latentsOf(store: Store, name: string): Promise<number[]> {
  const a = await store.open(name);
  const all: number[] = [];
  for (const s of await a.shards()) {
    all.push(...(await a.readShard(s)).tensors.get("latents")!.data as Float32Array);
  }
  return all;
}

Deno.test("loadScale() gives the shipped cpu model with TAEF2, its class list as class ids, CFG on all channels and fixed-small variance", async () => {
  const s = await loadScale({ scale: "cpu", model: SHIPPED_CPU_MODEL });
  try {
    assert.equal(s.scale, "cpu");
    assert.deepEqual(s.sampling, {
      cfgChannels: "all",
      variance: "fixed_small",
      trainSteps: 1000,
      batchSize: 50,
    });
    assert.equal(s.predictionType, "v");
    assert.equal(s.numClasses, 10);
    assert.equal(s.classes!.length, 10);
    assert.deepEqual(s.classIds, s.classes);
    assert.equal(s.codec.imageSize, 64);
    assert.deepEqual(s.codec.latentShape, [32, 8, 8]);
    assert.match(s.codec.id, /^taef2\(.*size=64,norm=sha256:[0-9a-f]{12}\)$/);
    assert.deepEqual(s.denoiser.latentShape, [32, 8, 8]);
    assert.equal(s.denoiser.learnSigma, false);
    assert.equal(s.hash, (await sha256File(SHIPPED_CPU_MODEL)).slice(0, 12));
    assert.equal(s.modelId, `unet:${s.hash}`);
    assert.equal(s.provenance.arch, "unet");
    assert.equal(s.provenance.training.steps, 1461);
    assert.match(s.describe, /^cpu scale: U-Net .*cpu_unet\.safetensors \(1461 training steps/);
  } finally {
    await s.release();
  }
});

Deno.test("sample() with the shipped model's scale runs with only modes, out, seed and steps, and matches a bare denoiser given the scale's settings", async () => {
  const store = await storeWithModes(2);
  const s = await loadScale({ scale: "cpu", model: SHIPPED_CPU_MODEL });
  try {
    // 27 steps: the first respaced index, 26, is above the default t_stop 25, so the default
    // mode guidance acts (on one step); with fewer steps sample() refuses it.
    const r = await sample(store, s, { modes: "modes", out: "with-scale", seed: 3, steps: 27 });
    assert.deepEqual(r.written, ["class-000", "class-001"]);
    const o = (await store.open("with-scale")).manifest.options;
    assert.deepEqual(
      [o.cfgChannels, o.variance, o.trainSteps, o.model, o.guidance, o.cfgScale],
      ["all", "fixed_small", 1000, s.modelId, { ...MGD3_DEFAULTS }, 4],
    );
    await sample(store, s.denoiser, {
      ...SAMPLE_DEFAULTS,
      modes: "modes",
      out: "bare",
      model: s.modelId,
      cfgChannels: "all",
      variance: "fixed_small",
      seed: 3,
      steps: 27,
    });
    assert.deepEqual(await latentsOf(store, "bare"), await latentsOf(store, "with-scale"));
    const bare = (await store.open("bare")).manifest.options;
    assert.deepEqual({ ...bare, out: "with-scale" }, o);
  } finally {
    await s.release();
  }
});

Deno.test("loadScale() loads only the denoiser or only the codec when asked, and sample() then needs the model's id", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mgd3-scales-" });
  await randomModel(`${dir}/tiny.safetensors`);
  const d = await loadScale({ scale: "cpu", model: `${dir}/tiny.safetensors` }, {
    only: "denoiser",
  });
  assert.equal((d as { codec?: unknown }).codec, undefined);
  assert.equal(d.denoiser.numClasses, 3);
  const store = await storeWithModes(1);
  await assert.rejects(
    () => sample(store, d, { modes: "modes", out: "x", steps: 2 }),
    /option 'model' .* is required/,
  );
  const r = await sample(store, d, {
    modes: "modes",
    out: "x",
    model: "tiny",
    steps: 2,
    guidance: null, // 2 steps: the default t_stop 25 would leave mode guidance no step
  });
  assert.equal(r.written.length, 2);
  await d.release();
  const c = await loadScale({ scale: "cpu", model: `${dir}/tiny.safetensors` }, { only: "codec" });
  assert.equal((c as { denoiser?: unknown }).denoiser, undefined);
  assert.deepEqual(c.codec.latentShape, [32, 8, 8]);
  await c.release();
});

Deno.test("encode() with a scale takes the model's class ids; a mapping that does not fit the model fails at encode, naming the option", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mgd3-scales-" });
  await randomModel(`${dir}/tiny.safetensors`); // classes n01440764, n02102040, n02979186
  const s = await loadScale({ scale: "cpu", model: `${dir}/tiny.safetensors` }, { only: "codec" });
  try {
    const store = await Store.open(`${dir}/store`);
    const classes = ["n02102040", "n01440764"];
    await encode(store, s, { data: DATA, classes, out: "latents", limit: 1 });
    const art = await store.open("latents");
    assert.deepEqual(art.manifest.options.classIds, s.classes);
    assert.equal((await art.readShard("class-000")).metadata.class, "1"); // springer: 2nd class
    assert.equal((await art.readShard("class-001")).metadata.class, "0");
    // ImageNet ids (springer: 217) do not fit a 3-class model: refused before any image is read.
    await assert.rejects(
      () => encode(store, s, { data: DATA, classes, out: "imagenet", classIds: "imagenet" }),
      /encode option classIds "imagenet" gives class n02102040 the id 217, but the model has 3 classes/,
    );
    assert.equal(await store.has("imagenet"), false);
    await assert.rejects(
      () => encode(store, s, { data: DATA, classes: ["n03000684"], out: "unknown" }),
      /encode option classIds \(the model's class list\): class n03000684 is not one the model knows/,
    );
    // A bare codec with ENCODE_DEFAULTS ("imagenet") checks every class up front too.
    await assert.rejects(
      () =>
        encode(store, s.codec, {
          ...ENCODE_DEFAULTS,
          data: DATA,
          classes: ["n01440764", "n99999999"],
          out: "bad",
        }),
      /encode option classIds "imagenet": Unknown ImageNet-1K wnid 'n99999999'/,
    );
    assert.equal(await store.has("bad"), false);
  } finally {
    await s.release();
  }
});

Deno.test("loadScale() at the paper scale gives DiT's 3-channel CFG, learned variance and label ids for a 10-class DiT; its denoiser alone needs no VAE", async () => {
  const src = {
    scale: "paper" as const,
    dit: DIT_TINY,
    ditConfig: "DiT-T/2",
    vae: AKL_SMALL,
    imageSize: 16,
    numClasses: 10,
  };
  const p = await loadScale(src);
  try {
    assert.deepEqual(p.sampling, { cfgChannels: 3, variance: "learned_range", trainSteps: 1000 });
    assert.equal(p.classIds, "label");
    assert.equal(p.classes, null);
    assert.equal(p.predictionType, "eps");
    assert.deepEqual(p.codec.latentShape, [4, 8, 8]);
    assert.deepEqual(p.denoiser.latentShape, [4, 8, 8]);
    assert.match(p.modelId, /^dit:DiT-T\/2:[0-9a-f]{12}$/);
  } finally {
    await p.release();
  }
  const d = await loadScale(
    { scale: "paper", dit: DIT_TINY, ditConfig: "DiT-T/2", numClasses: 10, imageSize: 64 },
    { only: "denoiser" },
  );
  assert.deepEqual(d.denoiser.latentShape, [4, 8, 8]); // 64 px / 8 (SD-VAE's downsampling)
  assert.deepEqual(d.sampling.cfgChannels, 3);
  await d.release();
  await assert.rejects(() => loadScale({ ...src, vae: undefined }), /The paper scale needs 'vae'/);
});

Deno.test("loadCodec() loads the shipped TAEF2 with raw latents at the size asked for", async () => {
  const codec = await loadCodec({ codec: "taef2", imageSize: 32 });
  assert.deepEqual(codec.latentShape, [32, 4, 4]);
  assert.match(codec.id, /^taef2\(.*size=32,norm=none\)$/);
  await codec.release();
  await assert.rejects(
    () => loadCodec({ codec: "sd-vae", weights: "/nonexistent/vae", imageSize: 256 }),
    /\/nonexistent\/vae/,
  );
});
