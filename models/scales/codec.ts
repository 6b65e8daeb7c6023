/**
 * A raw codec choice, for work that needs only a codec (encoding training data, decoding
 * latents): TAEF2 (the shipped weights by default, raw or normalised latents) or an SD-VAE
 * (AutoencoderKL) diffusers folder. The scales load their codecs through this too.
 *
 * @module
 */
import { assetPath } from "../core/assets.ts";
import { taef2Codec } from "../codecs/taesd.ts";
import { sdVaeCodec } from "../codecs/sd_vae_codec.ts";
import type { ModelCodec } from "../codecs/batch_codec.ts";

/**
 * The TAEF2 weights shipped with the toolkit (MIT, see weights/taef2/LICENSE).
 *
 * @example
 * ```ts
 * import { SHIPPED_TAEF2 } from "./codec.ts";
 * SHIPPED_TAEF2; // "<checkout>/weights/taef2"
 * ```
 */
export const SHIPPED_TAEF2: string = assetPath("weights/taef2");

/**
 * Which codec to load.
 *
 * @example
 * ```ts
 * import type { CodecChoice } from "./codec.ts";
 * const raw: CodecChoice = { codec: "taef2", imageSize: 64 }; // shipped weights, raw latents
 * const sd: CodecChoice = { codec: "sd-vae", weights: "sd-vae-ft-mse", imageSize: 256 };
 * ```
 */
export type CodecChoice =
  | {
    codec: "taef2";
    /** Image side (a multiple of 8). */
    imageSize: number;
    /** Folder with taef2_encoder.pth and taef2_decoder.pth (default {@link SHIPPED_TAEF2}). */
    weightsDir?: string;
    /** Per-channel latent normalisation (default: raw latents). */
    normalisation?: { mean: readonly number[]; std: readonly number[] };
    /** onnxruntime intra-op threads (default: one per core). */
    threads?: number;
  }
  | {
    codec: "sd-vae";
    /** AutoencoderKL diffusers folder (or weights file). */
    weights: string;
    /** Image side (256 for SD-VAE + DiT-XL/2). */
    imageSize: number;
    /** onnxruntime intra-op threads (default: one per core). */
    threads?: number;
  };

/**
 * Loads the chosen codec; throws naming the weights when they are unusable.
 *
 * @example
 * ```ts
 * import { loadCodec } from "./codec.ts";
 * const codec = await loadCodec({ codec: "taef2", imageSize: 64 });
 * codec.latentShape; // [32, 8, 8]
 * await codec.release();
 * ```
 */
export async function loadCodec(c: CodecChoice): Promise<ModelCodec> {
  if (c.codec === "taef2") {
    return await taef2Codec({
      imageSize: c.imageSize,
      weightsDir: c.weightsDir ?? SHIPPED_TAEF2,
      normalisation: c.normalisation,
      threads: c.threads,
    });
  }
  if (c.codec === "sd-vae") {
    return await sdVaeCodec({ weights: c.weights, imageSize: c.imageSize, threads: c.threads });
  }
  throw new RangeError(
    `loadCodec: codec must be "taef2" or "sd-vae", got ${
      JSON.stringify((c as { codec: unknown }).codec)
    }`,
  );
}
