/**
 * DiT (Peebles & Xie, facebookresearch/DiT): the network built from a checkpoint (`dit.ts`)
 * and the denoiser that runs it for the sampler, with DiT's classifier-free guidance
 * (`denoiser.ts`).
 *
 * @module
 */
export * from "./dit.ts";
export * from "./denoiser.ts";
