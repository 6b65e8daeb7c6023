/**
 * Configurations of the LDM family's U-Net (`ldm.modules.diffusionmodules.openaimodel.UNetModel`
 * with `use_spatial_transformer`) and of the class-conditional `LatentDiffusion` around it:
 * CompVis's cin256-v2 (`configs/latent-diffusion/cin256-v2.yaml`) is the default object.
 * Adapted from CompVis/latent-diffusion@a506df5 (semantics only).
 *
 * @module
 */

/**
 * Architecture of an openaimodel `UNetModel` (names follow the yaml's `unet_config.params`).
 *
 * @example
 * ```ts
 * import { CIN256_V2_UNET, type LdmUNetConfig } from "./config.ts";
 * const tiny: LdmUNetConfig = { ...CIN256_V2_UNET, imageSize: 8, modelChannels: 32 };
 * ```
 */
export interface LdmUNetConfig {
  /** Latent side (cin256-v2: 64). */
  imageSize: number;
  /** Latent channels in (cin256-v2: 3). */
  inChannels: number;
  /** Channels out (3: eps). */
  outChannels: number;
  /** Base width (cin256-v2: 192). */
  modelChannels: number;
  /** Residual blocks per level (2). */
  numResBlocks: number;
  /** Downsampling factors at which a SpatialTransformer follows the residual block ([8, 4, 2]). */
  attentionResolutions: number[];
  /** Width multipliers per level ([1, 2, 3, 5]). */
  channelMult: number[];
  /** Heads per attention (1), or -1 when `numHeadChannels` fixes the head width. */
  numHeads: number;
  /** Channels per head (-1: `numHeads` heads of ch / numHeads channels). */
  numHeadChannels: number;
  /** Transformer blocks per SpatialTransformer (1). */
  transformerDepth: number;
  /** Width of the cross-attention context (512: the ClassEmbedder's embedding). */
  contextDim: number;
  /** GroupNorm groups of the residual blocks and transformers (openaimodel: 32). */
  groups: number;
  /**
   * Linear `proj_in`/`proj_out` on the token rows instead of 1x1 convs (Stable Diffusion 2.x's
   * `use_linear_in_transformer`; absent or false: the convs of LDM and SD 1.x).
   */
  useLinearProjection?: boolean;
  /**
   * Heads of the attentions at each level (input and output blocks of level i; the middle
   * block takes the last), overriding `numHeads` and `numHeadChannels`: diffusers' per-block
   * `attention_head_dim` list when the head widths differ between levels.
   */
  levelHeads?: number[];
}

/**
 * A class-conditional `LatentDiffusion` (conditioning_key crossattn, ClassEmbedder condition).
 *
 * @example
 * ```ts
 * import { CIN256_V2 } from "./config.ts";
 * CIN256_V2.nClasses; // 1001: class 1000 is the unconditional one
 * ```
 */
export interface LdmConfig {
  /** A name for messages ("cin256-v2"). */
  name: string;
  /** The U-Net. */
  unet: LdmUNetConfig;
  /** Rows of the ClassEmbedder table (cin256-v2: 1001; the last row is the null class). */
  nClasses: number;
  /** First beta of LDM's "linear" schedule (0.0015). */
  linearStart: number;
  /** Last beta (0.0195). */
  linearEnd: number;
  /** Training steps (1000). */
  timesteps: number;
  /** Scale of the first-stage latents (`scale_factor`, 1.0 for cin256-v2: the yaml sets none). */
  scaleFactor: number;
}

/** GroupNorm32 of openaimodel `normalization()`: 32 groups. */
export const LDM_GROUPS = 32;

/**
 * The U-Net of cin256-v2.yaml (about 400M parameters).
 *
 * @example
 * ```ts
 * import { CIN256_V2_UNET } from "./config.ts";
 * CIN256_V2_UNET.channelMult; // [1, 2, 3, 5]
 * ```
 */
export const CIN256_V2_UNET: Readonly<LdmUNetConfig> = Object.freeze({
  imageSize: 64,
  inChannels: 3,
  outChannels: 3,
  modelChannels: 192,
  numResBlocks: 2,
  attentionResolutions: [8, 4, 2],
  channelMult: [1, 2, 3, 5],
  numHeads: 1,
  numHeadChannels: -1,
  transformerDepth: 1,
  contextDim: 512,
  groups: LDM_GROUPS,
});

