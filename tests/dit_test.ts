// DiT: parity with facebookresearch/DiT models.py (PyTorch 1.13) on tiny random models,
// forward_with_cfg and its 3-channel quirk, checkpoint loading (plain, EMA-nested,
// safetensors) and its errors, external data, and training-graph gradients.
// Fixtures: tools/fixtures/make_dit_fixtures.py --dit <DiT checkout>.
import assert from "node:assert/strict";
import { grad } from "../models/graph/autodiff/autodiff.ts";
import { CheckpointError } from "../models/io/checkpoint.ts";
import {
  DiT,
  type DiTConfig,
  ditConfig,
  ditDenoiser,
  ditStateShapes,
  forwardWithCfg,
  posEmbed2d,
  timestepFrequencies,
} from "../models/nets/dit/mod.ts";
import { mul, sub } from "../models/graph/ops/elementwise.ts";
import { mean } from "../models/graph/ops/reduce.ts";
import { readSafetensors, writeSafetensors } from "../models/io/safetensors.ts";
import { Session } from "../models/graph/session.ts";
import { type Tensor, toFloat32 } from "../models/core/tensor.ts";

const DIR = new URL("./fixtures/dit/", import.meta.url).pathname;
const TINY_PT = `${DIR}dit_tiny.pt`;
const MICRO_PT = `${DIR}dit_micro_ema.pt`;
const FX = (await readSafetensors(`${DIR}dit_parity.safetensors`)).tensors;
const ARCHS = JSON.parse(await Deno.readTextFile(`${DIR}dit_archs.json`));
const TINY = ditConfig("DiT-T/2", { inputSize: 8, numClasses: 10 });
const MICRO: DiTConfig = { ...TINY, depth: 1, hiddenSize: 32, numHeads: 2 };
// Measured: forward 6.8e-6 on outputs of magnitude 4.5; CFG (scale 4) 3.4e-5 on 20.
// PyTorch's float32 exp is 1 ulp off in 15 of the 128 timestep frequencies, hence not 1e-6.
const TOL = 5e-6; // max |ours - PyTorch| / max |PyTorch|

const f32 = (k: string) => toFloat32(FX.get(k)!);
const i32 = (k: string) => FX.get(k)!.data as Int32Array;

