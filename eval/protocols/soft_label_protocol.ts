/**
 * The numbers of the soft-label (RDED) evaluation protocol (SPEC section 4; paper App. I;
 * LINs-lab/RDED@3f6453d argument.py and validation/main.py), as pure functions.
 *
 * | quantity        | paper scale (ImageNet-1K)                    | cpu scale                  |
 * | --------------- | -------------------------------------------- | -------------------------- |
 * | image side      | 224, val Resize(256) + CenterCrop(224)        | 64, val Resize(72) + Crop(64) |
 * | epochs          | 300                                          | {@link SOFT_LABEL_CPU_EPOCHS} |
 * | optimizer       | AdamW lr 1e-3, betas (0.9, 0.999), wd 0.01 on weights with ndim > 1, 0 elsewhere | same |
 * | schedule        | LambdaLR 0.5 (1 + cos(pi e / (2 E))), per epoch | same                    |
 * | loss            | KLDiv(batchmean) at T = 20, no T^2 factor     | same                       |
 * | batch           | {@link rdedBatchSize}: 100 (IPC 10) / 200 (IPC 50) at 1000 classes | same |
 * | validation      | epochs with e % 10 == 9 (0-based) or the last, and e > 0.8 E | same         |
 *
 * @module
 */
import { halfCosineFactor, lambdaLr, type LrSchedule } from "../../models/train/lr_schedule.ts";
import { CPU_VAL_PER_CLASS, type Scale } from "./hard_label_protocol.ts";

/** RDED's AdamW settings (argument.py: adamw_lr 0.001 for resnet18, adamw_weight_decay 0.01). */
export const RDED_ADAMW = { lr: 1e-3, betas: [0.9, 0.999] as [number, number], weightDecay: 0.01 };

/** KL temperature with CutMix (argument.py: `mix_type == "cutmix"` -> temperature 20). */
export const RDED_TEMPERATURE = 20;

/** Epochs at paper scale (argument.py `--re-epochs 300`, the ImageNet-1K scripts). */
export const SOFT_LABEL_PAPER_EPOCHS = 300;

/**
 * Epochs at cpu scale: the paper's 300 / 10, keeping the half-cosine schedule's shape; the
 * validation rule (every 10th epoch in the last 20%) then validates after epoch 30 only.
 */
export const SOFT_LABEL_CPU_EPOCHS = 30;

/** RandomResizedCrop area range: (1 / factor, max_scale_crops) with factor 2, max 1. */
export const RDED_CROP_SCALE: readonly [number, number] = [0.5, 1];

/**
 * RDED's student batch size (argument.py): IPC 50 -> 100, IPC 10 -> 50, IPC 1 -> 10, doubled
 * for 100 and 1000 classes, at most IPC x classes. Other IPCs use the next rule up (not
 * defined by RDED: IPC <= 1 -> 10, <= 10 -> 50, else 100 before doubling).
 *
 * @example
 * ```ts
 * import { rdedBatchSize } from "./soft_label_protocol.ts";
 * rdedBatchSize(10, 1000); // 100
 * rdedBatchSize(50, 1000); // 200
 * rdedBatchSize(10, 10); // 50
 * ```
 */
export function rdedBatchSize(ipc: number, classes: number): number {
  let b = ipc <= 1 ? 10 : ipc <= 10 ? 50 : 100;
  if (classes === 100 || classes === 1000) b *= 2;
  return Math.min(b, ipc * classes);
}

/**
 * The 1-based epochs RDED validates at: 0-based e with (e % 10 == 9 or e == E - 1) and
 * e > 0.8 E. The last epoch is always included (RDED's rule never validates when E <= 5).
 *
 * @example
 * ```ts
 * import { softLabelEvalEpochs } from "./soft_label_protocol.ts";
 * softLabelEvalEpochs(300); // [250, 260, 270, 280, 290, 300]
 * ```
 */
