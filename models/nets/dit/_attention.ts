/**
 * The multi-head self-attention of a DiT block (timm's `Attention` with qkv bias, as DiT
 * uses it): qkv = Linear(D, 3D), heads split as `[3, H, D/H]` along the features, softmax of
 * q k^T / sqrt(D/H), output projection. Two lowerings:
 * - "onnx": one batched MatMul-Softmax-MatMul over B*H heads (differentiable with the
 *   engine's rules; required for training graphs);
 * - "contrib": onnxruntime's com.microsoft Attention kernel, qkv projection included
 *   (inference only; about 5% faster on 2 CPU cores, bench/dit_bench.ts).
 *
 * @module
 */
import type { Layers } from "../../graph/nn.ts";
import type { Value } from "../../graph/graph.ts";
import { softmax } from "../../graph/ops/activation.ts";
import { linear, matmul } from "../../graph/ops/conv.ts";
import { mul } from "../../graph/ops/elementwise.ts";
import { permute, reshape, split } from "../../graph/ops/shape.ts";
import { attr, node1 } from "../../graph/ops/operands.ts";

/**
 * How attention is lowered to ONNX: primitive ops, or onnxruntime's fused contrib kernel.
 *
 * @example
 * ```ts
 * import type { DiTKernels } from "./_attention.ts";
 * const kernels: DiTKernels = "onnx"; // needed for training graphs
 * ```
 */
export type DiTKernels = "onnx" | "contrib";

/**
 * Xavier-uniform bound of a Linear(fanIn, fanOut) (DiT's `_basic_init`).
 *
 * @example
 * ```ts
 * import { xavierBound } from "./_attention.ts";
 * xavierBound(1152, 3456); // sqrt(6 / 4608)
 * ```
 */
export function xavierBound(fanIn: number, fanOut: number): number {
  return Math.sqrt(6 / (fanIn + fanOut));
}

/**
 * DiT-initialised `nn.Linear(in, out)` on `x [N, in]`: xavier-uniform weight, zero bias
 * (or `zero` for both, as DiT does for adaLN modulations and the final layer).
 *
 * @example
 * ```ts
 * import { Graph } from "../../graph/graph.ts";
 * import { Layers, ParamStore } from "../../graph/nn.ts";
 * import { ditLinear } from "./_attention.ts";
 * const g = new Graph();
 * const y = ditLinear(new Layers(g, new ParamStore(Math.random), false), "fc", g.input("x", [2, 8]), 4);
 * ```
 */
export function ditLinear(
  nn: Layers,
  name: string,
  x: Value,
  out: number,
  init: "xavier" | "zero" | { std: number } = "xavier",
): Value {
  const inF = x.shape[1];
  const wInit = init === "zero"
    ? { kind: "const" as const, value: 0 }
    : init === "xavier"
    ? { kind: "uniform" as const, bound: xavierBound(inF, out) }
    : { kind: "normal" as const, std: init.std };
  const w = nn.param(`${name}.weight`, [out, inF], wInit);
  const b = nn.param(`${name}.bias`, [out], { kind: "const", value: 0 });
  return linear(x, w, b);
}

/**
 * Self-attention of `x [B, T, D]` with `heads` heads; returns `[B * T, D]` after the output
 * projection. Parameters: `<name>.qkv.*`, `<name>.proj.*`.
 *
 * @example
 * ```ts
 * import { Graph } from "../../graph/graph.ts";
 * import { Layers, ParamStore } from "../../graph/nn.ts";
 * import { attention } from "./_attention.ts";
 * const g = new Graph();
 * const nn = new Layers(g, new ParamStore(Math.random), false);
 * const y = attention(nn, "blocks.0.attn", g.input("x", [2, 16, 64]), 4, "onnx"); // [32, 64]
 * ```
 */
export function attention(
  nn: Layers,
  name: string,
  x: Value,
  heads: number,
  kernels: DiTKernels,
): Value {
  const [B, T, D] = x.shape;
  const hd = D / heads;
  let o: Value;
  if (kernels === "contrib") {
    // com.microsoft Attention: the qkv projection (weight [D, 3D]) and the attention in one kernel
    const w = nn.param(`${name}.qkv.weight`, [3 * D, D], {
      kind: "uniform",
      bound: xavierBound(D, 3 * D),
    });
    const b = nn.param(`${name}.qkv.bias`, [3 * D], { kind: "const", value: 0 });
    o = node1(x.graph, "Attention", [x, permute(w, [1, 0]), b], [B, T, D], x.dtype, {
      num_heads: attr.int(heads),
    }, "com.microsoft");
  } else {
    const qkv = ditLinear(nn, `${name}.qkv`, reshape(x, [B * T, D]), 3 * D); // [B*T, 3D]
    const t5 = permute(reshape(qkv, [B, T, 3, heads, hd]), [2, 0, 3, 1, 4]); // [3, B, H, T, hd]
    const [q, k, v] = split(t5, [1, 1, 1], 0).map((z) => reshape(z, [B * heads, T, hd]));
    const scores = matmul(mul(q, 1 / Math.sqrt(hd)), permute(k, [0, 2, 1])); // [B*H, T, T]
    const ctx = matmul(softmax(scores, -1), v); // [B*H, T, hd]
    o = permute(reshape(ctx, [B, heads, T, hd]), [0, 2, 1, 3]); // [B, T, H, hd]
  }
  return ditLinear(nn, `${name}.proj`, reshape(o, [B * T, D]), D); // [B*T, D]
}