/** max |a - b| / max |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

async function withDenoiser<T>(dit: DiT, fn: (d: ReturnType<typeof ditDenoiser>) => Promise<T>) {
  const d = ditDenoiser(dit, { session: { intraOpThreads: 1 } });
  try {
    return await fn(d);
  } finally {
    await d.release();
  }
}

Deno.test("ditStateShapes() lists the keys and shapes of every models.py configuration", () => {
  for (
    const [name, e] of Object.entries(ARCHS) as [
      string,
      { params: number; keys: number; shapes?: [string, number[]][] },
    ][]
  ) {
    const shapes = ditStateShapes(ditConfig(name));
    assert.equal(shapes.size, e.keys, name);
    assert.equal(new DiT(ditConfig(name), null!).numParams, e.params, name);
    if (e.shapes) assert.deepEqual([...shapes], e.shapes, name);
  }
  assert.equal(ARCHS["DiT-XL/2"].params, 675_129_632);
});

Deno.test("DiT.init() creates every weight, with DiT's zero adaLN and output layers", async () => {
  const dit = DiT.init(TINY, Math.random);
  for (const [k, shape] of ditStateShapes(TINY)) {
    const p = dit.store.entries.get(k)!;
    assert.deepEqual(p.shape, shape, k);
    const zero = /adaLN_modulation|final_layer\.linear|bias$/.test(k);
    assert.equal(p.data.every((v) => v === 0), zero, k);
  }
  const out = await withDenoiser(dit, (d) => d.forward(f32("x"), f32("t"), i32("y")));
  assert.ok(out.every((v) => v === 0));
});

Deno.test("posEmbed2d() equals the pos_embed buffer models.py computes", async () => {
  const dit = await DiT.load(TINY_PT, TINY);
  assert.ok(relErr(posEmbed2d(64, 4), dit.store.entries.get("pos_embed")!.data) < 1e-7);
});

Deno.test("timestepFrequencies() gives PyTorch's timestep features up to its 1-ulp exp errors", () => {
  const t = f32("t"), ref = f32("tfeat"), f = timestepFrequencies(256);
  let worst = 0;
  for (let b = 0; b < t.length; b++) {
    for (let k = 0; k < 128; k++) {
      const a = Math.fround(t[b] * f[k]);
      worst = Math.max(worst, Math.abs(Math.cos(a) - ref[b * 256 + k]));
      worst = Math.max(worst, Math.abs(Math.sin(a) - ref[b * 256 + 128 + k]));
    }
  }
  assert.ok(worst < 5e-5, `max diff ${worst}`); // t * 1 ulp of f, t up to 999
});

Deno.test("the DiT forward matches models.py for several t and y, the null class included", async () => {
  const dit = await DiT.load(TINY_PT, TINY);
  const out = await withDenoiser(dit, (d) => d.forward(f32("x"), f32("t"), i32("y")));
  assert.ok(relErr(out, f32("out")) < TOL, `rel err ${relErr(out, f32("out"))}`);
});

Deno.test("standard ONNX kernels give the fused contrib kernels' output", async () => {
  const dit = await DiT.load(TINY_PT, TINY);
  const d = ditDenoiser(dit, { kernels: "onnx", session: { intraOpThreads: 1 } });
  const out = await d.forward(f32("x"), f32("t"), i32("y"));
  await d.release();
  assert.ok(relErr(out, f32("out")) < TOL);
});

Deno.test("forwardWithCfg() guides 3 channels like forward_with_cfg, or all with channels 'all'", async () => {
  const dit = await DiT.load(TINY_PT, TINY);
  const [x, t, y] = [f32("cfg.x"), f32("cfg.t"), i32("cfg.y")];
  const [three, all] = await withDenoiser(dit, async (d) => [
    await forwardWithCfg(d, x, t, y, 4.0),
    await forwardWithCfg(d, x, t, y, 4.0, { channels: "all" }),
  ]);
  assert.ok(relErr(three, f32("cfg.out3")) < TOL);
  assert.ok(relErr(all, f32("cfg.out_all")) < TOL);
  const plane = 64, per = 8 * plane;
  for (let i = 0; i < per; i++) {
    const same = three[i] === all[i];
    assert.equal(same, i < 3 * plane || i >= 4 * plane, `channel ${Math.floor(i / plane)}`);
  }
});

Deno.test("DiT.load() takes the ema weights of a training checkpoint, or model when preferred", async () => {
  const ema = await DiT.load(MICRO_PT, MICRO);
  const out = await withDenoiser(ema, (d) => d.forward(f32("ema.x"), f32("ema.t"), i32("ema.y")));
  assert.ok(relErr(out, f32("ema.out")) < TOL);
  const raw = await DiT.load(MICRO_PT, MICRO, { prefer: ["model"] });
  const w = (m: DiT) => m.store.entries.get("blocks.0.attn.qkv.weight")!.data;
  assert.notDeepEqual(w(raw), w(ema));
});

Deno.test("DiT.load() reads the same weights from a safetensors file", async () => {
  const pt = await DiT.load(TINY_PT, TINY);
  const tensors = new Map<string, Tensor>();
  for (const [k, p] of pt.store.entries) {
    tensors.set(k, { dtype: "F32", shape: p.shape, data: p.data });
  }
  const path = `${await Deno.makeTempDir()}/dit.safetensors`;
  await writeSafetensors(path, tensors);
  const st = await DiT.load(path, TINY);
  for (const [k, p] of pt.store.entries) assert.deepEqual(st.store.entries.get(k)!.data, p.data, k);
  await Deno.remove(path);
});

Deno.test("DiT.load() names a missing key, a wrong shape and unexpected keys", async () => {
  const pt = await DiT.load(TINY_PT, TINY);
  const sd = new Map<string, Tensor>();
  for (const [k, p] of pt.store.entries) sd.set(k, { dtype: "F32", shape: p.shape, data: p.data });
  sd.delete("y_embedder.embedding_table.weight");
  assert.throws(() => DiT.fromStateDict(sd, TINY, "x.pt"), {
    name: "CheckpointError",
    message: "Cannot load checkpoint x.pt: key 'y_embedder.embedding_table.weight' missing " +
      "(DiT-T/2 needs [11, 64])",
  });
  await assert.rejects(() => DiT.load(TINY_PT, { ...TINY, numClasses: 1000 }), (e: Error) => {
    assert.ok(e instanceof CheckpointError);
    assert.match(
      e.message,
      /dit_tiny\.pt: key 'y_embedder\.embedding_table\.weight' has shape \[11, 64\], expected \[1001, 64\]/,
    );
    return true;
  });
  await assert.rejects(
    () => DiT.load(TINY_PT, { ...TINY, depth: 1 }),
    /unexpected keys 'blocks\.1\.attn\.qkv\.weight', .* and 5 more/,
  );
  const loose = await DiT.load(TINY_PT, { ...TINY, depth: 1 }, { strict: false });
  assert.equal(loose.store.entries.size, ditStateShapes({ ...TINY, depth: 1 }).size);
  await assert.rejects(() => DiT.load(`${DIR}missing.pt`, TINY), /missing\.pt/);
});

Deno.test("toModel() with external data keeps weights out of the protobuf and runs the same", async () => {
  const dit = await DiT.load(TINY_PT, TINY);
  const inline = dit.toModel(6);
  const ext = dit.toModel(6, { externalData: "always", externalName: "dit.onnx.data" });
  assert.equal(inline.externalData.length, 0);
  assert.equal(ext.externalData.length, 1);
  assert.ok(
    ext.model.length < inline.model.length / 10,
    `${ext.model.length} vs ${inline.model.length}`,
  );
  const s = await Session.create(ext, { intraOpThreads: 1 });
  const { out } = await s.run({
    x: { dtype: "F32", shape: [6, 4, 8, 8], data: f32("x") },
    t: { dtype: "F32", shape: [6], data: f32("t") },
    y: { dtype: "I32", shape: [6], data: i32("y") },
  });
  await s.release();
  assert.ok(relErr(out.data as Float32Array, f32("out")) < TOL);
});

Deno.test("a training graph's gradient of an MSE loss matches PyTorch's", async () => {
  const dit = await DiT.load(MICRO_PT, MICRO);
  const { graph: g, output } = dit.graph(3, { training: true });
  const d = sub(output, g.input("target", [3, 8, 8, 8]));
  const loss = mean(mul(d, d));
  g.output(loss, "loss");
  const params = [...g.params.values()].filter((p) => p.trainable);
  assert.equal(params.length, [...FX.keys()].filter((k) => k.startsWith("grad.")).length);
  grad(loss, params.map((p) => p.value)).forEach((v, i) =>
    g.output(v, `grad.${params[i].value.name}`)
  );
  const s = await Session.create(g.toModel(), { intraOpThreads: 1 });
  const feeds: Record<string, Tensor> = {
    x: { dtype: "F32", shape: [3, 4, 8, 8], data: f32("ema.x") },
    t: { dtype: "F32", shape: [3], data: f32("ema.t") },
    y: { dtype: "I32", shape: [3], data: i32("ema.y") },
    target: { dtype: "F32", shape: [3, 8, 8, 8], data: f32("ema.target") },
  };
  for (const p of g.params.values()) {
    feeds[p.value.name] = { dtype: "F32", shape: [...p.value.shape], data: p.data };
  }
  const r = await s.run(feeds);
  await s.release();
  assert.ok(relErr(r.loss.data as Float32Array, f32("ema.loss")) < 1e-5);
  for (const p of params) {
    const k = `grad.${p.value.name}`;
    const e = relErr(r[k].data as Float32Array, f32(k));
    assert.ok(e < 5e-5, `${k}: rel err ${e}`); // worst measured 1.7e-5 (t_embedder.mlp.0.weight)
  }
});

Deno.test("ditDenoiser() gives each sample the same output at any batch size", async () => {
  const dit = await DiT.load(TINY_PT, TINY);
  const per = 4 * 64, outPer = 8 * 64;
  await withDenoiser(dit, async (d) => {
    const full = await d.forward(f32("x"), f32("t"), i32("y"));
    for (const b of [0, 3]) {
      const one = await d.forward(
        f32("x").slice(b * per, (b + 1) * per),
        f32("t").slice(b, b + 1),
        i32("y").slice(b, b + 1),
      );
      assert.ok(relErr(one, full.subarray(b * outPer, (b + 1) * outPer)) < 1e-6);
    }
  });
});

Deno.test("ditDenoiser() rejects class ids past the null class and misshaped batches", async () => {
  const dit = await DiT.load(TINY_PT, TINY);
  const d = ditDenoiser(dit);
  assert.deepEqual([d.latentShape, d.numClasses, d.predictionType, d.learnSigma], [
    [4, 8, 8],
    10,
    "eps",
    true,
  ]);
  await assert.rejects(
    () => d.forward(new Float32Array(256), new Float32Array(1), new Int32Array([11])),
    /class id 11 out of range \[0, 10\] \(10 is the null class\)/,
  );
  await assert.rejects(
    () => d.forward(new Float32Array(100), new Float32Array(1), new Int32Array(1)),
    /expected \[B, 4, 8, 8\]/,
  );
  await d.release();
});
