/**
 * Finite-difference checks of the composite ops (normalisations, dropout, losses) and
 * value checks of their forward results against direct host computations.
 */
import assert from "node:assert/strict";
import { checkGrad, input, randn, rng } from "./engine_fd.ts";
import { Graph } from "../models/graph/graph.ts";
import { groupNorm, instanceNorm, layerNorm } from "../models/graph/ops/norm.ts";
import { batchNorm } from "../models/graph/ops/batchnorm.ts";
import { dropout, fillDropoutMask } from "../models/graph/ops/dropout.ts";
import { crossEntropy, klDivSoftTargets, mixedCrossEntropy } from "../models/train/losses.ts";
import { add, mul } from "../models/graph/ops/elementwise.ts";
import { Session } from "../models/graph/session.ts";
import type { Tensor } from "../models/core/tensor.ts";

const t = (name: string, fn: () => Promise<unknown>) =>
  Deno.test(name, async () => void (await fn()));
const labels = (xs: number[]): Tensor => ({
  dtype: "I64",
  shape: [xs.length],
  data: BigInt64Array.from(xs, BigInt),
});

t("group norm gradient (one group per channel, affine) matches finite differences", () =>
  checkGrad(
    ([x, w, b]) => instanceNorm(x, w, b),
    [input("x", [2, 3, 4, 5], 1, 2), input("w", [3], 2), input("b", [3], 3)],
  ));

t(
  "instance norm built for inference (one InstanceNormalization node) matches finite differences",
  () =>
    checkGrad(
      ([x, w, b]) => groupNorm(x, 3, w, b, 1e-5, { inference: true }),
      [input("x", [2, 3, 4, 5], 31, 2), input("w", [3], 32), input("b", [3], 33)],
    ),
);

t("group norm gradient (2 groups of 2 channels) matches finite differences", () =>
  checkGrad(
    ([x, w, b]) => groupNorm(x, 2, w, b),
    [input("x", [2, 4, 3, 3], 4), input("w", [4], 5), input("b", [4], 6)],
  ));

t(
  "group norm gradient without affine on a 2-D input matches finite differences",
  () => checkGrad(([z]) => groupNorm(z, 2, null, null), [input("z", [3, 8], 7)]),
);

t("layer norm gradient over the last dim matches finite differences", () =>
  checkGrad(
    ([x, w, b]) => layerNorm(x, w, b),
    [input("x", [2, 3, 4, 5], 8), input("w", [5], 9), input("b", [5], 10)],
  ));

t("layer norm over the last two dims matches finite differences", () =>
  checkGrad(
    ([x, w]) => layerNorm(x, w, null),
    [input("x", [2, 3, 4, 5], 12), input("w", [4, 5], 13)],
  ));

t("batch norm (train mode) gradient matches finite differences", () =>
  checkGrad(([x, w, b], g) => {
    const c = x.shape[1];
    const rm = g.constant(new Float32Array(c), [c]);
    const rv = g.constant(new Float32Array(c).fill(1), [c]);
    return batchNorm(x, w, b, rm, rv, { training: true }).y;
  }, [input("x", [3, 4, 3, 3], 14, 2), input("w", [4], 15), input("b", [4], 16)]));

t("batch norm (eval mode) gradient matches finite differences", () =>
  checkGrad(([x, w, b], g) => {
    const rm = g.constant(Float32Array.from([0.1, -0.2, 0.3, 0]), [4]);
    const rv = g.constant(Float32Array.from([1.5, 0.5, 2, 1]), [4]);
    return batchNorm(x, w, b, rm, rv, { training: false }).y;
  }, [input("x", [3, 4, 3, 3], 17), input("w", [4], 18), input("b", [4], 19)]));

Deno.test("batch norm (train mode) updates running stats with momentum and unbiased variance", async () => {
  const [n, c, hw] = [3, 2, 4];
  const g = new Graph();
  const x = g.input("x", [n, c, 2, 2]);
  const rm0 = Float32Array.from([0.5, -1]), rv0 = Float32Array.from([2, 0.5]);
  const out = batchNorm(
    x,
    g.constant(new Float32Array(c).fill(1), [c]),
    g.constant(new Float32Array(c), [c]),
    g.constant(rm0, [c]),
    g.constant(rv0, [c]),
    { training: true, momentum: 0.1 },
  );
  g.output(out.runningMean!, "rm");
  g.output(out.runningVar!, "rv");
  const s = await Session.create(g.toModel());
  const data = randn(n * c * hw, rng(20), 2);
  const r = await s.run({ x: { dtype: "F32", shape: [n, c, 2, 2], data } });
  for (let ch = 0; ch < c; ch++) {
    const vals: number[] = [];
    for (let i = 0; i < n; i++) for (let k = 0; k < hw; k++) vals.push(data[(i * c + ch) * hw + k]);
    const mu = vals.reduce((a, b) => a + b, 0) / vals.length;
    const unb = vals.reduce((a, b) => a + (b - mu) ** 2, 0) / (vals.length - 1);
    assert.ok(Math.abs((r.rm.data as Float32Array)[ch] - (0.9 * rm0[ch] + 0.1 * mu)) < 1e-5);
    assert.ok(Math.abs((r.rv.data as Float32Array)[ch] - (0.9 * rv0[ch] + 0.1 * unb)) < 1e-5);
  }
});

