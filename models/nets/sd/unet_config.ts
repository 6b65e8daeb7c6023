/**
 * Configuration of Stable Diffusion's text-conditioned U-Net: the LDM `UNetModel` settings
 * ({@link LdmUNetConfig}) read from a diffusers `unet/config.json` (`UNet2DConditionModel`),
 * and the SD 1.5 and SD 2.1 configurations. diffusers' `attention_head_dim` is a head *count*
 * (an int for every level, SD 1.x: 8; or one per level, SD 2.x: [5, 10, 20, 20] heads of 64
 * channels), as `UNet2DConditionModel.__init__` passes it on as `num_attention_heads`; the
 * middle block takes the last level's. Adapted from huggingface/diffusers@58eb52c
 * `unet_2d_condition.py` and `convert_from_ckpt.py` (semantics only).
 *
 * @module
 */
import { checkLdmUNetConfig, LDM_GROUPS, type LdmUNetConfig } from "../ldm/config.ts";
import {
  CROSS_DOWN,
  CROSS_UP,
  FIXED,
  IGNORED,
  PLAIN_DOWN,
  PLAIN_UP,
  READ_DEFAULTS,
  UNET_CLASS,
} from "./_diffusers_keys.ts";

/**
 * A Stable Diffusion U-Net: the openaimodel network and the latent side it was trained at.
 *
 * @example
 * ```ts
 * import { SD15_UNET_CONFIG, type SdUNetConfig } from "./unet_config.ts";
 * const c: SdUNetConfig = SD15_UNET_CONFIG;
 * c.unet.contextDim; // 768
 * ```
 */
export interface SdUNetConfig {
  /** The network (imageSize = sampleSize). */
  unet: LdmUNetConfig;
  /** Latent side of the training resolution (`sample_size`: 64 for 512 px, 96 for 768 px). */
  sampleSize: number;
}

/**
 * Stable Diffusion v1.5 (runwayml/stable-diffusion-v1-5 `unet/config.json`: block_out_channels
 * [320, 640, 1280, 1280], attention_head_dim 8, cross_attention_dim 768, sample_size 64;
 * CompVis/stable-diffusion `v1-inference.yaml`: num_heads 8, attention_resolutions [4, 2, 1]).
 * About 860M parameters.
 *
 * @example
 * ```ts
 * import { SD15_UNET_CONFIG } from "./unet_config.ts";
 * SD15_UNET_CONFIG.unet.numHeads; // 8
 * ```
 */
export const SD15_UNET_CONFIG: Readonly<SdUNetConfig> = Object.freeze({
  unet: Object.freeze({
    imageSize: 64,
    inChannels: 4,
    outChannels: 4,
    modelChannels: 320,
    numResBlocks: 2,
    attentionResolutions: [1, 2, 4],
    channelMult: [1, 2, 4, 4],
    numHeads: 8,
    numHeadChannels: -1,
    transformerDepth: 1,
    contextDim: 768,
    groups: LDM_GROUPS,
    useLinearProjection: false,
  }),
  sampleSize: 64,
});

/**
 * Stable Diffusion v2.1 (stabilityai/stable-diffusion-2-1 `unet/config.json`:
 * attention_head_dim [5, 10, 20, 20], cross_attention_dim 1024, use_linear_projection true,
 * sample_size 96; Stability-AI/stablediffusion `v2-inference-v.yaml`: num_head_channels 64,
 * use_linear_in_transformer). About 866M parameters.
 *
 * @example
 * ```ts
 * import { SD21_UNET_CONFIG } from "./unet_config.ts";
 * SD21_UNET_CONFIG.unet.numHeadChannels; // 64
 * ```
 */
export const SD21_UNET_CONFIG: Readonly<SdUNetConfig> = Object.freeze({
  unet: Object.freeze({
    ...SD15_UNET_CONFIG.unet,
    imageSize: 96,
    numHeads: -1,
    numHeadChannels: 64,
    contextDim: 1024,
    useLinearProjection: true,
  }),
  sampleSize: 96,
});

/**
 * Reads a diffusers `unet/config.json`. Keys that change the network and that this toolkit
 * does not build (other block types, class or added embeddings, scale-shift norms, ...) throw
 * naming the file, the key and what is supported.
 *
 * @example
 * ```ts
 * import { readSdUNetConfig } from "./unet_config.ts";
 * const c = await readSdUNetConfig("stable-diffusion-v1-5/unet/config.json");
 * c.unet.contextDim; // 768
 * ```
 */
export async function readSdUNetConfig(path: string): Promise<SdUNetConfig> {
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(`Cannot read U-Net config ${path}: ${(e as Error).message}`);
  }
  return sdUNetConfigFromJson(json, path);
}

/**
 * The configuration a parsed diffusers U-Net config.json describes; `source` names it in errors.
 *
 * @example
 * ```ts
 * import { sdUNetConfigFromJson } from "./unet_config.ts";
 * const c = sdUNetConfigFromJson({ sample_size: 64, cross_attention_dim: 768 }, "config.json");
 * c.unet.channelMult; // [1, 2, 4, 4]
 * ```
 */
