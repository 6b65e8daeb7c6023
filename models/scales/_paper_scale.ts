/**
 * The paper scale: a DiT checkpoint with an SD-VAE (AutoencoderKL) diffusers folder at
 * `imageSize` (256 for DiT-XL/2). The DiT's latent size follows from the VAE (its
 * downsampling factor); DiT's 3-channel CFG quirk and learned variance (SPEC section 2).
 * With the codec, the DiT weights are read on the first sampling call only, so a rerun whose
 * samples are all in the store never loads them; loaded for its denoiser only (no VAE), the
 * DiT is read at once and its latent side is imageSize / 8 (SD-VAE's downsampling).
 *
 * @module
 */
import { sha256File, sha256Hex } from "../core/hash.ts";
import {
  DiT,
  DIT_CFG_CHANNELS,
  ditConfig,
  type DiTDenoiser,
  ditDenoiser,
} from "../nets/dit/mod.ts";
import type { DiTConfig } from "../nets/dit/config.ts";
import { DIT_TRAIN_STEPS } from "../diffusion/schedule.ts";
import { loadCodec } from "./codec.ts";
import type { ModelSource, ScaleDenoiser, ScaleFacts } from "./scale.ts";
import type { LoadedParts, ScalePart } from "./_parts.ts";

type PaperSource = Extract<ModelSource, { ditConfig: string }>;

const IMAGENET_CLASSES = 1000; // DiT-XL/2 conditions on ImageNet-1K class indices
const SD_VAE_DOWNSAMPLING = 8; // 2^(4 blocks - 1) of SD_VAE_CONFIG: 256 px -> 32x32 latents

/**
 * Loads the paper scale (all of it, or only the codec or the denoiser).
 *
 * @example
 * ```ts
 * import { loadPaperScale } from "./_paper_scale.ts";
 * const s = await loadPaperScale({
 *   scale: "paper", dit: "DiT-XL-2-256x256.pt", ditConfig: "DiT-XL/2", vae: "sd-vae-ft-mse",
 *   imageSize: 256, numClasses: 1000,
 * });
 * await s.release();
 * ```
 */
export async function loadPaperScale(src: PaperSource, only?: ScalePart): Promise<LoadedParts> {
  const dit = need(src.dit, "dit", "a DiT checkpoint, e.g. DiT-XL-2-256x256.pt");
  if (only === "denoiser") return await denoiserOnly(src, dit);
  const vae = need(src.vae, "vae", "an AutoencoderKL diffusers folder, e.g. sd-vae-ft-mse");
  const imageSize = need(src.imageSize, "imageSize", "the image side in pixels, e.g. 256");
  const codec = await loadCodec({ codec: "sd-vae", weights: vae, imageSize, threads: src.threads });
  const [C, h] = codec.latentShape;
  let config: DiTConfig;
  try {
    config = ditConfig(src.ditConfig, { numClasses: src.numClasses, inputSize: h });
    if (config.inChannels !== C) {
      throw new RangeError(
        `The VAE makes ${C}-channel latents; ${src.ditConfig} takes ${config.inChannels}`,
      );
    }
  } catch (e) {
    await codec.release();
    throw e;
  }
  if (only === "codec") {
    return { ...facts(src, dit, config), codec, release: () => codec.release() };
  }
  let loaded: Promise<DiTDenoiser> | null = null;
  const real = () =>
    loaded ??= DiT.load(dit, config).then(
      (m) => ditDenoiser(m, { session: { intraOpThreads: src.threads } }),
      (e) => {
        throw new Error(
          `Cannot use ${dit} as ${src.ditConfig} with ${vae} at ${imageSize} px: the ` +
            `VAE (downsampling ${imageSize / h}) makes ${codec.latentShape.join("x")} latents, ` +
            `which the DiT must take as input; pick --image-size = the DiT's input size x ` +
            `${imageSize / h}. ${(e as Error).message}`,
          { cause: e },
        );
      },
    );
  const denoiser: ScaleDenoiser = {
    latentShape: [config.inChannels, config.inputSize, config.inputSize],
    numClasses: config.numClasses,
    predictionType: "eps",
    learnSigma: config.learnSigma,
    forward: async (x, t, y) => (await real()).forward(x, t, y),
    release: async () => {
      if (loaded) await (await loaded).release();
    },
  };
  const hash = (await sha256Hex(`${await sha256File(dit)}\n${codec.id}\n${src.ditConfig}`))
    .slice(0, 12);
  return {
    ...facts(src, dit, config),
    codec,
    denoiser,
    hash,
    modelId: `dit:${src.ditConfig}:${hash}`,
    describe: `paper scale: ${src.ditConfig} ${dit} with ${codec.id} at ${imageSize} px (latent ${
      codec.latentShape.join("x")
    })`,
    release: async () => {
      await denoiser.release();
      await codec.release();
    },
  };
}

async function denoiserOnly(src: PaperSource, dit: string): Promise<LoadedParts> {
  const overrides: Partial<DiTConfig> = { numClasses: src.numClasses };
  if (src.imageSize !== undefined) overrides.inputSize = src.imageSize / SD_VAE_DOWNSAMPLING;
  const config = ditConfig(src.ditConfig, overrides);
  const model = await DiT.load(dit, config);
  const denoiser = ditDenoiser(model, { session: { intraOpThreads: src.threads } });
  return { ...facts(src, dit, config), denoiser, release: () => denoiser.release() };
}

function facts(src: PaperSource, dit: string, config: DiTConfig): Omit<ScaleFacts, "release"> {
  return {
    scale: "paper",
    classes: null,
    classIds: src.numClasses === IMAGENET_CLASSES ? "imagenet" : "label",
    numClasses: config.numClasses,
    predictionType: "eps",
    sampling: {
      cfgChannels: DIT_CFG_CHANNELS, // DiT's forward_with_cfg guides 3 of the 4 channels
      variance: config.learnSigma ? "learned_range" : "fixed_small",
      trainSteps: DIT_TRAIN_STEPS,
    },
    provenance: { file: dit, arch: src.ditConfig, training: {} },
  };
}

function need<T>(value: T | undefined, field: string, what: string): T {
  if (value === undefined || value === "") {
    throw new Error(`The paper scale needs '${field}' (${what})`);
  }
  return value;
}
