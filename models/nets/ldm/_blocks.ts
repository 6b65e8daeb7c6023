/**
 * The building blocks of LDM's openaimodel U-Net, as graph-building functions over
 * {@link Layers} with the state-dict names of the reference modules, so Stable Diffusion's
 * U-Net (same blocks, other widths and a text context) can reuse them:
 * `ResBlock` (GroupNorm32, SiLU, 3x3 conv, added timestep embedding), `SpatialTransformer`
 * (GroupNorm eps 1e-6, 1x1 proj_in, BasicTransformerBlocks of self-attention, cross-attention
 * and a GEGLU feed-forward, 1x1 proj_out, residual), `Downsample` (3x3 conv stride 2) and
 * `Upsample` (nearest x2, 3x3 conv). Token streams are kept as `[B*T, D]` rows so every
 * Linear is one Gemm. Adapted from CompVis/latent-diffusion@a506df5 `openaimodel.py`,
 * `attention.py` and `util.py` (semantics only).
 *
 * | code      | reference                                         |
 * |-----------|---------------------------------------------------|
 * | `emb`     | `emb` = time_embed(timestep_embedding(t)) [B, E]  |
 * | `context` | `context` = cond_stage_model(y) [B, T, Dctx]      |
 *
 * @module
 */
import type { Layers } from "../../graph/nn.ts";
import type { Value } from "../../graph/graph.ts";
import { gelu, silu, softmax } from "../../graph/ops/activation.ts";
import { matmul } from "../../graph/ops/conv.ts";
import { add, mul } from "../../graph/ops/elementwise.ts";
import { upsampleNearest } from "../../graph/ops/pool.ts";
import { cat, permute, reshape, split } from "../../graph/ops/shape.ts";
import { node1 } from "../../graph/ops/operands.ts";

/** `Normalize()` of attention.py: GroupNorm(32, C, eps=1e-6) in the SpatialTransformer. */
export const TRANSFORMER_GN_EPS = 1e-6;
/** GroupNorm32 of util.py `normalization()`: torch's default eps. */
export const RESBLOCK_GN_EPS = 1e-5;
/** nn.LayerNorm's default eps (BasicTransformerBlock norm1..3). */
export const LN_EPS = 1e-5;
/** `timestep_embedding` max_period (util.py). */
export const MAX_PERIOD = 10000;
/** FeedForward `mult` (attention.py: inner width = 4 x dim). */
const FF_MULT = 4;

/**
 * Sinusoidal timestep features `[B, dim]` = [cos(t f), sin(t f)] of `t [B]` (float),
 * f_k = exp(-ln(10000) k / (dim/2)) in float32 arithmetic as util.py `timestep_embedding`.
 *
 * @example
 * ```ts
 * import { Graph } from "../../graph/graph.ts";
 * import { timestepEmbedding } from "./_blocks.ts";
 * const f = timestepEmbedding(new Graph().input("t", [2]), 192); // [2, 192]
 * ```
 */
export function timestepEmbedding(t: Value, dim: number): Value {
  if (dim % 2) throw new RangeError(`timestepEmbedding: dim ${dim} must be even`);
  const g = t.graph;
  const half = dim / 2;
  const c = Math.fround(-Math.log(MAX_PERIOD));
  const f = new Float32Array(half);
  for (let k = 0; k < half; k++) f[k] = Math.exp(Math.fround(Math.fround(c * k) / half));
  const args = mul(reshape(t, [t.shape[0], 1]), g.constant(f, [1, half])); // [B, half]
  const cos = node1(g, "Cos", [args], args.shape, args.dtype);
  const sin = node1(g, "Sin", [args], args.shape, args.dtype);
  return cat([cos, sin], 1); // [B, dim]
}

/**
 * openaimodel `ResBlock` (no up/down, `use_scale_shift_norm` optional) on `x [B, C, H, W]`
 * with `emb [B, E]`; a 1x1 `skip_connection` when the width changes.
 *
 * @example
 * ```ts
 * import { Graph } from "../../graph/graph.ts";
 * import { Layers, ParamStore } from "../../graph/nn.ts";
 * import { resBlock } from "./_blocks.ts";
 * const g = new Graph();
 * const nn = new Layers(g, new ParamStore(Math.random), false);
 * resBlock(nn, "rb", g.input("x", [1, 32, 8, 8]), g.input("emb", [1, 128]), 64, 32);
 * ```
 */
export function resBlock(
  nn: Layers,
  name: string,
  x: Value,
  emb: Value,
  outCh: number,
  groups: number,
  scaleShift = false,
): Value {
  const [B, C] = x.shape;
  const gn = (n: string, v: Value) => nn.groupNorm(n, v, groups, { eps: RESBLOCK_GN_EPS });
  let h = nn.conv2d(`${name}.in_layers.2`, silu(gn(`${name}.in_layers.0`, x)), outCh, 3, {
    padding: 1,
  });
  const e = nn.linear(`${name}.emb_layers.1`, silu(emb), scaleShift ? 2 * outCh : outCh);
  if (scaleShift) {
    const [scale, shift] = split(reshape(e, [B, 2 * outCh, 1, 1]), [outCh, outCh], 1);
    h = add(mul(gn(`${name}.out_layers.0`, h), add(scale, 1)), shift);
  } else {
    h = gn(`${name}.out_layers.0`, add(h, reshape(e, [B, outCh, 1, 1])));
  }
  h = nn.conv2d(`${name}.out_layers.3`, silu(h), outCh, 3, { padding: 1 }); // dropout: eval
  const skip = outCh === C ? x : nn.conv2d(`${name}.skip_connection`, x, outCh, 1);
  return add(skip, h);
}

