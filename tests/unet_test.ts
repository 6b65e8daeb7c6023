import assert from "node:assert/strict";
import { readSafetensors } from "../models/io/safetensors.ts";
import { type Tensor, toFloat32 } from "../models/core/tensor.ts";
import { Graph } from "../models/graph/graph.ts";
import { Layers, ParamStore } from "../models/graph/nn.ts";
import { grad } from "../models/graph/autodiff/autodiff.ts";
import { Session } from "../models/graph/session.ts";
import { mean } from "../models/graph/ops/reduce.ts";
import { mul, sub } from "../models/graph/ops/elementwise.ts";
import { timestepFeatures, unet, type UNetConfig } from "../models/nets/unet/unet.ts";
import { unetDenoiser } from "../models/nets/unet/denoiser.ts";
import { DiffusionTrainer } from "../models/train/diffusion_trainer.ts";

const CFG: UNetConfig = {
  inChannels: 4,
  size: 8,
  channels: 8,
  mult: [1, 2],
  blocksPerLevel: 2,
  midBlocks: 1,
  numClasses: 3,
  groups: 4,
};
const fx = await readSafetensors(
  new URL("./fixtures/unet/tiny.safetensors", import.meta.url).pathname,
);
const get = (k: string) => toFloat32(fx.tensors.get(k)!);
const weights = new Map<string, Tensor>();
for (const [k, t] of fx.tensors) if (k.startsWith("weight.")) weights.set(k.slice(7), t);
const y = Int32Array.from(fx.tensors.get("y")!.data as BigInt64Array, Number);

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

Deno.test("the U-Net denoiser matches its PyTorch twin's output (tiny config, random weights)", async () => {
  const model = unetDenoiser({ config: CFG, weights, predictionType: "v" });
  const out = await model.forward(get("x"), get("t"), y);
  assert.ok(maxDiff(out, get("out")) < 1e-4, `max diff ${maxDiff(out, get("out"))}`);
  await model.release();
});

Deno.test("the U-Net's gradients of an MSE loss match PyTorch's for every weight", async () => {
  const store = new ParamStore(() => 0);
  const g = new Graph();
  const nn = new Layers(g, store, true);
  const out = unet(
    nn,
    CFG,
    g.input("x", [3, 4, 8, 8]),
    g.input("t_feat", [3, 8]),
    g.input("y", [3], "int64"),
  );
  for (const [k, t] of weights) store.fromTorch(k, t);
  const d = sub(out, g.input("target", [3, 4, 8, 8]));
  const loss = mean(mul(d, d));
  g.output(loss, "loss");
  const params = [...g.params.values()];
  grad(loss, params.map((p) => p.value)).forEach((v, i) =>
    g.output(v, `grad:${params[i].value.name}`)
  );
  const s = await Session.create(g.toModel());
  const feeds: Record<string, Tensor> = {};
  for (const [k, p] of g.params) {
    feeds[k] = { dtype: "F32", shape: p.value.shape as number[], data: p.data as Float32Array };
  }
  const r = await s.run({
    ...feeds,
    x: { dtype: "F32", shape: [3, 4, 8, 8], data: get("x") },
    t_feat: { dtype: "F32", shape: [3, 8], data: timestepFeatures(get("t"), 8) },
    y: { dtype: "I64", shape: [3], data: fx.tensors.get("y")!.data as BigInt64Array },
    target: { dtype: "F32", shape: [3, 4, 8, 8], data: get("target") },
  });
  assert.ok(Math.abs((r.loss.data as Float32Array)[0] - get("loss")[0]) < 1e-4);
  let worst = 0;
  for (const p of params) {
    const ours = store.toTorch(p.value.name, r[`grad:${p.value.name}`].data as Float32Array)
      .data as Float32Array;
    const ref = get(`grad.${p.value.name}`);
    const scale = Math.max(...ref.map(Math.abs), 1e-6);
    for (let i = 0; i < ref.length; i++) {
      worst = Math.max(worst, Math.abs(ours[i] - ref[i]) / scale);
    }
  }
  assert.ok(worst < 1e-3, `worst gradient difference relative to the tensor's max: ${worst}`);
  await s.release();
});

Deno.test("DiffusionTrainer lowers the loss on a fixed batch and resumes exactly from its state", async () => {
  const opts = {
    config: CFG,
    batchSize: 4,
    lr: 3e-3,
    weightDecay: 0,
    emaDecay: 0.9,
    cfgDropout: 0.1,
    predictionType: "v" as const,
    trainSteps: 1000,
    seed: 1,
  };
  const x0 = new Float32Array(4 * 256).map((_, i) => Math.sin(i));
  const labels = [0, 1, 2, 0];
  const a = await DiffusionTrainer.create(opts);
  const first: number[] = [];
  for (let i = 0; i < 3; i++) first.push(await a.step(x0, labels));
  const state = a.stateDict();
  const next = await a.step(x0, labels);
  const b = await DiffusionTrainer.create(opts);
  b.loadStateDict(state);
  assert.equal(b.steps, 3);
  assert.equal(await b.step(x0, labels), next);
  assert.deepEqual([...b.ema.get("conv_in.weight")!], [...a.ema.get("conv_in.weight")!]);
  let later = 0;
  for (let i = 0; i < 30; i++) later = await a.step(x0, labels);
  assert.ok(later < first[0], `loss ${first[0]} -> ${later}`);
  assert.throws(() => b.loadStateDict(new Map()), /Training state lacks 'ema\.time_embed/);
  await a.release();
  await b.release();
});
