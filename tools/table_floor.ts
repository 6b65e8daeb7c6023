/**
 * The compute floor of a cpu-scale table: the matrix-product work (FLOPs) of every sampling and
 * hard-label evaluation unit of its plan, counted from the graphs the toolkit runs (the cpu
 * U-Net with CFG, ConvNet-4's training step and eval forward), and the least time that work can
 * take at this machine's best dense MatMul rate through onnxruntime (measured here) and at a
 * given rate (`--gflops`, e.g. PyTorch's best `torch.mm` on the same cores). Elementwise work
 * (norms, activations, augmentation, patch copies), encode, discover and decode are left out,
 * so the floor is below any real run's time.
 *
 * Usage: deno run -A tools/table_floor.ts [table1] [--data DIR --val DIR] [--gflops N]
 *        [--threads N]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Graph } from "../models/graph/graph.ts";
import { Layers, ParamStore } from "../models/graph/nn.ts";
import { graphFlops, matmulPeakGflops } from "../models/graph/flops.ts";
import { crossEntropy } from "../models/train/losses.ts";
import { grad } from "../models/graph/autodiff/autodiff.ts";
import { CPU_UNET, timestepDim, unet } from "../models/nets/unet/unet.ts";
import { buildClassifier } from "../eval/classifiers/zoo.ts";
import { TABLES } from "../eval/tables/tables.ts";
import { planTable } from "../eval/tables/plan.ts";
import { resolveData } from "../eval/tables/datasets.ts";
import type { Unit } from "../eval/tables/units.ts";
import { columnDataset, RESNETAP_CPU_STAND_IN } from "../eval/tables/spec.ts";
import { cpuEpochs, evalEvery, evaluationEpochs } from "../eval/protocols/hard_label_protocol.ts";
import { firstStepIndex } from "../stages/diffusion/sampler.ts";
import { SAMPLE_DEFAULTS } from "../stages/sample.ts";
import { DEFAULT_IMAGENETTE } from "../eval/sanity.ts";

const { values: v, positionals } = parseArgs({
  args: Deno.args,
  strict: true,
  allowPositionals: true,
  options: {
    data: { type: "string", default: `${DEFAULT_IMAGENETTE}/train` },
    val: { type: "string", default: `${DEFAULT_IMAGENETTE}/val` },
    gflops: { type: "string" },
    threads: { type: "string" },
  },
});
const id = positionals[0] ?? "table1";
const table = TABLES[id];
if (!table) {
  console.error(`table_floor: unknown table '${id}' (${Object.keys(TABLES).join(", ")})`);
  Deno.exit(2);
}
const SIZE = 64; // the cpu protocol's image side

/** FLOPs per image of a classifier: training step (forward + backward) and eval forward. */
function classifierFlops(network: string, classes: number) {
  const per = (train: boolean) => {
    const g = new Graph();
    const nn = new Layers(g, new ParamStore(() => 0.01), train);
    const n = 8;
    const logits = buildClassifier(network, { classes, imageSize: SIZE })(
      nn,
      g.input("x", [n, 3, SIZE, SIZE]),
    );
    if (train) {
      const loss = crossEntropy(logits, g.input("labels", [n], "int64"));
      grad(loss, [...g.params.values()].filter((p) => p.trainable).map((p) => p.value));
    }
    return graphFlops(g.nodes) / n;
  };
  return { train: per(true), forward: per(false) };
}

/** FLOPs of one cpu U-Net forward per latent (the sampling graph keeps onnxruntime's Conv). */
function unetFlops(): number {
  const g = new Graph();
  g.convGemmMaxPixels = 0;
  const n = 2;
  g.output(
    unet(
      new Layers(g, new ParamStore(() => 0.01), false),
      CPU_UNET,
      g.input("x", [n, CPU_UNET.inChannels, CPU_UNET.size, CPU_UNET.size]),
      g.input("t_feat", [n, timestepDim(CPU_UNET)]),
      g.input("y", [n], "int64"),
    ),
    "out",
  );
  return graphFlops(g.nodes) / n;
}

async function countImages(dir: string, classes: readonly string[]): Promise<number> {
  let n = 0;
  for (const c of classes) {
    for await (const e of Deno.readDir(`${dir}/${c}`)) if (e.isFile) n++;
  }
  return n;
}

