/**
 * Whole-experiment benchmark (`deno task bench:tables`, issue 20): a fixed slice of Table 1
 * (ImageNette IPC 10, seed 0, the four methods Random, DiT, DiT + D4M init, DiT + MGD3; cpu
 * protocol: the shipped cpu U-Net, TAEF2 at 64 px, ConvNet-4 hard-label evaluations) timed
 * end to end from an encoded store, against the same slice in PyTorch
 * (tools/bench/table_slice_ref.py), on the same cores, alternating: ours, ref, ours, ref ...
 *
 * Each side is a child process (ours: bench/_table_slice.ts through `runTable`; ref: Debian's
 * /usr/bin/python3 with `OMP_WAIT_POLICY=PASSIVE`), so its peak RSS (VmHWM) is its own. A side's
 * seconds are the child's wall clock (start-up and model loading included). The store with the
 * latents and the reference's inputs (the real images as U8, it has no JPEG decoder) are made
 * first, untimed. Prints:
 *
 *   table1-ipc10-s0 ours_s=<x> ref_s=<y> ratio=<x/y> ours_peak_gb=<a> ref_peak_gb=<b>
 *
 * then each side's seconds per stage and its top-1 per method (a sanity check: different random
 * streams, so they need not match). Medians when MGD3_BENCH_ITERS > 1. Without torch or a
 * taesd checkout (MGD3_TAESD_REF, default /work/.refs/taesd): `ref_s=na`.
 *
 * Run: deno run -A bench/tables_bench.ts [--epochs E] [--data DIR] [--val DIR] [--model FILE]
 *      [--work DIR] [--keep] [--workers N]   (default epochs: the protocol's, 40 at IPC 10;
 *      `--workers N`: our side runs as N claiming processes, as `reproduce --workers N`, and its
 *      peak is the sum of theirs; the PyTorch side stays one process)
 *
 * @module
 */
import { parseArgs } from "node:util";
import { cpuEpochs } from "../eval/protocols/hard_label_protocol.ts";
import { median, PYTHON } from "./_reference.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const OURS = `${ROOT}bench/_table_slice.ts`;
const REF = `${ROOT}tools/bench/table_slice_ref.py`;
const NAME = "table1-ipc10-s0";
const IPC = 10;
const CLASSES = 10;

/** What one side's run printed (its last line, JSON), with the wall clock around it. */
interface SideRun {
  wall: number;
  total_s: number;
  stages: Record<string, number>;
  top1: Record<string, number | null>;
  peak_gb: number;
}

const { values: v } = parseArgs({
  args: Deno.args,
  strict: true,
  options: {
    epochs: { type: "string" },
    data: { type: "string", default: `${ROOT}data/imagenette-64/train` },
    val: { type: "string", default: `${ROOT}data/imagenette-64/val` },
    model: { type: "string", default: `${ROOT}weights/cpu_unet.safetensors` },
    work: { type: "string" },
    keep: { type: "boolean", default: false },
    workers: { type: "string", default: "1" },
  },
});
const epochs = v.epochs ? Number(v.epochs) : cpuEpochs(IPC, CLASSES);
if (!(Number.isInteger(epochs) && epochs >= 1)) {
  throw new RangeError(`bench:tables: --epochs takes an integer >= 1, got '${v.epochs}'`);
}
const iters = Number(Deno.env.get("MGD3_BENCH_ITERS") ?? 1);
const work = v.work ?? await Deno.makeTempDir({ prefix: "mgd3-bench-tables-" });
const base = `${work}/base`;
const inputs = `${work}/inputs.safetensors`;
const paths = ["--data", v.data!, "--val", v.val!, "--model", v.model!];

/** Runs a child to its end; its last stdout line parsed as JSON, or why it failed. */
async function child(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ run?: SideRun; failed?: string }> {
  const t0 = performance.now();
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const wall = (performance.now() - t0) / 1000;
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  const last = lines[lines.length - 1] ?? "";
  if (!out.success || !last.startsWith("{")) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join("\n");
    return { failed: `${last || "no output"}${err ? `\n${err}` : ""}` };
  }
  return { run: { wall, ...JSON.parse(last) } as SideRun };
}

const deno = Deno.execPath();
console.error(`bench:tables: preparing the encoded store and the reference's inputs in ${work}`);
const prep = await child(deno, [
  "run",
  "-A",
  OURS,
  "prepare",
  "--base",
  base,
  "--export",
  inputs,
  ...paths,
]);
if (prep.failed) throw new Error(`bench:tables: preparing failed: ${prep.failed}`);

const ours: SideRun[] = [];
const refs: SideRun[] = [];
let refWhy: string | null = null;
for (let i = 0; i < iters; i++) {
  const store = `${work}/ours-${i}`;
  const o = await child(deno, [
    "run",
    "-A",
    OURS,
    "run",
    "--base",
    base,
    "--store",
    store,
    "--epochs",
    `${epochs}`,
    "--workers",
    v.workers!,
    ...paths,
  ]);
  if (o.failed) throw new Error(`bench:tables: our run failed: ${o.failed}`);
  ours.push(o.run!);
  console.error(`ours ${i + 1}/${iters}: ${JSON.stringify(o.run)}`);
  await Deno.remove(store, { recursive: true });
  if (refWhy !== null) continue;
  const r = await child(PYTHON, [
    REF,
    "--base",
    base,
    "--inputs",
    inputs,
    "--model",
    v.model!,
    "--epochs",
    `${epochs}`,
  ], { OMP_WAIT_POLICY: "PASSIVE" }).catch((e): { run?: SideRun; failed?: string } => ({
    failed: `${e}`,
  }));
  if (r.failed) {
    refWhy = r.failed.split("\n")[0];
    console.error(`ref: ${r.failed}`);
    continue;
  }
  refs.push(r.run!);
  console.error(`ref ${i + 1}/${iters}: ${JSON.stringify(r.run)}`);
}
if (!v.keep && !v.work) await Deno.remove(work, { recursive: true });

const med = (runs: SideRun[], f: (r: SideRun) => number) => median(runs.map(f));
const oursS = med(ours, (r) => r.wall);
const refS = refs.length ? med(refs, (r) => r.wall) : NaN;
const fmt = (x: number, d: number) => Number.isFinite(x) ? x.toFixed(d) : "na";
console.log(
  `${NAME} ours_workers=${v.workers} ours_s=${fmt(oursS, 1)} ref_s=${fmt(refS, 1)} ratio=${
    fmt(oursS / refS, 2)
  } ` +
    `ours_peak_gb=${fmt(med(ours, (r) => r.peak_gb), 2)} ref_peak_gb=${
      refs.length ? fmt(med(refs, (r) => r.peak_gb), 2) : "na"
    }`,
);
for (const [side, runs] of [["ours", ours], ["ref", refs]] as const) {
  if (!runs.length) {
    console.log(`  ref: not run (${refWhy})`);
    continue;
  }
  const stages = Object.keys(runs[0].stages).map((k) =>
    `${k.replaceAll(" ", "_")}=${med(runs, (r) => r.stages[k] ?? NaN).toFixed(1)}`
  );
  const startup = med(runs, (r) => r.wall - r.total_s);
  const summed = side === "ours" && v.workers !== "1" ? " (summed over the workers)" : "";
  console.log(
    `  ${side} stages_s${summed}: ${stages.join(" ")} startup+load=${startup.toFixed(1)}`,
  );
  const top1 = Object.entries(runs[0].top1).map(([k, x]) => `${k}=${fmt(x ?? NaN, 1)}`);
  console.log(`  ${side} top1 (epochs ${epochs}): ${top1.join(" ")}`);
}
