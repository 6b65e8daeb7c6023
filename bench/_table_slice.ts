/**
 * Our side of `deno task bench:tables` (bench/tables_bench.ts), run in a child process so its
 * peak RSS is its own: a slice of Table 1 (ImageNette IPC 10, one seed, the four methods, cpu
 * protocol) through the product's runner, `runTable` with `ipcs`, `seeds` and `profile`.
 *
 * Usage:
 *   deno run -A bench/_table_slice.ts prepare --base DIR --export FILE [--data D --val D --model F]
 *     runs the slice's encode unit into DIR (its other units are left), and writes FILE, the
 *     inputs of the PyTorch side: the real train and val images as U8 [n, 3, S, S] per class
 *     (`train.<c>`, `val.<c>`) and the class list (metadata `classes`);
 *   deno run -A bench/_table_slice.ts run --base DIR --store DIR [--epochs E] [...]
 *     copies DIR's finished artifacts (the latents) into a fresh store and runs every other
 *     unit: discover, 3 sample sets, decode, select Random, 4 hard-label evaluations. Prints one
 *     JSON line: {"total_s", "stages": {kind: s}, "top1": {method: %}, "peak_gb"} (VmHWM).
 *     `--workers N` runs the units in N processes that claim them (as `reproduce --workers`),
 *     each with cores / N threads; stages then sum the workers' seconds, and peak_gb is the sum
 *     of their peaks (a bound on what they held together).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Store } from "../stages/store/store.ts";
import { setProgressMode } from "../stages/progress.ts";
import { runTable, type RunTableOptions } from "../eval/tables/run_table.ts";
import type { Unit } from "../eval/tables/units.ts";
import { TABLE1 } from "../eval/tables/imagenette_tables.ts";
import { evalTop1 } from "../eval/tables/execute.ts";
import { loadImages } from "../stages/images/load_images.ts";
import { IMAGE_SIZE } from "../eval/protocols/hard_label_protocol.ts";
import { listImageFolder } from "../stages/images/image_folder.ts";
import { writeSafetensors } from "../models/io/safetensors.ts";
import type { Tensor } from "../models/core/tensor.ts";
import { runWorkers, threadsPerWorker } from "../eval/tables/workers.ts";
import { setDefaultThreads } from "../models/graph/session.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** The slice: Table 1's ImageNette IPC-10 column, seed 0 (issue 20). */
const SLICE = { ipcs: [10], seeds: [0] } as const;

const { values: v, positionals } = parseArgs({
  args: Deno.args,
  strict: true,
  allowPositionals: true,
  options: {
    base: { type: "string" },
    store: { type: "string" },
    export: { type: "string" },
    epochs: { type: "string" },
    data: { type: "string", default: `${ROOT}data/imagenette-64/train` },
    val: { type: "string", default: `${ROOT}data/imagenette-64/val` },
    model: { type: "string", default: `${ROOT}weights/cpu_unet.safetensors` },
    workers: { type: "string", default: "1" },
    threads: { type: "string" },
  },
});
if (v.threads) setDefaultThreads(Number(v.threads));
setProgressMode("silent");

/** Thrown by the prepare run's log hook before the first unit after encode. */
class EncodedOnly extends Error {}

const options = (profile: RunTableOptions["profile"]): RunTableOptions => ({
  scale: "cpu",
  models: { scale: "cpu", model: v.model!, ...(v.threads ? { threads: Number(v.threads) } : {}) },
  data: { train: v.data, val: v.val },
  ...SLICE,
  seeds: [...SLICE.seeds],
  ipcs: [...SLICE.ipcs],
  ...(v.epochs ? { epochs: Number(v.epochs) } : {}),
  log: () => {},
  profile,
});

