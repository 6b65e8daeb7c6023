/**
 * `reproduce:cost`, the computational-cost paragraph of the paper (section 5.1): one MGD3
 * distilled set made from scratch (encode, mode discovery, sampling, decode), each stage
 * timed on this machine and its work counted while it runs (images through the encoder,
 * latent values clustered, denoiser evaluations, images through the decoder), then per
 * image and extrapolated to ImageNet-100 IPC 10. The paper: "our method takes 0.42 hours to
 * generate a synthetic dataset for ImageNet-100 with IPC-10", MinMax 10 hours, IDC-1 over
 * 100, "minimal overhead for mode discovery".
 *
 * The stages write into a fresh namespace of the store (`<root>/cost/<time>`), so nothing
 * is skipped and nothing another table made is reused: the times are measured, not taken
 * from earlier runs. The report goes to `tables/cost[-quick]`.
 *
 * @module
 */
import type { Store } from "../../stages/store/store.ts";
import { ALL } from "../../stages/store/shard.ts";
import { encode } from "../../stages/encode.ts";
import { discover } from "../../stages/discover.ts";
import { sample } from "../../stages/sample.ts";
import { decode, DECODE_DEFAULTS } from "../../stages/decode.ts";
import type { ModelSource } from "../../models/scales/mod.ts";
import { loadScaleModels } from "./setup.ts";
import { type DataPaths, resolveData } from "./datasets.ts";
import { MGD3_GUIDANCE } from "./spec.ts";

/** The paper's numbers (section 5.1, Computational Cost), in GPU-hours. */
export const PAPER_COST = { mgd3: 0.42, minmax: 10, idc1: 100 } as const;

/** ImageNet-100 IPC 10: 100 classes, 10 images each, from up to 1300 training images a class. */
export const IMAGENET100 = { classes: 100, ipc: 10, trainPerClass: 1300 } as const;

