import assert from "node:assert/strict";
import { AdamW, type Optimizer, type ParamMap, SGD } from "../models/train/optim.ts";
import {
  cosineLr,
  halfCosineFactor,
  lambdaLr,
  multiStepLr,
  warmupLr,
} from "../models/train/lr_schedule.ts";
import { readSafetensors } from "../models/io/safetensors.ts";
import { toFloat32 } from "../models/core/tensor.ts";

const DIR = new URL("./fixtures/optim/", import.meta.url).pathname;
const NAMES = ["conv.weight", "conv.bias", "fc.weight"];

function maxRelErr(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + 1e-3));
  }
  return worst;
}

async function replay(file: string, make: (o: Record<string, unknown>) => Optimizer) {
  const { tensors, metadata } = await readSafetensors(`${DIR}/${file}.safetensors`);
  const options = JSON.parse(metadata.options);
  const lrScale: number[] = JSON.parse(metadata.lr_scale);
  const get = (k: string) => toFloat32(tensors.get(k)!).slice();
  const params: ParamMap = new Map(NAMES.map((n) => [n, get(`init.${n}`)]));
  let opt = make(options);
  for (let s = 0; s < lrScale.length; s++) {
    opt.lr = (options.lr as number) * lrScale[s];
    opt.step(params, new Map(NAMES.map((n) => [n, get(`grad.${s}.${n}`)])));
    for (const n of NAMES) {
      assert.ok(maxRelErr(params.get(n)!, get(`param.${s}.${n}`)) < 1e-5, `${file} step ${s} ${n}`);
    }
    if (s === 2) {
      // Save and resume mid-run: a fresh optimizer with the loaded state continues identically.
      const state = opt.stateDict();
      opt = make(options);
      opt.loadStateDict(state, params);
    }
  }
  for (const [k, t] of tensors) {
    if (!k.startsWith("state.")) continue;
    const ours = opt.stateDict().get(k);
    assert.ok(ours, `missing state ${k}`);
    assert.ok(maxRelErr(toFloat32(ours), toFloat32(t)) < 1e-4, `${file} ${k}`);
  }
}

const sgd = (o: Record<string, unknown>) =>
  new SGD({
    lr: o.lr as number,
    momentum: o.momentum as number,
    dampening: o.dampening as number,
    weightDecay: o.weight_decay as number,
    nesterov: o.nesterov as boolean,
  });
const adamw = (o: Record<string, unknown>) =>
  new AdamW({
    lr: o.lr as number,
    betas: o.betas as [number, number],
    eps: o.eps as number,
    weightDecay: o.weight_decay as number,
    amsgrad: o.amsgrad as boolean,
  });

for (const c of ["sgd_momentum_wd", "sgd_nesterov", "sgd_plain", "sgd_dampening"]) {
  Deno.test(`SGD matches PyTorch step by step and resumes from its state (${c})`, () =>
    replay(c, sgd));
}
for (const c of ["adamw", "adamw_amsgrad"]) {
  Deno.test(`AdamW matches PyTorch step by step and resumes from its state (${c})`, () =>
    replay(c, adamw));
}

Deno.test("LR schedules give PyTorch's per-epoch learning rates", async () => {
  const { tensors } = await readSafetensors(`${DIR}/schedules.safetensors`);
  const cases: [string, (e: number) => number][] = [
    ["multistep", multiStepLr(0.01, [20, 25], 0.2)],
    ["cosine", cosineLr(0.01, 30, 1e-4)],
    ["half_cosine_lambda", lambdaLr(0.01, halfCosineFactor(30))],
    ["linear_warmup", warmupLr(0.01, 5, 0.1)],
  ];
  for (const [name, f] of cases) {
    const ref = tensors.get(name)!.data as Float64Array;
    for (let e = 0; e < ref.length; e++) {
      assert.ok(
        Math.abs(f(e) - ref[e]) <= 1e-12 + 1e-9 * ref[e],
        `${name} epoch ${e}: ${f(e)} vs ${ref[e]}`,
      );
    }
  }
});

Deno.test("optimizers reject bad options and mismatched gradients", () => {
  assert.throws(() => new SGD({ lr: -1 }), /lr must be >= 0/);
  assert.throws(() => new SGD({ lr: 0.1, nesterov: true }), /nesterov needs momentum/);
  assert.throws(() => new AdamW({ lr: 1e-3, betas: [1, 0.9] }), /betas/);
  const opt = new SGD({ lr: 0.1 });
  assert.throws(
    () => opt.step(new Map([["w", new Float32Array(2)]]), new Map([["w", new Float32Array(3)]])),
    /Gradient of 'w' has 3 elements; the parameter has 2/,
  );
});
