/**
 * The models of a scale, for the table runner: models/scales `loadScale` (the codec, the
 * denoiser, the class ids and the sampling settings that fit them), plus what the runner
 * adds:
 * - `root`: the store namespace of every artifact of the run, named by a hash of the model
 *   files (`cpu/m<hash>`, `paper/m<hash>`), so a retrained model never collides with the
 *   artifacts of the previous one;
 * - `knows`: whether the denoiser can generate a dataset's classes (a reason when not);
 * - the flags a model source still needs, checked before anything is loaded.
 *
 * @module
 */
import { loadScale, type ModelSource, type ScaleModels } from "../../models/scales/mod.ts";

/**
 * The loaded models of a scale, with the runner's namespace and class check.
 *
 * @example
 * ```ts
 * import { loadScaleModels } from "./setup.ts";
 * const m = await loadScaleModels({ scale: "cpu", model: "weights/cpu_unet.safetensors" });
 * m.knows(["n01440764"]); // null: the model knows tench
 * await m.release();
 * ```
 */
export interface TableModels extends ScaleModels {
  /** Store namespace of every artifact made with these models, e.g. "cpu/m3f2a9c1b7e4d". */
  root: string;
  /** Null when the denoiser can generate every class, else why not. */
  knows(classes: readonly string[]): string | null;
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
  if ("sd" in src) {
    if (!src.sd || !(await exists(`${src.sd}/model_index.json`))) {
      missing.push(
        `--sd DIR (a diffusers Stable Diffusion folder with model_index.json${
          src.sd ? `; ${src.sd}/model_index.json not found` : ""
        })`,
      );
    }
    return missing;
  }
  if ("ldm" in src) {
    if (!src.ldm || !(await exists(src.ldm))) {
      missing.push(
        `--ldm FILE (CompVis LatentDiffusion checkpoint, e.g. cin256-v2.ckpt${
          src.ldm ? `; ${src.ldm} not found` : ""
        })`,
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
  if (src.imageSize === undefined) missing.push("--image-size N (256 for DiT-XL/2 + SD-VAE)");
  return missing;
}

/**
 * Loads the models of a scale (throws naming the file or flag when one is missing or
 * unusable).
 *
 * @example
 * ```ts
 * import { loadScaleModels } from "./setup.ts";
 * const m = await loadScaleModels({ scale: "cpu", model: "weights/cpu_unet.safetensors" });
 * m.codec.imageSize; // 64
 * ```
 */
export async function loadScaleModels(src: ModelSource): Promise<TableModels> {
  if (src.scale === "paper") {
    const missing = await missingModelFlags(src);
    if (missing.length) throw new Error(`The paper scale needs ${missing.join(" and ")}`);
  }
  const m = await loadScale(src);
  return { ...m, root: `${m.scale}/m${m.hash}`, knows: (classes) => knows(src, m, classes) };
}

function knows(src: ModelSource, m: ScaleModels, classes: readonly string[]): string | null {
  if (src.scale === "cpu") {
    const own = m.classes ?? [];
    const unknown = classes.filter((c) => !own.includes(c));
    return unknown.length === 0
      ? null
      : `the cpu-scale model ${src.model} knows ${own.length} classes, not ${
        unknown.slice(0, 5).join(", ")
      }${unknown.length > 5 ? `, ... (${unknown.length})` : ""}: train one on these classes ` +
        `('deno task mgd3 train-model --data DIR --classes LIST') and pass it with --model`;
  }
  if ("sd" in src) {
    const own = m.classes ?? [];
    const unknown = classes.filter((c) => !own.includes(c));
    return unknown.length === 0
      ? null
      : `Stable Diffusion has no prompt for ${unknown.slice(0, 5).join(", ")}${
        unknown.length > 5 ? `, ... (${unknown.length})` : ""
      }: give --prompts FILE.json`;
  }
  return m.classIds === "imagenet" || classes.length <= m.numClasses
    ? null
    : `the DiT has ${m.numClasses} classes; this dataset has ${classes.length}`;
}
