/**
 * The models of a scale, for the table runner:
 * - cpu: the toolkit's model file (`weights/cpu_unet.safetensors`: a v-prediction U-Net on
 *   TAEF2 latents at 64 px; its file names the image size, the latent normalisation and the
 *   classes it knows), standing in for DiT; CFG on all channels, fixed variance (as the demo);
 * - paper: a DiT checkpoint (`--dit`, `--dit-config`) with an AutoencoderKL (`--vae`, a
 *   diffusers folder) at `--image-size` (256 for DiT-XL/2 + SD-VAE); the DiT's latent size
 *   follows from the VAE (its downsampling factor), DiT's 3-channel CFG quirk and learned
 *   variance (SPEC section 2). The DiT weights are read on the first sampling call only, so
 *   a rerun whose samples are all in the store never loads them.
 * Artifacts of the run live under `root`, a namespace named by a hash of the model files, so
 * a retrained model never collides with the artifacts of the previous one.
 *
 * @module
 */
import { sha256File, sha256Hex } from "../../models/core/hash.ts";
import { loadCpuModel } from "../../models/nets/unet/cpu_model.ts";
import { taef2Codec } from "../../models/codecs/taesd.ts";
import { unetDenoiser } from "../../models/nets/unet/denoiser.ts";
import { sdVaeCodec } from "../../models/codecs/sd_vae_codec.ts";
import { DiT, ditConfig, type DiTDenoiser, ditDenoiser } from "../../models/nets/dit/mod.ts";
import type { ModelCodec } from "../../models/codecs/batch_codec.ts";
import type { Denoiser } from "../../models/diffusion/denoiser.ts";
import type { ClassIds } from "../../stages/encode.ts";
import type { VarianceType } from "../../stages/diffusion/sampler.ts";
import type { Scale } from "../protocols/hard_label_protocol.ts";

const SHIPPED_TAEF2 = new URL("../../weights/taef2", import.meta.url).pathname;
const IMAGENET_CLASSES = 1000; // DiT-XL/2 conditions on ImageNet-1K class indices

/**
 * Where the models come from.
 *
 * @example
 * ```ts
 * import type { ModelSource } from "./setup.ts";
 * const cpu: ModelSource = { scale: "cpu", model: "weights/cpu_unet.safetensors" };
 * const paper: ModelSource = {
 *   scale: "paper", dit: "DiT-XL-2-256x256.pt", ditConfig: "DiT-XL/2", vae: "sd-vae-ft-mse",
 *   imageSize: 256, numClasses: 1000,
 * };
 * ```
 */
export type ModelSource =
  | { scale: "cpu"; model: string; threads?: number }
  | {
    scale: "paper";
    dit?: string;
    ditConfig: string;
    vae?: string;
    imageSize: number;
    numClasses: number;
    threads?: number;
  };

/**
 * The loaded models of a scale.
 *
 * @example
 * ```ts
 * import { loadScaleModels } from "./setup.ts";
 * const m = await loadScaleModels({ scale: "cpu", model: "weights/cpu_unet.safetensors" });
 * m.knows(["n01440764"]); // null: the model knows tench
 * await m.release();
 * ```
 */
export interface ScaleModels {
  scale: Scale;
  /** Store namespace of every artifact made with these models, e.g. "cpu/m3f2a9c1b7e4d". */
  root: string;
  codec: ModelCodec;
  denoiser: Denoiser & { release(): Promise<void> };
  /** The denoiser's identity in sample provenance. */
  modelId: string;
  /** How class names become the denoiser's class ids. */
  classIds: ClassIds;
  /** Sampling settings that depend on the model. */
  sampling: { cfgChannels: number | "all"; variance: VarianceType };
  /** Null when the denoiser can generate every class, else why not. */
  knows(classes: readonly string[]): string | null;
  /** One line for the report. */
  describe: string;
  release(): Promise<void>;
}

/**
 * The flags a model source still needs (empty when complete).
 *
 * @example
 * ```ts
 * import { missingModelFlags } from "./setup.ts";
 * missingModelFlags({ scale: "paper", ditConfig: "DiT-XL/2", imageSize: 256, numClasses: 1000 });
 * // ["--dit FILE (DiT checkpoint, e.g. DiT-XL-2-256x256.pt)", "--vae DIR (...)"]
 * ```
 */
export async function missingModelFlags(src: ModelSource): Promise<string[]> {
  const missing: string[] = [];
  const exists = (p: string) => Deno.stat(p).then(() => true, () => false);
  if (src.scale === "cpu") {
    if (!(await exists(src.model))) {
      missing.push(
        `--model FILE (no cpu-scale model at ${src.model}: train one with 'deno task train:model')`,
      );
    }
    return missing;
  }
  if (!src.dit || !(await exists(src.dit))) {
    missing.push(
      `--dit FILE (DiT checkpoint, e.g. DiT-XL-2-256x256.pt${
        src.dit ? `; ${src.dit} not found` : ""
      })`,
    );
  }
  if (!src.vae || !(await exists(src.vae))) {
    missing.push(
      `--vae DIR (AutoencoderKL diffusers folder, e.g. sd-vae-ft-mse${
        src.vae ? `; ${src.vae} not found` : ""
      })`,
    );
  }
  return missing;
}