/** Options of {@link measureCost}. */
export interface CostOptions {
  /** The models of the scale. */
  models: ModelSource;
  /** Where the images are (ImageNette's classes by default; `classes` narrows them). */
  data: DataPaths;
  /** Classes to distil (default: ImageNette's ten). */
  classes?: string[];
  /** Images per class of the distilled set (paper: 10). */
  ipc: number;
  /** Sampling seed. */
  seed: number;
  /** Name of the report artifact (default `tables/cost`). */
  name?: string;
  /** CPU or accelerator named in the report (e.g. lscpu's model name). */
  machine: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** One stage's measurement. */
export interface StageCost {
  stage: "encode" | "discover" | "sample" | "decode";
  /** Wall time of the stage, seconds. */
  seconds: number;
  /** What was counted, and how many. */
  ops: { what: string; count: number };
  /** Items the stage made or read (images encoded, classes clustered, images sampled/decoded). */
  items: number;
  /** Seconds per item. */
  perItem: number;
  /** Items of ImageNet-100 IPC 10, and the extrapolated seconds there. */
  imagenet100: { items: number; seconds: number };
}

/** What {@link measureCost} measured and wrote. */
export interface CostReport {
  stages: StageCost[];
  /** Extrapolated hours for ImageNet-100 IPC 10 on this machine, with and without encoding. */
  hours: { total: number; withoutEncode: number };
  /** Mode discovery's share of the measured total and of the extrapolated total. */
  discoverShare: { measured: number; imagenet100: number };
  markdown: string;
  dir: string;
}

/**
 * Makes one distilled set from scratch and reports each stage's time and work.
 *
 * @example
 * ```ts
 * import { measureCost } from "./cost.ts";
 * const r = await measureCost(store, {
 *   models: { scale: "cpu", model: "weights/cpu_unet.safetensors" },
 *   data: { train: "data/imagenette-64/train", val: "data/imagenette-64/val" },
 *   ipc: 10, seed: 0, machine: "AMD EPYC",
 * });
 * console.log(r.markdown);
 * ```
 */
export async function measureCost(store: Store, o: CostOptions): Promise<CostReport> {
  const log = o.log ?? ((s: string) => console.error(s));
  const data = await resolveData("imagenette", o.data, o.classes);
  if ("missing" in data) throw new Error(data.missing);
  const models = await loadScaleModels(o.models);
  try {
    const unknown = models.knows(data.classes);
    if (unknown) throw new Error(unknown);
    // Counters around the codec and the denoiser: every image and evaluation is counted.
    const n = { encoded: 0, decoded: 0, evaluations: 0 };
    const codec = Object.create(models.codec);
    codec.encode = (x: Float32Array, k: number) => (n.encoded += k, models.codec.encode(x, k));
    codec.decode = (z: Float32Array, k: number) => (n.decoded += k, models.codec.decode(z, k));
    const denoiser = Object.create(models.denoiser);
    denoiser.forward = (x: Float32Array, t: Float32Array, y: Int32Array) => (
      n.evaluations += y.length, models.denoiser.forward(x, t, y)
    );
    const counted = { ...models, codec, denoiser };
    const ns = `${models.root}/cost/${new Date().toISOString().replace(/[:.]/g, "-")}`;
    const C = data.classes.length;
    const time = async (stage: string, f: () => Promise<unknown>) => {
      log(`[cost] ${stage}`);
      const t0 = performance.now();
      await f();
      return (performance.now() - t0) / 1000;
    };
    const tEncode = await time(
      "encode",
      () =>
        encode(store, counted, {
          data: data.train,
          classes: data.classes,
          out: `${ns}/latents`,
          shard: ALL,
        }),
    );
    const lat = await store.open(`${ns}/latents`);
    let clustered = 0, values = 0;
    for (const s of await lat.shards()) {
      const z = (await lat.readShard(s)).tensors.get("latents")!;
      clustered += z.shape[0];
      values += z.shape.reduce((a, b) => a * b, 1);
    }
    const tDiscover = await time("discover", () =>
      discover(store, {
        latents: `${ns}/latents`,
        out: `${ns}/modes`,
        modes: { method: "kmeans", k: o.ipc, seed: 0 },
      }));
    const tSample = await time("sample", () =>
      sample(store, counted, {
        modes: `${ns}/modes`,
        out: `${ns}/samples`,
        method: "ddpm",
        guidance: MGD3_GUIDANCE,
        strength: null,
        seed: o.seed,
        shard: ALL,
      }));
    const tDecode = await time(
      "decode",
      () =>
        decode(store, codec, {
          ...DECODE_DEFAULTS,
          samples: `${ns}/samples`,
          out: `${ns}/images`,
          shard: ALL,
        }),
    );
    const images = C * o.ipc;
    const perClass = clustered / C;
    const big = IMAGENET100.classes * IMAGENET100.ipc;
    const stage = (
      s: StageCost["stage"],
      seconds: number,
      ops: StageCost["ops"],
      items: number,
      bigItems: number,
      scale = 1,
    ): StageCost => ({
      stage: s,
      seconds,
      ops,
      items,
      perItem: seconds / items,
      imagenet100: { items: bigItems, seconds: (seconds / items) * bigItems * scale },
    });
    const stages = [
      stage(
        "encode",
        tEncode,
        { what: "images through the encoder", count: n.encoded },
        clustered,
        IMAGENET100.classes * IMAGENET100.trainPerClass,
      ),
      // k-means is linear in a class's images: scaled by 1300 / this run's images per class.
      stage(
        "discover",
        tDiscover,
        { what: `latent values clustered (k = ${o.ipc})`, count: values },
        C,
        IMAGENET100.classes,
        IMAGENET100.trainPerClass / perClass,
      ),
      stage(
        "sample",
        tSample,
        { what: "denoiser evaluations (batch items, CFG halves counted)", count: n.evaluations },
        images,
        big,
      ),
      stage(
        "decode",
        tDecode,
        { what: "images through the decoder", count: n.decoded },
        images,
        big,
      ),
    ];
    const sum = (xs: StageCost[], f: (s: StageCost) => number) => xs.reduce((a, s) => a + f(s), 0);
    const total = sum(stages, (s) => s.imagenet100.seconds);
    const measured = sum(stages, (s) => s.seconds);
    const report = {
      stages,
      hours: { total: total / 3600, withoutEncode: (total - stages[0].imagenet100.seconds) / 3600 },
      discoverShare: {
        measured: tDiscover / measured,
        imagenet100: stages[1].imagenet100.seconds / total,
      },
    };
    const settings = {
      models: models.describe,
      machine: o.machine,
      classes: data.classes,
      trainImages: clustered,
      ipc: o.ipc,
      seed: o.seed,
      namespace: ns,
    };
    const markdown = costMarkdown(report, settings);
    const art = await store.artifact(o.name ?? "tables/cost", {
      kind: "table",
      options: settings,
      seed: null,
      overwrite: true,
    });
    await art.writeJson("results.json", { ...report, settings, paper: PAPER_COST });
    await art.writeFile("results.md", markdown);
    return { ...report, markdown, dir: art.dir };
  } finally {
    await models.release();
  }
}

function costMarkdown(
  r: Pick<CostReport, "stages" | "hours" | "discoverShare">,
  s: { models: string; machine: string; classes: string[]; trainImages: number; ipc: number },
): string {
  const sec = (x: number) => (x >= 100 ? x.toFixed(0) : x.toPrecision(3));
  const lines = [
    `# Computational cost: one MGD3 distilled set (${s.classes.length} classes, IPC ${s.ipc}, ${s.trainImages} training images)`,
    "",
    `Machine: ${s.machine}. Models: ${s.models}.`,
    "",
    "| stage | seconds | per distilled image | per item | work counted | ImageNet-100 IPC 10 (extrapolated) |",
    "| --- | ---: | ---: | ---: | --- | ---: |",
    ...r.stages.map((x) =>
      `| ${x.stage} | ${sec(x.seconds)} | ${
        (x.seconds / (s.classes.length * s.ipc)).toPrecision(3)
      } s | ${x.perItem.toPrecision(3)} s / ${x.stage === "discover" ? "class" : "image"} | ${
        x.ops.count.toLocaleString("en-US")
      } ${x.ops.what} | ${sec(x.imagenet100.seconds)} s (${
        x.imagenet100.items.toLocaleString("en-US")
      } ${x.stage === "discover" ? "classes" : "images"}) |`
    ),
    "",
    `ImageNet-100 IPC 10 on this machine: ${r.hours.total.toFixed(2)} hours in all, ${
      r.hours.withoutEncode.toFixed(2)
    } hours without encoding the training set. Paper: MGD3 ${PAPER_COST.mgd3} GPU-hours, MinMax ${PAPER_COST.minmax}, IDC-1 over ${PAPER_COST.idc1}.`,
    "",
    `Mode discovery's share: ${
      (100 * r.discoverShare.measured).toFixed(1)
    }% of this run's measured time, ${
      (100 * r.discoverShare.imagenet100).toFixed(1)
    }% of the extrapolated ImageNet-100 total (paper: "minimal overhead for mode discovery").`,
    "",
    "Extrapolation: encode per image x 100 x 1300 training images; discovery per class x 100, scaled by 1300 / this run's images per class (k-means is linear in the images); sampling and decoding per image x 1000.",
  ];
  return lines.join("\n") + "\n";
}
