/**
 * Horizontal flips: `hflip` (torchvision `F.hflip`, reverses the W axis) and
 * `RandomHorizontalFlip(p)`, one draw per image (`rng.random() < p` flips, as torchvision's
 * `torch.rand(1) < p`).
 *
 * @module
 */
import type { Rng } from "../../models/core/random.ts";
import { type ImageBatch, imageBatch } from "../../stages/images/image_batch.ts";

/** Flip probability of the evaluation protocols (torchvision default, SPEC section 4). */
export const FLIP_P = 0.5;

/**
 * Mirrors image `index` of `src` left-right into the same image of `dst` (may be `src`).
 */
function flipImage(src: ImageBatch, dst: ImageBatch, index: number): void {
  const [, c, h, w] = src.shape;
  const base = index * c * h * w;
  for (let row = 0; row < c * h; row++) {
    const o = base + row * w;
    for (let x = 0, y = w - 1; x <= y; x++, y--) {
      const a = src.data[o + x];
      dst.data[o + x] = src.data[o + y];
      dst.data[o + y] = a;
    }
  }
}

/**
 * Every image mirrored left-right (a new batch).
 *
 * @example
 * ```ts
 * import { hflip } from "./flip.ts";
 * import { imageBatch } from "../../stages/images/image_batch.ts";
 * const y = hflip(imageBatch([1, 1, 1, 3], new Float32Array([1, 2, 3]))); // [3, 2, 1]
 * ```
 */
export function hflip(images: ImageBatch): ImageBatch {
  const out = imageBatch(images.shape, images.data.slice());
  for (let i = 0; i < images.shape[0]; i++) flipImage(out, out, i);
  return out;
}

/**
 * `RandomHorizontalFlip(p)`: each image mirrored with probability p (a new batch).
 * Returns the batch and which images were flipped.
 *
 * @example
 * ```ts
 * import { Rng } from "../../models/core/random.ts";
 * import { randomHorizontalFlip } from "./flip.ts";
 * import { imageBatch } from "../../stages/images/image_batch.ts";
 * const { images, flipped } = randomHorizontalFlip(imageBatch([8, 3, 4, 4]), Rng.from(0));
 * ```
 */
export function randomHorizontalFlip(
  images: ImageBatch,
  rng: Rng,
  p: number = FLIP_P,
): { images: ImageBatch; flipped: boolean[] } {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`Flip probability must be in [0, 1], got ${p}`);
  const out = imageBatch(images.shape, images.data.slice());
  const flipped: boolean[] = [];
  for (let i = 0; i < images.shape[0]; i++) {
    const f = rng.random() < p;
    if (f) flipImage(out, out, i);
    flipped.push(f);
  }
  return { images: out, flipped };
}