/**
 * cin256-v2.yaml's `LatentDiffusion`: linear_start 0.0015, linear_end 0.0195, 1000 steps, eps
 * prediction, 1001-row ClassEmbedder of 512 dims.
 *
 * @example
 * ```ts
 * import { CIN256_V2 } from "./config.ts";
 * CIN256_V2.unet.modelChannels; // 192
 * ```
 */
export const CIN256_V2: Readonly<LdmConfig> = Object.freeze({
  name: "cin256-v2",
  unet: CIN256_V2_UNET,
  nClasses: 1001,
  linearStart: 0.0015,
  linearEnd: 0.0195,
  timesteps: 1000,
  scaleFactor: 1.0,
});

/**
 * Heads and head width of an attention at `ch` channels of level `level`, as openaimodel
 * computes them (legacy: dim_head = ch / num_heads with the spatial transformer), or from
 * `levelHeads` when the configuration has it.
 *
 * @example
 * ```ts
 * import { CIN256_V2_UNET, headsAt } from "./config.ts";
 * headsAt(CIN256_V2_UNET, 384); // { heads: 1, dimHead: 384 }
 * headsAt({ ...CIN256_V2_UNET, levelHeads: [1, 2, 4, 8] }, 384, 1); // { heads: 2, dimHead: 192 }
 * ```
 */
export function headsAt(
  c: LdmUNetConfig,
  ch: number,
  level = -1,
): { heads: number; dimHead: number } {
  const heads = c.levelHeads && level >= 0
    ? c.levelHeads[level]
    : c.numHeadChannels === -1
    ? c.numHeads
    : Math.floor(ch / c.numHeadChannels);
  return { heads, dimHead: Math.floor(ch / heads) };
}

/**
 * Throws naming the first inconsistent field of a U-Net configuration.
 *
 * @example
 * ```ts
 * import { CIN256_V2_UNET, checkLdmUNetConfig } from "./config.ts";
 * checkLdmUNetConfig(CIN256_V2_UNET);
 * ```
 */
export function checkLdmUNetConfig(c: LdmUNetConfig): void {
  const pos = (k: keyof LdmUNetConfig) => {
    const v = c[k];
    if (!Number.isInteger(v) || (v as number) < 1) {
      throw new RangeError(`LDM U-Net config: ${k} must be a positive integer, got ${v}`);
    }
  };
  for (
    const k of [
      "imageSize",
      "inChannels",
      "outChannels",
      "modelChannels",
      "numResBlocks",
      "transformerDepth",
      "contextDim",
      "groups",
    ] as const
  ) pos(k);
  if (!c.channelMult.length || !c.channelMult.every((m) => Number.isInteger(m) && m > 0)) {
    throw new RangeError(`LDM U-Net config: channelMult [${c.channelMult}] must be positive`);
  }
  if (c.levelHeads) {
    const ok = c.levelHeads.length === c.channelMult.length &&
      c.levelHeads.every((h, i) =>
        Number.isInteger(h) && h > 0 && !(c.channelMult[i] * c.modelChannels % h)
      );
    if (!ok) {
      throw new RangeError(
        `LDM U-Net config: levelHeads [${c.levelHeads}] must give, for each of the ` +
          `${c.channelMult.length} levels, a head count dividing its channels`,
      );
    }
  } else if (c.numHeads === -1 && c.numHeadChannels === -1) {
    throw new RangeError("LDM U-Net config: set numHeads, numHeadChannels or levelHeads");
  }
  const down = 2 ** (c.channelMult.length - 1);
  if (c.imageSize % down) {
    throw new RangeError(
      `LDM U-Net config: imageSize ${c.imageSize} must be divisible by ${down} ` +
        `(${c.channelMult.length} levels)`,
    );
  }
  for (const m of c.channelMult) {
    const ch = m * c.modelChannels;
    if (ch % c.groups) {
      throw new RangeError(
        `LDM U-Net config: ${ch} channels are not divisible into ${c.groups} groups`,
      );
    }
  }
}
