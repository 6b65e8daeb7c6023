/**
 * Stable Diffusion's text-conditioned U-Net: configurations (read from a diffusers
 * `unet/config.json`, or SD 1.5 / SD 2.1) and the network built from a diffusers folder or a
 * single-file checkpoint.
 *
 * @module
 */
export * from "./unet_config.ts";
export { type LoadSdUNetOptions, SdUNet, type SdUNetGraph } from "./unet.ts";
