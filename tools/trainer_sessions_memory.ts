/**
 * Resident memory of each onnxruntime session of a hard-label evaluation (README "Whole
 * experiments"): a ConvNet-4 Trainer at 64 px (mixed cross-entropy, SGD) runs rounds of two
 * full training batches, one partial batch and one validation pass, and prints the resident set
 * after each, with milliseconds; the growth after a session's first run is its arena. With
 * `--release`, all but the full-batch session are freed before and after each validation, as
 * the hard-label protocol does.
 *
 * Usage: deno run -A tools/trainer_sessions_memory.ts [--batch 64] [--partial 36]
 *        [--eval-batch 100] [--val 500] [--rounds 3] [--release]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { SGD } from "../models/train/optim.ts";
import { Trainer } from "../models/train/trainer.ts";
import { buildClassifier } from "../eval/classifiers/zoo.ts";
import { Rng } from "../models/core/random.ts";

const SIZE = 64; // px: the cpu scale's hard-label images
const CLASSES = 10;
const { values: v } = parseArgs({
  options: {
    batch: { type: "string", default: "64" },
    partial: { type: "string", default: "36" },
    "eval-batch": { type: "string", default: "100" },
    val: { type: "string", default: "500" },
    rounds: { type: "string", default: "3" },
    release: { type: "boolean", default: false },
  },
});
const [full, partial, evalBatch] = [v.batch, v.partial, v["eval-batch"]].map(Number);
const mib = () => (Deno.memoryUsage().rss / 2 ** 20).toFixed(0);
const rng = Rng.from(0);
const trainer = new Trainer({
  model: buildClassifier("convnet", { classes: CLASSES, imageSize: SIZE }),
  inputShape: [3, SIZE, SIZE],
  classes: CLASSES,
  loss: { kind: "mixedCrossEntropy" },
  random: () => rng.random(),
  optimizer: new SGD({ lr: 0.01, momentum: 0.9 }),
});
const batch = (n: number) => ({
  x: Float32Array.from({ length: n * 3 * SIZE * SIZE }, () => rng.random()),
  labels: Array.from({ length: n }, (_, i) => i % CLASSES),
  labelsB: Array.from({ length: n }, (_, i) => (i + 1) % CLASSES),
  lam: 0.5,
});
const [a, b, e] = [batch(full), batch(partial), batch(evalBatch)];
console.log(`start: ${mib()} MiB resident`);
const timed = async (what: string, f: () => Promise<unknown>) => {
  const t0 = performance.now();
  await f();
  console.log(`${what}: ${mib()} MiB, ${(performance.now() - t0).toFixed(0)} ms`);
};
for (let r = 0; r < Number(v.rounds); r++) {
  await timed(`round ${r} 2 x step ${full}`, async () => {
    await trainer.step(a);
    await trainer.step(a);
  });
  await timed(`round ${r} step ${partial}`, () => trainer.step(b));
  if (v.release) await trainer.release({ keepTrain: full });
  const passes = Math.ceil(Number(v.val) / evalBatch);
  await timed(`round ${r} validation (${passes} x ${evalBatch})`, async () => {
    for (let i = 0; i < passes; i++) await trainer.forward(e.x);
  });
  if (v.release) await trainer.release({ keepTrain: full });
}
await trainer.release();
console.log(`released: ${mib()} MiB`);
