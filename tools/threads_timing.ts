/**
 * The measurements behind `reproduce --workers` (README "Whole experiments"): a classifier's
 * hard-label training step (batch 64, mixed cross-entropy, SGD) and eval forward (batch 100) at
 * 64 px, timed with 2 threads in one process, with 1 thread alone, and as two 1-thread
 * processes at once; prints each side's median milliseconds, the throughput gain of two
 * processes over one with two threads, and whether the losses and logits are bit-identical
 * at 1 and 2 threads.
 *
 * Usage: deno run -A tools/threads_timing.ts [--net convnet] [--runs 5] [--gemm-pixels N]
 *   (`--gemm-pixels`: the conv lowering threshold, convLowering.gemmMaxPixels; 0 = onnxruntime's
 *   Conv everywhere). Internal: `--child THREADS` runs one side and prints one JSON line.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Trainer } from "../models/train/trainer.ts";
import { SGD } from "../models/train/optim.ts";
import { Rng } from "../models/core/random.ts";
import { convLowering } from "../models/graph/ops/conv.ts";
import { sha256Bytes } from "../models/core/hash.ts";
import { buildClassifier } from "../eval/classifiers/zoo.ts";
import { stepGroups } from "../eval/protocols/fit.ts";

const { values: v } = parseArgs({
  args: Deno.args,
  strict: true,
  options: {
    net: { type: "string", default: "convnet" },
    runs: { type: "string", default: "5" },
    "gemm-pixels": { type: "string" },
    child: { type: "string" },
  },
});
const SIZE = 64, CLASSES = 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One side: median ms of a training step and a forward, and a hash of what they computed. */
async function side(threads: number) {
  if (v["gemm-pixels"] !== undefined) convLowering.gemmMaxPixels = Number(v["gemm-pixels"]);
  const init = Rng.from(1);
  const t = new Trainer({
    model: buildClassifier(v.net!, { classes: CLASSES, imageSize: SIZE }),
    inputShape: [3, SIZE, SIZE],
    classes: CLASSES,
    loss: { kind: "mixedCrossEntropy" },
    random: () => init.random(),
    session: { intraOpThreads: threads },
  });
  const groups = [{
    optimizer: new SGD({ lr: 0.01, momentum: 0.9, weightDecay: 5e-4 }),
    params: t.params,
  }];
  const r = Rng.from(2);
  const images = (n: number) =>
    Float32Array.from({ length: n * 3 * SIZE * SIZE }, () => r.random());
  const labels = Int32Array.from({ length: 64 }, (_, i) => i % CLASSES);
  const x64 = images(64), x100 = images(100);
  const losses: number[] = [];
  const step = async () =>
    losses.push(await stepGroups(t, groups, { x: x64, labels, labelsB: labels, lam: 0.7 }));
  const time = async (f: () => Promise<unknown>) => {
    await f(); // builds the session
    const ms: number[] = [];
    for (let i = 0; i < Number(v.runs); i++) {
      const t0 = performance.now();
      await f();
      ms.push(performance.now() - t0);
    }
    return median(ms);
  };
  const stepMs = await time(step);
  let logits: Float32Array = new Float32Array();
  const forwardMs = await time(async () => logits = await t.forward(x100));
  await t.release();
  const hash = sha256Bytes(new Uint8Array(Float64Array.from(losses).buffer)) +
    sha256Bytes(new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength));
  return { stepMs, forwardMs, hash };
}

if (v.child !== undefined) {
  console.log(JSON.stringify(await side(Number(v.child))));
  Deno.exit(0);
}

type Side = Awaited<ReturnType<typeof side>>;
const child = async (threads: number): Promise<Side> => {
  const args = ["run", "-A", new URL(import.meta.url).pathname, "--child", String(threads)];
  for (const k of ["net", "runs", "gemm-pixels"] as const) {
    if (v[k] !== undefined) args.push(`--${k}`, v[k]!);
  }
  const out = await new Deno.Command(Deno.execPath(), { args, stderr: "inherit" }).output();
  if (!out.success) throw new Error(`threads_timing: the ${threads}-thread side failed`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
};
const two = await child(2);
const one = await child(1);
const pair = await Promise.all([child(1), child(1)]);
const fmt = (s: Side) => `step ${s.stepMs.toFixed(0)} ms, forward ${s.forwardMs.toFixed(0)} ms`;
const gain = (k: "stepMs" | "forwardMs") => (2 / Math.max(pair[0][k], pair[1][k])) / (1 / two[k]);
console.log(
  `${v.net}, 64 px, step at batch 64, forward at batch 100${
    v["gemm-pixels"] !== undefined ? `, gemmMaxPixels ${v["gemm-pixels"]}` : ""
  }; ${navigator.hardwareConcurrency} cores visible`,
);
console.log(`  2 threads, one process:       ${fmt(two)}`);
console.log(`  1 thread, alone:              ${fmt(one)}`);
console.log(`  two 1-thread processes, each: ${fmt(pair[0])} | ${fmt(pair[1])}`);
console.log(
  `  throughput of the pair over 2 threads: step ${gain("stepMs").toFixed(2)}x, forward ${
    gain("forwardMs").toFixed(2)
  }x`,
);
console.log(
  `  results bit-identical at 1 and 2 threads: ${
    one.hash === two.hash && pair.every((p) => p.hash === two.hash)
  }`,
);
