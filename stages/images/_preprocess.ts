/**
 * The two ways images are brought to a square size S:
 *
 * - `center_crop_arr`: ADM's (openai/guided-diffusion@8fb3ad9, image_datasets.py
 *   `center_crop_arr`), used by DiT and MinimaxDiffusion to encode training images: while
 *   the shorter side is >= 2S, PIL BOX-downsample to (w // 2, h // 2); then PIL BICUBIC so
 *   the shorter side is S (each side round(x * S / short), Python's round half to even);
 *   then crop S x S at ((h - S) // 2, (w - S) // 2).
 * - `resize_center_crop`: torchvision `Resize(S)` + `CenterCrop(S)` on a PIL image, used
 *   for evaluation: PIL BILINEAR (antialiased) so the shorter side is S and the longer
 *   int(S * long / short); then crop at (int(round((h - S) / 2)), int(round((w - S) / 2))).
 *
 * @module
 */

import { cropRgb, pilResize, type RgbImage } from "./_pil_resample.ts";

/** Python's round() on a float: nearest integer, ties to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** ADM's center_crop_arr(pil_image, size) on an RGB image. */
export function centerCropArr(src: RgbImage, size: number): RgbImage {
  let img = src;
  while (Math.min(img.width, img.height) >= 2 * size) {
    img = pilResize(img, Math.floor(img.width / 2), Math.floor(img.height / 2), "box");
  }
  const scale = size / Math.min(img.width, img.height);
  img = pilResize(
    img,
    roundHalfEven(img.width * scale),
    roundHalfEven(img.height * scale),
    "bicubic",
  );
  const top = Math.floor((img.height - size) / 2);
  const left = Math.floor((img.width - size) / 2);
  return cropRgb(img, left, top, size, size);
}

/** torchvision Resize(size) + CenterCrop(size) on a PIL RGB image. */
export function resizeCenterCrop(src: RgbImage, size: number): RgbImage {
  const { width: w, height: h } = src;
  const [short, long] = w <= h ? [w, h] : [h, w];
  const newLong = Math.trunc((size * long) / short);
  const [newW, newH] = w <= h ? [size, newLong] : [newLong, size];
  const img = newW === w && newH === h ? src : pilResize(src, newW, newH, "bilinear");
  const top = Math.trunc(roundHalfEven((img.height - size) / 2));
  const left = Math.trunc(roundHalfEven((img.width - size) / 2));
  return cropRgb(img, left, top, size, size);
}
