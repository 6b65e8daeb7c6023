/**
 * The cpu scale: the toolkit's model file (a v-prediction U-Net on TAEF2 latents; its
 * metadata names the image size, the latent normalisation and the classes), TAEF2 with that
 * normalisation, CFG on all latent channels and the fixed (clipped posterior) variance.
 *
 * @module
 */
import { loadCpuModel } from "../nets/unet/cpu_model.ts";
import { unetDenoiser } from "../nets/unet/denoiser.ts";
import { sha256File } from "../core/hash.ts";
import { DIT_TRAIN_STEPS } from "../diffusion/schedule.ts";
import type { ModelSampling } from "../diffusion/sampling.ts";
import type { ModelCodec } from "../codecs/batch_codec.ts";
import { loadCodec } from "./codec.ts";
import type { ModelSource, ScaleDenoiser } from "./scale.ts";
import type { LoadedParts, ScalePart } from "./_parts.ts";

/**
 * The U-Net's sampling settings: standard CFG on every channel, no learned variance, and the
 * 1000-step linear schedule it was trained on (stages/train_model.ts, as DiT's).
 */
const CPU_SAMPLING: Readonly<ModelSampling> = {
  cfgChannels: "all",
  variance: "fixed_small",
  trainSteps: DIT_TRAIN_STEPS,
  // Samples per U-Net call, across classes (a CFG batch of 100); results do not depend on it.
  // With onnxruntime's Conv the time per sample-step barely depends on it (6.0-6.4 ms from 8 to
  // 100, `deno run -A tools/unet_timing.ts`); 50 leaves no partial batch per class.
  batchSize: 50,
};

/**
 * Loads the cpu scale (all of it, or only the codec or the denoiser).
 *
 * @example
 * ```ts
 * import { loadCpuScale } from "./_cpu_scale.ts";
 * const s = await loadCpuScale({ scale: "cpu", model: "weights/cpu_unet.safetensors" });
 * await s.release();
 * ```
 */
export async function loadCpuScale(
  src: Extract<ModelSource, { scale: "cpu" }>,
  only?: ScalePart,
): Promise<LoadedParts> {
  const { weights, info } = await loadCpuModel(src.model);
  let codec: ModelCodec | undefined;
  let denoiser: ScaleDenoiser | undefined;
  const release = async () => {
    await denoiser?.release();
    await codec?.release();
  };
  try {
    if (only !== "denoiser") {
      codec = await loadCodec({
        codec: "taef2",
        imageSize: info.imageSize,
        weightsDir: src.taef2,
        normalisation: info.normalisation,
        threads: src.threads,
      });
    }
    if (only !== "codec") {
      denoiser = unetDenoiser({
        config: info.config,
        weights,
        predictionType: info.predictionType,
        session: { intraOpThreads: src.threads },
      });
    }
  } catch (e) {
    await release();
    throw e;
  }
  const facts = {
    scale: "cpu" as const,
    classes: info.classes,
    classIds: info.classes,
    numClasses: info.config.numClasses,
    predictionType: info.predictionType,
    sampling: { ...CPU_SAMPLING },
    provenance: { file: src.model, arch: "unet", training: info.training },
    codec,
    denoiser,
    release,
  };
  if (only) return facts;
  const hash = (await sha256File(src.model)).slice(0, 12);
  return {
    ...facts,
    hash,
    modelId: `unet:${hash}`,
    describe: `cpu scale: U-Net ${src.model} (${
      info.training.steps ?? "?"
    } training steps, sha256 ${hash}), TAEF2 at ${info.imageSize} px`,
  };
}
