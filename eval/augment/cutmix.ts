/**
 * CutMix as the hard-label and soft-label trainers use it (MinimaxDiffusion train.py and
 * IDC, `rand_bbox` in misc/utils.py; RDED validation/utils.py `cutmix`):
 *
 * 1. with probability `prob` (hard-label protocol: 1.0): lambda ~ Beta(beta, beta) (1.0);
 * 2. a permutation of the batch (`random_indices` without intraclass = `randperm(N)`);
 * 3. `rand_bbox`: cut = sqrt(1 - lambda), box sides int(H * cut) (rows) and int(W * cut)
 *    (columns), center (cy, cx) uniform over the pixel grid, the box spans
 *    [c - side // 2, c + side // 2) clipped to the image;
 * 4. the box of image i is replaced by the box of image perm[i] (taken from the batch
 *    before mixing);
 * 5. lambda is recomputed as 1 - box area / image area: the loss is
 *    lambda * CE(out, labelsA) + (1 - lambda) * CE(out, labelsB), labelsB = labels[perm],
 *    so the weight of labelsB equals the pasted area exactly.
 *
 * Notation: lambda = `lam`/`ratio` in the reference code; box rows = its bbx1:bbx2 on
 * dim 2, columns = bby1:bby2 on dim 3.
 *
 * @module
 */
import type { Rng } from "../../models/core/random.ts";
import { type ImageBatch, imageBatch } from "../../stages/images/image_batch.ts";

/** CutMix settings of the hard-label protocol: beta 1.0, prob 1.0 (SPEC section 4). */
export const CUTMIX_DEFAULTS = { beta: 1.0, prob: 1.0 } as const;

/** Options of {@link cutmix} and {@link cutmixSoft}. */
export interface CutMixOptions {
  /** Beta(beta, beta) parameter of the area draw (default 1.0). */
  beta?: number;
  /** Probability of mixing a batch (default 1.0; cutmixSoft always mixes). */
  prob?: number;
}

/** A box: rows [top, bottom), columns [left, right). Empty when bottom <= top or right <= left. */
export interface CutMixBox {
  /** First row of the box. */
  top: number;
  /** First column of the box. */
  left: number;
  /** Row after the last one of the box. */
  bottom: number;
  /** Column after the last one of the box. */
  right: number;
}

/** The result of {@link cutmix}. */
export interface CutMixResult {
  /** The mixed batch (a new batch; the input is unchanged). */
  images: ImageBatch;
  /** Labels of the images (weight lambda). */
  labelsA: Int32Array;
  /** Labels of the pasted images, labels[perm] (weight 1 - lambda). */
  labelsB: Int32Array;
  /** 1 - pasted area / image area (1 when the batch was not mixed). */
  lambda: number;
  /** Which image was pasted into image i (identity when not mixed). */
  perm: Int32Array;
  /** The pasted box, or null when the batch was not mixed. */
  box: CutMixBox | null;
}

/** The result of {@link cutmixSoft}: no labels, the trainer relabels with its teacher. */
export interface CutMixSoftResult {
  /** The mixed batch (a new batch; the input is unchanged). */
  images: ImageBatch;
  /** Which image was pasted into image i. */
  perm: Int32Array;
  /** The pasted box. */
  box: CutMixBox;
  /** 1 - pasted area / image area. */
  lambda: number;
}

/**
 * `rand_bbox` for an H x W image and a draw lambda: box sides int(H * sqrt(1 - lambda)) and
 * int(W * sqrt(1 - lambda)), uniform center, clipped.
 *
 * @example
 * ```ts
 * import { Rng } from "../../models/core/random.ts";
 * import { randBbox } from "./cutmix.ts";
 * const box = randBbox(64, 64, 0.75, Rng.from(0)); // at most 32 x 32 pixels
 * ```
 */
export function randBbox(height: number, width: number, lam: number, rng: Rng): CutMixBox {
  if (!(lam >= 0 && lam <= 1)) throw new RangeError(`CutMix lambda must be in [0, 1], got ${lam}`);
  const cut = Math.sqrt(1 - lam);
  const cutH = Math.trunc(height * cut);
  const cutW = Math.trunc(width * cut);
  const cy = rng.randint(height);
  const cx = rng.randint(width);
  const half = (v: number) => Math.floor(v / 2);
  const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  return {
    top: clip(cy - half(cutH), height),
    bottom: clip(cy + half(cutH), height),
    left: clip(cx - half(cutW), width),
    right: clip(cx + half(cutW), width),
  };
}

