/**
 * The cpu-scale latent diffusion model file: one safetensors file with the U-Net's EMA
 * weights (F16) and, in its metadata, everything needed to use it: the U-Net config, the
 * prediction type, the image size, the TAEF2 latent normalisation (per-channel mean and std
 * of the training latents), the class list and how it was trained.
 *
 * @module
 */
import { readSafetensors, writeSafetensors } from "../../io/safetensors.ts";
import { castFloat, type Tensor, toFloat32 } from "../../core/tensor.ts";
import type { UNetConfig } from "./unet.ts";
import type { PredictionType } from "../../diffusion/denoiser.ts";

/** Format tag written to the metadata. */
export const CPU_MODEL_FORMAT = "mgd3-latent-unet-v1";

/** Everything a cpu-scale model file carries besides its weights. */
export interface CpuModelInfo {
  /** The U-Net's architecture. */
  config: UNetConfig;
  /** What the U-Net was trained to predict. */
  predictionType: PredictionType;
  /** Side length of the images the model generates (through TAEF2: latents are S/8). */
  imageSize: number;
  /** Per-channel normalisation of raw TAEF2 latents that the model was trained on. */
  normalisation: { mean: number[]; std: number[] };
  /** Class names (wnids) in class-id order. */
  classes: string[];
  /** Free-form training record (steps, loss, data, seed, code version). */
  training: Record<string, unknown>;
}

/**
 * Writes a model file atomically (weights stored as F16 to keep it small).
 *
 * @example
 * ```ts
 * import { saveCpuModel } from "./cpu_model.ts";
 * await saveCpuModel("weights/cpu_unet.safetensors", trainer.emaWeights(), info);
 * ```
 */
export async function saveCpuModel(
  path: string,
  weights: Map<string, Tensor>,
  info: CpuModelInfo,
): Promise<void> {
  const half = new Map<string, Tensor>();
  for (const [k, t] of weights) half.set(k, castFloat(toFloat32(t), t.shape, "F16"));
  await writeSafetensors(path, half, {
    format: CPU_MODEL_FORMAT,
    config: JSON.stringify(info.config),
    prediction_type: info.predictionType,
    image_size: String(info.imageSize),
    latent_norm: JSON.stringify(info.normalisation),
    classes: JSON.stringify(info.classes),
    training: JSON.stringify(info.training),
  });
}

/**
 * Reads a model file; throws naming the file and the missing metadata when it is not one.
 *
 * @example
 * ```ts
 * import { loadCpuModel } from "./cpu_model.ts";
 * const { weights, info } = await loadCpuModel("weights/cpu_unet.safetensors");
 * ```
 */
export async function loadCpuModel(
  path: string,
): Promise<{ weights: Map<string, Tensor>; info: CpuModelInfo }> {
  const { tensors, metadata } = await readSafetensors(path);
  if (metadata.format !== CPU_MODEL_FORMAT) {
    throw new Error(
      `${path} is not a cpu-scale model file: metadata 'format' is ${
        metadata.format ?? "(missing)"
      }, expected ${CPU_MODEL_FORMAT}`,
    );
  }
  const field = (k: string) => {
    const v = metadata[k];
    if (v === undefined) throw new Error(`${path}: metadata '${k}' missing`);
    return v;
  };
  const info: CpuModelInfo = {
    config: JSON.parse(field("config")),
    predictionType: field("prediction_type") as PredictionType,
    imageSize: Number(field("image_size")),
    normalisation: JSON.parse(field("latent_norm")),
    classes: JSON.parse(field("classes")),
    training: JSON.parse(metadata.training ?? "{}"),
  };
  return { weights: tensors, info };
}
