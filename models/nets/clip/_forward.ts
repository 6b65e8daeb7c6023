/**
 * The forward pass of transformers' `CLIPTextModel` as Stable Diffusion calls it
 * (`text_encoder(ids)[0]`): token plus position embeddings (positions 0..T-1), pre-LayerNorm
 * encoder layers of causal multi-head self-attention and a two-layer MLP, then
 * `final_layer_norm`; no padding mask (SD attends to the padding tokens through the causal
 * mask only). Token streams are kept as `[B*T, D]` rows so every Linear is one Gemm.
 * Adapted from huggingface/transformers@0ea0108 `modeling_clip.py` and openai/CLIP@d05afc4
 * `clip/model.py` (semantics only).
 *
 * | code     | reference                                          |
 * |----------|----------------------------------------------------|
 * | `ids`    | `input_ids` [B, T]                                 |
 * | `h`      | `hidden_states` [B*T, D] (rows)                    |
 * | `mask`   | `_create_4d_causal_attention_mask` [T, T]          |
 * | `out`    | `last_hidden_state` [B, T, D]                      |
 *
 * @module
 */
import type { Layers } from "../../graph/nn.ts";
import type { Value } from "../../graph/graph.ts";
import { gelu, sigmoid, softmax } from "../../graph/ops/activation.ts";
import { matmul } from "../../graph/ops/conv.ts";
import { add, mul } from "../../graph/ops/elementwise.ts";
import { gather, permute, reshape } from "../../graph/ops/shape.ts";
import type { ClipTextConfig } from "./config.ts";

/** QuickGELU's sigmoid slope: x sigmoid(1.702 x) (openai/CLIP `QuickGELU`). */
export const QUICK_GELU_ALPHA = 1.702;
/** The causal mask's fill: float32's lowest value, as transformers' `torch.finfo(dtype).min`. */
export const MASK_FILL = -3.4028234663852886e38;
/** Prefix of the encoder layers in the state dict. */
const LAYERS = "text_model.encoder.layers";

/**
 * The additive causal mask [T, T]: 0 on and below the diagonal, {@link MASK_FILL} above.
 *
 * @example
 * ```ts
 * import { causalMask } from "./_forward.ts";
 * causalMask(2); // [0, MASK_FILL, 0, 0]
 * ```
 */
export function causalMask(T: number): Float32Array {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = MASK_FILL;
  return m;
}

/** The MLP activation named by the configuration. */
function activation(x: Value, act: ClipTextConfig["hiddenAct"]): Value {
  return act === "quick_gelu" ? mul(x, sigmoid(mul(x, QUICK_GELU_ALPHA))) : gelu(x, "none");
}

/** `CLIPAttention` on rows `x [B*T, D]`: scaled q, causal softmax(q k^T) v, out_proj. */
function selfAttention(
  nn: Layers,
  name: string,
  x: Value,
  B: number,
  c: ClipTextConfig,
  mask: Value,
): Value {
  const [BT, D] = x.shape;
  const T = BT / B, H = c.numAttentionHeads, hd = D / H;
  const heads = (v: Value) =>
    reshape(permute(reshape(v, [B, T, H, hd]), [0, 2, 1, 3]), [B * H, T, hd]);
  const q = heads(mul(nn.linear(`${name}.q_proj`, x, D), 1 / Math.sqrt(hd))); // q * head_dim^-0.5
  const k = heads(nn.linear(`${name}.k_proj`, x, D));
  const v = heads(nn.linear(`${name}.v_proj`, x, D));
  const scores = add(matmul(q, permute(k, [0, 2, 1])), mask); // [B*H, T, T]
  const ctx = matmul(softmax(scores, -1), v); // [B*H, T, hd]
  const rows = reshape(permute(reshape(ctx, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, D]);
  return nn.linear(`${name}.out_proj`, rows, D);
}

/** LayerNorm of rows `[B*T, D]`. */
function rowNorm(nn: Layers, name: string, x: Value, eps: number): Value {
  return nn.layerNorm(name, x, [x.shape[1]], { eps });
}

/**
 * `last_hidden_state [B, T, D]` of `ids [B, T]` (int32, T = maxPositionEmbeddings) with the
 * weights of `nn`'s store under CLIPTextModel's names (`text_model.*`).
 *
 * @example
 * ```ts
 * import { Graph } from "../../graph/graph.ts";
 * import { Layers, ParamStore } from "../../graph/nn.ts";
 * import { SD15_TEXT_CONFIG } from "./config.ts";
 * import { clipTextForward } from "./_forward.ts";
 * const c = { ...SD15_TEXT_CONFIG, vocabSize: 64, hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 1, numAttentionHeads: 4 };
 * const g = new Graph();
 * const out = clipTextForward(new Layers(g, new ParamStore(Math.random), false), c, g.input("ids", [2, 77], "int32"));
 * ```
 */
export function clipTextForward(nn: Layers, c: ClipTextConfig, ids: Value): Value {
  const [B, T] = ids.shape;
  const D = c.hiddenSize, eps = c.layerNormEps;
  if (T !== c.maxPositionEmbeddings) {
    throw new RangeError(`CLIP text ids have ${T} positions, expected ${c.maxPositionEmbeddings}`);
  }
  const normal = { kind: "normal" as const, std: 1 };
  const tokens = nn.param("text_model.embeddings.token_embedding.weight", [c.vocabSize, D], normal);
  const pos = nn.param("text_model.embeddings.position_embedding.weight", [T, D], normal);
  const emb = add(gather(tokens, ids, 0), pos); // [B, T, D]: positions 0..T-1
  let h = reshape(emb, [B * T, D]);
  const mask = nn.g.constant(causalMask(T), [T, T]);
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const l = `${LAYERS}.${i}`;
    const a = selfAttention(
      nn,
      `${l}.self_attn`,
      rowNorm(nn, `${l}.layer_norm1`, h, eps),
      B,
      c,
      mask,
    );
    h = add(h, a);
    const f = nn.linear(
      `${l}.mlp.fc1`,
      rowNorm(nn, `${l}.layer_norm2`, h, eps),
      c.intermediateSize,
    );
    h = add(h, nn.linear(`${l}.mlp.fc2`, activation(f, c.hiddenAct), D));
  }
  const out = rowNorm(nn, "text_model.final_layer_norm", h, eps);
  return reshape(out, [B, T, D]);
}
