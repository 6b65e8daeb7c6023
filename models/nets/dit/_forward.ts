/**
 * The DiT forward pass as graph-building code over {@link Layers} (PyTorch state-dict names,
 * DiT's initialisation for missing weights), for inference and training graphs alike.
 * Architecture of facebookresearch/DiT@ed81ce2 `models.py`: patch embedding + fixed 2-D
 * sin-cos positions, timestep and label embedders summed into the condition c, adaLN-Zero
 * blocks, adaLN final layer, unpatchify. The token stream is kept as `[B*T, D]` rows so every
 * Linear is one Gemm.
 *
 * @module
 */
import type { Layers, ParamStore } from "../../graph/nn.ts";
import type { Value } from "../../graph/graph.ts";
import { gelu, silu } from "../../graph/ops/activation.ts";
import { linear } from "../../graph/ops/conv.ts";
import { add, mul } from "../../graph/ops/elementwise.ts";
import { layerNorm } from "../../graph/ops/norm.ts";
import { cat, gather, permute, reshape, split } from "../../graph/ops/shape.ts";
import { node1 } from "../../graph/ops/operands.ts";
import {
  DIT_LN_EPS,
  type DiTConfig,
  FREQUENCY_EMBEDDING_SIZE,
  labelTableSize,
  mlpHidden,
  outChannels,
} from "./config.ts";
import { posEmbed2d, timestepFrequencies } from "./_embed.ts";
import { attention, type DiTKernels, ditLinear, xavierBound } from "./_attention.ts";

/**
 * Options of {@link ditForward}.
 *
 * @example
 * ```ts
 * import type { DiTForwardOptions } from "./_forward.ts";
 * const o: DiTForwardOptions = { kernels: "contrib" };
 * ```
 */
export interface DiTForwardOptions {
  /**
   * "onnx" (default): standard ONNX ops, differentiable. "contrib": onnxruntime's fused
   * com.microsoft kernels (Attention, FastGelu), for inference only.
   */
  kernels?: DiTKernels;
}

const EMBED_STD = 0.02; // DiT initialize_weights: label table and timestep MLP, N(0, 0.02)

/**
 * Stores the fixed positional embedding as the `pos_embed` buffer when the store lacks it
 * (a loaded checkpoint brings its own).
 *
 * @example
 * ```ts
 * import { ParamStore } from "../../graph/nn.ts";
 * import { ditConfig } from "./config.ts";
 * import { ensurePosEmbed } from "./_forward.ts";
 * ensurePosEmbed(new ParamStore(Math.random), ditConfig("DiT-T/2", { inputSize: 8 }));
 * ```
 */
export function ensurePosEmbed(store: ParamStore, c: DiTConfig): void {
  if (store.entries.has("pos_embed")) return;
  const grid = c.inputSize / c.patchSize;
  const data = posEmbed2d(c.hiddenSize, grid);
  store.entries.set("pos_embed", { shape: [1, grid * grid, c.hiddenSize], data, trainable: false });
}

/** `x * (1 + scale) + shift` with per-sample `[B, 1, D]` modulation of `x [B, T, D]`. */
function modulate(x: Value, shift: Value, scale: Value): Value {
  return add(mul(x, add(scale, 1)), shift);
}

/** LayerNorm without affine over the features of the rows `[B*T, D]`, viewed `[B, T, D]`. */
function norm3(x: Value, B: number): Value {
  const [, D] = x.shape;
  return layerNorm(reshape(x, [B, -1, D]), null, null, DIT_LN_EPS);
}

/** adaLN modulation `Linear(D, k D)` of SiLU(c), chunked into k `[B, 1, D]` values. */
function modulation(nn: Layers, name: string, sc: Value, k: number): Value[] {
  const [B, D] = sc.shape;
  const m = ditLinear(nn, `${name}.adaLN_modulation.1`, sc, k * D, "zero"); // [B, kD]
  return split(m, Array(k).fill(D), 1).map((v) => reshape(v, [B, 1, D]));
}

/** Sinusoidal timestep features `[B, 256]` = [cos(t f), sin(t f)] of `t [B]` (float). */
function timestepFeatures(t: Value): Value {
  const g = t.graph;
  const f = timestepFrequencies(FREQUENCY_EMBEDDING_SIZE);
  const args = mul(reshape(t, [t.shape[0], 1]), g.constant(f, [1, f.length])); // [B, 128]
  const cos = node1(g, "Cos", [args], args.shape, args.dtype);
  const sin = node1(g, "Sin", [args], args.shape, args.dtype);
  return cat([cos, sin], 1); // [B, 256]
}

/** `GELU_tanh(fc1(x))`; with contrib kernels the bias add and GELU are one FastGelu. */
function mlpIn(nn: Layers, name: string, x: Value, out: number, kernels: DiTKernels): Value {
  if (kernels === "onnx") {
    return gelu(ditLinear(nn, name, x, out), "tanh");
  }
  const w = nn.param(`${name}.weight`, [out, x.shape[1]], {
    kind: "uniform",
    bound: xavierBound(x.shape[1], out),
  });
  const b = nn.param(`${name}.bias`, [out], { kind: "const", value: 0 });
  return node1(
    x.graph,
    "FastGelu",
    [linear(x, w, null), b],
    [x.shape[0], out],
    x.dtype,
    {},
    "com.microsoft",
  );
}

