// The CLIP text encoder (transformers' CLIPTextModel layout) against the reference text towers
// (PyTorch 1.13): openai/CLIP's (QuickGELU, SD 1.x) from an fp16 safetensors folder, and
// OpenCLIP v2.0.2's penultimate layer through FrozenOpenCLIPEmbedder (GELU, SD 2.x) converted
// by diffusers' convert_open_clip_checkpoint, from a torch .bin folder; the SD 1.x single-file
// prefix; hostile and mismatched files. Fixtures: tools/fixtures/make_clip_text_fixtures.py.
import assert from "node:assert/strict";
import { CheckpointError } from "../models/io/checkpoint.ts";
import { readSafetensors, writeSafetensors } from "../models/io/safetensors.ts";
import {
  type ClipTextConfig,
  ClipTextEncoder,
  readClipTextConfig,
  SD15_TEXT_CONFIG,
  SD1_CHECKPOINT_PREFIX,
} from "../models/nets/clip/mod.ts";
import { type Tensor, toFloat32 } from "../models/core/tensor.ts";

const DIR = new URL("./fixtures/sd/", import.meta.url).pathname;
const FX = (await readSafetensors(`${DIR}text_parity.safetensors`)).tensors;
const TOL = 2e-5; // max |ours - PyTorch| (hidden states are LayerNorm outputs, |x| < 4)
const B = 3, T = 77, D = 32;

function maxAbsErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

async function parity(folder: string, key: string, act: string) {
  const te = await ClipTextEncoder.load(`${DIR}${folder}`);
  try {
    assert.equal(te.config.hiddenAct, act);
    const ids = FX.get(`${key}.ids`)!.data as Int32Array;
    const want = toFloat32(FX.get(`${key}.out`)!);
    const out = await te.encode(ids, B);
    assert.equal(out.length, B * T * D);
    const err = maxAbsErr(out, want);
    console.log(`${folder}: max abs err ${err.toExponential(2)} (|ref| max ${maxAbs(want)})`);
    assert.ok(err < TOL, `max abs err ${err}`);
    return { te, ids, out };
  } catch (e) {
    await te.release();
    throw e;
  }
}

const maxAbs = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0).toFixed(2);

Deno.test("the SD 1.x encoder (fp16 safetensors folder) matches openai/CLIP's text tower to float32 tolerance", async () => {
  const { te } = await parity("text_sd1", "sd1", "quick_gelu");
  await te.release();
});

Deno.test("the SD 2.x encoder (.bin folder, position_ids buffer) matches OpenCLIP's penultimate layer", async () => {
  const { te, ids, out } = await parity("text_sd2", "sd2", "gelu");
  try {
    assert.equal(te.config.numHiddenLayers, 2);
    // batch independence: each row alone gives the batched row
    for (let b = 0; b < B; b++) {
      const one = await te.encode(ids.slice(b * T, (b + 1) * T), 1);
      const err = maxAbsErr(one, out.subarray(b * T * D, (b + 1) * T * D));
      assert.ok(err < 1e-6, `row ${b}: batch-1 vs batch-3 differ by ${err}`);
    }
  } finally {
    await te.release();
  }
});

Deno.test("the causal mask: a token's state does not depend on later tokens", async () => {
  const te = await ClipTextEncoder.load(`${DIR}text_sd1`);
  try {
    const ids = (FX.get("sd1.ids")!.data as Int32Array).slice(0, T);
    const changed = ids.slice();
    changed[10] = (changed[10] + 1) % 998; // a padding position past the prompt
    const [a, b] = [await te.encode(ids, 1), await te.encode(changed, 1)];
    assert.ok(maxAbsErr(a.subarray(0, 10 * D), b.subarray(0, 10 * D)) === 0);
    assert.ok(maxAbsErr(a.subarray(10 * D), b.subarray(10 * D)) > 1e-3);
  } finally {
    await te.release();
  }
});

/** The SD 1.x fixture's tensors. */
async function sd1Tensors(): Promise<Map<string, Tensor>> {
  return new Map((await readSafetensors(`${DIR}text_sd1/model.fp16.safetensors`)).tensors);
}

