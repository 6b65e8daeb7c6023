/**
 * Finite-difference checker for the reverse-mode rules: builds `L = sum(f(x...) * r)` with a
 * fixed random `r`, gets the analytic gradients from `grad`, and compares each input's
 * directional derivative `<dL/dx, v>` with a central difference of `L` along random `v`
 * (the sum is taken in float64 on the host, so only the op's own float32 rounding enters).
 */
import { grad } from "../models/graph/autodiff/autodiff.ts";
import { Graph, type Value } from "../models/graph/graph.ts";
import { mul } from "../models/graph/ops/elementwise.ts";
import { sum } from "../models/graph/ops/reduce.ts";
import { Session } from "../models/graph/session.ts";
import type { Tensor } from "../models/core/tensor.ts";

/** Small deterministic generator (mulberry32) for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples. */
export function randn(n: number, r: () => number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12), v = r();
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

/** One differentiable input of a check: its shape and values. */
export interface FdInput {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Extra non-differentiated inputs (labels, masks). */
export interface FdConst {
  name: string;
  tensor: Tensor;
}

/**
 * Checks the gradients of `f` at the given inputs; throws with the worst mismatch.
 * Returns the largest relative error seen.
 */
export async function checkGrad(
  f: (xs: Value[], g: Graph, consts: Value[]) => Value,
  inputs: FdInput[],
  o: { consts?: FdConst[]; eps?: number; tol?: number; dirs?: number; seed?: number } = {},
): Promise<number> {
  const eps = o.eps ?? 1e-3;
  const tol = o.tol ?? 2e-3;
  const r = rng(o.seed ?? 987654321);
  const g = new Graph();
  const xs = inputs.map((i) => g.input(i.name, i.shape));
  const cs = (o.consts ?? []).map((c) =>
    g.input(c.name, c.tensor.shape, c.tensor.dtype === "I64" ? "int64" : "float32")
  );
  const y = f(xs, g, cs);
  const rw = g.constant(randn(y.shape.reduce((a, b) => a * b, 1), r), y.shape);
  const loss = y.shape.length === 0 ? y : sum(mul(y, rw));
  const grads = grad(loss, xs);
  g.output(y, "fd_y");
  grads.forEach((d, i) => g.output(d, `fd_d${i}`));
  const s = await Session.create(g.toModel(), { intraOpThreads: 1 });
  const wData = y.shape.length === 0 ? new Float32Array([1]) : (g.constantData(rw) as Float32Array);
  const feeds = (datas: Float32Array[]) => {
    const fd: Record<string, Tensor> = {};
    inputs.forEach((inp, i) => (fd[inp.name] = { dtype: "F32", shape: inp.shape, data: datas[i] }));
    for (const c of o.consts ?? []) fd[c.name] = c.tensor;
    return fd;
  };
  const base = inputs.map((i) => i.data);
  const out = await s.run(feeds(base));
  const lossAt = async (datas: Float32Array[]) => {
    const yv = (await s.run(feeds(datas), { outputs: ["fd_y"] })).fd_y.data as Float32Array;
    let acc = 0;
    for (let k = 0; k < yv.length; k++) acc += yv[k] * wData[k];
    return acc;
  };
  let worst = 0;
  for (let i = 0; i < inputs.length; i++) {
    const gi = out[`fd_d${i}`].data as Float32Array;
    for (let d = 0; d < (o.dirs ?? 2); d++) {
      const v = randn(gi.length, r);
      let an = 0, mass = 0;
      for (let k = 0; k < gi.length; k++) {
        an += gi[k] * v[k];
        mass += Math.abs(gi[k] * v[k]);
      }
      const shifted = (sgn: number) =>
        base.map((b, j) => (j === i ? b.map((x, k) => x + sgn * eps * v[k]) : b));
      const fd = ((await lossAt(shifted(1))) - (await lossAt(shifted(-1)))) / (2 * eps);
      const err = Math.abs(fd - an) / (mass + 1e-6);
      worst = Math.max(worst, err);
      if (err > tol) {
        throw new Error(
          `gradient of input '${inputs[i].name}' off: analytic ${an}, finite difference ${fd} ` +
            `(relative ${err.toExponential(2)} > ${tol})`,
        );
      }
    }
  }
  await s.release();
  return worst;
}

/** Random input helper. */
export function input(name: string, shape: number[], seed: number, scale = 1): FdInput {
  return { name, shape, data: randn(shape.reduce((a, b) => a * b, 1), rng(seed), scale) };
}

/** Input whose values are a shuffled grid with gaps of `gap` (no near-ties: for max pooling). */
export function distinct(name: string, shape: number[], seed: number, gap = 0.02): FdInput {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = rng(seed);
  const data = Float32Array.from({ length: n }, (_, i) => (i - n / 2) * gap);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [data[i], data[j]] = [data[j], data[i]];
  }
  return { name, shape, data };
}
