/**
 * Opening a notebook run: the options of `Distiller.open` checked at run time, the scale's
 * models loaded and the store opened.
 *
 * @module
 */
import { loadScale, type ScaleModels, SHIPPED_CPU_MODEL } from "../models/scales/mod.ts";
import { assetPath } from "../models/core/assets.ts";
import { Store } from "../stages/store/store.ts";
import { checkOptions } from "./options.ts";

/** Options of {@link Distiller.open}; every one may be omitted for the cpu scale. */
export interface OpenOptions {
  /** "cpu" (the shipped model, default) or "paper" (DiT + SD-VAE checkpoints). */
  scale?: string;
  /** cpu: the model file (default weights/cpu_unet.safetensors). */
  model?: string;
  /** paper: the DiT checkpoint, its architecture, the SD-VAE folder and the image side. */
  dit?: string;
  ditConfig?: string;
  vae?: string;
  imageSize?: number;
  /** paper: the DiT's classes (ImageNet-1K: 1000). */
  numClasses?: number;
  /** paper, instead of `dit` and `vae`: a diffusers Stable Diffusion 1.x/2.x folder. */
  sd?: string;
  /** With `sd`: text around each class name ("{}", the paper's; "a photo of a {}"). */
  promptTemplate?: string;
  /** With `sd`: a JSON file mapping class folder names to prompt texts. */
  prompts?: string;
  /** A folder with `train/` and `val/` ImageFolders (default: the shipped ImageNette-64). */
  data?: string;
  /** The classes (wnids) to distil (default: the cpu model's classes; required at paper scale). */
  classes?: string | string[];
  /** Images per class = modes per class (10). */
  ipc?: number;
  /** Seed of the distilled set (paper: 0, 1, 2). */
  seed?: number;
  /** The store's folder (default `.store/notebook` for cpu, `.store/notebook-paper` for paper). */
  store?: string;
  /** onnxruntime threads per op (default: one per core). */
  threads?: number;
}

/** The settings a run keeps. */
export interface RunSettings {
  data: string;
  classes: string[];
  ipc: number;
  seed: number;
}

/**
 * Checks `options`, loads the scale and opens the store.
 *
 * @example
 * ```ts
 * import { openRun } from "./_open.ts";
 * const { scale, store, settings } = await openRun({ classes: ["n01440764"], ipc: 2 });
 * ```
 */
export async function openRun(
  options: OpenOptions,
): Promise<{ scale: ScaleModels; store: Store; settings: RunSettings }> {
  const o = checkOptions("Distiller.open", options, {
    scale: "string",
    model: "string",
    dit: "string",
    ditConfig: "string",
    vae: "string",
    imageSize: "integer",
    numClasses: "integer",
    sd: "string",
    promptTemplate: "string",
    prompts: "string",
    data: "string",
    classes: "strings",
    ipc: "integer",
    seed: "integer",
    store: "string",
    threads: "integer",
  }, { scale: "cpu", ipc: 10, seed: 0, ditConfig: "DiT-XL/2", numClasses: 1000 });
  if (o.scale !== "cpu" && o.scale !== "paper") {
    throw new TypeError(
      `Distiller.open: option 'scale' must be "cpu" or "paper", got '${o.scale}'`,
    );
  }
  if (o.ipc < 1) throw new RangeError(`Distiller.open: option 'ipc' must be >= 1, got ${o.ipc}`);
  const paper = o.scale === "paper";
  const sd = o.sd !== undefined;
  for (const k of ["promptTemplate", "prompts"]) {
    if ((o as Record<string, unknown>)[k] !== undefined && !sd) {
      throw new TypeError(
        `Distiller.open: option '${k}' goes with 'sd' (a Stable Diffusion folder)`,
      );
    }
  }
  if (sd && (!paper || o.dit !== undefined)) {
    throw new TypeError(`Distiller.open: option 'sd' needs scale "paper" and no 'dit'`);
  }
  const needs = sd ? ["data", "classes"] : ["dit", "vae", "imageSize", "data", "classes"];
  for (const k of paper ? needs : []) {
    if ((o as Record<string, unknown>)[k] === undefined) {
      throw new TypeError(`Distiller.open: the paper scale needs '${k}'`);
    }
  }
  const scale = sd
    ? await loadScale({
      scale: "paper",
      sd: o.sd!,
      promptTemplate: o.promptTemplate,
      prompts: o.prompts,
      imageSize: o.imageSize,
      threads: o.threads,
    })
    : paper
    ? await loadScale({
      scale: "paper",
      dit: o.dit,
      ditConfig: o.ditConfig,
      vae: o.vae,
      imageSize: o.imageSize,
      numClasses: o.numClasses,
      threads: o.threads,
    })
    : await loadScale({ scale: "cpu", model: o.model ?? SHIPPED_CPU_MODEL, threads: o.threads });
  const classes = o.classes === undefined
    ? [...scale.classes!]
    : typeof o.classes === "string"
    ? o.classes.split(",")
    : [...o.classes];
  const store = await Store.open(
    o.store ?? (paper ? ".store/notebook-paper" : ".store/notebook"),
  );
  return {
    scale,
    store,
    settings: {
      data: o.data ?? assetPath("data/imagenette-64"),
      classes,
      ipc: o.ipc,
      seed: o.seed,
    },
  };
}