t(
  "dropout with a seeded mask input is reproducible and its gradient matches finite differences",
  () => {
    const m1 = fillDropoutMask(new Float32Array(12), 0.3, rng(7));
    const m2 = fillDropoutMask(new Float32Array(12), 0.3, rng(7));
    assert.deepEqual(m1, m2);
    assert.ok(m1.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6));
    const g = new Graph();
    dropout(g.input("x", [3, 4]), 0.3, true);
    assert.equal(g.randomInputs.length, 1);
    return checkGrad(
      ([x], _g, [mask]) => mul(x, mask),
      [input("x", [3, 4], 21)],
      { consts: [{ name: "mask", tensor: { dtype: "F32", shape: [3, 4], data: m1 } }] },
    );
  },
);

t("cross-entropy gradient matches finite differences", () =>
  checkGrad(
    ([z], _g, [y]) => crossEntropy(z, y),
    [input("z", [4, 5], 22, 2)],
    { consts: [{ name: "y", tensor: labels([1, 0, 4, 1]) }] },
  ));

t("mixed (CutMix) cross-entropy gradient matches finite differences", () =>
  checkGrad(
    ([z], _g, [a, b, lam]) => mixedCrossEntropy(z, a, b, lam),
    [input("z", [4, 5], 23, 2)],
    {
      consts: [
        { name: "ya", tensor: labels([1, 0, 4, 1]) },
        { name: "yb", tensor: labels([2, 2, 0, 3]) },
        { name: "lam", tensor: { dtype: "F32", shape: [], data: Float32Array.from([0.3]) } },
      ],
    },
  ));

t(
  "soft-label KL divergence gradient (with and without T^2) matches finite differences",
  () =>
    checkGrad(
      ([s], _g, [tch]) =>
        add(klDivSoftTargets(s, tch, 4), klDivSoftTargets(s, tch, 2, { scaleByTSquared: true })),
      [input("s", [3, 6], 24, 3)],
      {
        consts: [{
          name: "t",
          tensor: { dtype: "F32", shape: [3, 6], data: randn(18, rng(25), 3) },
        }],
      },
    ),
);

Deno.test("loss values match host computations of PyTorch's formulas", async () => {
  const g = new Graph();
  const z = g.input("z", [2, 3]), tch = g.input("t", [2, 3]);
  const y = g.input("y", [2], "int64"), yb = g.input("yb", [2], "int64");
  g.output(crossEntropy(z, y), "ce");
  g.output(mixedCrossEntropy(z, y, yb, 0.25), "mix");
  g.output(klDivSoftTargets(z, tch, 2), "kl");
  const s = await Session.create(g.toModel());
  const zd = [1, 2, 0.5, -1, 0, 3], td = [0.5, 0, 1, 2, 1, -1];
  const r = await s.run({
    z: { dtype: "F32", shape: [2, 3], data: Float32Array.from(zd) },
    t: { dtype: "F32", shape: [2, 3], data: Float32Array.from(td) },
    y: labels([1, 2]),
    yb: labels([0, 0]),
  });
  const lsm = (v: number[], T = 1) => {
    const s2 = v.map((a) => a / T), m = Math.max(...s2);
    const lse = m + Math.log(s2.reduce((a, b) => a + Math.exp(b - m), 0));
    return s2.map((a) => a - lse);
  };
  const rows = [zd.slice(0, 3), zd.slice(3)], trows = [td.slice(0, 3), td.slice(3)];
  const ce = -(lsm(rows[0])[1] + lsm(rows[1])[2]) / 2;
  const ceb = -(lsm(rows[0])[0] + lsm(rows[1])[0]) / 2;
  let kl = 0;
  for (let i = 0; i < 2; i++) {
    const ls = lsm(rows[i], 2), lt = lsm(trows[i], 2);
    for (let k = 0; k < 3; k++) kl += Math.exp(lt[k]) * (lt[k] - ls[k]);
  }
  const near = (a: Tensor, b: number) =>
    assert.ok(Math.abs((a.data as Float32Array)[0] - b) < 1e-5, `${a.data} vs ${b}`);
  near(r.ce, ce);
  near(r.mix, 0.25 * ce + 0.75 * ceb);
  near(r.kl, kl / 2);
});