export function sdUNetConfigFromJson(json: unknown, source: string): SdUNetConfig {
  const fail = (key: string, what: string): never => {
    throw new Error(`U-Net config ${source}: key '${key}' ${what}`);
  };
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error(`U-Net config ${source}: expected a JSON object`);
  }
  const j = json as Record<string, unknown>;
  if (j._class_name !== undefined && j._class_name !== UNET_CLASS) {
    fail("_class_name", `is ${show(j._class_name)}; expected "${UNET_CLASS}"`);
  }
  for (const [key, v] of Object.entries(j)) {
    if (key.startsWith("_") || key in READ_DEFAULTS || IGNORED.includes(key)) continue;
    const fixed = FIXED[key];
    if (!fixed) fail(key, "is not a UNet2DConditionModel setting this reader knows");
    const value = uniform(v);
    if (!fixed.values.some((ok) => ok === value)) {
      fail(
        key,
        `is ${show(v)}; supported: ${fixed.values.map(show).join(" or ")} (${fixed.means})`,
      );
    }
  }
  const get = (key: string) => j[key] === undefined ? READ_DEFAULTS[key] : j[key];
  const int = (key: string): number => {
    const v = get(key), u = uniform(v);
    if (!Number.isInteger(u) || (u as number) < 1) {
      fail(key, `is ${show(v)}; expected a positive integer (or a list of equal ones)`);
    }
    return u as number;
  };
  const channels = get("block_out_channels");
  if (!Array.isArray(channels) || !channels.length || !channels.every(isPositiveInt)) {
    fail("block_out_channels", `is ${show(channels)}; expected a list of positive integers`);
  }
  const ch = channels as number[];
  const mc = ch[0];
  if (!ch.every((c) => c % mc === 0)) {
    fail("block_out_channels", `[${ch}] must be multiples of its first entry ${mc}`);
  }
  const levels = ch.length;
  const attn = blockAttention(get("down_block_types"), get("up_block_types"), levels, fail);
  const headsKey = "attention_head_dim";
  const heads = get(headsKey);
  const list = Array.isArray(heads) ? heads : Array(levels).fill(heads);
  if (list.length !== levels || !list.every(isPositiveInt)) {
    fail(headsKey, `is ${show(heads)}; expected a head count or one per level (${levels})`);
  }
  // The attentions that exist: levels with cross-attention blocks, and the middle (last level).
  const used = [...new Set([...attn.flatMap((a, i) => a ? [i] : []), levels - 1])];
  for (const i of used) {
    if (ch[i] % list[i]) fail(headsKey, `gives ${list[i]} heads to ${ch[i]} channels`);
  }
  const widths = new Set(used.map((i) => ch[i] / list[i]));
  const headSettings = !Array.isArray(heads)
    ? { numHeads: heads as number, numHeadChannels: -1 }
    : widths.size === 1
    ? { numHeads: -1, numHeadChannels: [...widths][0] }
    : { numHeads: -1, numHeadChannels: -1, levelHeads: list as number[] };
  const sampleSize = int("sample_size");
  const linear = get("use_linear_projection");
  if (typeof linear !== "boolean") {
    fail("use_linear_projection", `is ${show(linear)}; expected a boolean`);
  }
  const tl = get("transformer_layers_per_block");
  if (Array.isArray(tl) && tl.some(Array.isArray)) {
    fail("transformer_layers_per_block", `is ${show(tl)}; per-block lists are not supported`);
  }
  const unet: LdmUNetConfig = {
    imageSize: sampleSize,
    inChannels: int("in_channels"),
    outChannels: int("out_channels"),
    modelChannels: mc,
    numResBlocks: int("layers_per_block"),
    attentionResolutions: attn.flatMap((a, i) => a ? [2 ** i] : []),
    channelMult: ch.map((c) => c / mc),
    ...headSettings,
    transformerDepth: int("transformer_layers_per_block"),
    contextDim: int("cross_attention_dim"),
    groups: int("norm_num_groups"),
    useLinearProjection: linear as boolean,
  };
  try {
    checkLdmUNetConfig(unet);
  } catch (e) {
    throw new Error(`U-Net config ${source}: ${(e as Error).message}`);
  }
  return { unet, sampleSize };
}

/** Which levels have cross-attention; throws unless the up blocks mirror the down blocks. */
function blockAttention(
  down: unknown,
  up: unknown,
  levels: number,
  fail: (key: string, what: string) => never,
): boolean[] {
  const kinds = (key: string, v: unknown, cross: string, plain: string) => {
    if (!Array.isArray(v) || v.length !== levels) {
      fail(key, `is ${show(v)}; expected ${levels} block types (one per block_out_channels)`);
    }
    return (v as unknown[]).map((b, i) => {
      if (b !== cross && b !== plain) {
        fail(key, `[${i}] is ${show(b)}; supported: "${cross}" or "${plain}"`);
      }
      return b === cross;
    });
  };
  const d = kinds("down_block_types", down, CROSS_DOWN, PLAIN_DOWN);
  const u = kinds("up_block_types", up, CROSS_UP, PLAIN_UP);
  u.forEach((a, i) => {
    if (a !== d[levels - 1 - i]) {
      fail(
        "up_block_types",
        `[${i}] is "${a ? CROSS_UP : PLAIN_UP}" but down_block_types[${levels - 1 - i}] is ` +
          `"${
            d[levels - 1 - i] ? CROSS_DOWN : PLAIN_DOWN
          }"; the up blocks must mirror the down blocks`,
      );
    }
  });
  return d;
}

/** A list whose entries are all equal stands for its entry (diffusers' per-block lists). */
function uniform(v: unknown): unknown {
  if (!Array.isArray(v) || !v.length) return v;
  return v.every((x) => x === v[0]) ? v[0] : v;
}

function isPositiveInt(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) > 0;
}

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}
