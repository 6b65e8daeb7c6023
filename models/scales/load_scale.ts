/**
 * One loader for the models of a scale: the codec, the denoiser, the class-id mapping and
 * the sampling settings that fit them, so no caller re-decides a model fact (CFG channels,
 * variance, class ids) after loading.
 *
 * @module
 */
import type { ModelSource, ScaleModels, ScaleWithCodec, ScaleWithDenoiser } from "./scale.ts";
import type { LoadedParts } from "./_parts.ts";
import { loadCpuScale } from "./_cpu_scale.ts";
import { loadPaperScale } from "./_paper_scale.ts";
import { loadLdmScale } from "./_ldm_scale.ts";
import { loadSdScale } from "./_sd_scale.ts";

/**
 * Options of {@link loadScale}.
 *
 * @example
 * ```ts
 * import type { LoadScaleOptions } from "./load_scale.ts";
 * const forSampling: LoadScaleOptions = { only: "denoiser" }; // no codec loaded
 * ```
 */
export interface LoadScaleOptions {
  /** Load only the codec (encode, decode) or only the denoiser (sample); default both. */
  only?: "codec" | "denoiser";
}

/**
 * Loads the models of a scale; throws naming the file when one is unusable.
 * - cpu: the model file's U-Net and TAEF2 at the file's image size and normalisation; class
 *   ids are positions in the file's class list; CFG on all channels, fixed-small variance;
 * - paper: a DiT checkpoint and an SD-VAE; class ids are ImageNet-1K indices for a
 *   1000-class DiT, else label positions; CFG on 3 channels (DiT's quirk), learned variance;
 * - paper with `ldm`: CompVis's class-conditional LDM (cin256-v2.ckpt) with its own VQ-f4
 *   first stage; ImageNet class ids; LDM's betas, fixed-small variance, CFG on all channels
 *   at scale 3.0 (the LDM repo's ImageNet sampling; the paper gives none).
 * All of it: also content ids (`hash`, `modelId`) and a description; `release()` frees it.
 *
 * @example
 * ```ts
 * import { loadScale } from "./load_scale.ts";
 * const s = await loadScale({ scale: "cpu", model: "weights/cpu_unet.safetensors" });
 * s.sampling; // { cfgChannels: "all", variance: "fixed_small", trainSteps: 1000 }
 * s.codec.latentShape; // [32, 8, 8]
 * await s.release();
 * const d = await loadScale({ scale: "cpu", model: "weights/cpu_unet.safetensors" }, {
 *   only: "denoiser",
 * });
 * await d.release();
 * ```
 */
export function loadScale(src: ModelSource): Promise<ScaleModels>;
export function loadScale(src: ModelSource, o: { only: "codec" }): Promise<ScaleWithCodec>;
export function loadScale(src: ModelSource, o: { only: "denoiser" }): Promise<ScaleWithDenoiser>;
export function loadScale(src: ModelSource, o?: LoadScaleOptions): Promise<LoadedParts>;
export async function loadScale(src: ModelSource, o: LoadScaleOptions = {}): Promise<LoadedParts> {
  if (o.only !== undefined && o.only !== "codec" && o.only !== "denoiser") {
    throw new RangeError(`loadScale: only must be "codec" or "denoiser", got ${o.only}`);
  }
  if (src.scale === "cpu") return await loadCpuScale(src, o.only);
  if (src.scale === "paper" && "ldm" in src) return await loadLdmScale(src, o.only);
  if (src.scale === "paper" && "sd" in src) return await loadSdScale(src, o.only);
  if (src.scale === "paper") return await loadPaperScale(src, o.only);
  throw new RangeError(
    `loadScale: scale must be "cpu" or "paper", got ${
      JSON.stringify((src as { scale: unknown }).scale)
    }`,
  );
}
