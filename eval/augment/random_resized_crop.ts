/**
 * torchvision `RandomResizedCrop(size, scale, ratio)` on float image batches, one draw per
 * image (the distilled-set loaders apply it per sample, inside the dataset transform).
 *
 * Crop parameters follow torchvision's `RandomResizedCrop.get_params` (torchvision 0.14,
 * transforms.py): up to 10 attempts of target area = H * W * U(scale), aspect ratio =
 * exp(U(log ratio)), w = round(sqrt(area * ratio)), h = round(sqrt(area / ratio)) (Python
 * round, ties to even), accepted when 0 < w <= W and 0 < h <= H, then top = randint(0,
 * H - h + 1), left = randint(0, W - w + 1); otherwise a center crop with the ratio
 * clamped to the bounds.
 *
 * Resize: bilinear, `align_corners=False`, without antialiasing. In the MinimaxDiffusion/
 * IDC pipeline RandomResizedCrop runs after `ToTensor()` (data.py `transform_imagenet`), so
 * it is torchvision's tensor path, whose default before torchvision 0.17 is
 * `antialias=False`. RDED passes `antialias=True`; that changes nothing here, because both
 * protocols first bring every image to the output size (Resize + CenterCrop), so a crop is
 * never larger than the output and the resize only upsamples, where the antialiased filter
 * has the same taps and weights as plain bilinear.
 *
 * @module
 */
import type { Rng } from "../../models/core/random.ts";
import { cropResizeBilinear } from "./_bilinear.ts";
import { roundHalfEven } from "./_round.ts";
import { type ImageBatch, imageBatch } from "../../stages/images/image_batch.ts";

/** A crop: rows [top, top + height), columns [left, left + width). */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Options of {@link randomResizedCrop}. */
export interface RandomResizedCropOptions {
  /** Area fraction range; (0.5, 1.0) in the hard-label protocol (SPEC section 4, IDC). */
  scale?: readonly [number, number];
  /** Aspect ratio (w / h) range; (3/4, 4/3) = torchvision default. */
  ratio?: readonly [number, number];
}

/** Paper protocol defaults: scale 0.5..1 (SPEC section 4), ratio 3/4..4/3 (torchvision). */
export const RANDOM_RESIZED_CROP_DEFAULTS = {
  scale: [0.5, 1.0] as const,
  ratio: [3 / 4, 4 / 3] as const,
};

/** Attempts before the center-crop fallback (torchvision get_params). */
const MAX_ATTEMPTS = 10;

/**
 * Draws crop parameters for an H x W image as torchvision's `get_params` does.
 *
 * @example
 * ```ts
 * import { Rng } from "../../models/core/random.ts";
 * import { randomResizedCropParams } from "./random_resized_crop.ts";
 * const box = randomResizedCropParams(64, 64, Rng.from(0), { scale: [0.5, 1] });
 * // box.width * box.height is about 50%..100% of 64 * 64
 * ```
 */
export function randomResizedCropParams(
  height: number,
  width: number,
  rng: Rng,
  options: RandomResizedCropOptions = {},
): CropBox {
  const [sMin, sMax] = options.scale ?? RANDOM_RESIZED_CROP_DEFAULTS.scale;
  const [rMin, rMax] = options.ratio ?? RANDOM_RESIZED_CROP_DEFAULTS.ratio;
  if (!(sMin > 0 && sMin <= sMax) || !(rMin > 0 && rMin <= rMax)) {
    throw new RangeError(
      `RandomResizedCrop needs 0 < scale[0] <= scale[1] and 0 < ratio[0] <= ratio[1], ` +
        `got scale [${sMin}, ${sMax}], ratio [${rMin}, ${rMax}]`,
    );
  }
  const area = height * width;
  const logMin = Math.log(rMin);
  const logMax = Math.log(rMax);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const targetArea = area * (sMin + (sMax - sMin) * rng.random());
    const aspect = Math.exp(logMin + (logMax - logMin) * rng.random());
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.randint(height - h + 1);
      const left = rng.randint(width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  // Fallback: central crop with the aspect ratio clamped to [rMin, rMax].
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < rMin) h = roundHalfEven(w / rMin);
  else if (inRatio > rMax) w = roundHalfEven(h * rMax);
  return {
    top: Math.floor((height - h) / 2),
    left: Math.floor((width - w) / 2),
    height: h,
    width: w,
  };
}

/**
 * Crops every image of a batch with the same box and resizes it to `size` (torchvision
 * `F.resized_crop` on tensors, bilinear, `align_corners=False`).
 *
 * @example
 * ```ts
 * import { imageBatch } from "../../stages/images/image_batch.ts";
 * import { resizedCrop } from "./random_resized_crop.ts";
 * const y = resizedCrop(imageBatch([1, 3, 64, 64]), { top: 8, left: 8, height: 48, width: 40 }, 64);
 * // y.shape = [1, 3, 64, 64]
 * ```
 */
export function resizedCrop(
  images: ImageBatch,
  box: CropBox,
  size: number | readonly [number, number],
): ImageBatch {
  checkBox(box, images.shape[2], images.shape[3]);
  return cropEach(images, size, () => box);
}

/**
 * `RandomResizedCrop(size, scale, ratio)` applied to each image with its own crop.
 *
 * @example
 * ```ts
 * import { Rng } from "../../models/core/random.ts";
 * import { imageBatch } from "../../stages/images/image_batch.ts";
 * import { randomResizedCrop } from "./random_resized_crop.ts";
 * const y = randomResizedCrop(imageBatch([4, 3, 64, 64]), 64, Rng.from(0), { scale: [0.5, 1] });
 * ```
 */
export function randomResizedCrop(
  images: ImageBatch,
  size: number | readonly [number, number],
  rng: Rng,
  options: RandomResizedCropOptions = {},
): ImageBatch {
  const [, , h, w] = images.shape;
  return cropEach(images, size, () => randomResizedCropParams(h, w, rng, options));
}

/** Crops each image with the box `boxOf()` gives (called once per image, in order), resized. */
function cropEach(
  images: ImageBatch,
  size: number | readonly [number, number],
  boxOf: () => CropBox,
): ImageBatch {
  const [n, c, h, w] = images.shape;
  const [outH, outW] = typeof size === "number" ? [size, size] : size;
  const out = imageBatch([n, c, outH, outW]);
  const inSize = c * h * w;
  const outSize = c * outH * outW;
  for (let i = 0; i < n; i++) {
    cropResizeBilinear(
      images.data.subarray(i * inSize, (i + 1) * inSize),
      c,
      h,
      w,
      boxOf(),
      outH,
      outW,
      out.data.subarray(i * outSize, (i + 1) * outSize),
    );
  }
  return out;
}

function checkBox(box: CropBox, h: number, w: number): void {
  const ok = [box.top, box.left, box.height, box.width].every(Number.isInteger) &&
    box.top >= 0 && box.left >= 0 && box.height > 0 && box.width > 0 &&
    box.top + box.height <= h && box.left + box.width <= w;
  if (!ok) {
    throw new RangeError(
      `Crop box ${JSON.stringify(box)} does not fit inside a ${h}x${w} image`,
    );
  }
}
