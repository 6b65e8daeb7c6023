/**
 * The CLIP text encoder of Stable Diffusion (transformers' CLIPTextModel layout): its
 * configuration (SD 1.x and SD 2.x values, config.json reader) and the encoder built from a
 * `text_encoder/` folder or an SD 1.x single-file checkpoint.
 *
 * @module
 */
export * from "./config.ts";
export {
  ClipTextEncoder,
  type ClipTextGraph,
  type LoadClipTextOptions,
  SD1_CHECKPOINT_PREFIX,
} from "./text_encoder.ts";
