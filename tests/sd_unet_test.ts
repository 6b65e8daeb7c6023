// Stable Diffusion's text-conditioned U-Net: parity against the original UNetModel (SD 1.x:
// CompVis latent-diffusion; SD 2.x: Stability-AI stablediffusion, linear projections and
// per-level heads) on tiny random networks whose weights diffusers' convert_ldm_unet_checkpoint
// laid out as diffusers `unet/` folders; the original single-file layout; file errors; memory
// (zero-copy external data, release()). Configuration tests: sd_unet_config_test.ts.
// Fixtures: tools/fixtures/make_sd_unet_fixtures.py --ldm <..> --sd2 <..> --diffusers <..>.
import assert from "node:assert/strict";
import { readSdUNetConfig, SD_UNET_SESSION_OPTIONS, SdUNet } from "../models/nets/sd/mod.ts";
import { readSafetensors, writeSafetensors } from "../models/io/safetensors.ts";
import { Session } from "../models/graph/session.ts";
import { type Tensor, toFloat32 } from "../models/core/tensor.ts";

const DIR = new URL("./fixtures/sd/", import.meta.url).pathname;
const SD1 = `${DIR}unet_sd1`;
const SD2 = `${DIR}unet_sd2`;
const TOL = 1e-5; // max |ours - PyTorch| / max |PyTorch|, float32 on both sides

function errors(a: ArrayLike<number>, b: ArrayLike<number>): { abs: number; rel: number } {
  assert.equal(a.length, b.length);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return { abs: d, rel: d / m };
}

/** Runs the U-Net on the fixture's inputs (cond and uncond) and compares with the reference. */
async function parity(unet: SdUNet, dir: string, label: string): Promise<void> {
  const fx = (await readSafetensors(`${dir}/expected.safetensors`)).tensors;
  const f = (k: string) => fx.get(k)!;
  const [B, , S] = f("x").shape;
  const T = f("cond").shape[1];
  const session = await Session.create(unet.toModel(B, T, S), { intraOpThreads: 1 });
  try {
    for (const which of ["cond", "uncond"]) {
      const { out } = await session.run({ x: f("x"), t: f("t"), context: f(which) });
      const want = toFloat32(f(`out_${which}`));
      const e = errors(out.data as Float32Array, want);
      console.log(
        `${label} ${which}: max abs err ${e.abs.toExponential(2)} (rel ${e.rel.toExponential(2)})`,
      );
      assert.ok(e.rel < TOL, `${label} ${which}: rel err ${e.rel}`);
    }
    // The two contexts must give different outputs, or the test would not see cross-attention.
    assert.ok(errors(toFloat32(f("out_cond")), toFloat32(f("out_uncond"))).abs > 1e-3);
  } finally {
    await session.release();
  }
}

Deno.test("an SD 1.x diffusers unet/ folder (fp16 safetensors) matches the original UNetModel with text context", async () => {
  const unet = await SdUNet.load(SD1);
  assert.equal(unet.config.unet.numHeads, 2);
  assert.equal(unet.config.unet.useLinearProjection, false);
  await parity(unet, SD1, "SD 1.x U-Net");
});

Deno.test("an SD 2.x diffusers unet/ folder (.bin, linear projections, head list) matches the original UNetModel", async () => {
  const unet = await SdUNet.load(`${SD2}/`);
  assert.equal(unet.config.unet.numHeadChannels, 16); // attention_head_dim [2] over 32 channels
  assert.equal(unet.config.unet.useLinearProjection, true);
  await parity(unet, SD2, "SD 2.x U-Net");
});

/** The weights of a loaded U-Net, by original name. */
function weights(unet: SdUNet): Map<string, Float32Array> {
  return new Map([...unet.store.entries].map(([k, p]) => [k, p.data]));
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "sd_unet_test_" });
}

