/**
 * Long training loops hold a bounded amount of memory: after every session of a Trainer has run
 * once, further steps (full and partial batches, evaluation) do not grow the resident set, also
 * when all but the full-batch session are freed and rebuilt around each evaluation (as the
 * hard-label protocol does).
 */
import assert from "node:assert/strict";
import { SGD } from "../models/train/optim.ts";
import { Trainer } from "../models/train/trainer.ts";
import type { SessionOptions } from "../models/graph/session.ts";
import { buildClassifier } from "../eval/classifiers/zoo.ts";
import { Rng } from "../models/core/random.ts";

const SIZE = 32; // px: ConvNet-3, the smallest ConvNet with the 128-channel layers
const CLASSES = 10;
const FULL = 32; // images in a full batch
const PARTIAL = 8; // images in the last batch of an epoch
const ROUNDS = 8; // (full step, partial step, evaluation) rounds after the first
const MIB = 2 ** 20;
/** Growth allowed after the first round (with the memory pattern on, the loop grew ~200 MiB). */
const SLACK_MIB = 80;

async function growth(
  o: { session?: SessionOptions; releaseAroundEval?: boolean } = {},
): Promise<{ first: number; grown: number }> {
  const session = o.session;
  const rng = Rng.from(0);
  const t = new Trainer({
    model: buildClassifier("convnet-3", { classes: CLASSES, imageSize: SIZE }),
    inputShape: [3, SIZE, SIZE],
    classes: CLASSES,
    loss: { kind: "crossEntropy" },
    random: () => rng.random(),
    optimizer: new SGD({ lr: 0.01, momentum: 0.9 }),
    ...(session ? { session } : {}),
  });
  const batch = (n: number) => ({
    x: Float32Array.from({ length: n * 3 * SIZE * SIZE }, () => rng.random()),
    labels: Array.from({ length: n }, (_, i) => i % CLASSES),
  });
  const full = batch(FULL), partial = batch(PARTIAL);
  const round = async () => {
    await t.step(full);
    await t.step(partial);
    if (o.releaseAroundEval) await t.release({ keepTrain: FULL });
    await t.forward(full.x);
    if (o.releaseAroundEval) await t.release({ keepTrain: FULL });
  };
  try {
    const before = Deno.memoryUsage().rss;
    await round();
    const first = Deno.memoryUsage().rss;
    let peak = first;
    for (let i = 0; i < ROUNDS; i++) {
      await round();
      peak = Math.max(peak, Deno.memoryUsage().rss);
    }
    return { first: (first - before) / MIB, grown: (peak - first) / MIB };
  } finally {
    await t.release();
  }
}

// Run as a script, this file prints the loop's numbers; the test runs it in a process of its own
// (test files may share a process under --parallel, and resident memory is per process).
if (import.meta.main) {
  console.log(JSON.stringify(await growth({ releaseAroundEval: Deno.args[0] === "release" })));
}

for (const mode of ["keep", "release"]) {
  const what = mode === "keep" ? "" : " when sessions are freed around each evaluation";
  Deno.test(`a Trainer's resident memory stays flat over a long loop of steps and evaluations${what}`, async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(import.meta.url).pathname, mode],
      stderr: "inherit",
    }).output();
    assert(out.success, "the memory loop's process failed");
    const { first, grown } = JSON.parse(new TextDecoder().decode(out.stdout));
    assert(
      grown < SLACK_MIB,
      `resident set grew ${grown.toFixed(0)} MiB after the first round (${first.toFixed(0)} MiB)`,
    );
  });
}
