/**
 * The training-time augmentation of the hard-label protocol (SPEC section 4; IDC data.py
 * `transform_imagenet(augment=True, rrc=True)` as used by MinimaxDiffusion's train.py), on
 * batches of images already brought to the training size by Resize + CenterCrop:
 *
 * 1. RandomResizedCrop(size, scale 0.5..1) per image;
 * 2. RandomHorizontalFlip(0.5) per image;
 * 3. IDC ColorJitter(0.4, 0.4, 0.4) per image;
 * 4. Lighting(alphastd 0.1, ImageNet PCA) per image;
 * 5. Normalize(ImageNet mean, std);
 * 6. CutMix per batch (beta 1.0, prob 1.0), loss weighted by area.
 *
 * Every stage can be switched off (the soft-label protocol of RDED uses 1, 2, 5 and
 * relabels its own CutMix: pass `SOFT_LABEL_AUGMENT` and call `cutmixSoft`).
 *
 * @module
 */
import type { Rng } from "../../models/core/random.ts";
import { COLOR_JITTER_DEFAULTS, colorJitter, type ColorJitterOptions } from "./color_jitter.ts";
import { cutmix, CUTMIX_DEFAULTS, type CutMixResult } from "./cutmix.ts";
import { FLIP_P, randomHorizontalFlip } from "./flip.ts";
import type { ImageBatch } from "../../stages/images/image_batch.ts";
import { lighting, LIGHTING_ALPHA_STD } from "./lighting.ts";
import { IMAGENET_MEAN, IMAGENET_STD, normalize } from "./normalize.ts";
import { RANDOM_RESIZED_CROP_DEFAULTS, randomResizedCrop } from "./random_resized_crop.ts";

/** Options of {@link composeTrainAugment}; every field but `size` has a protocol default. */
export interface TrainAugmentOptions {
  /** Output side in pixels (224 at paper scale, 64 at cpu scale). */
  size: number;
  /** RandomResizedCrop area range, or null for no crop (then images must be size x size). */
  scale?: readonly [number, number] | null;
  /** RandomResizedCrop aspect-ratio range. */
  ratio?: readonly [number, number];
  /** Horizontal flip probability (0 = off). */
  flipP?: number;
  /** IDC ColorJitter strengths, or null for none. */
  jitter?: ColorJitterOptions | null;
  /** Lighting alphastd (0 = off). */
  lightingStd?: number;
  /** Normalisation statistics, or null to skip normalisation. */
  normalize?: { mean: readonly number[]; std: readonly number[] } | null;
  /** CutMix settings, or null for none. */
  cutmix?: { beta: number; prob: number } | null;
}

/** Hard-label protocol (SPEC section 4: MinimaxDiffusion train.py / IDC data.py). */
export const HARD_LABEL_AUGMENT: Readonly<Required<Omit<TrainAugmentOptions, "size">>> = {
  scale: RANDOM_RESIZED_CROP_DEFAULTS.scale, // RandomResizedCrop(scale=(0.5, 1.0))
  ratio: RANDOM_RESIZED_CROP_DEFAULTS.ratio, // torchvision default (3/4, 4/3)
  flipP: FLIP_P, // RandomHorizontalFlip()
  jitter: COLOR_JITTER_DEFAULTS, // utils.ColorJitter(0.4, 0.4, 0.4)
  lightingStd: LIGHTING_ALPHA_STD, // utils.Lighting(alphastd=0.1)
  normalize: { mean: IMAGENET_MEAN, std: IMAGENET_STD }, // MEANS/STDS['imagenet']
  cutmix: CUTMIX_DEFAULTS, // --mixup cut --beta 1.0 --mix_p 1.0
};

/** Soft-label protocol (SPEC section 4: RDED validation/main.py; CutMix via cutmixSoft). */
export const SOFT_LABEL_AUGMENT: Readonly<Required<Omit<TrainAugmentOptions, "size">>> = {
  scale: [0.5, 1.0], // RandomResizedCrop(scale=(1 / factor, 1)), factor 2
  ratio: RANDOM_RESIZED_CROP_DEFAULTS.ratio,
  flipP: FLIP_P,
  jitter: null,
  lightingStd: 0,
  normalize: { mean: IMAGENET_MEAN, std: IMAGENET_STD },
  cutmix: null, // the trainer calls cutmixSoft and relabels with the teacher
};

/** A composed augmentation: (images, labels, rng) -> mixed batch with label weights. */
export type TrainAugment = (images: ImageBatch, labels: Int32Array, rng: Rng) => CutMixResult;

/**
 * Builds the per-batch training augmentation. Options not given take the hard-label
 * protocol's values ({@link HARD_LABEL_AUGMENT}).
 *
 * @example
 * ```ts
 * import { Rng } from "../../models/core/random.ts";
 * import { composeTrainAugment } from "./compose.ts";
 * import { imageBatch } from "../../stages/images/image_batch.ts";
 * const augment = composeTrainAugment({ size: 64 });
 * const batch = augment(imageBatch([8, 3, 64, 64]), new Int32Array(8), Rng.from(0, 1));
 * // loss = batch.lambda * CE(out, batch.labelsA) + (1 - batch.lambda) * CE(out, batch.labelsB)
 * ```
 */
export function composeTrainAugment(options: TrainAugmentOptions): TrainAugment {
  const o = { ...HARD_LABEL_AUGMENT, ...options };
  if (!Number.isInteger(o.size) || o.size <= 0) {
    throw new RangeError(`Augmentation size must be a positive integer, got ${o.size}`);
  }
  return (images, labels, rng) => {
    const [n, c, h, w] = images.shape;
    if (c !== 3) throw new RangeError(`Training augmentation needs RGB images, got C = ${c}`);
    if (labels.length !== n) throw new RangeError(`Got ${labels.length} labels for ${n} images`);
    let x = images;
    if (o.scale) x = randomResizedCrop(x, o.size, rng, { scale: o.scale, ratio: o.ratio });
    else if (h !== o.size || w !== o.size) {
      throw new RangeError(
        `Without RandomResizedCrop images must be ${o.size}x${o.size}, got ${h}x${w}`,
      );
    }
    if (o.flipP > 0) x = randomHorizontalFlip(x, rng, o.flipP).images;
    if (o.jitter) x = colorJitter(x, rng, o.jitter);
    if (o.lightingStd > 0) x = lighting(x, rng, o.lightingStd);
    if (o.normalize) x = normalize(x, o.normalize.mean, o.normalize.std);
    if (o.cutmix) return cutmix(x, labels, rng, o.cutmix);
    return {
      images: x === images ? { data: images.data.slice(), shape: [...images.shape] } : x,
      labelsA: labels.slice(),
      labelsB: labels.slice(),
      lambda: 1,
      perm: Int32Array.from({ length: n }, (_, i) => i),
      box: null,
    };
  };
}
