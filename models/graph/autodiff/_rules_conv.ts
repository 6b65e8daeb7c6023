/**
 * Gradient rules of Conv, ConvTranspose, Gemm and MatMul.
 *
 * Conv (2-D), following what measured fastest on onnxruntime's CPU provider:
 * - weight gradient: an explicit patch matrix (`im2col`: Pad + one strided Slice per kernel
 *   offset + Concat) times the transposed output gradient in one Gemm (a MatMul per group);
 * - input gradient: a Conv of the output gradient with flipped, in/out-swapped weights for
 *   stride 1, else the exact adjoint ConvTranspose (small maps never get here: their convs
 *   are lowered to `convGemm`, whose backward uses one Gemm and Col2Im);
 * - bias gradient: ReduceSum over batch and space.
 *
 * @module
 */
import type { Node, Value } from "../graph.ts";
import { conv, convTranspose, gemm, matmul, readGeometry } from "../ops/conv.ts";
import type { ConvGeometry } from "../ops/conv.ts";
import { mul } from "../ops/elementwise.ts";
import { sum, sumTo } from "../ops/reduce.ts";
import { permute, reshape, slice } from "../ops/shape.ts";
import { im2col } from "../ops/conv_gemm.ts";
import type { GradRule } from "./_rules_types.ts";

type Attrs = Parameters<typeof readGeometry>[0];

/** Weight gradient `dW [A, B/g, k...]` = sum over positions of `a[n,A,pos] * patches(b)`. */
function weightGrad(a: Value, pm: Value, group: number, shape: readonly number[]): Value {
  const [ca, cols] = [a.shape[1], a.shape[0] * a.shape[2] * a.shape[3]];
  const at = reshape(permute(a, [1, 0, 2, 3]), [ca, cols]); // [A, N*H*W]
  if (group === 1) return reshape(gemm(at, pm, null, { transB: true }), shape);
  const rows = pm.shape[0] / group;
  const pg = permute(reshape(pm, [group, rows, cols]), [0, 2, 1]); // [g, cols, rows]
  return reshape(matmul(reshape(at, [group, ca / group, cols]), pg), shape);
}

/** Conv weight gradient from the NCHW patch matrix (measured faster than channels-last here). */
function convWeightGrad(x: Value, dy: Value, geo: ConvGeometry, shape: readonly number[]): Value {
  return weightGrad(dy, im2col(x, geo, dy.shape.slice(2)), geo.group, shape);
}

/** Flips kernels spatially and swaps in/out channels within each group. */
function flipWeights(w: Value, group: number): Value {
  const [co, cig, kh, kw] = w.shape;
  // Groups 1: one 4-D transpose (it folds into the stored [Cout, kh, kw, Cin] layout's).
  const swapped = group === 1 ? permute(w, [1, 0, 2, 3]) : reshape(
    permute(reshape(w, [group, co / group, cig, kh, kw]), [0, 2, 1, 3, 4]),
    [cig * group, co / group, kh, kw],
  );
  return slice(swapped, [2, 3], [-1, -1], [-(2 ** 62), -(2 ** 62)], [-1, -1]);
}

function convInputGrad(dy: Value, w: Value, x: Value, geo: ConvGeometry): Value {
  const unit = geo.strides.every((s) => s === 1) && geo.dilations.every((d) => d === 1);
  const fullPad = geo.kernel.map((k, i) => k - 1 - geo.pads[i]);
  if (unit && fullPad.every((p) => p >= 0)) {
    return conv(dy, flipWeights(w, geo.group), null, { padding: fullPad, groups: geo.group });
  }
  const outPad = x.shape.slice(2).map((h, i) =>
    h - ((dy.shape[2 + i] - 1) * geo.strides[i] - 2 * geo.pads[i] +
      geo.dilations[i] * (geo.kernel[i] - 1) + 1)
  );
  return convTranspose(dy, w, null, {
    stride: geo.strides,
    padding: geo.pads.slice(0, 2),
    dilation: geo.dilations,
    groups: geo.group,
    outputPadding: outPad,
  });
}

