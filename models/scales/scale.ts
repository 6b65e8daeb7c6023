/**
 * What a scale is: where its model files are ({@link ModelSource}) and what loading them
 * hands out ({@link ScaleModels}): the codec, the denoiser, how class names become class
 * ids, the sampling settings that fit the denoiser, and ids for provenance.
 * - cpu: the toolkit's model file (a v-prediction U-Net on TAEF2 latents; the file names
 *   the image size, the latent normalisation and the classes), with TAEF2;
 * - paper: a DiT checkpoint with an SD-VAE (AutoencoderKL) diffusers folder.
 *
 * @module
 */
import { assetPath } from "../core/assets.ts";
import type { ModelCodec } from "../codecs/batch_codec.ts";
import type { Denoiser, PredictionType } from "../diffusion/denoiser.ts";
import type { ClassIds } from "../diffusion/class_ids.ts";
import type { ModelSampling } from "../diffusion/sampling.ts";

/**
 * The cpu-scale model shipped with the toolkit (see weights/cpu_unet.md).
 *
 * @example
 * ```ts
 * import { SHIPPED_CPU_MODEL } from "./scale.ts";
 * SHIPPED_CPU_MODEL; // "<checkout>/weights/cpu_unet.safetensors"
 * ```
 */
export const SHIPPED_CPU_MODEL: string = assetPath("weights/cpu_unet.safetensors");

/**
 * Where the models of a scale come from.
 *
 * @example
 * ```ts
 * import type { ModelSource } from "./scale.ts";
 * const cpu: ModelSource = { scale: "cpu", model: "weights/cpu_unet.safetensors" };
 * const paper: ModelSource = {
 *   scale: "paper", dit: "DiT-XL-2-256x256.pt", ditConfig: "DiT-XL/2", vae: "sd-vae-ft-mse",
 *   imageSize: 256, numClasses: 1000,
 * };
 * ```
 */
export type ModelSource =
  | {
    scale: "cpu";
    /** The cpu-scale model file (weights/cpu_unet.safetensors or one trained by train-model). */
    model: string;
    /** TAEF2 weights folder (default: the shipped weights/taef2). */
    taef2?: string;
    /** onnxruntime intra-op threads (default: one per core). */
    threads?: number;
  }
  | {
    scale: "paper";
    /** DiT checkpoint (.pt or .safetensors; its 'ema' entry is used when present). */
    dit?: string;
    /** DiT architecture name ("DiT-XL/2"). */
    ditConfig: string;
    /** SD-VAE (AutoencoderKL) diffusers folder; needed for the codec. */
    vae?: string;
    /** Image side in pixels (256 for DiT-XL/2 + SD-VAE); needed for the codec. */
    imageSize?: number;
    /** Classes of the DiT (ImageNet-1K: 1000, whose class ids are ImageNet indices). */
    numClasses: number;
    /** onnxruntime intra-op threads (default: one per core). */
    threads?: number;
  }
  | {
    scale: "paper";
    /**
     * CompVis LatentDiffusion Lightning checkpoint (cin256-v2.ckpt): U-Net, VQ first stage and
     * ClassEmbedder in one file; `model_ema` weights used when present.
     */
    ldm: string;
    /** "cin256-v2" (default) or a JSON file of LDM settings (see `resolveLdmConfig`). */
    ldmConfig?: string;
    /** Image side in pixels (default: the U-Net's latent side x the VQ factor, 256). */
    imageSize?: number;
    /** onnxruntime intra-op threads (default: one per core). */
    threads?: number;
  }
  | {
    scale: "paper";
    /**
     * A diffusers Stable Diffusion 1.x/2.x folder (model_index.json, unet/, vae/,
     * text_encoder/, tokenizer/, scheduler/).
     */
    sd: string;
    /**
     * A JSON file mapping each class folder name to its prompt text; default: every ImageNet-1K
     * wnid with its class name.
     */
    prompts?: string;
    /** Wraps each class's text: "{}" (the bare class name, the paper's) or "a photo of a {}". */
    promptTemplate?: string;
    /** Image side in pixels (default: the U-Net's sample_size x the VAE factor, 512 for SD 1.5). */
    imageSize?: number;
    /** onnxruntime intra-op threads (default: one per core). */
    threads?: number;
  };

