/**
 * Convolutions and matrix products: conv (ONNX Conv, any number of spatial dims),
 * convTranspose, gemm/linear and batched matmul with broadcasting.
 *
 * @module
 */
import type { Value } from "../graph.ts";
import { attr, broadcastShapes, node1, sameType } from "./_util.ts";
import { convGemm } from "./conv_gemm.ts";

/** Convolution geometry; each field is per spatial dim or one number for all. */
export interface ConvOptions {
  stride?: number | number[];
  /** Symmetric padding per spatial dim (PyTorch `padding`). */
  padding?: number | number[];
  dilation?: number | number[];
  groups?: number;
}

/**
 * Lowering policy of 2-D convs (groups 1): outputs of at most `gemmMaxPixels` pixels (Ho*Wo)
 * run as one batched Gemm over an explicit patch matrix (`_conv_gemm.ts`) instead of
 * onnxruntime's Conv, whose per-image GEMM has only Ho*Wo columns. 64 (8x8 maps) measured
 * best for ResNet-18 at 64 px on 2 cores (bench/engine_bench.ts); 0 disables it.
 */
export const convLowering = { gemmMaxPixels: 64 };

/** Expands a number to one entry per spatial dim. */
export function perDim(v: number | number[] | undefined, n: number, dflt: number): number[] {
  if (v === undefined) return Array(n).fill(dflt);
  if (typeof v === "number") return Array(n).fill(v);
  if (v.length !== n) throw new RangeError(`Expected ${n} values, got [${v}]`);
  return v;
}

/** Resolved geometry of a conv node, read back from its attributes by the gradient rules. */
export interface ConvGeometry {
  strides: number[];
  pads: number[];
  dilations: number[];
  group: number;
  kernel: number[];
}

function geometry(x: Value, w: Value, o: ConvOptions): ConvGeometry {
  const n = x.rank - 2;
  const pad = perDim(o.padding, n, 0);
  return {
    strides: perDim(o.stride, n, 1),
    pads: [...pad, ...pad],
    dilations: perDim(o.dilation, n, 1),
    group: o.groups ?? 1,
    kernel: w.shape.slice(2),
  };
}

function convAttrs(g: ConvGeometry) {
  return {
    strides: attr.ints(g.strides),
    pads: attr.ints(g.pads),
    dilations: attr.ints(g.dilations),
    group: attr.int(g.group),
    kernel_shape: attr.ints(g.kernel),
  };
}

/**
 * Convolution of `x [N, Cin, ...]` with `w [Cout, Cin/groups, ...k]` plus optional bias.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { conv } from "./conv.ts";
 * const g = new Graph();
 * const y = conv(g.input("x", [2, 3, 8, 8]), g.input("w", [4, 3, 3, 3]), null, { padding: 1 });
 * ```
 */
export function conv(x: Value, w: Value, b: Value | null, o: ConvOptions = {}): Value {
  sameType("conv", x, w);
  const geo = geometry(x, w, o);
  const n = x.rank - 2;
  if (w.rank !== x.rank || x.shape[1] !== w.shape[1] * geo.group || w.shape[0] % geo.group) {
    throw new RangeError(`conv: weight ${w} does not fit input ${x} with groups=${geo.group}`);
  }
  if (b && (b.rank !== 1 || b.shape[0] !== w.shape[0])) {
    throw new RangeError(`conv: bias ${b} must be [${w.shape[0]}]`);
  }
  const out = [x.shape[0], w.shape[0]];
  for (let i = 0; i < n; i++) {
    const span = geo.dilations[i] * (geo.kernel[i] - 1) + 1;
    const d = Math.floor((x.shape[2 + i] + 2 * geo.pads[i] - span) / geo.strides[i]) + 1;
    if (d < 1) throw new RangeError(`conv: kernel larger than padded input ${x}`);
    out.push(d);
  }
  const pixels = out.slice(2).reduce((p, q) => p * q, 1);
  if (n === 2 && geo.group === 1 && pixels <= convLowering.gemmMaxPixels && !x.graph.inComposite) {
    return convGemm(x, w, b, geo, out.slice(2));
  }
  return node1(x.graph, "Conv", b ? [x, w, b] : [x, w], out, x.dtype, convAttrs(geo));
}

/**
 * Transposed convolution of `x [N, Cin, ...]` with `w [Cin, Cout/groups, ...k]`
 * (PyTorch ConvTranspose semantics, `outputPadding` adds to the far side).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { convTranspose } from "./conv.ts";
 * const g = new Graph();
 * const y = convTranspose(g.input("x", [1, 4, 4, 4]), g.input("w", [4, 2, 4, 4]), null, {
 *   stride: 2,
 *   padding: 1,
 * }); // [1, 2, 8, 8]
 * ```
 */
