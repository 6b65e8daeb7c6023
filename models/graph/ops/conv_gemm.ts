/**
 * Convolution as explicit matrix products over the whole batch, for the small feature maps
 * where onnxruntime's per-image Conv (im2col + a GEMM with N = Ho*Wo columns) is slow.
 * `im2col` builds the patch matrix `[Cin*K, N*Ho*Wo]` (Pad + one strided Slice per kernel
 * offset + Concat; the conv weight-gradient rule uses it); `im2rowNhwc` builds the
 * channels-last patch matrix `[N*Ho*Wo, K*Cin]`, whose slices copy whole channel rows; and
 * `convGemm` is a composite whose forward is one Gemm over those patches and whose backward
 * reuses them for the weight gradient.
 *
 * @module
 */
import type { Value } from "../graph.ts";
import type { ConvGeometry } from "./conv_geometry.ts";
import { gemm } from "./matmul.ts";
import { sum } from "./reduce.ts";
import { cat, pad, permute, reshape, slice } from "./shape.ts";
import { attr, node1 } from "./operands.ts";

/**
 * Patch matrix of `x [N, C, H, W]` for a conv geometry producing `[Ho, Wo]`: rows ordered
 * (c, kh, kw) like a weight's flattened [C, kh, kw], columns (n, ho, wo).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { im2col } from "./conv_gemm.ts";
 * const geo = { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1, kernel: [3, 3] };
 * const p = im2col(new Graph().input("x", [2, 3, 4, 4]), geo, [4, 4]); // [27, 32]
 * ```
 */
export function im2col(x: Value, geo: ConvGeometry, out: readonly number[]): Value {
  const [n, c, h, w] = x.shape;
  const [ho, wo] = out;
  const [kh, kw] = geo.kernel;
  const [sh, sw] = geo.strides;
  const [dh, dw] = geo.dilations;
  const cols = n * ho * wo;
  const xt = permute(x, [1, 0, 2, 3]); // [C, N, H, W]
  if (kh === 1 && kw === 1 && geo.pads.every((p) => p === 0)) {
    return reshape(slice(xt, [2, 3], [0, 0], [(ho - 1) * sh + 1, (wo - 1) * sw + 1], [sh, sw]), [
      c,
      cols,
    ]);
  }
  const [pt, pl] = geo.pads;
  const needH = (kh - 1) * dh + (ho - 1) * sh + 1, needW = (kw - 1) * dw + (wo - 1) * sw + 1;
  const pb = Math.max(0, needH - pt - h), pr = Math.max(0, needW - pl - w);
  const xp = pad(xt, [0, 0, pt, pl, 0, 0, pb, pr]);
  const parts: Value[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const s = slice(
        xp,
        [2, 3],
        [i * dh, j * dw],
        [i * dh + (ho - 1) * sh + 1, j * dw + (wo - 1) * sw + 1],
        [sh, sw],
      ); // [C, N, Ho, Wo]
      parts.push(reshape(s, [c, 1, cols]));
    }
  }
  return reshape(cat(parts, 1), [c * kh * kw, cols]); // [C*K, N*Ho*Wo]
}

/**
 * Channels-last patch matrix of `xt [N, H, W, C]`: `[N*Ho*Wo, K*C]`, rows (n, ho, wo), columns
 * (kh, kw, c). Each slice copies whole C-long rows, which is fast where the maps are small.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { im2rowNhwc } from "./conv_gemm.ts";
 * const geo = { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1, kernel: [3, 3] };
 * const p = im2rowNhwc(new Graph().input("xt", [2, 4, 4, 3]), geo, [4, 4]); // [32, 27]
 * ```
 */
export function im2rowNhwc(xt: Value, geo: ConvGeometry, out: readonly number[]): Value {
  const [n, h, w, c] = xt.shape;
  const [ho, wo] = out;
  const [kh, kw] = geo.kernel;
  const [sh, sw] = geo.strides;
  const [dh, dw] = geo.dilations;
  const rows = n * ho * wo;
  const [pt, pl] = geo.pads;
  const needH = (kh - 1) * dh + (ho - 1) * sh + 1, needW = (kw - 1) * dw + (wo - 1) * sw + 1;
  const pb = Math.max(0, needH - pt - h), pr = Math.max(0, needW - pl - w);
  const xp = pad(xt, [0, pt, pl, 0, 0, pb, pr, 0]);
  const parts: Value[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const s = slice(
        xp,
        [1, 2],
        [i * dh, j * dw],
        [i * dh + (ho - 1) * sh + 1, j * dw + (wo - 1) * sw + 1],
        [sh, sw],
      ); // [N, Ho, Wo, C]
      parts.push(reshape(s, [rows, 1, c]));
    }
  }
  return reshape(cat(parts, 1), [rows, kh * kw * c]);
}

