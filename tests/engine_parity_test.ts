/**
 * Parity with PyTorch 1.13: one training step of ConvNet-3 (instance norm, ReLU, average
 * pooling) and of ResNet-18 (BatchNorm, max pooling, strided convs) from the same weights and
 * batch gives the same loss, gradients, running statistics and eval logits to float32
 * rounding. Fixtures: tools/fixtures/make_engine_fixtures.py.
 */
import assert from "node:assert/strict";
import { readSafetensors } from "../models/io/safetensors.ts";
import { type Tensor, toFloat32 } from "../models/core/tensor.ts";
import { Trainer } from "../models/train/trainer.ts";
import { Graph } from "../models/graph/graph.ts";
import { crossEntropy, klDivSoftTargets, mixedCrossEntropy } from "../models/train/losses.ts";
import { grad } from "../models/graph/autodiff/autodiff.ts";
import { Session } from "../models/graph/session.ts";
import { convNet, resnet18 } from "./engine_nets.ts";
import { rng } from "./engine_fd.ts";

const DIR = new URL("./fixtures/engine/", import.meta.url).pathname;
// Our float32 result must be as close to PyTorch's float64 result as PyTorch's own float32
// result is: within RATIO of PyTorch's error on the same tensor, or within PyTorch's largest
// error on any tensor of the model, or within FLOOR (a few float32 ulps) of the tensor's scale.
const RATIO = 4;
const FLOOR = 2e-6;

/** max |a - ref| relative to max |ref| (plus 1e-4, for tensors that are exactly zero in theory). */
function relErr(ours: ArrayLike<number>, ref: Float32Array | Float64Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < ref.length; i++) {
    num = Math.max(num, Math.abs(ours[i] - ref[i]));
    den = Math.max(den, Math.abs(ref[i]));
  }
  return num / (den + 1e-4);
}

async function checkStep(file: string, model: Trainer["o"]["model"]) {
  const { tensors } = await readSafetensors(`${DIR}/${file}.safetensors`);
  const pick = (prefix: string) =>
    new Map(
      [...tensors].filter(([k]) => k.startsWith(prefix)).map((
        [k, v],
      ) => [k.slice(prefix.length), v]),
    );
  const x = tensors.get("input.x")!;
  const t = new Trainer({
    model,
    inputShape: x.shape.slice(1),
    classes: 10,
    loss: { kind: "crossEntropy" },
    random: rng(0),
    state: pick("init."),
    session: { intraOpThreads: 2 },
  });
  const f64 = (k: string) => tensors.get(k)!.data as Float64Array;
  const bad: string[] = [];
  const report: string[] = [];
  const errs: { what: string; e: number; et: number }[] = [];
  const compare = (what: string, ours: ArrayLike<number>, torch32: Tensor, ref64: Float64Array) => {
    const e = relErr(ours, ref64), et = relErr(toFloat32(torch32), ref64);
    report.push(`${what}: ours ${e.toExponential(1)} torch ${et.toExponential(1)}`);
    errs.push({ what, e, et });
  };
  const logits = await t.forward(toFloat32(x));
  compare("logits_eval", logits, tensors.get("out.logits_eval")!, f64("ref64.logits_eval"));
  const labels = tensors.get("input.labels")!.data as BigInt64Array;
  const { loss, grads } = await t.computeGradients({ x: toFloat32(x), labels });
  compare("loss", [loss], tensors.get("out.loss")!, f64("ref64.loss"));
  const refGrads = pick("grad.");
  assert.deepEqual([...grads.keys()].sort(), [...refGrads.keys()].sort());
  for (const [k, ref] of refGrads) {
    const g = t.store.toTorch(k, grads.get(k)!).data as Float32Array; // stored -> PyTorch layout
    compare(`grad.${k}`, g, ref, f64(`ref64.grad.${k}`));
  }
  const state = t.stateDict();
  for (const [k, ref] of pick("after.")) {
    const ours = state.get(k)!;
    if (ref.dtype === "I64") assert.equal(ours.data[0], (ref.data as BigInt64Array)[0], k);
    else {
      const e = relErr(toFloat32(ours), toFloat32(ref));
      if (e > 1e-5) bad.push(`after.${k}: ${e}`); // running stats: float32 sums of activations
    }
  }
  await t.release();
  const torchWorst = Math.max(...errs.map((x) => x.et));
  for (const { what, e, et } of errs) {
    if (e > Math.max(RATIO * et, torchWorst, FLOOR)) {
      bad.push(`${what}: ours ${e.toExponential(1)} torch ${et.toExponential(1)}`);
    }
  }
  if (Deno.env.get("ENGINE_PARITY_VERBOSE")) console.log(report.join("\n"));
  assert.deepEqual(bad, [], `${file}: errors against float64 beyond PyTorch's own`);
}

Deno.test("a ConvNet-3 training step matches PyTorch to float32 rounding", async () => {
  await checkStep("convnet3", convNet(10, 16, 3));
});

Deno.test("a ResNet-18 training step (BatchNorm, max pool, strided convs) matches PyTorch", async () => {
  await checkStep("resnet18", resnet18(10, 4));
});

Deno.test("cross-entropy, CutMix and RDED soft-label KL losses match PyTorch", async () => {
  const { tensors, metadata } = await readSafetensors(`${DIR}/losses.safetensors`);
  const g = new Graph();
  const z = g.input("z", [4, 10]), t = g.input("teacher", [4, 10]);
  const ya = g.input("ya", [4], "int64"), yb = g.input("yb", [4], "int64");
  const losses = {
    ce: crossEntropy(z, ya),
    mixed: mixedCrossEntropy(z, ya, yb, Number(metadata.lam)),
    kl: klDivSoftTargets(z, t, Number(metadata.temperature)),
  };
  for (const [k, l] of Object.entries(losses)) {
    g.output(l, `${k}.loss`);
    g.output(grad(l, [z])[0], `${k}.grad`);
  }
  const s = await Session.create(g.toModel());
  const feeds: Record<string, Tensor> = {};
  for (const k of ["z", "teacher", "ya", "yb"]) feeds[k] = tensors.get(k)!;
  const out = await s.run(feeds);
  for (const k of Object.keys(losses)) {
    for (const part of ["loss", "grad"]) {
      const e = relErr(
        out[`${k}.${part}`].data as Float32Array,
        toFloat32(tensors.get(`${k}.${part}`)!),
      );
      assert.ok(e < 1e-5, `${k}.${part}: relative error ${e}`);
    }
  }
});
