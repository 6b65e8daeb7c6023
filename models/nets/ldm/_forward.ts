/**
 * The forward pass of openaimodel `UNetModel` (spatial-transformer variant) as graph-building
 * code: time embedding, input blocks (ResBlocks, SpatialTransformers at the listed downsampling
 * factors, strided-conv downsampling), middle block, output blocks fed the skip connections in
 * reverse, GroupNorm-SiLU-conv head. Parameter names are the reference's, behind `prefix`
 * (`model.diffusion_model.` in a LatentDiffusion checkpoint). Adapted from
 * CompVis/latent-diffusion@a506df5 `openaimodel.py` (semantics only).
 *
 * @module
 */
import type { Layers } from "../../graph/nn.ts";
import type { Value } from "../../graph/graph.ts";
import { silu } from "../../graph/ops/activation.ts";
import { cat } from "../../graph/ops/shape.ts";
import { checkLdmUNetConfig, headsAt, type LdmUNetConfig } from "./config.ts";
import {
  downsample,
  resBlock,
  RESBLOCK_GN_EPS,
  spatialTransformer,
  timestepEmbedding,
  upsample,
} from "./_blocks.ts";

/**
 * Appends `UNetModel.forward(x, t, context)` to `nn`'s graph: `x [B, Cin, S, S]`, `t [B]`
 * float timesteps, `context [B*T, Dctx]` rows (T tokens per sample). Returns
 * `[B, Cout, S, S]`.
 *
 * @example
 * ```ts
 * import { Graph } from "../../graph/graph.ts";
 * import { Layers, ParamStore } from "../../graph/nn.ts";
 * import { ldmUNetForward } from "./_forward.ts";
 * import { CIN256_V2_UNET } from "./config.ts";
 * const c = { ...CIN256_V2_UNET, imageSize: 8, modelChannels: 32, channelMult: [1, 2], contextDim: 16 };
 * const g = new Graph();
 * const nn = new Layers(g, new ParamStore(Math.random), false);
 * const out = ldmUNetForward(nn, c, g.input("x", [1, 3, 8, 8]), g.input("t", [1]), g.input("c", [1, 16]));
 * ```
 */
export function ldmUNetForward(
  nn: Layers,
  c: LdmUNetConfig,
  x: Value,
  t: Value,
  context: Value,
  prefix = "",
): Value {
  checkLdmUNetConfig(c);
  const [B, C, H, W] = x.shape;
  if (C !== c.inChannels || H !== c.imageSize || W !== c.imageSize) {
    throw new RangeError(
      `LDM U-Net: input ${x} must be [B, ${c.inChannels}, ${c.imageSize}, ${c.imageSize}]`,
    );
  }
  if (context.shape[1] !== c.contextDim || context.shape[0] % B) {
    throw new RangeError(`LDM U-Net: context ${context} must be [B*T, ${c.contextDim}]`);
  }
  const p = (s: string) => prefix + s;
  const mc = c.modelChannels, E = 4 * mc; // time_embed_dim = model_channels * 4
  // 1. Time embedding: Linear-SiLU-Linear of the sinusoidal features.
  const tf = timestepEmbedding(t, mc);
  const emb = nn.linear(p("time_embed.2"), silu(nn.linear(p("time_embed.0"), tf, E)), E);
  const st = (name: string, h: Value, level: number) => {
    const { heads, dimHead } = headsAt(c, h.shape[1], level);
    const d = c.transformerDepth, linear = c.useLinearProjection ?? false;
    return spatialTransformer(nn, name, h, context, heads, dimHead, d, c.groups, linear);
  };
  // 2. Input blocks; every output is kept for the skip connections.
  let h = nn.conv2d(p("input_blocks.0.0"), x, mc, 3, { padding: 1 });
  const hs: Value[] = [h];
  let idx = 1, ds = 1;
  c.channelMult.forEach((mult, level) => {
    for (let r = 0; r < c.numResBlocks; r++, idx++) {
      h = resBlock(nn, p(`input_blocks.${idx}.0`), h, emb, mult * mc, c.groups);
      if (c.attentionResolutions.includes(ds)) h = st(p(`input_blocks.${idx}.1`), h, level);
      hs.push(h);
    }
    if (level !== c.channelMult.length - 1) {
      h = downsample(nn, p(`input_blocks.${idx++}.0`), h);
      hs.push(h);
      ds *= 2;
    }
  });
  // 3. Middle block: ResBlock, SpatialTransformer, ResBlock.
  const ch = h.shape[1];
  h = resBlock(nn, p("middle_block.0"), h, emb, ch, c.groups);
  h = st(p("middle_block.1"), h, c.channelMult.length - 1);
  h = resBlock(nn, p("middle_block.2"), h, emb, ch, c.groups);
  // 4. Output blocks, each fed the concatenation with the matching input-block output.
  let o = 0;
  for (let level = c.channelMult.length - 1; level >= 0; level--) {
    for (let i = 0; i <= c.numResBlocks; i++, o++) {
      const skip = hs.pop()!;
      h = resBlock(
        nn,
        p(`output_blocks.${o}.0`),
        cat([h, skip], 1),
        emb,
        mc * c.channelMult[level],
        c.groups,
      );
      let k = 1;
      if (c.attentionResolutions.includes(ds)) h = st(p(`output_blocks.${o}.${k++}`), h, level);
      if (level && i === c.numResBlocks) {
        h = upsample(nn, p(`output_blocks.${o}.${k}`), h);
        ds /= 2;
      }
    }
  }
  // 5. Head: GroupNorm32, SiLU, 3x3 conv.
  const n = nn.groupNorm(p("out.0"), h, c.groups, { eps: RESBLOCK_GN_EPS });
  return nn.conv2d(p("out.2"), silu(n), c.outChannels, 3, { padding: 1 });
}
