/**
 * The one table between the two names of every Stable Diffusion U-Net weight: the original
 * openaimodel `UNetModel` state dict (what the graph builder asks for: `input_blocks.1.0.
 * in_layers.0.weight`) and diffusers' `UNet2DConditionModel` (`down_blocks.0.resnets.0.norm1.
 * weight`). Follows diffusers' `convert_ldm_unet_checkpoint` in reverse. Adapted from
 * huggingface/diffusers@58eb52c `pipelines/stable_diffusion/convert_from_ckpt.py` (semantics
 * only).
 *
 * @module
 */

/** Whole-prefix renames outside the down and up blocks (original -> diffusers). */
const PREFIXES: readonly [string, string][] = [
  ["time_embed.0.", "time_embedding.linear_1."],
  ["time_embed.2.", "time_embedding.linear_2."],
  ["input_blocks.0.0.", "conv_in."],
  ["out.0.", "conv_norm_out."],
  ["out.2.", "conv_out."],
  ["middle_block.0.", "mid_block.resnets.0."],
  ["middle_block.1.", "mid_block.attentions.0."],
  ["middle_block.2.", "mid_block.resnets.1."],
];

/** Renames inside a ResBlock (convert_from_ckpt.py `renew_resnet_paths`). */
const RESNET_PARTS: readonly [string, string][] = [
  ["in_layers.0.", "norm1."],
  ["in_layers.2.", "conv1."],
  ["out_layers.0.", "norm2."],
  ["out_layers.3.", "conv2."],
  ["emb_layers.1.", "time_emb_proj."],
  ["skip_connection.", "conv_shortcut."],
];

/** `Downsample`'s conv (`op`) and `Upsample`'s (`conv`) in the original names. */
const DOWN_OP = "op.";
const UP_CONV = "conv.";
const BLOCK = /^(input|output)_blocks\.(\d+)\.(\d+)\.(.*)$/;

function resnetPart(rest: string): string {
  for (const [from, to] of RESNET_PARTS) {
    if (rest.startsWith(from)) return to + rest.slice(from.length);
  }
  throw new Error(`No diffusers name for ResBlock weight '${rest}'`);
}

/**
 * The diffusers name of an original `UNetModel` weight, for a U-Net of `layersPerBlock`
 * ResBlocks per down block (`layers_per_block`; the up blocks have one more).
 *
 * @example
 * ```ts
 * import { diffusersName } from "./_key_map.ts";
 * diffusersName("input_blocks.3.0.op.weight", 2); // "down_blocks.0.downsamplers.0.conv.weight"
 * diffusersName("output_blocks.2.1.conv.bias", 2); // "up_blocks.0.upsamplers.0.conv.bias"
 * ```
 */
export function diffusersName(name: string, layersPerBlock: number): string {
  for (const [from, to] of PREFIXES) {
    if (!name.startsWith(from)) continue;
    const rest = name.slice(from.length);
    return to + (to.includes(".resnets.") ? resnetPart(rest) : rest);
  }
  const m = BLOCK.exec(name);
  if (!m) throw new Error(`No diffusers name for U-Net weight '${name}'`);
  const [, side, index, part, rest] = m;
  const per = layersPerBlock + 1; // input: ResBlocks and the downsample; output: ResBlocks
  const i = Number(index) - (side === "input" ? 1 : 0);
  const block = `${side === "input" ? "down" : "up"}_blocks.${Math.floor(i / per)}`;
  const layer = i % per;
  if (side === "input" && part === "0" && rest.startsWith(DOWN_OP)) {
    return `${block}.downsamplers.0.conv.${rest.slice(DOWN_OP.length)}`;
  }
  if (side === "output" && part !== "0" && rest.startsWith(UP_CONV)) {
    return `${block}.upsamplers.0.conv.${rest.slice(UP_CONV.length)}`;
  }
  if (part === "0") return `${block}.resnets.${layer}.${resnetPart(rest)}`;
  if (part === "1") return `${block}.attentions.${layer}.${rest}`;
  throw new Error(`No diffusers name for U-Net weight '${name}'`);
}
