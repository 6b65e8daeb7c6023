// LDM (CompVis latent-diffusion): parity of the openaimodel U-Net with SpatialTransformers
// and the ClassEmbedder condition against the reference code (PyTorch 1.13) on a tiny random
// LatentDiffusion laid out like cin256-v2.ckpt; EMA selection; checkpoint errors.
// Fixtures: tools/fixtures/make_ldm_fixtures.py --ldm <latent-diffusion> --taming <taming>.
import assert from "node:assert/strict";
import { CheckpointError } from "../models/io/checkpoint.ts";
import {
  CIN256_V2,
  emaKey,
  LatentDiffusion,
  ldmDenoiser,
  readLdmState,
} from "../models/nets/ldm/mod.ts";
import { type InitKind, ParamStore } from "../models/graph/nn.ts";
import { readSafetensors, writeSafetensors } from "../models/io/safetensors.ts";
import { quantize, vqCodec, vqCodecFromState } from "../models/codecs/vq_codec.ts";
import { TINY_CKPT, TINY_LDM, TINY_VQ } from "./ldm_fixture.ts";
import { Graph } from "../models/graph/graph.ts";
import { Session } from "../models/graph/session.ts";
import { type Tensor, toFloat32 } from "../models/core/tensor.ts";

const DIR = new URL("./fixtures/ldm/", import.meta.url).pathname;
const FX = (await readSafetensors(`${DIR}ldm_parity.safetensors`)).tensors;
const TOL = 5e-6; // max |ours - PyTorch| / max |PyTorch|

const f32 = (k: string) => toFloat32(FX.get(k)!);

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

Deno.test("the LDM U-Net matches openaimodel.UNetModel with class cross-attention, null class included", async () => {
  const ldm = await LatentDiffusion.load(TINY_CKPT, TINY_LDM);
  const den = ldmDenoiser(ldm);
  try {
    assert.equal(den.numClasses, 1000);
    const y = FX.get("unet.y")!.data as Int32Array;
    assert.ok(y.includes(1000));
    const out = await den.forward(f32("unet.x"), f32("unet.t"), y);
    const err = relErr(out, f32("unet.out"));
    console.log(`LDM U-Net parity: rel err ${err.toExponential(2)}`);
    assert.ok(err < TOL, `rel err ${err}`);
  } finally {
    await den.release();
  }
});

/** The fixture's state dict with one edit. */
async function edited(edit: (m: Map<string, Tensor>) => void): Promise<Map<string, Tensor>> {
  const { tensors } = await readLdmState(TINY_CKPT);
  const m = new Map(tensors);
  edit(m);
  return m;
}

Deno.test("LatentDiffusion reads model_ema.* copies first and the raw weights with ema: false", async () => {
  const key = "model.diffusion_model.out.2.bias";
  const m = await edited((m) => {
    const t = m.get(key)!;
    m.set(emaKey(key)!, t);
    m.set(key, { dtype: "F32", shape: t.shape, data: new Float32Array(t.shape[0]).fill(7) });
  });
  const ema = LatentDiffusion.fromStateDict(m, TINY_LDM, "ema.ckpt");
  assert.notEqual(ema.store.entries.get(key)!.data[0], 7);
  const raw = LatentDiffusion.fromStateDict(m, TINY_LDM, "ema.ckpt", { ema: false });
  assert.equal(raw.store.entries.get(key)!.data[0], 7);
});

Deno.test("a checkpoint missing a key or with a wrong shape is refused naming the key and shape", async () => {
  const missing = await edited((m) => m.delete("model.diffusion_model.middle_block.1.norm.bias"));
  assert.throws(
    () => LatentDiffusion.fromStateDict(missing, TINY_LDM, "bad.ckpt"),
    (e: Error) =>
      e instanceof CheckpointError &&
      /key 'model.diffusion_model.middle_block.1.norm.bias' missing \(ldm-tiny needs \[64\]\)/
        .test(e.message),
  );
  const wrong = await edited((m) => {
    m.set("model.diffusion_model.out.2.weight", {
      dtype: "F32",
      shape: [4, 32, 3, 3],
      data: new Float32Array(4 * 32 * 9),
    });
  });
  assert.throws(
    () => LatentDiffusion.fromStateDict(wrong, TINY_LDM, "bad.ckpt"),
    /key 'model.diffusion_model.out.2.weight' has shape \[4, 32, 3, 3\], expected \[3, 32, 3, 3\]/,
  );
  // the default (cin256-v2) configuration on the tiny file: the first weight's shape differs
  await assert.rejects(
    LatentDiffusion.load(TINY_CKPT),
    /key 'cond_stage_model.embedding.weight' has shape \[1001, 16\], expected \[1001, 512\] for cin256-v2/,
  );
});

Deno.test("a DiT checkpoint given as an LDM is refused saying what it looks like", async () => {
  await assert.rejects(
    LatentDiffusion.load(new URL("./fixtures/dit/dit_tiny.pt", import.meta.url).pathname),
    /key 'cond_stage_model.embedding.weight' missing \(cin256-v2 needs \[1001, 512\]\); this looks like a DiT checkpoint/,
  );
});

