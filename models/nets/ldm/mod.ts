/**
 * The LDM family (CompVis latent-diffusion): configurations, the class-conditional
 * LatentDiffusion built from a Lightning `.ckpt`, and its Denoiser.
 *
 * @module
 */
export * from "./config.ts";
export { CLASS_EMBEDDING_KEY, LatentDiffusion, type LdmGraph, type LoadLdmOptions } from "./ldm.ts";
export { type LdmDenoiser, ldmDenoiser, type LdmDenoiserOptions } from "./denoiser.ts";
export {
  CheckpointParamStore,
  type CheckpointStoreOptions,
  emaKey,
  readLdmState,
} from "./_weights.ts";
export { ldmUNetForward } from "./_forward.ts";
