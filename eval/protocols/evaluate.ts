/**
 * Validation of the evaluation protocols: top-1 accuracy (percent) of a trainer's eval-mode
 * logits on an in-memory image set, ImageNet-normalised, in fixed-size batches (the last
 * one padded with zero rows, so only one eval graph is built; samples are independent in
 * eval mode, so padding does not change the other rows).
 *
 * @module
 */
import type { Trainer } from "../../models/train/trainer.ts";
import { IMAGENET_MEAN, IMAGENET_STD, normalize } from "../augment/normalize.ts";
import { gatherBatch, type ImageSet } from "./image_data.ts";

/** Logits `[N, classes]` of a whole set, in order. */
export async function predictLogits(
  trainer: Trainer,
  set: ImageSet,
  batch: number,
  mean: readonly number[] = IMAGENET_MEAN,
  std: readonly number[] = IMAGENET_STD,
): Promise<Float32Array> {
  const n = set.labels.length;
  const k = trainer.o.classes;
  const out = new Float32Array(n * k);
  for (let s = 0; s < n; s += batch) {
    const idx = Int32Array.from({ length: Math.min(batch, n - s) }, (_, i) => s + i);
    const x = normalize(gatherBatch(set, idx, batch - idx.length), mean, std);
    const logits = await trainer.forward(x.data);
    out.set(logits.subarray(0, idx.length * k), s * k);
  }
  return out;
}

/** Index of the largest logit of each row (first one on ties, as torch.topk). */
export function argmaxRows(logits: Float32Array, classes: number): Int32Array {
  const n = logits.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) {
      if (logits[i * classes + c] > logits[i * classes + best]) best = c;
    }
    out[i] = best;
  }
  return out;
}

/** Top-1 accuracy in percent and which images were right (1) or wrong (0), in set order. */
export interface Evaluation {
  /** Top-1 accuracy in percent. */
  top1: number;
  /** Per image: 1 when the top-1 class is the label. */
  correct: Uint8Array;
}

/** Top-1 accuracy of `trainer` on `set`, with the per-image correctness. */
export async function evaluateTop1(
  trainer: Trainer,
  set: ImageSet,
  batch: number,
): Promise<Evaluation> {
  const pred = argmaxRows(await predictLogits(trainer, set, batch), trainer.o.classes);
  const correct = new Uint8Array(pred.length);
  let hit = 0;
  for (let i = 0; i < pred.length; i++) {
    if (pred[i] === set.labels[i]) [correct[i], hit] = [1, hit + 1];
  }
  return { top1: (100 * hit) / pred.length, correct };
}

/** Top-1 accuracy in percent of `trainer` on `set`. */
export async function top1Accuracy(trainer: Trainer, set: ImageSet, batch: number) {
  return (await evaluateTop1(trainer, set, batch)).top1;
}
