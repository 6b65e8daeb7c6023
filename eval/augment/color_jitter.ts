/**
 * IDC's ColorJitter(brightness, contrast, saturation) (snu-mllab/Efficient-Dataset-
 * Condensation, misc/utils.py; also used by MinimaxDiffusion's data.py), one draw per image:
 *
 * 1. shuffle the enabled operations (Python `random.shuffle` of [Brightness, Contrast,
 *    Saturation]);
 * 2. for each, alpha ~ U(-v, v) and `img.lerp(target, alpha)`, i.e.
 *    img' = factor * img + (1 - factor) * target with factor = 1 - alpha in [1 - v, 1 + v];
 *    the targets are: brightness 0 (black), contrast the mean of the grayscale image (one
 *    scalar), saturation the grayscale image (0.299 R + 0.587 G + 0.114 B in every channel).
 *
 * Unlike torchvision's ColorJitter there is no clamping to [0, 1] and the grayscale weights
 * are the ITU-R 601 ones above; that is IDC's behaviour and kept here.
 *
 * @module
 */
import type { Rng } from "../../models/core/random.ts";
import { type ImageBatch, imageBatch } from "../../stages/images/image_batch.ts";

/** One jitter operation: `img' = factor * img + (1 - factor) * target`. */
export interface JitterStep {
  op: "brightness" | "contrast" | "saturation";
  factor: number;
}

/** Jitter strengths (IDC: `ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4)`). */
export interface ColorJitterOptions {
  /** Brightness strength v: factors 1 - U(-v, v) (0 disables it). */
  brightness: number;
  /** Contrast strength v: factors 1 - U(-v, v) (0 disables it). */
  contrast: number;
  /** Saturation strength v: factors 1 - U(-v, v) (0 disables it). */
  saturation: number;
}

/** Hard-label protocol strengths: 0.4 each (SPEC section 4, IDC data.py). */
export const COLOR_JITTER_DEFAULTS: Readonly<ColorJitterOptions> = {
  brightness: 0.4,
  contrast: 0.4,
  saturation: 0.4,
};

/** Grayscale weights of IDC's `Grayscale` (ITU-R 601 luma). */
const GRAY_WEIGHTS = [0.299, 0.587, 0.114] as const;

/**
 * Applies jitter steps in order to one CHW RGB image in place (H * W = `hw`).
 *
 * @example
 * ```ts
 * import { applyColorJitter } from "./color_jitter.ts";
 * const img = new Float32Array([0.2, 0.4, 0.6]); // 3 channels, 1 pixel
 * applyColorJitter(img, 1, [{ op: "brightness", factor: 0.5 }]); // [0.1, 0.2, 0.3]
 * ```
 */
export function applyColorJitter(
  img: Float32Array,
  hw: number,
  steps: readonly JitterStep[],
): void {
  if (img.length !== 3 * hw) {
    throw new RangeError(`ColorJitter needs an RGB image of 3 * ${hw} values, got ${img.length}`);
  }
  for (const { op, factor } of steps) {
    if (factor === 1) continue;
    const keep = factor;
    const mix = 1 - factor;
    if (op === "brightness") {
      for (let i = 0; i < img.length; i++) img[i] = keep * img[i];
      continue;
    }
    const gray = grayscale(img, hw);
    if (op === "contrast") {
      let mean = 0;
      for (let p = 0; p < hw; p++) mean += gray[p];
      mean /= hw;
      for (let i = 0; i < img.length; i++) img[i] = keep * img[i] + mix * mean;
    } else {
      for (let ch = 0; ch < 3; ch++) {
        const o = ch * hw;
        for (let p = 0; p < hw; p++) img[o + p] = keep * img[o + p] + mix * gray[p];
      }
    }
  }
}

/**
 * Draws the jitter steps of one image: a shuffled order of the enabled operations and a
 * factor 1 - U(-v, v) for each.
 *
 * @example
 * ```ts
 * import { Rng } from "../../models/core/random.ts";
 * import { COLOR_JITTER_DEFAULTS, colorJitterSteps } from "./color_jitter.ts";
 * const steps = colorJitterSteps(Rng.from(0), COLOR_JITTER_DEFAULTS); // 3 steps, factors in [0.6, 1.4]
 * ```
 */
export function colorJitterSteps(rng: Rng, options: ColorJitterOptions): JitterStep[] {
  const ops: [JitterStep["op"], number][] = [];
  for (const op of ["brightness", "contrast", "saturation"] as const) {
    const v = options[op];
    if (!(v >= 0)) throw new RangeError(`ColorJitter ${op} must be >= 0, got ${v}`);
    if (v !== 0) ops.push([op, v]);
  }
  const order = rng.permutation(ops.length);
  return [...order].map((k) => {
    const [op, v] = ops[k];
    const alpha = -v + 2 * v * rng.random(); // random.uniform(-v, v)
    return { op, factor: 1 - alpha };
  });
}

/**
 * IDC ColorJitter applied to each image of an RGB batch with its own draw (a new batch).
 *
 * @example
 * ```ts
 * import { Rng } from "../../models/core/random.ts";
 * import { COLOR_JITTER_DEFAULTS, colorJitter } from "./color_jitter.ts";
 * import { imageBatch } from "../../stages/images/image_batch.ts";
 * const y = colorJitter(imageBatch([4, 3, 8, 8]), Rng.from(0), COLOR_JITTER_DEFAULTS);
 * ```
 */
export function colorJitter(
  images: ImageBatch,
  rng: Rng,
  options: ColorJitterOptions = COLOR_JITTER_DEFAULTS,
): ImageBatch {
  const [n, c, h, w] = images.shape;
  if (c !== 3) throw new RangeError(`ColorJitter needs RGB images (C = 3), got C = ${c}`);
  const out = imageBatch(images.shape, images.data.slice());
  const size = c * h * w;
  for (let i = 0; i < n; i++) {
    applyColorJitter(
      out.data.subarray(i * size, (i + 1) * size),
      h * w,
      colorJitterSteps(rng, options),
    );
  }
  return out;
}

function grayscale(img: Float32Array, hw: number): Float32Array {
  const gray = new Float32Array(hw);
  const [wr, wg, wb] = GRAY_WEIGHTS;
  for (let p = 0; p < hw; p++) gray[p] = wr * img[p] + wg * img[hw + p] + wb * img[2 * hw + p];
  return gray;
}
