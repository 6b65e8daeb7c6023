/**
 * Convolutions: conv (ONNX Conv, any number of spatial dims) and convTranspose. The matrix
 * products live in `matmul.ts` and the geometry in `conv_geometry.ts`; both are re-exported
 * here for the callers that import them with the convs.
 *
 * @module
 */
import type { Value } from "../graph.ts";
import { attr, node1, sameType } from "./operands.ts";
import { convGemm } from "./conv_gemm.ts";
import { convAttrs, type ConvOptions, geometry, perDim } from "./conv_geometry.ts";

export { type ConvGeometry, type ConvOptions, perDim, readGeometry } from "./conv_geometry.ts";
export { gemm, linear, matmul } from "./matmul.ts";

/**
 * Lowering policy of 2-D convs (groups 1): outputs of at most `gemmMaxPixels` pixels (Ho*Wo)
 * run as one batched Gemm over an explicit patch matrix (`conv_gemm.ts`) instead of
 * onnxruntime's Conv, whose per-image GEMM has only Ho*Wo columns. 64 (8x8 maps) measured
 * best for ResNet-18 at 64 px on 2 cores (bench/engine_bench.ts); 0 disables it.
 */
export const convLowering = { gemmMaxPixels: 64 };

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
  const maxPixels = x.graph.convGemmMaxPixels ?? convLowering.gemmMaxPixels;
  if (n === 2 && geo.group === 1 && pixels <= maxPixels && !x.graph.inComposite) {
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