Deno.test("an SD 1.x single file loads with the cond_stage_model.transformer. prefix beside other models' keys", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sd = new Map<string, Tensor>();
    for (const [k, t] of await sd1Tensors()) sd.set(SD1_CHECKPOINT_PREFIX + k, t);
    sd.set("model.diffusion_model.out.2.bias", {
      dtype: "F32",
      shape: [4],
      data: new Float32Array(4),
    });
    await writeSafetensors(`${dir}/sd1.safetensors`, sd);
    const config = await readClipTextConfig(`${DIR}text_sd1/config.json`);
    const te = await ClipTextEncoder.load(`${dir}/sd1.safetensors`, {
      config,
      prefix: SD1_CHECKPOINT_PREFIX,
    });
    try {
      const out = await te.encode(FX.get("sd1.ids")!.data as Int32Array, B);
      assert.ok(maxAbsErr(out, toFloat32(FX.get("sd1.out")!)) < TOL);
    } finally {
      await te.release();
    }
    // without the prefix: refused with a hint naming it
    await assert.rejects(
      () => ClipTextEncoder.load(`${dir}/sd1.safetensors`, { config }),
      (e: Error) =>
        e instanceof CheckpointError && e.message.includes("sd1.safetensors") &&
        e.message.includes(`pass prefix '${SD1_CHECKPOINT_PREFIX}'`),
    );
    // a single file without config beside it or given: refused naming the config
    await assert.rejects(
      () => ClipTextEncoder.load(`${dir}/sd1.safetensors`),
      (e: Error) => e.message.includes("config.json") && e.message.includes("SD15_TEXT_CONFIG"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const TINY1: ClipTextConfig = {
  ...SD15_TEXT_CONFIG,
  vocabSize: 1000,
  hiddenSize: 32,
  intermediateSize: 128,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
};

Deno.test("a missing key, a wrong shape, a wrong dtype or an extra layer is refused naming the file, key and shape", async () => {
  const cases: [string, (m: Map<string, Tensor>) => void, RegExp][] = [
    [
      "missing.safetensors",
      (m) => m.delete("text_model.encoder.layers.1.mlp.fc2.bias"),
      /key 'text_model\.encoder\.layers\.1\.mlp\.fc2\.bias' missing \(expected shape \[32\]\)/,
    ],
    [
      "shape.safetensors",
      (m) =>
        m.set("text_model.final_layer_norm.weight", {
          dtype: "F32",
          shape: [31],
          data: new Float32Array(31),
        }),
      /key 'text_model\.final_layer_norm\.weight' has shape \[31\], expected \[32\]/,
    ],
    [
      "dtype.safetensors",
      (m) =>
        m.set("text_model.final_layer_norm.bias", {
          dtype: "I32",
          shape: [32],
          data: new Int32Array(32),
        }),
      /key 'text_model\.final_layer_norm\.bias' is I32, expected a float type/,
    ],
    [
      "extra.safetensors",
      (m) =>
        m.set("text_model.encoder.layers.2.mlp.fc2.bias", {
          dtype: "F32",
          shape: [32],
          data: new Float32Array(32),
        }),
      /unexpected key 'text_model\.encoder\.layers\.2\.mlp\.fc2\.bias'.*num_hidden_layers/,
    ],
  ];
  for (const [name, edit, re] of cases) {
    const m = await sd1Tensors();
    edit(m);
    assert.throws(
      () => ClipTextEncoder.fromStateDict(m, TINY1, name),
      (e: Error) => e instanceof CheckpointError && e.message.includes(name) && re.test(e.message),
      name,
    );
  }
  // a config with a wider model than the file: the first weight names the shape it expected
  const whole = await sd1Tensors();
  assert.throws(
    () => ClipTextEncoder.fromStateDict(whole, { ...TINY1, hiddenSize: 64 }, "w.st"),
    /w\.st.*key 'text_model\.embeddings\.token_embedding\.weight' has shape \[1000,32\], expected \[1000,64\]/,
  );
});

Deno.test("a bad config.json is refused naming the file and key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = JSON.parse(await Deno.readTextFile(`${DIR}text_sd1/config.json`));
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ hidden_act: "relu" }, /key 'hidden_act' is "relu", expected one of "quick_gelu", "gelu"/],
      [{ hidden_size: 32.5 }, /'hidden_size' is 32.5, expected an integer/],
      [
        { num_hidden_layers: 1e9 },
        /'num_hidden_layers' is 1000000000, expected an integer in \[1, 1024\]/,
      ],
      [{ num_attention_heads: 5 }, /'num_attention_heads' 5 does not divide 'hidden_size' 32/],
      [{ vocab_size: undefined }, /key 'vocab_size' is missing, expected a number/],
      [{ layer_norm_eps: "1e-5" }, /key 'layer_norm_eps' is "1e-5", expected a number/],
    ];
    for (const [patch, re] of cases) {
      const path = `${dir}/config.json`;
      await Deno.writeTextFile(path, JSON.stringify({ ...good, ...patch }));
      await assert.rejects(
        () => readClipTextConfig(path),
        (e: Error) => e.message.includes(path) && re.test(e.message),
        JSON.stringify(patch),
      );
    }
    // a folder without weights names the files it looked for
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(good));
    await assert.rejects(
      () => ClipTextEncoder.load(dir),
      (e: Error) => e.message.includes(dir) && e.message.includes("model.fp16.safetensors"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("encode() refuses ids of the wrong length or outside the vocabulary", async () => {
  const te = ClipTextEncoder.fromStateDict(await sd1Tensors(), TINY1, "sd1");
  try {
    await assert.rejects(
      () => te.encode(new Int32Array(76), 1),
      /76 ids for batch 1; expected \[batch, 77\]/,
    );
    const ids = new Int32Array(T);
    ids[5] = 1000;
    await assert.rejects(
      () => te.encode(ids, 1),
      /id 1000 at row 0, position 5 is outside the vocabulary \[0, 999\]/,
    );
  } finally {
    await te.release();
  }
});

Deno.test("other models' files are refused with a hint: a LatentDiffusion .ckpt, an OpenCLIP-layout SD 2 file", async () => {
  const ckpt = new URL("./fixtures/ldm/ldm_tiny.ckpt", import.meta.url).pathname;
  await assert.rejects(
    () => ClipTextEncoder.load(ckpt, { config: TINY1, prefix: SD1_CHECKPOINT_PREFIX }),
    (e: Error) =>
      e instanceof CheckpointError && e.message.includes("ldm_tiny.ckpt") &&
      e.message.includes(`no key starts with '${SD1_CHECKPOINT_PREFIX}text_model.'`) &&
      e.message.includes("U-Net checkpoint"),
  );
  const w = { dtype: "F32" as const, shape: [96, 32], data: new Float32Array(96 * 32) };
  const openClip = new Map<string, Tensor>([
    ["cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight", w],
  ]);
  assert.throws(
    () => ClipTextEncoder.fromStateDict(openClip, TINY1, "v2-1_768.safetensors"),
    /v2-1_768\.safetensors.*OpenCLIP-layout text tower/,
  );
});
