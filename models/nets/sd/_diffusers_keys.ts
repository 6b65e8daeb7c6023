/**
 * What a diffusers `UNet2DConditionModel` config.json may say for the network this toolkit
 * builds (openaimodel's `UNetModel` with SpatialTransformers, as Stable Diffusion 1.x and 2.x
 * use it): the keys read into the configuration with diffusers' `__init__` defaults, the keys
 * whose value must be the one that network has, and the keys that do not change a float32
 * forward pass. Adapted from huggingface/diffusers@58eb52c `unet_2d_condition.py` (semantics
 * only).
 *
 * @module
 */

/**
 * Defaults of the keys read into the configuration (`UNet2DConditionModel.__init__`; a
 * config.json that omits a key gets these, as diffusers does).
 *
 * @example
 * ```ts
 * import { READ_DEFAULTS } from "./_diffusers_keys.ts";
 * READ_DEFAULTS.cross_attention_dim; // 1280
 * ```
 */
export const READ_DEFAULTS: Readonly<Record<string, unknown>> = Object.freeze({
  sample_size: null,
  in_channels: 4,
  out_channels: 4,
  down_block_types: [
    "CrossAttnDownBlock2D",
    "CrossAttnDownBlock2D",
    "CrossAttnDownBlock2D",
    "DownBlock2D",
  ],
  up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
  block_out_channels: [320, 640, 1280, 1280],
  layers_per_block: 2,
  norm_num_groups: 32,
  cross_attention_dim: 1280,
  transformer_layers_per_block: 1,
  attention_head_dim: 8,
  use_linear_projection: false,
});

/**
 * Keys that change the network, with the values this reader supports (the first is
 * diffusers' default; a key that is absent takes it). Anything else is an error naming the key.
 *
 * @example
 * ```ts
 * import { FIXED } from "./_diffusers_keys.ts";
 * FIXED.flip_sin_to_cos.values; // [true]
 * ```
 */
export const FIXED: Readonly<Record<string, { values: unknown[]; means: string }>> = Object
  .freeze({
    center_input_sample: { values: [false], means: "no input centring" },
    flip_sin_to_cos: { values: [true], means: "[cos, sin] timestep features, as openaimodel" },
    freq_shift: { values: [0], means: "openaimodel's timestep frequencies" },
    mid_block_type: {
      values: ["UNetMidBlock2DCrossAttn"],
      means: "the ResBlock-SpatialTransformer-ResBlock middle block",
    },
    only_cross_attention: { values: [false], means: "self-attention in every transformer block" },
    mid_block_only_cross_attention: {
      values: [null, false],
      means: "self-attention in the middle",
    },
    downsample_padding: { values: [1], means: "the 3x3 stride-2 convs of openaimodel" },
    mid_block_scale_factor: { values: [1], means: "no output scaling" },
    act_fn: { values: ["silu"], means: "SiLU activations" },
    norm_eps: { values: [1e-5], means: "openaimodel's GroupNorm eps" },
    reverse_transformer_layers_per_block: { values: [null], means: "a symmetric U-Net" },
    encoder_hid_dim: { values: [null], means: "the text context used as is" },
    encoder_hid_dim_type: { values: [null], means: "the text context used as is" },
    num_attention_heads: { values: [null], means: "heads given by attention_head_dim" },
    dual_cross_attention: { values: [false], means: "one cross-attention per block" },
    class_embed_type: { values: [null], means: "no class embedding" },
    addition_embed_type: { values: [null], means: "no added embedding (not SDXL)" },
    addition_time_embed_dim: { values: [null], means: "no added time embedding" },
    num_class_embeds: { values: [null], means: "no class embedding" },
    resnet_time_scale_shift: {
      values: ["default"],
      means: "the timestep embedding added (no scale-shift norm)",
    },
    resnet_skip_time_act: { values: [false], means: "SiLU before the embedding projection" },
    resnet_out_scale_factor: { values: [1], means: "no residual scaling" },
    time_embedding_type: { values: ["positional"], means: "sinusoidal timestep features" },
    time_embedding_dim: { values: [null], means: "a time embedding of 4 x block_out_channels[0]" },
    time_embedding_act_fn: { values: [null], means: "no extra activation on the time embedding" },
    timestep_post_act: { values: [null], means: "Linear-SiLU-Linear time embedding" },
    time_cond_proj_dim: { values: [null], means: "no timestep condition (not LCM)" },
    conv_in_kernel: { values: [3], means: "a 3x3 input conv" },
    conv_out_kernel: { values: [3], means: "a 3x3 output conv" },
    projection_class_embeddings_input_dim: { values: [null], means: "no class projection" },
    attention_type: { values: ["default"], means: "plain transformer blocks (no GLIGEN)" },
    class_embeddings_concat: { values: [false], means: "no class embedding" },
    cross_attention_norm: { values: [null], means: "no norm on the text context" },
  });

/**
 * Keys that do not change a float32 forward pass: dropout (inference), `upcast_attention`
 * (attention is float32 throughout here), the head count of an added embedding this reader
 * rejects anyway.
 *
 * @example
 * ```ts
 * import { IGNORED } from "./_diffusers_keys.ts";
 * IGNORED.includes("dropout"); // true
 * ```
 */
export const IGNORED: readonly string[] = [
  "dropout",
  "upcast_attention",
  "addition_embed_type_num_heads",
];

/** diffusers' down blocks with a SpatialTransformer after each ResBlock, and without. */
export const CROSS_DOWN = "CrossAttnDownBlock2D";
/** The plain down block. */
export const PLAIN_DOWN = "DownBlock2D";
/** diffusers' up blocks with a SpatialTransformer after each ResBlock, and without. */
export const CROSS_UP = "CrossAttnUpBlock2D";
/** The plain up block. */
export const PLAIN_UP = "UpBlock2D";
/** The class a U-Net config.json names in `_class_name`. */
export const UNET_CLASS = "UNet2DConditionModel";
