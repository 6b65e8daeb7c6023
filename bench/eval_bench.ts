/**
 * Evaluation-protocol benchmark: one hard-label training epoch (eval/hard_label.ts
 * `hardLabelEpoch`, the product's code path) of ResNetAP-10 at 64 px on 500 images, batch 64
 * (7 full batches and one of 52), with the full augmentation (RandomResizedCrop, flip,
 * ColorJitter, Lighting, normalisation, CutMix) and SGD, against the same epoch in PyTorch
 * (tools/bench/eval_ref.py under Debian's /usr/bin/python3). One line per case:
 *
 *   <case> ours_ms=<x> ref_ms=<y> ratio=<x/y>
 *
 * Both sides first run a warm-up on one full and one partial batch (session building,
 * allocator), then time one epoch, once (the machine is shared: run it when quiet).
 *
 * Run: deno run -A bench/eval_bench.ts [--images 500] [--size 64]   (MGD3_BENCH_THREADS)
 */
import { parseArgs } from "node:util";
import { SGD } from "../models/train/optim.ts";
import { Trainer } from "../models/train/trainer.ts";
import { Rng } from "../models/core/random.ts";
import { composeTrainAugment } from "../eval/augment/compose.ts";
import { hardLabelEpoch } from "../eval/protocols/hard_label.ts";
import { buildClassifier } from "../eval/classifiers/zoo.ts";
import type { ImageSet } from "../eval/protocols/image_data.ts";

const PYTHON = "/usr/bin/python3";
const REF_SCRIPT = new URL("../tools/bench/eval_ref.py", import.meta.url).pathname;
const THREADS = Number(Deno.env.get("MGD3_BENCH_THREADS") ?? navigator.hardwareConcurrency);
const CLASSES = 10;
const BATCH = 64;

function randomSet(n: number, size: number): ImageSet {
  const rng = Rng.from(0);
  const pixels = new Uint8Array(n * 3 * size * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.randint(256);
  return {
    pixels,
    labels: Int32Array.from({ length: n }, (_, i) => i % CLASSES),
    size,
    classNames: Array.from({ length: CLASSES }, (_, i) => `c${i}`),
    perClassMax: Math.ceil(n / CLASSES),
  };
}

function subset(set: ImageSet, n: number): ImageSet {
  const plane = 3 * set.size * set.size;
  return { ...set, pixels: set.pixels.slice(0, n * plane), labels: set.labels.slice(0, n) };
}

async function ours(images: number, size: number): Promise<number> {
  const trainer = new Trainer({
    model: buildClassifier("resnetap-10", { classes: CLASSES, imageSize: size }),
    inputShape: [3, size, size],
    classes: CLASSES,
    loss: { kind: "mixedCrossEntropy" },
    random: () => 0.5,
    session: { intraOpThreads: THREADS },
  });
  const groups = [{
    optimizer: new SGD({ lr: 0.01, momentum: 0.9, weightDecay: 5e-4 }),
    params: trainer.params,
  }];
  const augment = composeTrainAugment({ size });
  const set = randomSet(images, size);
  const warm = BATCH + (images % BATCH);
  await hardLabelEpoch(trainer, groups, subset(set, warm), augment, Rng.from(1), BATCH);
  const t0 = performance.now();
  await hardLabelEpoch(trainer, groups, set, augment, Rng.from(2), BATCH);
  const ms = performance.now() - t0;
  await trainer.release();
  return ms;
}

async function reference(images: number, size: number): Promise<number | null> {
  try {
    const out = await new Deno.Command(PYTHON, {
      args: [
        REF_SCRIPT,
        "--images",
        String(images),
        "--size",
        String(size),
        "--batch",
        String(BATCH),
      ],
      env: { MGD3_BENCH_THREADS: String(THREADS) },
      stderr: "inherit",
    }).output();
    if (!out.success) return null;
    return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!).ms;
  } catch {
    return null; // no python3 / torch
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    strict: true,
    options: {
      images: { type: "string", default: "500" },
      size: { type: "string", default: "64" },
    },
  });
  const images = Number(values.images), size = Number(values.size);
  const name = `resnetap10_${size}_hard_label_epoch_${images}`;
  const ms = await ours(images, size);
  const ref = await reference(images, size);
  console.log(
    `${name} ours_ms=${ms.toFixed(0)} ref_ms=${ref === null ? "na" : ref.toFixed(0)} ` +
      `ratio=${ref === null ? "na" : (ms / ref).toFixed(2)} threads=${THREADS}`,
  );
}