export function convTranspose(
  x: Value,
  w: Value,
  b: Value | null,
  o: ConvOptions & { outputPadding?: number | number[] } = {},
): Value {
  sameType("convTranspose", x, w);
  const geo = geometry(x, w, o);
  const n = x.rank - 2;
  if (w.rank !== x.rank || x.shape[1] !== w.shape[0]) {
    throw new RangeError(`convTranspose: weight ${w} does not fit input ${x}`);
  }
  const op = perDim(o.outputPadding, n, 0);
  const cout = w.shape[1] * geo.group;
  if (b && (b.rank !== 1 || b.shape[0] !== cout)) {
    throw new RangeError(`convTranspose: bias ${b} must be [${cout}]`);
  }
  const out = [x.shape[0], cout];
  for (let i = 0; i < n; i++) {
    out.push(
      (x.shape[2 + i] - 1) * geo.strides[i] - 2 * geo.pads[i] +
        geo.dilations[i] * (geo.kernel[i] - 1) + op[i] + 1,
    );
  }
  return node1(x.graph, "ConvTranspose", b ? [x, w, b] : [x, w], out, x.dtype, {
    ...convAttrs(geo),
    output_padding: attr.ints(op),
  });
}

/** Reads a Conv/ConvTranspose node's geometry back from its attributes. */
export function readGeometry(
  attrs: Record<string, { kind: string; value: unknown }>,
): ConvGeometry {
  const ints = (k: string) => attrs[k].value as number[];
  return {
    strides: ints("strides"),
    pads: ints("pads"),
    dilations: ints("dilations"),
    group: attrs.group.value as number,
    kernel: ints("kernel_shape"),
  };
}

/**
 * `alpha * op(a) @ op(b) + beta * c` for 2-D `a`, `b` (ONNX Gemm).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { gemm } from "./conv.ts";
 * const g = new Graph();
 * const y = gemm(g.input("a", [4, 3]), g.input("b", [5, 3]), null, { transB: true }); // [4, 5]
 * ```
 */
export function gemm(
  a: Value,
  b: Value,
  c: Value | null,
  o: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {},
): Value {
  sameType("gemm", a, b);
  if (a.rank !== 2 || b.rank !== 2) throw new RangeError(`gemm: ${a} and ${b} must be 2-D`);
  const [m, k] = o.transA ? [a.shape[1], a.shape[0]] : a.shape;
  const [k2, n] = o.transB ? [b.shape[1], b.shape[0]] : b.shape;
  if (k !== k2) throw new RangeError(`gemm: inner dims of ${a} and ${b} differ`);
  if (c) broadcastShapes("gemm", c.shape, [m, n]);
  return node1(a.graph, "Gemm", c ? [a, b, c] : [a, b], [m, n], a.dtype, {
    transA: attr.int(o.transA ? 1 : 0),
    transB: attr.int(o.transB ? 1 : 0),
    alpha: attr.float(o.alpha ?? 1),
    beta: attr.float(o.beta ?? 1),
  });
}

/**
 * PyTorch `F.linear`: `x [N, in] @ w[out, in]^T + b`.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { linear } from "./conv.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 3]);
 * const w = g.input("w", [5, 3]);
 * const b = g.input("b", [5]);
 * const y = linear(x, w, b);
 * ```
 */
export function linear(x: Value, w: Value, b: Value | null): Value {
  return gemm(x, w, b, { transB: true });
}

/**
 * Batched matrix product with NumPy broadcasting of the batch dims (ONNX MatMul);
 * 1-D operands are promoted as in NumPy.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { matmul } from "./conv.ts";
 * const g = new Graph();
 * const y = matmul(g.input("a", [2, 4, 3]), g.input("b", [3, 5])); // [2, 4, 5]
 * ```
 */
export function matmul(a: Value, b: Value): Value {
  sameType("matmul", a, b);
  const as = a.rank === 1 ? [1, a.shape[0]] : a.shape;
  const bs = b.rank === 1 ? [b.shape[0], 1] : b.shape;
  if (as[as.length - 1] !== bs[bs.length - 2]) {
    throw new RangeError(`matmul: inner dims of ${a} and ${b} differ`);
  }
  const batch = broadcastShapes("matmul", as.slice(0, -2), bs.slice(0, -2));
  const out = [...batch];
  if (a.rank > 1) out.push(as[as.length - 2]);
  if (b.rank > 1) out.push(bs[bs.length - 1]);
  return node1(a.graph, "MatMul", [a, b], out, a.dtype);
}
