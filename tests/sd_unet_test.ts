// Stable Diffusion's text-conditioned U-Net: parity against the original UNetModel (SD 1.x:
// CompVis latent-diffusion; SD 2.x: Stability-AI stablediffusion, linear projections and
// per-level heads) on tiny random networks whose weights diffusers' convert_ldm_unet_checkpoint
// laid out as diffusers `unet/` folders; the original single-file layout; config and file errors.
// Fixtures: tools/fixtures/make_sd_unet_fixtures.py --ldm <..> --sd2 <..> --diffusers <..>.
import assert from "node:assert/strict";
import {
  readSdUNetConfig,
  SD15_UNET_CONFIG,
  SD21_UNET_CONFIG,
  SD_UNET_SESSION_OPTIONS,
  SdUNet,
  sdUNetConfigFromJson,
} from "../models/nets/sd/mod.ts";
import { readSafetensors, writeSafetensors } from "../models/io/safetensors.ts";
import { Session } from "../models/graph/session.ts";
import { ParamStore } from "../models/graph/nn.ts";
import { Rng } from "../models/core/random.ts";
import { diffusersName } from "../models/nets/sd/_key_map.ts";
import { type Tensor, toFloat32 } from "../models/core/tensor.ts";

const DIR = new URL("./fixtures/sd/", import.meta.url).pathname;
const SD1 = `${DIR}unet_sd1`;
const SD2 = `${DIR}unet_sd2`;
const TOL = 1e-5; // max |ours - PyTorch| / max |PyTorch|, float32 on both sides
const SD1_JSON = JSON.parse(await Deno.readTextFile(`${SD1}/config.json`));

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

// runwayml/stable-diffusion-v1-5 unet/config.json and stabilityai/stable-diffusion-2-1's.
const CROSS3 = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"];
const SD15_JSON = {
  _class_name: "UNet2DConditionModel",
  _diffusers_version: "0.6.0",
  act_fn: "silu",
  attention_head_dim: 8,
  block_out_channels: [320, 640, 1280, 1280],
  center_input_sample: false,
  cross_attention_dim: 768,
  down_block_types: [...CROSS3, "DownBlock2D"],
  downsample_padding: 1,
  flip_sin_to_cos: true,
  freq_shift: 0,
  in_channels: 4,
  layers_per_block: 2,
  mid_block_scale_factor: 1,
  norm_eps: 1e-05,
  norm_num_groups: 32,
  out_channels: 4,
  sample_size: 64,
  up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
};
const SD21_JSON = {
  ...SD15_JSON,
  _diffusers_version: "0.10.0.dev0",
  attention_head_dim: [5, 10, 20, 20],
  cross_attention_dim: 1024,
  dual_cross_attention: false,
  num_class_embeds: null,
  only_cross_attention: false,
  sample_size: 96,
  upcast_attention: true,
  use_linear_projection: true,
};

Deno.test("the SD 1.5 and SD 2.1 config.json files read as SD15_UNET_CONFIG and SD21_UNET_CONFIG", () => {
  assert.deepEqual(sdUNetConfigFromJson(SD15_JSON, "sd15/unet/config.json"), SD15_UNET_CONFIG);
  assert.deepEqual(sdUNetConfigFromJson(SD21_JSON, "sd21/unet/config.json"), SD21_UNET_CONFIG);
  // SD 2.x: 5, 10, 20, 20 heads of 64 channels; SD 1.x: 8 heads of 40, 80, 160 channels.
  assert.equal(SD21_UNET_CONFIG.unet.numHeadChannels, 64);
  assert.equal(SD15_UNET_CONFIG.unet.numHeads, 8);
});