/**
 * Pastes `box` of image perm[i] into image i for every i (a new batch) and returns the
 * label weight lambda = 1 - box area / image area.
 *
 * @example
 * ```ts
 * import { imageBatch } from "../../stages/images/image_batch.ts";
 * import { pasteBox } from "./cutmix.ts";
 * const { images, lambda } = pasteBox(imageBatch([2, 3, 4, 4]), new Int32Array([1, 0]),
 *   { top: 0, left: 0, bottom: 2, right: 2 }); // lambda = 0.75
 * ```
 */
export function pasteBox(
  images: ImageBatch,
  perm: Int32Array,
  box: CutMixBox,
): { images: ImageBatch; lambda: number } {
  const [n, c, h, w] = images.shape;
  if (perm.length !== n) {
    throw new RangeError(`CutMix permutation has ${perm.length} entries for ${n} images`);
  }
  const out = imageBatch(images.shape, images.data.slice());
  const size = c * h * w;
  const rows = Math.max(box.bottom - box.top, 0);
  const cols = Math.max(box.right - box.left, 0);
  if (rows > 0 && cols > 0) {
    for (let i = 0; i < n; i++) {
      const src = perm[i] * size;
      const dst = i * size;
      for (let ch = 0; ch < c; ch++) {
        for (let y = box.top; y < box.bottom; y++) {
          const o = ch * h * w + y * w;
          out.data.set(
            images.data.subarray(src + o + box.left, src + o + box.right),
            dst + o + box.left,
          );
        }
      }
    }
  }
  return { images: out, lambda: 1 - (rows * cols) / (h * w) };
}

/**
 * CutMix with hard labels (MinimaxDiffusion/IDC train.py): returns the mixed batch, both
 * label sets and the area weight lambda.
 *
 * @example
 * ```ts
 * import { Rng } from "../../models/core/random.ts";
 * import { cutmix } from "./cutmix.ts";
 * import { imageBatch } from "../../stages/images/image_batch.ts";
 * const r = cutmix(imageBatch([4, 3, 8, 8]), new Int32Array([0, 1, 2, 3]), Rng.from(0));
 * // loss = r.lambda * CE(out, r.labelsA) + (1 - r.lambda) * CE(out, r.labelsB)
 * ```
 */
export function cutmix(
  images: ImageBatch,
  labels: Int32Array,
  rng: Rng,
  options: CutMixOptions = {},
): CutMixResult {
  const [n, , h, w] = images.shape;
  if (labels.length !== n) {
    throw new RangeError(`CutMix got ${labels.length} labels for ${n} images`);
  }
  const beta = options.beta ?? CUTMIX_DEFAULTS.beta;
  const prob = options.prob ?? CUTMIX_DEFAULTS.prob;
  if (!(prob >= 0 && prob <= 1)) throw new RangeError(`CutMix prob must be in [0, 1], got ${prob}`);
  if (!(rng.random() < prob)) {
    const perm = Int32Array.from({ length: n }, (_, i) => i);
    return {
      images: imageBatch(images.shape, images.data.slice()),
      labelsA: labels.slice(),
      labelsB: labels.slice(),
      lambda: 1,
      perm,
      box: null,
    };
  }
  const lam = rng.beta(beta);
  const perm = rng.permutation(n);
  const box = randBbox(h, w, lam, rng);
  const mixed = pasteBox(images, perm, box);
  return {
    images: mixed.images,
    labelsA: labels.slice(),
    labelsB: Int32Array.from(perm, (j) => labels[j]),
    lambda: mixed.lambda,
    perm,
    box,
  };
}

/**
 * CutMix for the soft-label protocol (RDED validation/utils.py `cutmix`): always mixes and
 * returns only the images and the permutation, since the teacher relabels the mixed batch.
 *
 * @example
 * ```ts
 * import { Rng } from "../../models/core/random.ts";
 * import { cutmixSoft } from "./cutmix.ts";
 * import { imageBatch } from "../../stages/images/image_batch.ts";
 * const { images, perm } = cutmixSoft(imageBatch([4, 3, 8, 8]), Rng.from(0));
 * ```
 */
export function cutmixSoft(
  images: ImageBatch,
  rng: Rng,
  options: CutMixOptions = {},
): CutMixSoftResult {
  const [n, , h, w] = images.shape;
  const perm = rng.permutation(n);
  const lam = rng.beta(options.beta ?? CUTMIX_DEFAULTS.beta);
  const box = randBbox(h, w, lam, rng);
  const mixed = pasteBox(images, perm, box);
  return { images: mixed.images, perm, box, lambda: mixed.lambda };
}
