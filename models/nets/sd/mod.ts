/**
 * Stable Diffusion: the text-conditioned U-Net (configurations read from a diffusers
 * `unet/config.json`, or SD 1.5 / SD 2.1; the network built from a diffusers folder or a
 * single-file checkpoint), the folder reader (model_index.json, scheduler and VAE configs) and
 * the class-conditional denoiser over class prompts.
 *
 * @module
 */
export * from "./unet_config.ts";
export {
  type LoadSdUNetOptions,
  SD_UNET_SESSION_OPTIONS,
  SdUNet,
  type SdUNetGraph,
} from "./unet.ts";
export * from "./folder.ts";
export {
  type PromptEncoder,
  promptEncoder,
  type SdDenoiser,
  sdDenoiser,
  type SdDenoiserOptions,
} from "./denoiser.ts";
