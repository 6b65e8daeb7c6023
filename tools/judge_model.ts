/**
 * The cpu-scale model's quality check (issue 7, model card): a classifier trained on real
 * ImageNette-64 (the judge) classifies generated samples, N per class, sampled without mode
 * guidance at each listed CFG scale; its accuracy on the real val images is reported beside.
 *
 * Steps, each resumable through the store (a rerun reuses what is done):
 * 1. the judge: `trainTeacher` (eval/teacher.ts recipe, ResNet-18 with BN at 64 px) on every
 *    training image of `--data`/train, validated on every image of `--data`/val;
 * 2. N "modes" per class (k-means on the TAEF2 latents of the shipped subset): only their
 *    count matters, since sampling is unguided (one sample per mode, seeded per sample);
 * 3. per CFG scale: DDPM 50 steps, fixed-small variance, CFG on all channels, no mode
 *    guidance; decoded with TAEF2;
 * 4. top-1 of the judge on the decoded samples, overall and per class.
 *
 * Writes `judge/report/results.{json,md}` into the store and prints the markdown.
 *
 * Usage: deno task judge:model [--model FILE] [--data DIR] [--classes a,b] [--per-class 20]
 *        [--cfg 4.0,1.5] [--epochs 12] [--seed 0] [--store .store/judge]
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { Store } from "../stages/store/store.ts";
import { encode } from "../stages/encode.ts";
import { discover } from "../stages/discover.ts";
import { sample } from "../stages/sample.ts";
import { decode, DECODE_DEFAULTS } from "../stages/decode.ts";
import { ALL } from "../stages/store/shard.ts";
import { setProgressMode } from "../stages/progress.ts";
import { codeVersion, formatVersion } from "../stages/store/version.ts";
import { loadScale, SHIPPED_CPU_MODEL } from "../models/scales/mod.ts";
import { Trainer } from "../models/train/trainer.ts";
import { trainTeacher } from "../eval/protocols/teacher.ts";
import { buildClassifier } from "../eval/classifiers/zoo.ts";
import { loadImageSet } from "../eval/protocols/image_data.ts";
import { argmaxRows, predictLogits } from "../eval/protocols/evaluate.ts";
import { sha256Hex } from "../models/core/hash.ts";
import { parseDecimal } from "../models/core/decimal.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const { values: v } = parseArgs({
  args: Deno.args,
  strict: true,
  options: {
    store: { type: "string", default: `${ROOT}.store/judge` },
    model: { type: "string", default: SHIPPED_CPU_MODEL },
    data: { type: "string", default: `${ROOT}../shared/data/imagenette2-224` },
    subset: { type: "string", default: `${ROOT}data/imagenette-64/train` },
    classes: { type: "string" },
    "per-class": { type: "string", default: "20" },
    cfg: { type: "string", default: "4.0,1.5" },
    epochs: { type: "string", default: "12" },
    seed: { type: "string", default: "0" },
    progress: { type: "string", default: "auto" },
    help: { type: "boolean", short: "h" },
  },
});
if (v.help) {
  console.log(
    "Usage: deno task judge:model [--model FILE] [--data DIR (train/ and val/)] [--subset DIR]\n" +
      "       [--classes a,b (default: all the model's)] [--per-class 20] [--cfg 4.0,1.5]\n" +
      "       [--epochs 12] [--seed 0] [--store DIR]",
  );
  Deno.exit(0);
}
const int = (name: string, s: string, min: number) => {
  const n = parseDecimal(s, "integer");
  if (n === null || n < min) {
    throw new RangeError(`--${name} must be a decimal integer >= ${min}, got '${s}'`);
  }
  return n;
};
const perClass = int("per-class", v["per-class"]!, 1);
const epochs = int("epochs", v.epochs!, 1);
const seed = int("seed", v.seed!, 0);
const cfgs = v.cfg!.split(",").map((s) => {
  const x = parseDecimal(s, "float");
  if (x === null || !(x >= 1)) {
    throw new RangeError(`--cfg: '${s}' is not a plain decimal scale >= 1`);
  }
  return x;
});
setProgressMode(v.progress as "auto");
const start = performance.now();
const say = (s: string) =>
  console.error(`[judge ${((performance.now() - start) / 1000).toFixed(0)}s] ${s}`);

const data = resolve(v.data!);
for (const split of ["train", "val"]) {
  await Deno.stat(`${data}/${split}`).catch(() => {
    throw new Error(
      `--data ${data}: no '${split}' ImageFolder inside (expected ${split}/<class>/)`,
    );
  });
}
// The cpu scale: the U-Net, TAEF2 with the model file's normalisation, the sampling settings.
const scale = await loadScale({ scale: "cpu", model: v.model! });
const own = scale.classes!;
const training = scale.provenance.training;
const classes = v.classes ? v.classes.split(",") : [...own];
for (const c of classes) {
  if (!own.includes(c)) {
    throw new Error(
      `--classes: '${c}' is not a class of the model ${v.model} (${own.join(", ")})`,
    );
  }
}
// Artifacts of a class subset get their own names (the store refuses other options).
const tag = classes.join() === own.join()
  ? ""
  : `-c${(await sha256Hex(classes.join(","))).slice(0, 8)}`;
const store = await Store.open(v.store!);

// 1. The judge.
const JUDGE = `judge/imagenette-64-resnet18${tag}`;
say(`training the judge (ResNet-18 BN, 64 px, ${epochs} epochs) on ${data}/train`);
const judge = await trainTeacher(store, {
  name: JUDGE,
  scale: "cpu",
  train: `${data}/train`,
  val: `${data}/val`,
  classes,
  seed: 0,
  epochs,
  valPerClass: null,
});
if (judge.classes.join() !== classes.join()) {
  throw new Error(
    `The judge's classes (${judge.classes.join(",")}) differ from the ones asked for (${
      classes.join(",")
    }): pass --data with the model's training classes, or --classes`,
  );
}
say(`judge: ${judge.top1.toFixed(1)}% top-1 on the real val images`);

// 2. N modes per class (only their count is used by unguided sampling).
const modelHash = scale.hash; // the model file's SHA-256, 12 hex digits
await encode(store, scale, { data: v.subset!, classes, out: `latents/subset${tag}` });
await discover(store, {
  latents: `latents/subset${tag}`,
  out: `modes/k${perClass}${tag}`,
  modes: { method: "kmeans", k: perClass, seed: 0 },
  shard: ALL,
  overwrite: false,
});

// 3-4. Sample, decode, classify.
const size = scale.codec.imageSize;
const k = classes.length;
const network = new Trainer({
  model: buildClassifier(judge.model, { classes: k, imageSize: size }),
  inputShape: [3, size, size],
  classes: k,
  loss: { kind: "crossEntropy" },
  random: Math.random, // every weight is replaced by the judge's state
  state: (await (await store.open(JUDGE)).readShard("teacher")).tensors,
});
const rows: { cfg: number; top1: number; perClass: number[]; sheet: string | null }[] = [];
try {
  for (const cfg of cfgs) {
    const name = `m${modelHash}-cfg${cfg}-s${seed}${tag}`;
    say(`sampling ${perClass} per class at CFG ${cfg} (no mode guidance)`);
    await sample(store, scale, {
      modes: `modes/k${perClass}${tag}`,
      out: `samples/${name}`,
      model: `${scale.modelId}:${training.steps ?? "?"}`, // unet:<sha256 12>:<steps>
      cfgScale: cfg,
      guidance: null,
      seed,
    });
    const d = await decode(store, scale.codec, {
      ...DECODE_DEFAULTS,
      samples: `samples/${name}`,
      out: `decoded/${name}`,
    });
    const set = await loadImageSet(d.imageFolder, { classes, size });
    const pred = argmaxRows(await predictLogits(network, set, 100), k);
    const hit = new Array(k).fill(0), count = new Array(k).fill(0);
    pred.forEach((p, i) => {
      count[set.labels[i]]++;
      if (p === set.labels[i]) hit[set.labels[i]]++;
    });
    const total = hit.reduce((a, b) => a + b, 0);
    rows.push({
      cfg,
      top1: (100 * total) / pred.length,
      perClass: hit.map((h, c) => (100 * h) / count[c]),
      sheet: d.contactSheet,
    });
    say(`CFG ${cfg}: ${rows.at(-1)!.top1.toFixed(1)}% of the samples classified as their class`);
  }
} finally {
  await network.release();
  await scale.release();
}

const code = formatVersion(await codeVersion());
const options = {
  model: v.model,
  modelSha256: modelHash,
  data,
  classes,
  perClass,
  cfgs,
  epochs,
  seed,
};
const report = await store.artifact(`judge/report${tag}`, {
  kind: "report",
  options: { ...options, code },
  seed,
  overwrite: true,
});
const md = [
  `Judge: ${judge.model} trained ${judge.epochs} epochs (${
    (judge.seconds / 60).toFixed(0)
  } min) on ${data}/train at ${size} px; top-1 on all real val images: **${
    judge.top1.toFixed(1)
  }%**.`,
  "",
  `| samples (${perClass} per class, DDPM 50 steps, no mode guidance) | judge top-1 | per class |`,
  "| --- | ---: | --- |",
  ...rows.map((r) =>
    `| CFG ${r.cfg.toFixed(1)} | **${r.top1.toFixed(1)}%** | ${
      r.perClass.map((x) => x.toFixed(0)).join(" / ")
    } |`
  ),
  "",
  `Model ${v.model} (sha256 ${modelHash}, ${training.steps} steps); seed ${seed}; code ${code}; command \`deno task judge:model\`.`,
].join("\n");
await report.writeFile("results.md", md);
await report.writeJson("results.json", {
  ...options,
  code,
  judge: { model: judge.model, epochs: judge.epochs, realValTop1: judge.top1 },
  samples: rows,
  modelSteps: training.steps,
});
console.log(md);
console.log(
  `Written: ${report.dir}/results.md; ${((performance.now() - start) / 1000).toFixed(0)} s`,
);