function check2d(n: Node): ConvGeometry {
  if (n.inputs[0]!.rank !== 4) {
    throw new Error(`${n.op} gradient supports 2-D convolutions, got ${n.inputs[0]}`);
  }
  const geo = readGeometry(n.attrs as Attrs);
  if (geo.pads[0] !== geo.pads[2] || geo.pads[1] !== geo.pads[3]) {
    throw new Error(`${n.op} gradient needs symmetric pads, got [${geo.pads}]`);
  }
  return geo;
}

function transposeLast(v: Value): Value {
  const p = v.shape.map((_, i) => i);
  [p[p.length - 2], p[p.length - 1]] = [p[p.length - 1], p[p.length - 2]];
  return permute(v, p);
}

/**
 * Conv-family and matrix-product rules, keyed by ONNX op type.
 *
 * @example
 * ```ts
 * import { CONV_RULES } from "./_rules_conv.ts";
 * Object.keys(CONV_RULES); // op types with a rule
 * ```
 */
export const CONV_RULES: Record<string, GradRule> = {
  Conv: (n, [dy], nd) => {
    const [x, w] = [n.inputs[0]!, n.inputs[1]!];
    const geo = check2d(n);
    return [
      nd[0] ? convInputGrad(dy!, w, x, geo) : null,
      nd[1] ? convWeightGrad(x, dy!, geo, w.shape) : null,
      nd[2] ? sum(dy!, [0, 2, 3]) : null,
    ];
  },
  ConvTranspose: (n, [dy], nd) => {
    const [x, w] = [n.inputs[0]!, n.inputs[1]!];
    const geo = check2d(n);
    const opts = { stride: geo.strides, padding: geo.pads.slice(0, 2), dilation: geo.dilations };
    return [
      nd[0] ? conv(dy!, w, null, { ...opts, groups: geo.group }) : null,
      nd[1] ? weightGrad(x, im2col(dy!, geo, x.shape.slice(2)), geo.group, w.shape) : null,
      nd[2] ? sum(dy!, [0, 2, 3]) : null,
    ];
  },
  Gemm: (n, [dy], nd) => {
    const [a, b, c] = n.inputs;
    const ta = n.attrs.transA?.value === 1, tb = n.attrs.transB?.value === 1;
    const alpha = (n.attrs.alpha?.value as number) ?? 1,
      beta = (n.attrs.beta?.value as number) ?? 1;
    const da = !nd[0]
      ? null
      : ta
      ? gemm(b!, dy!, null, { transA: tb, transB: true, alpha })
      : gemm(dy!, b!, null, { transB: !tb, alpha });
    const db = !nd[1]
      ? null
      : tb
      ? gemm(dy!, a!, null, { transA: true, transB: ta, alpha })
      : gemm(a!, dy!, null, { transA: !ta, alpha });
    const dc = nd[2] ? sumTo(beta === 1 ? dy! : mul(dy!, beta), c!.shape) : null;
    return [da, db, dc];
  },
  MatMul: (n, [dy], nd) => {
    const [a, b] = [n.inputs[0]!, n.inputs[1]!];
    const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]]) : a;
    const b2 = b.rank === 1 ? reshape(b, [b.shape[0], 1]) : b;
    let d = dy!;
    if (a.rank === 1) d = reshape(d, [...d.shape.slice(0, -1), 1, d.shape[d.rank - 1]]);
    if (b.rank === 1) d = reshape(d, [...d.shape, 1]);
    if (a.rank === 1 && b.rank === 1) d = reshape(dy!, [1, 1]);
    return [
      nd[0] ? reshape(sumTo(matmul(d, transposeLast(b2)), a2.shape), a.shape) : null,
      nd[1] ? reshape(sumTo(matmul(transposeLast(a2), d), b2.shape), b.shape) : null,
    ];
  },
};
