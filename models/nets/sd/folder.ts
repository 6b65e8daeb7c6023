/**
 * A diffusers Stable Diffusion folder as users have it (`model_index.json`, `unet/`, `vae/`,
 * `text_encoder/`, `tokenizer/`, `scheduler/`): which components it has, and the settings the
 * sampler needs from `scheduler/scheduler_config.json` and `vae/config.json`, read and checked
 * with errors that name the file and key. The scheduler config is read as diffusers'
 * `DDIMScheduler.from_config(pipe.scheduler.config)` reads it (a key the file lacks takes
 * DDIMScheduler's default), since Algorithm 1 is DDIM whatever scheduler the folder ships.
 * Adapted from huggingface/diffusers@58eb52c `pipelines/pipeline_utils.py` and
 * `schedulers/scheduling_ddim.py` (semantics only).
 *
 * @module
 */
import { join } from "node:path";
import type { BetaSchedule } from "../../diffusion/schedule.ts";
import type { DiffusersTimesteps } from "../../diffusion/diffusers_timesteps.ts";
import type { PredictionType } from "../../diffusion/denoiser.ts";

/** Largest JSON config read (real ones are under 2 KB). */
export const MAX_CONFIG_BYTES = 1 << 20;

/** Pipelines whose folders this reader accepts (`model_index.json` `_class_name`). */
export const SD_PIPELINES: readonly string[] = [
  "StableDiffusionPipeline",
  "StableDiffusionImg2ImgPipeline",
];

/** The components a Stable Diffusion folder must have, with the classes accepted for each. */
export const SD_COMPONENTS: Readonly<Record<string, readonly string[]>> = {
  unet: ["UNet2DConditionModel"],
  vae: ["AutoencoderKL"],
  text_encoder: ["CLIPTextModel"],
  tokenizer: ["CLIPTokenizer", "CLIPTokenizerFast"],
  scheduler: [
    "PNDMScheduler",
    "DDIMScheduler",
    "LMSDiscreteScheduler",
    "EulerDiscreteScheduler",
    "EulerAncestralDiscreteScheduler",
    "DPMSolverMultistepScheduler",
    "DDPMScheduler",
  ],
};

/** diffusers' latent scale of SD 1.x/2.x when `vae/config.json` has no `scaling_factor`. */
export const SD_DEFAULT_SCALING_FACTOR = 0.18215;

/**
 * The scheduler settings the DDIM sampler follows.
 *
 * @example
 * ```ts
 * import type { SdScheduler } from "./folder.ts";
 * const sd15: SdScheduler = {
 *   trainSteps: 1000, betas: { kind: "scaled_linear", start: 0.00085, end: 0.012 },
 *   timesteps: { spacing: "leading", offset: 1, setAlphaToOne: false }, predictionType: "eps",
 * };
 * ```
 */
export interface SdScheduler {
  /** `num_train_timesteps`. */
  trainSteps: number;
  /** `beta_schedule`, `beta_start`, `beta_end`. */
  betas: BetaSchedule;
  /** `timestep_spacing`, `steps_offset`, `set_alpha_to_one`. */
  timesteps: DiffusersTimesteps;
  /** `prediction_type`: "epsilon" -> "eps", "v_prediction" -> "v". */
  predictionType: PredictionType;
}

/**
 * What a Stable Diffusion folder holds.
 *
 * @example
 * ```ts
 * import { readSdFolder } from "./folder.ts";
 * const f = await readSdFolder("stable-diffusion-v1-5");
 * f.paths.unet; // "stable-diffusion-v1-5/unet"
 * ```
 */
export interface SdFolder {
  /** The folder. */
  root: string;
  /** `model_index.json` `_class_name`. */
  pipeline: string;
  /** Each component's subfolder. */
  paths: { unet: string; vae: string; text_encoder: string; tokenizer: string; scheduler: string };
  /** The scheduler config, as DDIM reads it. */
  scheduler: SdScheduler;
  /** `vae/config.json` `scaling_factor` (latent = scaling_factor x the posterior mean). */
  scalingFactor: number;
  /**
   * Levels of the VAE (`vae/config.json` `block_out_channels`, length n: it downsamples by
   * 2^(n-1)); null when the key is missing or not a non-empty list.
   */
  vaeLevels: number | null;
}

/**
 * Reads a JSON object file, bounded in size, with errors naming the file.
 *
 * @example
 * ```ts
 * import { readJsonObject } from "./folder.ts";
 * const index = await readJsonObject("sd/model_index.json");
 * ```
 */