export function softLabelEvalEpochs(epochs: number): number[] {
  const out: number[] = [];
  for (let e = 0; e < epochs; e++) {
    if ((e % 10 === 9 || e === epochs - 1) && e > epochs * 0.8) out.push(e + 1);
  }
  if (out[out.length - 1] !== epochs) out.push(epochs);
  return out;
}

/**
 * RDED's learning rate per 0-based epoch: LambdaLR(half cosine over `epochs`).
 *
 * @example
 * ```ts
 * import { softLabelLr } from "./soft_label_protocol.ts";
 * softLabelLr(300)(0); // 0.001
 * ```
 */
export function softLabelLr(epochs: number): LrSchedule {
  return lambdaLr(RDED_ADAMW.lr, halfCosineFactor(epochs));
}

/**
 * RDED's `get_parameters`: weight decay applies to parameters whose name contains "weight"
 * and that have more than one dimension (conv and linear weights), not to norms or biases.
 *
 * @example
 * ```ts
 * import { decays } from "./soft_label_protocol.ts";
 * decays("layer1.0.conv1.weight", [64, 64, 3, 3]); // true
 * decays("bn1.weight", [64]); // false
 * ```
 */
export function decays(name: string, shape: readonly number[]): boolean {
  return name.includes("weight") && shape.length > 1;
}

/** Everything a soft-label run uses. */
export interface SoftLabelProtocol {
  /** The scale it was resolved for. */
  scale: Scale;
  /** Side of the square images, in pixels (paper 224, cpu 64). */
  imageSize: number;
  /** Resize side of the validation images before the center crop (S / 7 * 8). */
  valResize: number;
  /** Training epochs E. */
  epochs: number;
  /** Student batch size ({@link rdedBatchSize}). */
  batchSize: number;
  /** AdamW learning rate at epoch 0 (1e-3; half-cosine schedule). */
  lr: number;
  /** AdamW betas ([0.9, 0.999]). */
  betas: [number, number];
  /** AdamW weight decay of weights with more than one dimension (0.01); other parameters get 0. */
  weightDecay: number;
  /** KL divergence temperature T (20). */
  temperature: number;
  /** RandomResizedCrop area range ([0.5, 1]). */
  cropScale: readonly [number, number];
  /** The 1-based epochs after which the student is validated. */
  evalEpochs: number[];
  /** Validation images per class (null: all, at both scales since issue 19). */
  valPerClass: number | null;
}

/**
 * The protocol for a scale and a distilled set (`epochs` overrides the default).
 *
 * @example
 * ```ts
 * import { softLabelProtocol } from "./soft_label_protocol.ts";
 * const p = softLabelProtocol("paper", 10, 1000);
 * p.batchSize; // 100
 * p.valResize; // 256
 * ```
 */
export function softLabelProtocol(
  scale: Scale,
  ipc: number,
  classes: number,
  epochs?: number,
): SoftLabelProtocol {
  const imageSize = scale === "paper" ? 224 : 64;
  const e = epochs ?? (scale === "paper" ? SOFT_LABEL_PAPER_EPOCHS : SOFT_LABEL_CPU_EPOCHS);
  if (!(Number.isInteger(e) && e >= 1)) throw new RangeError(`Epochs must be >= 1, got ${e}`);
  return {
    scale,
    imageSize,
    valResize: Math.floor(imageSize / 7) * 8, // transforms.Resize(input_size // 7 * 8)
    epochs: e,
    batchSize: rdedBatchSize(ipc, classes),
    lr: RDED_ADAMW.lr,
    betas: RDED_ADAMW.betas,
    weightDecay: RDED_ADAMW.weightDecay,
    temperature: RDED_TEMPERATURE,
    cropScale: RDED_CROP_SCALE,
    evalEpochs: softLabelEvalEpochs(e),
    valPerClass: scale === "paper" ? null : CPU_VAL_PER_CLASS,
  };
}
