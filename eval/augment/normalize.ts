/**
 * Per-channel normalisation `(x - mean[c]) / std[c]` (torchvision `Normalize`), with the
 * ImageNet statistics every evaluation protocol uses.
 *
 * @module
 */
import { type ImageBatch, imageBatch } from "../../stages/images/image_batch.ts";

/** ImageNet channel means (torchvision/IDC `MEANS['imagenet']`). */
export const IMAGENET_MEAN: readonly number[] = Object.freeze([0.485, 0.456, 0.406]);

/** ImageNet channel standard deviations (torchvision/IDC `STDS['imagenet']`). */
export const IMAGENET_STD: readonly number[] = Object.freeze([0.229, 0.224, 0.225]);

/**
 * `Normalize(mean, std)` on a batch (a new batch).
 *
 * @example
 * ```ts
 * import { imageBatch } from "../../stages/images/image_batch.ts";
 * import { normalize } from "./normalize.ts";
 * const y = normalize(imageBatch([1, 3, 1, 1], new Float32Array([0.485, 0.456, 0.406]))); // zeros
 * ```
 */
export function normalize(
  images: ImageBatch,
  mean: readonly number[] = IMAGENET_MEAN,
  std: readonly number[] = IMAGENET_STD,
): ImageBatch {
  const out = imageBatch(images.shape, images.data.slice());
  const [n, c, h, w] = images.shape;
  for (let i = 0; i < n; i++) {
    normalizeImage(out.data.subarray(i * c * h * w, (i + 1) * c * h * w), h * w, mean, std);
  }
  return out;
}

/**
 * Normalises one CHW image in place (H * W = `hw`; C = mean.length).
 *
 * @example
 * ```ts
 * import { normalizeImage } from "./normalize.ts";
 * const img = new Float32Array([0.714, 0.68, 0.631]);
 * normalizeImage(img, 1, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]); // about [1, 1, 1]
 * ```
 */
export function normalizeImage(
  img: Float32Array,
  hw: number,
  mean: readonly number[],
  std: readonly number[],
): void {
  const c = mean.length;
  if (std.length !== c || img.length !== c * hw) {
    throw new RangeError(
      `Normalize got ${mean.length} means and ${std.length} stds for an image of ` +
        `${img.length / hw} channels`,
    );
  }
  for (let ch = 0; ch < c; ch++) {
    if (!(std[ch] > 0)) throw new RangeError(`Normalize std must be > 0, got ${std[ch]}`);
    const o = ch * hw;
    const m = mean[ch];
    const s = std[ch];
    for (let p = 0; p < hw; p++) img[o + p] = (img[o + p] - m) / s;
  }
}