Deno.test("config keys that change the network and are not supported are refused naming the file and key", async () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ class_embed_type: "timestep" }, /key 'class_embed_type' is "timestep"; supported: null/],
    [{ addition_embed_type: "text_time" }, /key 'addition_embed_type'/],
    [{ time_cond_proj_dim: 256 }, /key 'time_cond_proj_dim' is 256/],
    [{ encoder_hid_dim: 1024 }, /key 'encoder_hid_dim'/],
    [{ dual_cross_attention: true }, /key 'dual_cross_attention'/],
    [{ resnet_time_scale_shift: "scale_shift" }, /key 'resnet_time_scale_shift'.*"default"/],
    [{ flip_sin_to_cos: false }, /key 'flip_sin_to_cos' is false; supported: true/],
    [{ freq_shift: 1 }, /key 'freq_shift' is 1; supported: 0/],
    [{ mid_block_type: "UNetMidBlock2DSimpleCrossAttn" }, /key 'mid_block_type'/],
    [{ transformer_layers_per_block: [1, 2] }, /key 'transformer_layers_per_block' is \[1,2\]/],
    [{ transformer_layers_per_block: [[1], [2]] }, /per-block lists are not supported/],
    [{ layers_per_block: [1, 2] }, /key 'layers_per_block' is \[1,2\]/],
    [
      { down_block_types: ["SimpleCrossAttnDownBlock2D", "DownBlock2D"] },
      /down_block_types'? ?\[0\] is "SimpleCrossAttnDownBlock2D"/,
    ],
    [{ up_block_types: ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D"] }, /up blocks must mirror/],
    [
      { attention_head_dim: [2, 2, 2] },
      /key 'attention_head_dim' is \[2,2,2\]; expected a head count or one per level \(2\)/,
    ],
    [{ attention_head_dim: 3 }, /gives 3 heads to 32 channels/],
    [{ block_out_channels: [32, 48] }, /must be multiples of its first entry 32/],
    [{ sample_size: null }, /key 'sample_size' is null; expected a positive integer/],
    [
      { _class_name: "AutoencoderKL" },
      /key '_class_name' is "AutoencoderKL"; expected "UNet2DConditionModel"/,
    ],
    [
      { num_layers_per_something: 2 },
      /key 'num_layers_per_something' is not a UNet2DConditionModel setting/,
    ],
  ];
  for (const [edit, want] of bad) {
    assert.throws(
      () => sdUNetConfigFromJson({ ...SD1_JSON, ...edit }, "tiny/unet/config.json"),
      (e: Error) => {
        assert.match(e.message, /^U-Net config tiny\/unet\/config\.json: /);
        assert.match(e.message, want);
        return true;
      },
    );
  }
  // Settings that do not change a float32 forward pass are accepted.
  const ok = {
    ...SD1_JSON,
    dropout: 0.1,
    upcast_attention: true,
    only_cross_attention: [false, false],
  };
  assert.deepEqual(sdUNetConfigFromJson(ok, "x"), sdUNetConfigFromJson(SD1_JSON, "x"));
  const dir = await tempDir();
  try {
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ ...SD1_JSON, freq_shift: 1 }));
    await assert.rejects(
      () => SdUNet.load(dir),
      new RegExp(`${dir}/config\\.json: key 'freq_shift'`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a head list of unequal head widths builds per-level heads (levelHeads), not one head width", async () => {
  const json = { ...SD1_JSON, block_out_channels: [32, 64], attention_head_dim: [2, 2] };
  json.down_block_types = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D"];
  json.up_block_types = ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D"];
  const list = sdUNetConfigFromJson(json, "x");
  assert.deepEqual(list.unet.levelHeads, [2, 2]); // widths 16 and 32
  const int = sdUNetConfigFromJson({ ...json, attention_head_dim: 2 }, "x");
  const four = sdUNetConfigFromJson({ ...json, attention_head_dim: [2, 4] }, "x");
  assert.equal(four.unet.numHeadChannels, 16); // widths 16 and 16: one head width
  const rng = Rng.from(0);
  const rand = () => rng.random();
  const store = new ParamStore(rand); // random weights shared by the three, keyed alike
  const outs: Float32Array[] = [];
  const feeds = {
    x: {
      dtype: "F32" as const,
      shape: [1, 4, 8, 8],
      data: Float32Array.from({ length: 256 }, rand),
    },
    t: { dtype: "F32" as const, shape: [1], data: new Float32Array([500]) },
    context: {
      dtype: "F32" as const,
      shape: [1, 3, 32],
      data: Float32Array.from({ length: 96 }, rand),
    },
  };
  for (const c of [list, int, four]) {
    const s = await Session.create(new SdUNet(c, store).toModel(1, 3, 8), { intraOpThreads: 1 });
    outs.push((await s.run(feeds)).out.data as Float32Array);
    await s.release();
  }
  assert.ok(errors(outs[0], outs[1]).rel < 1e-6, "2 heads per level = attention_head_dim 2");
  assert.ok(errors(outs[0], outs[2]).abs > 1e-4, "[2, 4] heads differ from [2, 2]");
});

Deno.test("diffusersName() renames all 686 weights of the full-size SD 1.5 U-Net as convert_ldm_unet_checkpoint does", async () => {
  const map: { layers_per_block: number; params: number; pairs: [string, string][] } = JSON.parse(
    await Deno.readTextFile(`${DIR}sd15_key_map.json`),
  );
  assert.equal(map.pairs.length, 686);
  assert.equal(map.params, 859_520_964); // the reference UNetModel's count (SD 1.5)
  const wrong = map.pairs.filter(([o, d]) => diffusersName(o, map.layers_per_block) !== d);
  assert.deepEqual(wrong, []);
  assert.ok(map.pairs.some(([o]) => o === "output_blocks.5.2.conv.weight")); // upsample after attention
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
