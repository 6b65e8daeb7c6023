/**
 * The ViT of the cross-architecture table: GLaD's `networks/vit.py` (lucidrains' vit-pytorch
 * with its LayerNorms commented out), dim 512, depth 10, 8 heads of 64, MLP 512, patch 16,
 * class-token pooling, dropout 0.1 and embedding dropout 0.1.
 *
 * 1. patches `b c (h p1) (w p2) -> b (h w) (p1 p2 c)`, Linear(p p c, dim);
 * 2. prepend the class token, add the position embedding (both N(0, 1) init), dropout;
 * 3. depth x [x += Attention(x); x += FeedForward(x)] (no norms), where Attention =
 *    softmax(q k^T / sqrt(64)) v over 8 heads, then Linear + Dropout, and FeedForward =
 *    Linear(dim, mlp) GELU Dropout Linear(mlp, dim) Dropout;
 * 4. the class token -> Linear(dim, classes).
 *
 * Names: `to_patch_embedding.1`, `pos_embedding`, `cls_token`,
 * `transformer.layers.<i>.0.fn.{to_qkv,to_out.0}`, `transformer.layers.<i>.1.fn.net.{0,3}`,
 * `mlp_head.0`.
 *
 * Adapted from GeorgeCazenavette/glad@HEAD networks/vit.py (semantics only).
 *
 * @module
 */
import type { Value } from "../../models/graph/graph.ts";
import type { Layers } from "../../models/graph/nn.ts";
import { gelu, softmax } from "../../models/graph/ops/activation.ts";
import { matmul } from "../../models/graph/ops/conv.ts";
import { add, mul } from "../../models/graph/ops/elementwise.ts";
import { cat, expand, permute, reshape, slice, split } from "../../models/graph/ops/shape.ts";
import type { ModelFn } from "../../models/train/trainer.ts";
import { patchify } from "./_layers.ts";

/** Options of {@link vit}; defaults are GLaD's `get_network("ViT")`. */
export interface ViTOptions {
  classes: number;
  /** Default 16. */
  patch?: number;
  /** Default 512. */
  dim?: number;
  /** Default 10. */
  depth?: number;
  /** Default 8. */
  heads?: number;
  /** Default 64. */
  dimHead?: number;
  /** Default 512. */
  mlpDim?: number;
  /** Default 0.1 (attention output and MLP). */
  dropout?: number;
  /** Default 0.1. */
  embDropout?: number;
}

/** GLaD's ViT configuration (utils.py `get_network`). */
export const GLAD_VIT = {
  patch: 16,
  dim: 512,
  depth: 10,
  heads: 8,
  dimHead: 64,
  mlpDim: 512,
  dropout: 0.1,
  embDropout: 0.1,
} as const;

/** `nn.Linear` on the last dim of `x [B, T, in]`. */
function linear3(nn: Layers, name: string, x: Value, out: number, bias = true): Value {
  const [b, t, d] = x.shape;
  return reshape(nn.linear(name, reshape(x, [b * t, d]), out, { bias }), [b, t, out]);
}

/**
 * GLaD's ViT as a trainer model function (input side divisible by the patch size).
 *
 * @example
 * ```ts
 * import { Trainer } from "../../models/train/trainer.ts";
 * import { vit } from "./vit.ts";
 * const t = new Trainer({
 *   model: vit({ classes: 10, depth: 2 }),
 *   inputShape: [3, 64, 64],
 *   classes: 10,
 *   loss: { kind: "crossEntropy" },
 *   random: Math.random,
 * });
 * t.stateDict().get("pos_embedding")!.shape; // [1, 17, 512]
 * ```
 */
export function vit(o: ViTOptions): ModelFn {
  const c = { ...GLAD_VIT, ...o };
  const inner = c.heads * c.dimHead;
  return (nn: Layers, x: Value): Value => {
    const b = x.shape[0];
    let h = linear3(nn, "to_patch_embedding.1", patchify(x, c.patch), c.dim); // [B, T, dim]
    const t = h.shape[1] + 1;
    const cls = nn.param("cls_token", [1, 1, c.dim], { kind: "normal", std: 1 });
    const pos = nn.param("pos_embedding", [1, t, c.dim], { kind: "normal", std: 1 });
    h = add(cat([expand(cls, [b, 1, c.dim]), h], 1), pos); // [B, T + 1, dim]
    h = nn.dropout(h, c.embDropout);
    for (let i = 0; i < c.depth; i++) {
      const p = `transformer.layers.${i}`;
      // Attention: qkv [B, T, 3 inner] -> 3 x [B, heads, T, dimHead]
      const heads = split(linear3(nn, `${p}.0.fn.to_qkv`, h, 3 * inner, false), [
        inner,
        inner,
        inner,
      ], 2)
        .map((v) => permute(reshape(v, [b, t, c.heads, c.dimHead]), [0, 2, 1, 3]));
      const [q, k, v] = heads;
      const dots = mul(matmul(q, permute(k, [0, 1, 3, 2])), c.dimHead ** -0.5); // [B, H, T, T]
      const att = matmul(softmax(dots, -1), v); // [B, H, T, dimHead]
      let y = reshape(permute(att, [0, 2, 1, 3]), [b, t, inner]);
      y = nn.dropout(linear3(nn, `${p}.0.fn.to_out.0`, y, c.dim), c.dropout);
      h = add(y, h);
      // FeedForward
      let f = nn.dropout(gelu(linear3(nn, `${p}.1.fn.net.0`, h, c.mlpDim)), c.dropout);
      f = nn.dropout(linear3(nn, `${p}.1.fn.net.3`, f, c.dim), c.dropout);
      h = add(f, h);
    }
    const first = reshape(slice(h, [1], [0], [1]), [b, c.dim]); // class token
    return nn.linear("mlp_head.0", first, o.classes);
  };
}