export async function readJsonObject(path: string): Promise<Record<string, unknown>> {
  let size: number;
  try {
    size = (await Deno.stat(path)).size;
  } catch (e) {
    throw new Error(`Cannot read ${path}: ${(e as Error).message}`);
  }
  if (size > MAX_CONFIG_BYTES) {
    throw new RangeError(`${path} is ${size} bytes; a config is at most ${MAX_CONFIG_BYTES}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new SyntaxError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new TypeError(`${path} must hold a JSON object`);
  }
  return json as Record<string, unknown>;
}

/**
 * Reads and checks a Stable Diffusion folder's index, scheduler config and VAE config.
 *
 * @example
 * ```ts
 * import { readSdFolder } from "./folder.ts";
 * const f = await readSdFolder("stable-diffusion-2-1");
 * f.scheduler.predictionType; // "v"
 * ```
 */
export async function readSdFolder(root: string): Promise<SdFolder> {
  const indexPath = join(root, "model_index.json");
  const index = await readJsonObject(indexPath);
  const pipeline = String(index._class_name ?? "");
  if (!SD_PIPELINES.includes(pipeline)) {
    throw new RangeError(
      `${indexPath}: _class_name '${pipeline}' is not a Stable Diffusion 1.x/2.x pipeline ` +
        `(${SD_PIPELINES.join(", ")})` +
        (index.text_encoder_2 ? "; SDXL folders (text_encoder_2) are not supported" : ""),
    );
  }
  const paths = {} as SdFolder["paths"];
  for (const [name, classes] of Object.entries(SD_COMPONENTS)) {
    const entry = index[name];
    const cls = Array.isArray(entry) && entry.length === 2 ? String(entry[1]) : null;
    if (cls === null || !classes.includes(cls)) {
      throw new RangeError(
        `${indexPath}: '${name}' must be [library, class] with class one of ` +
          `${classes.join(", ")}; got ${JSON.stringify(entry ?? null)}`,
      );
    }
    (paths as Record<string, string>)[name] = join(root, name);
  }
  const scheduler = readScheduler(
    await readJsonObject(join(paths.scheduler, "scheduler_config.json")),
    join(paths.scheduler, "scheduler_config.json"),
  );
  const vaePath = join(paths.vae, "config.json");
  const vae = await readJsonObject(vaePath);
  const scalingFactor = vae.scaling_factor ?? SD_DEFAULT_SCALING_FACTOR;
  if (typeof scalingFactor !== "number" || !(scalingFactor > 0 && scalingFactor < 100)) {
    throw new RangeError(
      `${vaePath}: scaling_factor must be a positive number, got ${scalingFactor}`,
    );
  }
  if (vae.shift_factor !== undefined && vae.shift_factor !== null && vae.shift_factor !== 0) {
    throw new RangeError(
      `${vaePath}: shift_factor ${vae.shift_factor} is not supported (SD 1.x/2.x have none)`,
    );
  }
  const blocks = vae.block_out_channels;
  return {
    root,
    pipeline,
    paths,
    scheduler,
    scalingFactor,
    vaeLevels: Array.isArray(blocks) && blocks.length ? blocks.length : null,
  };
}

/**
 * The DDIM settings of a scheduler config (`file` names it in errors); keys it lacks take
 * `DDIMScheduler`'s defaults. Settings the sampler does not implement are refused by name.
 *
 * @example
 * ```ts
 * import { readScheduler } from "./folder.ts";
 * readScheduler({ beta_schedule: "scaled_linear", beta_start: 0.00085, beta_end: 0.012,
 *   steps_offset: 1, set_alpha_to_one: false, clip_sample: false }, "scheduler_config.json");
 * ```
 */
export function readScheduler(json: Record<string, unknown>, file: string): SdScheduler {
  const key = (k: string, msg: string) => new RangeError(`${file}: ${k} ${msg}`);
  const num = (k: string, dflt: number) => {
    const v = json[k] ?? dflt;
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw key(k, `must be a number, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const bool = (k: string, dflt: boolean) => {
    const v = json[k] ?? dflt;
    if (typeof v !== "boolean") throw key(k, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const trainSteps = num("num_train_timesteps", 1000);
  if (!Number.isInteger(trainSteps) || trainSteps < 2 || trainSteps > 100_000) {
    throw key("num_train_timesteps", `must be an integer in 2..100000, got ${trainSteps}`);
  }
  if (json.trained_betas !== undefined && json.trained_betas !== null) {
    throw key("trained_betas", "is not supported (give beta_schedule, beta_start, beta_end)");
  }
  const kind = json.beta_schedule ?? "linear";
  if (kind !== "linear" && kind !== "scaled_linear") {
    throw key("beta_schedule", `'${kind}' is not supported (linear, scaled_linear)`);
  }
  const betas: BetaSchedule = {
    kind,
    start: num("beta_start", 0.0001),
    end: num("beta_end", 0.02),
  };
  if (!(betas.start > 0 && betas.end >= betas.start && betas.end < 1)) {
    throw key(
      "beta_start/beta_end",
      `need 0 < beta_start <= beta_end < 1, got ${betas.start}..${betas.end}`,
    );
  }
  const pred = json.prediction_type ?? "epsilon";
  if (pred !== "epsilon" && pred !== "v_prediction") {
    throw key("prediction_type", `'${pred}' is not supported (epsilon, v_prediction)`);
  }
  for (const k of ["thresholding", "rescale_betas_zero_snr"]) {
    if (bool(k, false)) throw key(k, "true is not supported by the mode-guided DDIM sampler");
  }
  if (bool("clip_sample", true)) {
    throw key(
      "clip_sample",
      "is true (DDIMScheduler's default when the key is missing): clipping x0 to [-1, 1] is " +
        'wrong for SD latents and not supported; SD\'s own configs set "clip_sample": false',
    );
  }
  const spacing = json.timestep_spacing ?? "leading";
  if (spacing !== "leading" && spacing !== "trailing" && spacing !== "linspace") {
    throw key("timestep_spacing", `'${spacing}' is not one of leading, trailing, linspace`);
  }
  const offset = num("steps_offset", 0);
  if (!Number.isInteger(offset) || offset < 0 || offset >= trainSteps) {
    throw key("steps_offset", `must be an integer in 0..${trainSteps - 1}, got ${offset}`);
  }
  return {
    trainSteps,
    betas,
    timesteps: { spacing, offset, setAlphaToOne: bool("set_alpha_to_one", true) },
    predictionType: pred === "epsilon" ? "eps" : "v",
  };
}