/** `Downsample(use_conv=True)`: 3x3 conv, stride 2, padding 1 (`<name>.op`). */
export function downsample(nn: Layers, name: string, x: Value): Value {
  return nn.conv2d(`${name}.op`, x, x.shape[1], 3, { stride: 2, padding: 1 });
}

/** `Upsample(use_conv=True)`: nearest x2, then a 3x3 conv (`<name>.conv`). */
export function upsample(nn: Layers, name: string, x: Value): Value {
  return nn.conv2d(`${name}.conv`, upsampleNearest(x, 2), x.shape[1], 3, { padding: 1 });
}

/**
 * attention.py `CrossAttention` on query rows `x [B*N, Dq]` and context rows `ctx [B*T, Dc]`
 * (self-attention when `ctx` is null): q, k, v without bias, `heads` heads of `dimHead`,
 * softmax(q k^T / sqrt(dimHead)) v, `to_out.0` with bias. Returns `[B*N, Dq]`.
 */
export function crossAttention(
  nn: Layers,
  name: string,
  x: Value,
  B: number,
  heads: number,
  dimHead: number,
  ctx: Value | null,
): Value {
  const [BN, Dq] = x.shape;
  const N = BN / B;
  const c = ctx ?? x;
  const T = c.shape[0] / B;
  const inner = heads * dimHead;
  const split4 = (v: Value, n: number) =>
    reshape(permute(reshape(v, [B, n, heads, dimHead]), [0, 2, 1, 3]), [B * heads, n, dimHead]);
  const q = split4(nn.linear(`${name}.to_q`, x, inner, { bias: false }), N);
  const k = split4(nn.linear(`${name}.to_k`, c, inner, { bias: false }), T);
  const v = split4(nn.linear(`${name}.to_v`, c, inner, { bias: false }), T);
  const sim = mul(matmul(q, permute(k, [0, 2, 1])), 1 / Math.sqrt(dimHead)); // [B*h, N, T]
  const out = matmul(softmax(sim, -1), v); // [B*h, N, d]
  const rows = reshape(permute(reshape(out, [B, heads, N, dimHead]), [0, 2, 1, 3]), [
    B * N,
    inner,
  ]);
  return nn.linear(`${name}.to_out.0`, rows, Dq);
}

/** LayerNorm of rows `[B*N, D]` (`nn.LayerNorm(D)`). */
function rowNorm(nn: Layers, name: string, x: Value): Value {
  return nn.layerNorm(name, x, [x.shape[1]], { eps: LN_EPS });
}

/** `FeedForward(dim, glu=True)`: GEGLU `ff.net.0.proj` (x * GELU(gate)), then `ff.net.2`. */
function feedForward(nn: Layers, name: string, x: Value): Value {
  const D = x.shape[1];
  const inner = FF_MULT * D;
  const [a, gate] = split(nn.linear(`${name}.net.0.proj`, x, 2 * inner), [inner, inner], 1);
  return nn.linear(`${name}.net.2`, mul(a, gelu(gate, "none")), D);
}

/**
 * attention.py `SpatialTransformer` on `x [B, C, H, W]` with `context [B*T, Dctx]` rows
 * (T tokens per sample; null: self-attention in attn2): `depth` BasicTransformerBlocks of
 * `heads` x `dimHead`. `linear` makes `proj_in`/`proj_out` Linears on the token rows (Stable
 * Diffusion 2.x's `use_linear`) instead of 1x1 convs on the map.
 *
 * @example
 * ```ts
 * import { Graph } from "../../graph/graph.ts";
 * import { Layers, ParamStore } from "../../graph/nn.ts";
 * import { spatialTransformer } from "./_blocks.ts";
 * const g = new Graph();
 * const nn = new Layers(g, new ParamStore(Math.random), false);
 * spatialTransformer(nn, "st", g.input("x", [1, 32, 4, 4]), g.input("c", [1, 16]), 1, 32, 1, 32);
 * ```
 */
export function spatialTransformer(
  nn: Layers,
  name: string,
  x: Value,
  context: Value | null,
  heads: number,
  dimHead: number,
  depth: number,
  groups: number,
  linear = false,
): Value {
  const [B, C, H, W] = x.shape;
  const inner = heads * dimHead;
  const n = nn.groupNorm(`${name}.norm`, x, groups, { eps: TRANSFORMER_GN_EPS });
  const rows = (v: Value) => reshape(permute(v, [0, 2, 3, 1]), [B * H * W, v.shape[1]]); // 'b c h w -> b (h w) c'
  let h = linear
    ? nn.linear(`${name}.proj_in`, rows(n), inner) // [B*H*W, inner]
    : rows(nn.conv2d(`${name}.proj_in`, n, inner, 1));
  for (let d = 0; d < depth; d++) {
    const b = `${name}.transformer_blocks.${d}`;
    h = add(
      crossAttention(nn, `${b}.attn1`, rowNorm(nn, `${b}.norm1`, h), B, heads, dimHead, null),
      h,
    );
    h = add(
      crossAttention(nn, `${b}.attn2`, rowNorm(nn, `${b}.norm2`, h), B, heads, dimHead, context),
      h,
    );
    h = add(feedForward(nn, `${b}.ff`, rowNorm(nn, `${b}.norm3`, h)), h);
  }
  const image = (v: Value) => permute(reshape(v, [B, H, W, v.shape[1]]), [0, 3, 1, 2]); // [B, *, H, W]
  const out = linear
    ? image(nn.linear(`${name}.proj_out`, h, C))
    : nn.conv2d(`${name}.proj_out`, image(h), C, 1);
  return add(out, x);
}