/**
 * 2-D convolution (groups 1) as one Gemm over the batch on channels-last patches;
 * differentiable as a unit. Backward: weight gradient from the saved patches; input gradient
 * as the same lowered conv of `dy` with flipped weights for stride 1, else one Gemm + Col2Im.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { convGemm } from "./conv_gemm.ts";
 * const g = new Graph();
 * const geo = { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1, kernel: [3, 3] };
 * const y = convGemm(g.input("x", [2, 3, 4, 4]), g.input("w", [5, 3, 3, 3]), null, geo, [4, 4]);
 * ```
 */
export function convGemm(
  x: Value,
  w: Value,
  b: Value | null,
  geo: ConvGeometry,
  out: readonly number[],
): Value {
  const [n, cin] = x.shape;
  const [cout, , kh, kw] = w.shape;
  const [ho, wo] = out;
  const rows = n * ho * wo;
  // Channels-last in and out; the transposes stay outside the composite so that neighbouring
  // ops can push them through and consecutive lowered convs fold them away.
  const xt = permute(x, [0, 2, 3, 1]); // [N, H, W, Cin]
  const inputs = b ? [xt, w, b] : [xt, w];
  const yt = x.graph.composite(inputs, () => {
    const p = im2rowNhwc(xt, geo, out); // [N*Ho*Wo, K*Cin]
    const wk = reshape(permute(w, [0, 2, 3, 1]), [cout, kh * kw * cin]); // [Cout, K*Cin]
    const y2 = gemm(p, wk, b, { transB: true }); // [N*Ho*Wo, Cout]
    return {
      outputs: [reshape(y2, [n, ho, wo, cout])],
      backward: ([dyt], needs) => {
        const dy2 = reshape(dyt!, [rows, cout]);
        let dxt: Value | null = null;
        if (needs[0]) {
          const unit = geo.strides.every((v) => v === 1) && geo.dilations.every((v) => v === 1);
          const full = [kh - 1 - geo.pads[0], kw - 1 - geo.pads[1]];
          if (unit && full.every((v) => v >= 0)) {
            // Correlation of dy with the flipped, in/out-swapped kernel, channels last.
            const wf = slice(permute(w, [2, 3, 0, 1]), [0, 1], [-1, -1], [-(2 ** 62), -(2 ** 62)], [
              -1,
              -1,
            ]);
            const wf2 = reshape(wf, [kh * kw * cout, cin]); // rows (kh, kw, cout)
            const fgeo = { ...geo, pads: [...full, ...full] };
            const pd = im2rowNhwc(dyt!, fgeo, x.shape.slice(2)); // [N*H*W, K*Cout]
            dxt = reshape(gemm(pd, wf2, null), [n, x.shape[2], x.shape[3], cin]);
          } else {
            const cols = gemm(dy2, wk, null); // [N*Ho*Wo, K*Cin], columns (kh, kw, c)
            const blocks = reshape(
              permute(reshape(cols, [n, ho * wo, kh * kw, cin]), [0, 3, 2, 1]),
              [n, cin * kh * kw, ho * wo],
            );
            dxt = permute(col2imBlocks(blocks, geo, x.shape), [0, 2, 3, 1]);
          }
        }
        const dw = needs[1]
          ? permute(reshape(gemm(dy2, p, null, { transA: true }), [cout, kh, kw, cin]), [
            0,
            3,
            1,
            2,
          ])
          : null;
        return [dxt, dw, ...(b ? [needs[2] ? sum(dy2, [0]) : null] : [])];
      },
    };
  })[0];
  return permute(yt, [0, 3, 1, 2]); // [N, Cout, Ho, Wo]
}

function col2imBlocks(blocks: Value, geo: ConvGeometry, xShape: readonly number[]): Value {
  const g = blocks.graph;
  const [n, c, h, w] = xShape;
  return node1(
    g,
    "Col2Im",
    [blocks, g.ints([h, w]), g.ints(geo.kernel)],
    [n, c, h, w],
    blocks.dtype,
    {
      dilations: attr.ints(geo.dilations),
      pads: attr.ints(geo.pads),
      strides: attr.ints(geo.strides),
    },
  );
}