/**
 * Where the denoiser came from, for provenance and reports.
 *
 * @example
 * ```ts
 * import type { ScaleProvenance } from "./scale.ts";
 * const p: ScaleProvenance = {
 *   file: "weights/cpu_unet.safetensors", arch: "unet", training: { steps: 1461 },
 * };
 * ```
 */
export interface ScaleProvenance {
  /** The denoiser's file as given (the cpu model file or the DiT checkpoint). */
  file: string;
  /** "unet" (cpu scale) or the DiT architecture name ("DiT-XL/2"). */
  arch: string;
  /** The model file's training record (steps, data, code version); {} for DiT checkpoints. */
  training: Record<string, unknown>;
}

/**
 * What every loaded scale knows, whichever of its models were loaded.
 *
 * @example
 * ```ts
 * import type { ScaleFacts } from "./scale.ts";
 * const settings = (s: ScaleFacts) => s.sampling; // { cfgChannels: "all", variance: "fixed_small", ... }
 * ```
 */
export interface ScaleFacts {
  /** Which scale. */
  scale: "cpu" | "paper";
  /** The model's class names in class-id order (cpu scale); null for a DiT. */
  classes: readonly string[] | null;
  /** How class names become the denoiser's class ids (the encode stage's option). */
  classIds: ClassIds;
  /** Classes the denoiser knows (its null class for CFG is this number). */
  numClasses: number;
  /** What the denoiser predicts. */
  predictionType: PredictionType;
  /** Sampling settings that fit the denoiser (the sample stage's options of the same names). */
  sampling: ModelSampling;
  /** Where the denoiser came from. */
  provenance: ScaleProvenance;
  /** Frees every session of the models loaded. */
  release(): Promise<void>;
}

/**
 * A denoiser with sessions to free.
 *
 * @example
 * ```ts
 * import type { ScaleDenoiser } from "./scale.ts";
 * const done = (d: ScaleDenoiser) => d.release();
 * ```
 */
export type ScaleDenoiser = Denoiser & { release(): Promise<void> };

/**
 * A scale loaded for its codec only (encoding, decoding).
 *
 * @example
 * ```ts
 * import type { ScaleWithCodec } from "./scale.ts";
 * const size = (s: ScaleWithCodec) => s.codec.imageSize; // 64 at the cpu scale
 * ```
 */
export interface ScaleWithCodec extends ScaleFacts {
  /** The codec whose latent space the denoiser works in. */
  codec: ModelCodec;
}

/**
 * A scale loaded for its denoiser only (sampling).
 *
 * @example
 * ```ts
 * import type { ScaleWithDenoiser } from "./scale.ts";
 * const shape = (s: ScaleWithDenoiser) => s.denoiser.latentShape; // [32, 8, 8] at the cpu scale
 * ```
 */
export interface ScaleWithDenoiser extends ScaleFacts {
  /** The denoiser. */
  denoiser: ScaleDenoiser;
}

/**
 * A scale with all its models loaded.
 *
 * @example
 * ```ts
 * import type { ScaleModels } from "./scale.ts";
 * const line = (s: ScaleModels) => `${s.modelId}: ${s.describe}`;
 * ```
 */
export interface ScaleModels extends ScaleWithCodec, ScaleWithDenoiser {
  /**
   * 12 hex digits naming the model files by content: the SHA-256 of the cpu model file, or of
   * the DiT checkpoint's SHA-256, the codec id and the DiT config.
   */
  hash: string;
  /** The denoiser's identity in sample provenance: "unet:<hash>" or "dit:<config>:<hash>". */
  modelId: string;
  /** One line naming the models, for reports. */
  describe: string;
}
