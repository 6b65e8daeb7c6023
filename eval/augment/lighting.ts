/**
 * AlexNet-style PCA lighting noise as IDC's `Lighting(alphastd, eigval, eigvec)`
 * (snu-mllab/Efficient-Dataset-Condensation, misc/utils.py; data.py passes the ImageNet
 * eigenvalues/eigenvectors below), one draw per image: alpha ~ N(0, alphastd) (3 values),
 * rgb_i = sum_j eigvec[i][j] * alpha_j * eigval_j, added to channel i of every pixel
 * (no clamping).
 *
 * @module
 */
import type { Rng } from "../../models/core/random.ts";
import { type ImageBatch, imageBatch } from "../../stages/images/image_batch.ts";

/** ImageNet RGB PCA eigenvalues (IDC data.py, from fb.resnet.torch). */
export const IMAGENET_EIGVAL: readonly number[] = Object.freeze([0.2175, 0.0188, 0.0045]);

/** ImageNet RGB PCA eigenvectors, row i = channel i (IDC data.py). */
export const IMAGENET_EIGVEC: readonly (readonly number[])[] = Object.freeze([
  Object.freeze([-0.5675, 0.7192, 0.4009]),
  Object.freeze([-0.5808, -0.0045, -0.8140]),
  Object.freeze([-0.5836, -0.6948, 0.4203]),
]);

/** Noise scale of the hard-label protocol: alphastd = 0.1 (SPEC section 4, IDC). */
export const LIGHTING_ALPHA_STD = 0.1;

/**
 * The per-channel offsets for given alphas: rgb_i = sum_j eigvec[i][j] * alpha_j * eigval_j.
 *
 * @example
 * ```ts
 * import { lightingOffsets } from "./lighting.ts";
 * lightingOffsets([0.1, 0, 0]); // 0.1 * 0.2175 * [-0.5675, -0.5808, -0.5836]
 * ```
 */
export function lightingOffsets(
  alpha: readonly number[],
  eigval: readonly number[] = IMAGENET_EIGVAL,
  eigvec: readonly (readonly number[])[] = IMAGENET_EIGVEC,
): [number, number, number] {
  const rgb: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) rgb[i] += eigvec[i][j] * alpha[j] * eigval[j];
  }
  return rgb;
}

/**
 * Lighting noise on each image of an RGB batch with its own alphas (a new batch).
 *
 * @example
 * ```ts
 * import { Rng } from "../../models/core/random.ts";
 * import { imageBatch } from "../../stages/images/image_batch.ts";
 * import { lighting } from "./lighting.ts";
 * const y = lighting(imageBatch([4, 3, 8, 8]), Rng.from(0)); // alphastd 0.1
 * ```
 */
export function lighting(
  images: ImageBatch,
  rng: Rng,
  alphaStd: number = LIGHTING_ALPHA_STD,
): ImageBatch {
  const [n, c, h, w] = images.shape;
  if (c !== 3) throw new RangeError(`Lighting needs RGB images (C = 3), got C = ${c}`);
  if (!(alphaStd >= 0)) throw new RangeError(`Lighting alphastd must be >= 0, got ${alphaStd}`);
  const out = imageBatch(images.shape, images.data.slice());
  if (alphaStd === 0) return out; // IDC returns the image untouched (no draw)
  const hw = h * w;
  for (let i = 0; i < n; i++) {
    const alpha = [0, 1, 2].map(() => rng.normal() * alphaStd);
    addChannelOffsets(out.data.subarray(i * 3 * hw, (i + 1) * 3 * hw), hw, lightingOffsets(alpha));
  }
  return out;
}

/** Adds `rgb[ch]` to every pixel of channel ch of one CHW image, in place. */
function addChannelOffsets(img: Float32Array, hw: number, rgb: readonly number[]): void {
  for (let ch = 0; ch < rgb.length; ch++) {
    const o = ch * hw;
    const v = rgb[ch];
    for (let p = 0; p < hw; p++) img[o + p] += v;
  }
}
