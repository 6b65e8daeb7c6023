/**
 * The interface between the pipeline and an image autoencoder (SD-VAE, TAEF2, ...): images
 * in [-1, 1] to the diffusion model's latent space and back. Scaling (SD-VAE's 0.18215) and
 * any per-channel normalisation happen inside the codec, so every latent in the store is in
 * the space the denoiser was trained on; `id` records which codec, weights and scaling made it.
 *
 * @module
 */

/**
 * An image autoencoder at a fixed resolution.
 *
 * @example
 * ```ts
 * import type { Codec } from "./codec.ts";
 * const identity: Codec = {
 *   id: "identity", imageSize: 8, latentShape: [3, 8, 8],
 *   encode: async (x) => x.slice(), decode: async (z) => z.slice(),
 * };
 * ```
 */
export interface Codec {
  /** Identifies the codec, its weights and its latent scaling in provenance. */
  id: string;
  /** Side length S of the square RGB images it takes. */
  imageSize: number;
  /** [C, h, w] of one latent. */
  latentShape: [number, number, number];
  /** images [N, 3, S, S] in [-1, 1] -> latents [N, C, h, w]. */
  encode(images: Float32Array, n: number): Promise<Float32Array>;
  /** latents [N, C, h, w] -> images [N, 3, S, S] in [-1, 1] (not clamped). */
  decode(latents: Float32Array, n: number): Promise<Float32Array>;
}