if (positionals[0] === "prepare") {
  const store = await Store.open(v.base!);
  try {
    // the runner logs "k/n <kind> <id>" before each unit it runs: stop before the first one
    // after encode (encode itself is skipped when the store already holds the latents)
    await runTable(store, TABLE1, {
      ...options(undefined),
      log: (line) => {
        const kind = / \d+\/\d+ (\w+) /.exec(line)?.[1];
        if (kind && kind !== "encode") throw new EncodedOnly();
      },
    });
  } catch (e) {
    if (!(e instanceof EncodedOnly)) throw e;
  }
  await exportImages(v.export!);
  console.log(JSON.stringify({ base: v.base, export: v.export }));
} else if (positionals[0] === "claim") {
  // one of `run --workers N`'s processes: claims units, prints its stage seconds and peak
  const stages: Record<string, number> = {};
  await runTable(await Store.open(v.store!), TABLE1, {
    ...options({ onUnit: (u, s) => void (stages[stageOf(u)] = (stages[stageOf(u)] ?? 0) + s) }),
    claim: true,
  });
  console.log(JSON.stringify({ stages, peak_gb: await peakGb() }));
} else if (positionals[0] === "run") {
  await copyTree(v.base!, v.store!);
  const store = await Store.open(v.store!);
  const stages: Record<string, number> = {};
  const evals: string[] = [];
  const t0 = performance.now();
  const workers = Number(v.workers);
  let peak = 0;
  if (workers > 1) {
    const own = ["--data", v.data!, "--val", v.val!, "--model", v.model!];
    if (v.epochs) own.push("--epochs", v.epochs);
    await runWorkers({
      store,
      count: workers,
      script: new URL(import.meta.url).pathname,
      args: ["claim", "--store", v.store!, ...own],
      threads: threadsPerWorker(workers),
      write: (line) => {
        const json = line.indexOf("{");
        if (json < 0) return console.error(line);
        const r = JSON.parse(line.slice(json));
        for (const [k, s] of Object.entries(r.stages as Record<string, number>)) {
          stages[k] = (stages[k] ?? 0) + s;
        }
        peak += r.peak_gb;
      },
    });
  }
  // With workers every unit is done: this only collects the evaluations' ids (and writes the
  // report).
  await runTable(
    store,
    TABLE1,
    options({
      onUnit: (u, s) => void (stages[stageOf(u)] = (stages[stageOf(u)] ?? 0) + s),
    }),
  );
  const plan = (await runTable(store, TABLE1, options(undefined))).plan;
  for (const u of plan.units) if (u.kind === "eval") evals.push(u.id);
  const total = (performance.now() - t0) / 1000;
  const top1: Record<string, number | null> = {};
  // keyed by method, as the PyTorch side prints them: the set's name in the unit id tells it
  const method = (id: string) =>
    id.includes("/random-")
      ? "random"
      : id.includes("-d4m")
      ? "d4m"
      : /-l[\d.]+-t\d+-/.test(id)
      ? "mgd3"
      : "dit";
  for (const id of evals) top1[method(id)] = await evalTop1(store, id);
  peak = workers > 1 ? peak : await peakGb();
  console.log(JSON.stringify({ total_s: total, stages, top1, peak_gb: peak, workers }));
} else {
  console.error("usage: _table_slice.ts prepare|run --base DIR [--store DIR] [--export FILE]");
  Deno.exit(2);
}

/** A unit's stage name in the printed seconds (the sampled sets by method). */
function stageOf(u: Unit): string {
  return u.kind !== "sample"
    ? u.kind
    : `sample_${u.recipe.guidance ? "mgd3" : u.recipe.strength !== null ? "d4m" : "dit"}`;
}

/** Peak resident set of this process (VmHWM), in GB; NaN off Linux. */
async function peakGb(): Promise<number> {
  try {
    const m = /VmHWM:\s*(\d+) kB/.exec(await Deno.readTextFile("/proc/self/status"));
    return m ? Number(m[1]) * 1024 / 1e9 : NaN;
  } catch {
    return NaN;
  }
}

/** Copies a store directory (files and folders) to a new place. */
async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

/** The real images of both splits as U8 [n, 3, S, S] per class (the PyTorch side has no JPEG decoder). */
async function exportImages(path: string): Promise<void> {
  const tensors: Record<string, Tensor> = {};
  let classes: string[] = [];
  for (const [split, dir] of [["train", v.data!], ["val", v.val!]] as const) {
    const items = await listImageFolder(dir);
    classes = [...new Set(items.map((it) => it.className))];
    for (const [c, name] of classes.entries()) {
      const mine = items.filter((it) => it.classIndex === c);
      const { images } = await loadImages(mine, {
        size: IMAGE_SIZE.cpu,
        mode: "resize_center_crop",
        range: "[0,1]",
      }); // [n, 3, S, S]
      const data = Uint8Array.from(images.data, (x) => Math.round(x * 255));
      tensors[`${split}.${name}`] = { dtype: "U8", shape: images.shape, data };
    }
  }
  await writeSafetensors(path, tensors, { classes: JSON.stringify(classes) });
}
