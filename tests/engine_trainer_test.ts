/**
 * The training API: steps lower the loss, gradients plug into optimizers from optim.ts,
 * state round-trips with PyTorch names, dropout is reproducible from the seed, the mixed and
 * soft-label losses train, and freed sessions rebuild with the same numbers.
 */
import assert from "node:assert/strict";
import { Trainer } from "../models/train/trainer.ts";
import { SGD } from "../models/train/optim.ts";
import { GraphSGD } from "../models/train/graph_sgd.ts";
import { relu } from "../models/graph/ops/activation.ts";
import { avgPool } from "../models/graph/ops/pool.ts";
import { flatten } from "../models/graph/ops/shape.ts";
import type { Layers } from "../models/graph/nn.ts";
import type { Value } from "../models/graph/graph.ts";
import { randn, rng } from "./engine_fd.ts";

function tinyNet(nn: Layers, x: Value): Value {
  let h = relu(nn.batchNorm("bn", nn.conv2d("conv", x, 4, 3, { padding: 1 })));
  h = nn.dropout(avgPool(h, 2), 0.2);
  return nn.linear("fc", flatten(h, 1), 3);
}

function data(seed: number, n = 8) {
  const r = rng(seed);
  const labels = Array.from({ length: n }, (_, i) => i % 3);
  const x = randn(n * 2 * 4 * 4, r);
  for (let i = 0; i < n; i++) x[i * 32 + labels[i]] += 3; // learnable signal
  return { x, labels };
}

const make = (seed: number, extra: Partial<ConstructorParameters<typeof Trainer>[0]> = {}) =>
  new Trainer({
    model: tinyNet,
    inputShape: [2, 4, 4],
    classes: 3,
    loss: { kind: "crossEntropy" },
    random: rng(seed),
    optimizer: new SGD({ lr: 0.1, momentum: 0.9 }),
    ...extra,
  });

Deno.test("Trainer.step with SGD lowers the loss of a small problem", async () => {
  const t = make(1);
  const batch = data(2);
  const first = await t.step(batch);
  let last = first;
  for (let i = 0; i < 20; i++) last = await t.step(batch);
  assert.ok(last < first * 0.5, `loss ${first} -> ${last}`);
  const logits = await t.forward(batch.x);
  assert.equal(logits.length, 8 * 3);
  await t.release();
});

Deno.test("computeGradients returns every parameter's gradient and advances BatchNorm state", async () => {
  const t = make(3);
  const { loss, grads } = await t.computeGradients(data(4));
  assert.ok(Number.isFinite(loss));
  assert.deepEqual([...grads.keys()].sort(), [
    "bn.bias",
    "bn.weight",
    "conv.bias",
    "conv.weight",
    "fc.bias",
    "fc.weight",
  ]);
  assert.ok([...grads.values()].every((g) => g.some((v) => v !== 0)));
  const s = t.stateDict();
  assert.equal(s.get("bn.num_batches_tracked")!.data[0], 1n);
  assert.ok((s.get("bn.running_mean")!.data as Float32Array).some((v) => v !== 0));
  await t.release();
});

Deno.test("state dicts round-trip with PyTorch names and bad ones are rejected by key", async () => {
  const a = make(5), b = make(6);
  await a.step(data(7));
  b.loadStateDict(a.stateDict());
  const x = data(8).x;
  assert.deepEqual(await a.forward(x), await b.forward(x));
  const bad = a.stateDict();
  bad.set("fc.weight", { dtype: "F32", shape: [2, 2], data: new Float32Array(4) });
  assert.throws(
    () => b.loadStateDict(bad),
    /'fc.weight' has shape \[2,2\], the model needs \[3,16\]/,
  );
  const missing = a.stateDict();
  missing.delete("bn.running_var");
  assert.throws(() => b.loadStateDict(missing), /lacks 'bn.running_var'/);
  await a.release();
  await b.release();
});