Deno.test("vqCodec encodes as encode_first_stage and decodes as decode_first_stage, quantisation included", async () => {
  const codec = await vqCodec({ weights: TINY_CKPT, imageSize: 16, config: TINY_VQ });
  try {
    assert.deepEqual(codec.latentShape, [3, 4, 4]);
    const z = await codec.encode(f32("vq.images"), 2);
    const ez = relErr(z, f32("vq.z"));
    const dec = await codec.decode(f32("vq.zin"), 2);
    const ed = relErr(dec, f32("vq.decoded"));
    console.log(`VQ parity: encode ${ez.toExponential(2)}, decode ${ed.toExponential(2)}`);
    assert.ok(ez < TOL, `encode rel err ${ez}`);
    assert.ok(ed < TOL, `decode rel err ${ed}`);
  } finally {
    await codec.release();
  }
});

Deno.test("quantize() picks taming's nearest codebook entries", async () => {
  const g = new Graph();
  const { zq, codes } = quantize(g.input("z", [2, 3, 4, 4]), g.input("e", [64, 3]));
  g.output(codes, "codes");
  g.output(zq, "zq");
  const { tensors } = await readLdmState(TINY_CKPT);
  const e = toFloat32(tensors.get("first_stage_model.quantize.embedding.weight")!);
  const s = await Session.create(g.toModel());
  try {
    const out = await s.run({
      z: { dtype: "F32", shape: [2, 3, 4, 4], data: f32("vq.zin") },
      e: { dtype: "F32", shape: [64, 3], data: e },
    });
    assert.deepEqual([...(out.codes.data as BigInt64Array)].map(Number), [
      ...(FX.get("vq.codes")!.data as Int32Array),
    ]);
  } finally {
    await s.release();
  }
});

Deno.test("vqCodec names the checkpoint's own key and shape when the first stage is malformed", async () => {
  const bad = `${await Deno.makeTempDir()}/bad.safetensors`;
  const { tensors } = await readLdmState(TINY_CKPT);
  const m = new Map(tensors);
  m.delete("first_stage_model.decoder.up.0.block.1.norm2.bias");
  await writeSafetensors(bad, m);
  await assert.rejects(
    vqCodec({ weights: bad, imageSize: 16, config: TINY_VQ }),
    /key 'first_stage_model.decoder.up.0.block.1.norm2.bias' missing \(expected shape \[32\]\)/,
  );
  await assert.rejects(
    vqCodec({ weights: TINY_CKPT, imageSize: 16 }),
    /key 'first_stage_model.encoder.conv_in.weight' has shape \[32,3,3,3\], expected \[128,3,3,3\]/,
  );
});

Deno.test("the default configuration has cin256-v2's state-dict keys and shapes (400.9M U-Net parameters)", async () => {
  const ref = JSON.parse(
    await Deno.readTextFile(new URL("./fixtures/ldm/cin256_v2_shapes.json", import.meta.url)),
  ) as { unet_params: number; keys: [string, number[]][] };
  // Records what the graph builder asks for; every weight is a view of one shared buffer.
  const shared = new Float32Array(16 * 1024 * 1024);
  const asked = new Map<string, number[]>();
  class Recording extends ParamStore {
    override get(
      name: string,
      shape: number[],
      _i: InitKind,
      trainable: boolean,
      toTorch?: number[],
    ) {
      const n = shape.reduce((a, b) => a * b, 1);
      asked.set(name, toTorch ? toTorch.map((i) => shape[i]) : shape);
      const p = { shape, data: shared.subarray(0, n), trainable, toTorch };
      this.entries.set(name, p);
      return p;
    }
  }
  new LatentDiffusion(CIN256_V2, new Recording(Math.random)).graph(1);
  const want = new Map(
    ref.keys.filter(([k]) => !k.startsWith("first_stage_model.")),
  );
  assert.deepEqual([...asked.keys()].sort(), [...want.keys()].sort());
  for (const [k, s] of want) assert.deepEqual(asked.get(k), s, k);
  let unet = 0;
  for (const [k, s] of asked) if (k.startsWith("model.")) unet += s.reduce((a, b) => a * b, 1);
  assert.equal(unet, ref.unet_params);
});

Deno.test("vqCodec's default configuration reads cin256-v2's VQ-f4 first stage keys and shapes", async () => {
  const ref = JSON.parse(
    await Deno.readTextFile(new URL("./fixtures/ldm/cin256_v2_shapes.json", import.meta.url)),
  ) as { vq_params: number; keys: [string, number[]][] };
  const shared = new Float32Array(4 * 1024 * 1024); // every weight a view of one buffer
  const tensors = new Map<string, Tensor>();
  let n = 0;
  for (const [k, shape] of ref.keys) {
    if (!k.startsWith("first_stage_model.")) continue;
    const size = shape.reduce((a, b) => a * b, 1);
    n += size;
    tensors.set(k, { dtype: "F32", shape, data: shared.subarray(0, size) });
  }
  assert.equal(n, ref.vq_params);
  const codec = await vqCodecFromState(tensors, TINY_CKPT, { weights: "cin256", imageSize: 256 });
  assert.deepEqual(codec.latentShape, [3, 64, 64]); // every key used, none missing
  await codec.release();
});