/**
 * Appends DiT's forward pass to `nn`'s graph: `x [B, C, H, W]` latents, `t [B]` float
 * timesteps, `y [B]` int32/int64 class ids (null class = numClasses). Returns
 * `[B, C or 2C, H, W]`. Missing weights are created with DiT's `initialize_weights`
 * (adaLN modulations and the final linear zero).
 *
 * @example
 * ```ts
 * import { Graph } from "../../graph/graph.ts";
 * import { Layers, ParamStore } from "../../graph/nn.ts";
 * import { ditConfig } from "./config.ts";
 * import { ditForward } from "./_forward.ts";
 * const c = ditConfig("DiT-T/2", { inputSize: 8, numClasses: 10 });
 * const g = new Graph();
 * const nn = new Layers(g, new ParamStore(Math.random), false);
 * const out = ditForward(nn, c, g.input("x", [2, 4, 8, 8]), g.input("t", [2]), g.input("y", [2], "int32"));
 * g.output(out, "out"); // [2, 8, 8, 8]
 * ```
 */
export function ditForward(
  nn: Layers,
  c: DiTConfig,
  x: Value,
  t: Value,
  y: Value,
  o: DiTForwardOptions = {},
): Value {
  const [B, C, H, W] = x.shape;
  const p = c.patchSize, D = c.hiddenSize, g = c.inputSize / p, T = g * g;
  if (C !== c.inChannels || H !== c.inputSize || W !== c.inputSize) {
    throw new RangeError(
      `${c.name}: input ${x} must be [B, ${c.inChannels}, ${c.inputSize}, ${c.inputSize}]`,
    );
  }
  if (t.shape.join() !== `${B}` || y.shape.join() !== `${B}`) {
    throw new RangeError(`${c.name}: t ${t} and y ${y} must be [${B}]`);
  }
  ensurePosEmbed(nn.store, c);
  const kernels = o.kernels ?? "onnx";
  // 1. Patch embedding: a conv with kernel = stride = p, as one Gemm over patch rows.
  const patches = reshape(
    permute(reshape(x, [B, C, g, p, g, p]), [0, 2, 4, 1, 3, 5]), // [B, g, g, C, p, p]
    [B * T, C * p * p],
  );
  const bound = xavierBound(C * p * p, D);
  const pw = nn.param("x_embedder.proj.weight", [D, C, p, p], { kind: "uniform", bound });
  const pb = nn.param("x_embedder.proj.bias", [D], { kind: "const", value: 0 });
  const pos = nn.buffer("pos_embed", [1, T, D], { kind: "const", value: 0 });
  const emb = linear(patches, reshape(pw, [D, C * p * p]), pb); // [B*T, D]
  let h = reshape(add(reshape(emb, [B, T, D]), pos), [B * T, D]);
  // 2. Condition c = TimestepEmbedder(t) + LabelEmbedder(y).
  const tf = timestepFeatures(t); // [B, 256]
  const t1 = ditLinear(nn, "t_embedder.mlp.0", tf, D, { std: EMBED_STD });
  const te = ditLinear(nn, "t_embedder.mlp.2", silu(t1), D, { std: EMBED_STD }); // [B, D]
  const table = nn.param("y_embedder.embedding_table.weight", [labelTableSize(c), D], {
    kind: "normal",
    std: EMBED_STD,
  });
  const sc = silu(add(te, gather(table, y, 0))); // SiLU(c), shared by every adaLN [B, D]
  // 3. adaLN-Zero blocks.
  const M = mlpHidden(c);
  for (let i = 0; i < c.depth; i++) {
    const b = `blocks.${i}`;
    const [shiftA, scaleA, gateA, shiftM, scaleM, gateM] = modulation(nn, b, sc, 6);
    const a = attention(
      nn,
      `${b}.attn`,
      modulate(norm3(h, B), shiftA, scaleA),
      c.numHeads,
      kernels,
    );
    h = reshape(add(reshape(h, [B, T, D]), mul(gateA, reshape(a, [B, T, D]))), [B * T, D]);
    const m = reshape(modulate(norm3(h, B), shiftM, scaleM), [B * T, D]);
    const f1 = mlpIn(nn, `${b}.mlp.fc1`, m, M, kernels);
    const f2 = ditLinear(nn, `${b}.mlp.fc2`, f1, D); // [B*T, D]
    h = reshape(add(reshape(h, [B, T, D]), mul(gateM, reshape(f2, [B, T, D]))), [B * T, D]);
  }
  // 4. Final layer and unpatchify 'nhwpqc->nchpwq'.
  const co = outChannels(c);
  const [shift, scale] = modulation(nn, "final_layer", sc, 2);
  const fin = reshape(modulate(norm3(h, B), shift, scale), [B * T, D]);
  const out = ditLinear(nn, "final_layer.linear", fin, p * p * co, "zero"); // [B*T, p*p*co]
  const img = permute(reshape(out, [B, g, g, p, p, co]), [0, 5, 1, 3, 2, 4]); // [B, co, g, p, g, p]
  return reshape(img, [B, co, H, W]);
}