Deno.test("a float32 diffusion_pytorch_model.safetensors is preferred and gives the same weights", async () => {
  const ref = weights(await SdUNet.load(SD1));
  const fp16 = (await readSafetensors(`${SD1}/diffusion_pytorch_model.fp16.safetensors`)).tensors;
  const dir = await tempDir();
  try {
    await Deno.copyFile(`${SD1}/config.json`, `${dir}/config.json`);
    const f32 = new Map<string, Tensor>();
    for (const [k, t] of fp16) f32.set(k, { dtype: "F32", shape: t.shape, data: toFloat32(t) });
    await writeSafetensors(`${dir}/diffusion_pytorch_model.safetensors`, f32);
    await Deno.writeFile(`${dir}/diffusion_pytorch_model.fp16.safetensors`, new Uint8Array(3));
    const got = await SdUNet.load(dir);
    assert.deepEqual(weights(got), ref);
    // Every weight owns its buffer: nothing keeps the file's bytes, release() frees them all.
    for (const w of weights(got).values()) assert.equal(w.byteLength, w.buffer.byteLength);
    assert.equal(got.numParams, [...fp16.values()].reduce((a, t) => a + t.data.length, 0));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The SD 1.x fixture in the original single-file layout, as the reference converter mapped it. */
async function originalState(prefix: string): Promise<Map<string, Tensor>> {
  const names: Record<string, string> = JSON.parse(
    await Deno.readTextFile(`${SD1}/original_keys.json`),
  );
  const fp16 = (await readSafetensors(`${SD1}/diffusion_pytorch_model.fp16.safetensors`)).tensors;
  const out = new Map<string, Tensor>();
  for (const [k, t] of fp16) out.set(prefix + names[k], t);
  return out;
}

Deno.test("the original single-file layout (model.diffusion_model.*) loads the same weights, prefix found or given", async () => {
  const ref = weights(await SdUNet.load(SD1));
  const config = await readSdUNetConfig(`${SD1}/config.json`);
  const dir = await tempDir();
  try {
    const state = await originalState("model.diffusion_model.");
    const junk = { dtype: "F32" as const, shape: [2], data: new Float32Array(2) };
    state.set("first_stage_model.decoder.conv_in.bias", junk); // the VAE and text encoder
    state.set("cond_stage_model.transformer.text_model.final_layer_norm.bias", junk);
    await writeSafetensors(`${dir}/sd-v1-tiny.safetensors`, state);
    const found = await SdUNet.load(`${dir}/sd-v1-tiny.safetensors`, { config });
    assert.deepEqual(weights(found), ref);
    const given = await SdUNet.load(`${dir}/sd-v1-tiny.safetensors`, {
      config,
      prefix: "model.diffusion_model.",
    });
    assert.deepEqual(weights(given), ref);
    await writeSafetensors(`${dir}/flat.safetensors`, await originalState(""));
    assert.deepEqual(weights(await SdUNet.load(`${dir}/flat.safetensors`, { config })), ref);
    await assert.rejects(
      () => SdUNet.load(`${dir}/flat.safetensors`),
      /flat\.safetensors: a single weights file has no config\.json; pass options\.config/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing key, a wrong shape, an extra key or another model is refused naming the file and key", async () => {
  const config = await readSdUNetConfig(`${SD1}/config.json`);
  const fp16 = (await readSafetensors(`${SD1}/diffusion_pytorch_model.fp16.safetensors`)).tensors;
  const dir = await tempDir();
  const file = `${dir}/unet.safetensors`;
  const attempt = async (edit: (m: Map<string, Tensor>) => void, want: RegExp) => {
    const m = new Map(fp16);
    edit(m);
    await writeSafetensors(file, m);
    await assert.rejects(() => SdUNet.load(file, { config }), want);
  };
  try {
    const key = "up_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight";
    await attempt((m) => m.delete(key), new RegExp(`unet\\.safetensors: key '${key}' missing`));
    await attempt(
      (m) => m.set(key, { dtype: "F32", shape: [32, 31], data: new Float32Array(32 * 31) }),
      new RegExp(`key '${key}' has shape \\[32, 31\\], expected \\[32, 32\\]`),
    );
    await attempt(
      (m) => m.set("down_blocks.0.attentions.0.extra.weight", fp16.get(key)!),
      /unexpected key 'down_blocks\.0\.attentions\.0\.extra\.weight'/,
    );
    const w = { dtype: "F32" as const, shape: [1], data: new Float32Array(1) };
    const other = async (keys: string[], want: RegExp) =>
      await attempt((m) => {
        m.clear();
        for (const k of keys) m.set(k, w);
      }, want);
    await other(["x_embedder.proj.weight", "pos_embed"], /conv_in\.weight.*DiT checkpoint/);
    await other(["encoder.conv_in.weight", "decoder.conv_in.weight"], /VAE \(AutoencoderKL\)/);
    await other(["cond_stage_model.embedding.weight"], /class-conditional LDM/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a folder without weights or with sharded weights is refused naming the folder", async () => {
  const dir = await tempDir();
  try {
    await Deno.copyFile(`${SD1}/config.json`, `${dir}/config.json`);
    await assert.rejects(
      () => SdUNet.load(dir),
      /no U-Net weights: expected one of diffusion_pytorch_model\.safetensors/,
    );
    await Deno.writeTextFile(`${dir}/diffusion_pytorch_model.safetensors.index.json`, "{}");
    await assert.rejects(() => SdUNet.load(dir), /sharded U-Net weights/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("external data with one file per weight are views of the weights (no copy), run the same, and release() frees them", async () => {
  const unet = await SdUNet.load(SD1);
  const { graph } = unet.graph(1, 2, 8);
  const ext = graph.toModel({
    paramsAs: "initializers",
    externalData: "always",
    externalFileBytes: 0,
  });
  const w = unet.store.entries.get("input_blocks.1.0.in_layers.2.weight")!.data;
  const same = ext.externalData.filter((f) =>
    f.data.buffer === w.buffer && f.data.byteOffset === w.byteOffset
  );
  assert.equal(same.length, 1, "the conv weight's external file is a view of its values");
  assert.ok(ext.externalData.length > 20);
  const feeds = {
    x: { dtype: "F32" as const, shape: [1, 4, 8, 8], data: new Float32Array(256).fill(0.5) },
    t: { dtype: "F32" as const, shape: [1], data: new Float32Array([10]) },
    context: { dtype: "F32" as const, shape: [1, 2, 32], data: new Float32Array(64).fill(-0.25) },
  };
  const outs: Float32Array[] = [];
  const inline = unet.toModel(1, 2, 8);
  for (const [m, o] of [[ext, {}], [inline, {}], [ext, SD_UNET_SESSION_OPTIONS]] as const) {
    const s = await Session.create(m, { ...o, intraOpThreads: 1 });
    outs.push((await s.run(feeds)).out.data as Float32Array);
    await s.release();
  }
  assert.deepEqual(outs[0], outs[1]);
  // No constant folding, no pre-packing: the same network.
  const e = errors(outs[2], outs[0]);
  assert.ok(e.rel < TOL, `rel ${e.rel}`);
  unet.release();
  assert.equal(w.length, 0, "the weight's buffer was detached (freed at once)");
  assert.equal(unet.store.entries.size, 0);
  assert.ok(unet.numParams > 300_000);
  assert.throws(() => unet.toModel(1, 2, 8), /weights were released/);
});