/**
 * Loads the models of a scale (throws naming the file when one is unusable).
 *
 * @example
 * ```ts
 * import { loadScaleModels } from "./setup.ts";
 * const m = await loadScaleModels({ scale: "cpu", model: "weights/cpu_unet.safetensors" });
 * m.codec.imageSize; // 64
 * ```
 */
export async function loadScaleModels(src: ModelSource): Promise<ScaleModels> {
  return src.scale === "cpu" ? await cpuModels(src) : await paperModels(src);
}

async function cpuModels(src: Extract<ModelSource, { scale: "cpu" }>): Promise<ScaleModels> {
  const { weights, info } = await loadCpuModel(src.model);
  const codec = await taef2Codec({
    imageSize: info.imageSize,
    weightsDir: SHIPPED_TAEF2,
    normalisation: info.normalisation,
    threads: src.threads,
  });
  const denoiser = unetDenoiser({
    config: info.config,
    weights,
    predictionType: info.predictionType,
    session: { intraOpThreads: src.threads },
  });
  const hash = (await sha256File(src.model)).slice(0, 12);
  return {
    scale: "cpu",
    root: `cpu/m${hash}`,
    codec,
    denoiser,
    modelId: `unet:${hash}`,
    classIds: info.classes,
    sampling: { cfgChannels: "all", variance: "fixed_small" },
    knows: (classes) => {
      const unknown = classes.filter((c) => !info.classes.includes(c));
      return unknown.length === 0
        ? null
        : `the cpu-scale model ${src.model} knows ${info.classes.length} classes, not ${
          unknown.slice(0, 5).join(", ")
        }${unknown.length > 5 ? `, ... (${unknown.length})` : ""}: train one on these classes ` +
          `('deno task mgd3 train-model --data DIR --classes LIST') and pass it with --model`;
    },
    describe: `cpu scale: U-Net ${src.model} (${
      info.training.steps ?? "?"
    } training steps, sha256 ${hash}), TAEF2 at ${info.imageSize} px`,
    release: async () => {
      await denoiser.release();
      await codec.release();
    },
  };
}

async function paperModels(src: Extract<ModelSource, { scale: "paper" }>): Promise<ScaleModels> {
  const missing = await missingModelFlags(src);
  if (missing.length) throw new Error(`The paper scale needs ${missing.join(" and ")}`);
  const codec = await sdVaeCodec({
    weights: src.vae!,
    imageSize: src.imageSize,
    threads: src.threads,
  });
  const [C, h] = codec.latentShape;
  const config = ditConfig(src.ditConfig, { numClasses: src.numClasses, inputSize: h });
  if (config.inChannels !== C) {
    throw new RangeError(
      `The VAE makes ${C}-channel latents; ${src.ditConfig} takes ${config.inChannels}`,
    );
  }
  let loaded: Promise<DiTDenoiser> | null = null;
  const real = () =>
    loaded ??= DiT.load(src.dit!, config).then(
      (m) => ditDenoiser(m, { session: { intraOpThreads: src.threads } }),
      (e) => {
        throw new Error(
          `Cannot use ${src.dit} as ${src.ditConfig} with ${src.vae} at ${src.imageSize} px: the ` +
            `VAE (downsampling ${src.imageSize / h}) makes ${
              codec.latentShape.join("x")
            } latents, ` +
            `which the DiT must take as input; pick --image-size = the DiT's input size x ` +
            `${src.imageSize / h}. ${(e as Error).message}`,
          { cause: e },
        );
      },
    );
  const denoiser = {
    latentShape: [config.inChannels, config.inputSize, config.inputSize] as [
      number,
      number,
      number,
    ],
    numClasses: config.numClasses,
    predictionType: "eps" as const,
    learnSigma: config.learnSigma,
    forward: async (x: Float32Array, t: Float32Array, y: Int32Array) =>
      (await real()).forward(x, t, y),
    release: async () => {
      if (loaded) await (await loaded).release();
    },
  };
  const hash = (await sha256Hex(`${await sha256File(src.dit!)}\n${codec.id}\n${src.ditConfig}`))
    .slice(0, 12);
  const imagenet = src.numClasses === IMAGENET_CLASSES;
  return {
    scale: "paper",
    root: `paper/m${hash}`,
    codec,
    denoiser,
    modelId: `dit:${src.ditConfig}:${hash}`,
    classIds: imagenet ? "imagenet" : "label",
    sampling: {
      cfgChannels: 3, // DiT's forward_with_cfg guides 3 of the 4 channels (SPEC section 2)
      variance: config.learnSigma ? "learned_range" : "fixed_small",
    },
    knows: (classes) =>
      imagenet || classes.length <= src.numClasses
        ? null
        : `the DiT has ${src.numClasses} classes; this dataset has ${classes.length}`,
    describe:
      `paper scale: ${src.ditConfig} ${src.dit} with ${codec.id} at ${src.imageSize} px (latent ${
        codec.latentShape.join("x")
      })`,
    release: async () => {
      await denoiser.release();
      await codec.release();
    },
  };
}
