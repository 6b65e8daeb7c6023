/**
 * Gradient rules of pooling and resampling:
 * - AveragePool with window == stride and no padding: nearest Resize of `dy / K` (faster
 *   than Reshape/Expand), zero-padded when the input had a remainder; otherwise the adjoint
 *   depthwise ConvTranspose of `dy / divisor` with a ones kernel;
 * - MaxPool: scatter-add of `dy` at the forward's Indices output (ties go where onnxruntime's
 *   forward put the max);
 * - GlobalAveragePool: broadcast of `dy / (H W)`;
 * - nearest Resize by integer factors: sum over each factor block.
 *
 * @module
 */
import type { Node, Value } from "../graph.ts";
import { div, mul } from "../ops/elementwise.ts";
import { convTranspose } from "../ops/conv.ts";
import { upsampleNearest } from "../ops/pool.ts";
import { sum } from "../ops/reduce.ts";
import { expand, pad, reshape, zeros } from "../ops/shape.ts";
import { attr, node1 } from "../ops/operands.ts";
import { attrInt, attrInts, constNumbers, type GradRule } from "./_rules_types.ts";

function avgPoolGrad(n: Node, dy: Value): Value {
  const x = n.inputs[0]!;
  if (x.rank !== 4) throw new Error(`AveragePool gradient supports 2-D pooling, got ${x}`);
  const k = attrInts(n, "kernel_shape", []);
  const s = attrInts(n, "strides", [1, 1]);
  const p = attrInts(n, "pads", [0, 0, 0, 0]);
  const includePad = attrInt(n, "count_include_pad", 0) === 1;
  const [h, w] = x.shape.slice(2);
  const [ho, wo] = dy.shape.slice(2);
  const g = x.graph;
  if (
    k[0] === s[0] && k[1] === s[1] && p.every((v) => v === 0) && ho * k[0] <= h && wo * k[1] <= w
  ) {
    const up = upsampleNearest(mul(dy, 1 / (k[0] * k[1])), k);
    return pad(up, [0, 0, 0, 0, 0, 0, h - ho * k[0], w - wo * k[1]]);
  }
  // General case: divide by each window's divisor, then spread with a ones kernel.
  const divisor = new Float32Array(ho * wo);
  for (let i = 0; i < ho; i++) {
    for (let j = 0; j < wo; j++) {
      const hs = i * s[0] - p[0], ws = j * s[1] - p[1];
      const he = Math.min(hs + k[0], h + p[2]), we = Math.min(ws + k[1], w + p[3]);
      divisor[i * wo + j] = includePad
        ? (he - hs) * (we - ws)
        : (Math.min(he, h) - Math.max(hs, 0)) * (Math.min(we, w) - Math.max(ws, 0));
    }
  }
  const d = g.constant(x.dtype === "float64" ? Float64Array.from(divisor) : divisor, [
    1,
    1,
    ho,
    wo,
  ]);
  const c = x.shape[1];
  const ones = g.constant(
    (x.dtype === "float64" ? new Float64Array(c * k[0] * k[1]) : new Float32Array(c * k[0] * k[1]))
      .fill(1),
    [c, 1, k[0], k[1]],
  );
  const outPad = [0, 1].map((i) =>
    x.shape[2 + i] - ((dy.shape[2 + i] - 1) * s[i] - p[i] - p[i + 2] + k[i])
  );
  if (p[0] !== p[2] || p[1] !== p[3]) throw new Error("AveragePool gradient needs symmetric pads");
  return convTranspose(div(dy, d), ones, null, {
    stride: s,
    padding: [p[0], p[1]],
    groups: c,
    outputPadding: outPad,
  });
}

/**
 * Pool and resize rules, keyed by ONNX op type.
 *
 * @example
 * ```ts
 * import { POOL_RULES } from "./_rules_pool.ts";
 * Object.keys(POOL_RULES); // op types with a rule
 * ```
 */
export const POOL_RULES: Record<string, GradRule> = {
  AveragePool: (n, [dy]) => [avgPoolGrad(n, dy!)],
  GlobalAveragePool: (n, [dy]) => {
    const x = n.inputs[0]!;
    const area = x.shape.slice(2).reduce((a, b) => a * b, 1);
    return [expand(mul(dy!, 1 / area), x.shape)];
  },
  MaxPool: (n, [dy]) => {
    const x = n.inputs[0]!;
    const idx = n.outputs[1];
    if (!idx) throw new Error("MaxPool gradient needs the Indices output");
    const total = x.shape.reduce((a, b) => a * b, 1);
    const g = x.graph;
    const flat = node1(
      g,
      "ScatterElements",
      [zeros(g, [total], x.dtype), reshape(idx, [-1]), reshape(dy!, [-1])],
      [total],
      x.dtype,
      { axis: attr.int(0), reduction: attr.string("add") },
    );
    return [reshape(flat, x.shape)];
  },
  Resize: (n, [dy]) => {
    const x = n.inputs[0]!;
    const scales = constNumbers(n.inputs[2], "Resize scales");
    if (n.attrs.mode?.value !== "nearest" || !scales.every(Number.isInteger)) {
      throw new Error("Resize gradient supports nearest upsampling by integer factors");
    }
    const blocks: number[] = [];
    const axes: number[] = [];
    x.shape.forEach((d, i) => {
      blocks.push(d);
      if (scales[i] > 1) {
        blocks.push(scales[i]);
        axes.push(blocks.length - 1);
      }
    });
    if (axes.length === 0) return [dy, null, null];
    return [reshape(sum(reshape(dy!, blocks), axes), x.shape), null, null];
  },
};