const data: Record<string, Awaited<ReturnType<typeof resolveData>>> = {};
for (const col of table.columns) {
  const ds = columnDataset(col, "cpu");
  data[ds] ??= await resolveData(ds, { train: v.data, val: v.val });
}
const plan = planTable(table, {
  root: "cpu/floor",
  scale: "cpu",
  seeds: table.seeds,
  keep: () => true,
  data,
  knows: () => null,
  epochs: (_p, ipc, classes) => cpuEpochs(ipc, classes),
  evalSize: SIZE,
  teacher: "train",
});
const byId = new Map(plan.units.map((u) => [u.id, u]));
/** Modes per class (k) behind a unit: follow its inputs to the discover unit. */
const kOf = (u: Unit): number => {
  if (u.kind === "discover") return u.modes.k;
  for (const d of u.deps) {
    const k = kOf(byId.get(d)!);
    if (k > 0) return k;
  }
  return 0;
};
const unetPer = unetFlops();
const nets = new Map<string, ReturnType<typeof classifierFlops>>();
const valCount = new Map<string, number>();
const work = { sample: 0, train: 0, validate: 0 };
const counts = { sample: 0, eval: 0, forwards: 0, trainImages: 0, valImages: 0 };
for (const u of plan.units) {
  if (u.kind === "sample") {
    const n = kOf(u) * u.classes;
    const S = SAMPLE_DEFAULTS.steps;
    const steps = u.recipe.strength === null ? S : firstStepIndex(S, u.recipe.strength) + 1;
    const forwards = n * steps * 2; // CFG: conditional and unconditional
    work.sample += forwards * unetPer;
    counts.sample++;
    counts.forwards += forwards;
  } else if (u.kind === "eval" && u.protocol === "hard") {
    const classes = u.classList.length;
    const net = nets.get(u.network) ?? classifierFlops(u.network, classes);
    nets.set(u.network, net);
    const key = `${u.val}|${u.classList.join(",")}`;
    if (!valCount.has(key)) valCount.set(key, await countImages(u.val, u.classList));
    const trainImages = kOf(u) * classes * u.epochs;
    const validations =
      evaluationEpochs(u.epochs, u.evalEvery ?? evalEvery(u.epochs, "cpu")).length;
    const valImages = validations * valCount.get(key)!;
    work.train += trainImages * net.train;
    work.validate += valImages * net.forward;
    counts.eval++;
    counts.trainImages += trainImages;
    counts.valImages += valImages;
  }
}
const threads = v.threads ? Number(v.threads) : undefined;
const peak = await matmulPeakGflops({ threads });
const total = work.sample + work.train + work.validate;
const minutes = (flop: number, gflops: number) => flop / (gflops * 1e9) / 60;
const lines = [
  `Compute floor of ${id} at the cpu scale (${
    RESNETAP_CPU_STAND_IN.networks.join(", ")
  } for ResNetAP-10; ${navigator.hardwareConcurrency} cores visible, ${
    threads ?? "default"
  } threads)`,
  `U-Net forward ${(unetPer / 1e6).toFixed(0)} MFLOP per latent; ${
    [...nets].map(([k, n]) =>
      `${k}: ${(n.train / 1e9).toFixed(2)} GFLOP per training image, ${
        (n.forward / 1e9).toFixed(3)
      } per validation image`
    ).join("; ")
  }`,
  "",
  "| work | units | count | TFLOP | minutes at peak |",
  "| --- | ---: | ---: | ---: | ---: |",
  `| sampling (U-Net forwards, CFG) | ${counts.sample} | ${counts.forwards} | ${
    (work.sample / 1e12).toFixed(0)
  } | ${minutes(work.sample, peak).toFixed(1)} |`,
  `| evaluation training (images x epochs) | ${counts.eval} | ${counts.trainImages} | ${
    (work.train / 1e12).toFixed(0)
  } | ${minutes(work.train, peak).toFixed(1)} |`,
  `| validation (val images x validations) | ${counts.eval} | ${counts.valImages} | ${
    (work.validate / 1e12).toFixed(0)
  } | ${minutes(work.validate, peak).toFixed(1)} |`,
  `| total | | | ${(total / 1e12).toFixed(0)} | ${minutes(total, peak).toFixed(1)} |`,
  "",
  `Peak: the best of 5 dense 2048^3 MatMuls through onnxruntime here, ${peak.toFixed(0)} GFLOP/s.`,
];
if (v.gflops) {
  const g = Number(v.gflops);
  lines.push(`At ${g} GFLOP/s the total takes at least ${minutes(total, g).toFixed(1)} minutes.`);
}
console.log(lines.join("\n"));