Deno.test("training with dropout is reproducible from the seed", async () => {
  const run = async () => {
    const t = make(9);
    const losses = [];
    for (let i = 0; i < 3; i++) losses.push(await t.step(data(10)));
    await t.release();
    return losses;
  };
  assert.deepEqual(await run(), await run());
});

Deno.test("release({ keepTrain }) keeps only the training session at that batch size, and rebuilt sessions give the same numbers", async () => {
  const kept = make(15), plain = make(15);
  const full = data(16), partial = data(17, 5);
  for (const t of [kept, plain]) {
    await t.step(full);
    await t.step(partial);
  }
  const before = await kept.forward(full.x);
  assert.deepEqual(kept.sessions.sort(), ["eval:8", "grad:5", "grad:8"]);
  await kept.release({ keepTrain: 8 });
  assert.deepEqual(kept.sessions, ["grad:8"]);
  assert.deepEqual(await kept.forward(full.x), before); // eval:8 rebuilt
  await kept.release({ keepTrain: 8 });
  await plain.forward(full.x);
  await plain.forward(full.x); // the same calls, on sessions never freed
  for (const t of [kept, plain]) {
    await t.step(full);
    await t.step(partial); // grad:5 rebuilt in `kept`
  }
  assert.deepEqual(kept.stateDict(), plain.stateDict());
  await kept.release();
  assert.deepEqual(kept.sessions, []);
  await plain.release();
});

Deno.test("CutMix mixed cross-entropy and soft-label KL losses train", async () => {
  const batch = data(11);
  const mixed = make(12, { loss: { kind: "mixedCrossEntropy" } });
  const lm = await mixed.step({
    ...batch,
    labelsB: batch.labels.map((l) => (l + 1) % 3),
    lam: 0.7,
  });
  assert.ok(Number.isFinite(lm));
  const kd = make(13, { loss: { kind: "klDiv", temperature: 4 } });
  const teacher = randn(8 * 3, rng(14), 3);
  const first = await kd.step({ x: batch.x, teacher });
  let last = first;
  for (let i = 0; i < 15; i++) last = await kd.step({ x: batch.x, teacher });
  assert.ok(last < first, `KL ${first} -> ${last}`);
  await assert.rejects(() => kd.step({ x: batch.x }), /klDiv batch needs teacher logits/);
  await mixed.release();
  await kd.release();
});

Deno.test("GraphSGD fused into the training graph matches optim.ts SGD step for step", async () => {
  for (
    const o of [
      { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 },
      { lr: 0.05, momentum: 0.9, nesterov: true },
      { lr: 0.1, momentum: 0.5, dampening: 0.3 },
      { lr: 0.2 },
    ]
  ) {
    const js = make(21, { optimizer: new SGD(o) });
    const fused = make(21, { optimizer: undefined, graphOptimizer: new GraphSGD(o) });
    // Same initial weights; no dropout randomness difference: both draw masks from rng(21).
    for (let i = 0; i < 3; i++) {
      const batch = data(22 + i);
      const a = await js.step(batch), b = await fused.step(batch);
      assert.ok(
        Math.abs(a - b) < 1e-5 * Math.max(1, Math.abs(a)),
        `${JSON.stringify(o)} step ${i}: ${a} vs ${b}`,
      );
    }
    const sa = js.stateDict(), sb = fused.stateDict();
    for (const [k, t] of sa) {
      const u = sb.get(k)!;
      if (t.dtype !== "F32") continue;
      const x = t.data as Float32Array, y = u.data as Float32Array;
      for (let i = 0; i < x.length; i++) {
        assert.ok(
          Math.abs(x[i] - y[i]) < 1e-5,
          `${JSON.stringify(o)} ${k}[${i}]: ${x[i]} vs ${y[i]}`,
        );
      }
    }
    const momentum = fused.graphOptimizerState();
    assert.equal(momentum.size, o.momentum ? 6 : 0);
    if (o.momentum) {
      assert.deepEqual(momentum.get("state.conv.weight.momentum_buffer")!.shape, [4, 2, 3, 3]);
    }
    await js.release();
    await fused.release();
  }
});
