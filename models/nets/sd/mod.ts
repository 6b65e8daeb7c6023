/**
 * Stable Diffusion's text-conditioned U-Net: configurations (read from a diffusers
 * `unet/config.json`, or SD 1.5 / SD 2.1) and the network built from a diffusers folder or a
 * single-file checkpoint.
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
