/**
 * Where the time of a table goes: runs a slice of a table (its own store, so every unit runs)
 * with the runner's profiling hooks and prints the wall-clock seconds per unit kind, and for
 * the hard-label evaluations per network: seconds per training epoch and per validation pass
 * (from the epochs with and without a validation; needs at least 10 epochs, so that the cpu
 * protocol's `every floor(E/5)` leaves epochs unvalidated). Writes the numbers as JSON too.
 *
 * Usage: deno run -A tools/profile_table.ts table1 [--ipc 10] [--seeds 0] [--epochs 10]
 *        [--store .store/profile] [--data DIR --val DIR] [--model FILE] [--classes a,b]
 *        [--out FILE.json]
 *
 * The per-unit costs of sampling, decoding and evaluation do not depend on how many real
 * images the train folder holds (an IPC-10 set is 10 images per class whatever the data; the
 * cpu protocol validates on the first 50 val images per class), so the shipped ImageNette-64
 * subset (the default data) gives the same per-unit costs as full ImageNette; only encode and
 * discover scale with it.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Store } from "../stages/store/store.ts";
import { setProgressMode } from "../stages/progress.ts";
import { runTable } from "../eval/tables/run_table.ts";
import { TABLES } from "../eval/tables/tables.ts";
import type { Unit } from "../eval/tables/units.ts";
import type { EpochInfo } from "../eval/protocols/hard_label.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** Epochs below which every cpu-protocol epoch is validated (evalEvery = floor(E/5) >= 2). */
const MIN_SPLIT_EPOCHS = 10;

const { values: v, positionals } = parseArgs({
  args: Deno.args,
  strict: true,
  allowPositionals: true,
  options: {
    ipc: { type: "string", default: "10" },
    seeds: { type: "string", default: "0" },
    epochs: { type: "string" },
    store: { type: "string", default: ".store/profile" },
    data: { type: "string", default: `${ROOT}data/imagenette-64/train` },
    val: { type: "string", default: `${ROOT}data/imagenette-64/val` },
    model: { type: "string", default: `${ROOT}weights/cpu_unet.safetensors` },
    classes: { type: "string" },
    out: { type: "string" },
  },
});
const table = TABLES[positionals[0] ?? ""];
if (!table) {
  console.error(`profile_table: give a table (${Object.keys(TABLES).join(", ")})`);
  Deno.exit(2);
}
const ints = (name: string, text: string) =>
  text.split(",").map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) {
      console.error(`profile_table: --${name} takes integers >= 0, got '${text}'`);
      Deno.exit(2);
    }
    return n;
  });
const epochs = v.epochs === undefined ? undefined : ints("epochs", v.epochs)[0];
if (epochs !== undefined && epochs < MIN_SPLIT_EPOCHS) {
  console.error(
    `profile_table: epochs below ${MIN_SPLIT_EPOCHS} validate every epoch; the split ` +
      "into training and validation needs unvalidated epochs",
  );
}
setProgressMode("silent");

/** Per unit kind (evaluations per network): units run and their seconds. */
const kinds = new Map<string, { units: number; seconds: number }>();
/** Epoch durations of one evaluation (the first apart: it loads images and builds sessions). */
interface Epochs {
  first: number[];
  train: number[];
  validated: number[];
}
const none = (): Epochs => ({ first: [], train: [], validated: [] });
/** Per evaluation kind: its epochs' durations. */
const epochTimes = new Map<string, Epochs>();
let pending = none();
let epochStart = performance.now();
const start = performance.now();

const kindOf = (u: Unit) => u.kind === "eval" ? `eval ${u.protocol} ${u.network}` : u.kind;
const store = await Store.open(v.store!);
await runTable(store, table, {
  scale: "cpu",
  models: { scale: "cpu", model: v.model! },
  data: { train: v.data, val: v.val },
  seeds: ints("seeds", v.seeds!),
  ipcs: ints("ipc", v.ipc!),
  ...(epochs !== undefined ? { epochs } : {}),
  ...(v.classes ? { classes: v.classes.split(",") } : {}),
  log: (line) => {
    console.error(line);
    epochStart = performance.now(); // a unit starts after its progress line
  },
  profile: {
    onUnit: (u, seconds) => {
      const k = kindOf(u);
      const e = kinds.get(k) ?? { units: 0, seconds: 0 };
      kinds.set(k, { units: e.units + 1, seconds: e.seconds + seconds });
      if (u.kind === "eval") {
        const t = epochTimes.get(k) ?? none();
        for (const f of ["first", "train", "validated"] as const) t[f].push(...pending[f]);
        epochTimes.set(k, t);
      }
      pending = none();
    },
    onEpoch: (e: EpochInfo) => {
      const now = performance.now();
      const s = (now - epochStart) / 1000;
      (e.epoch === 1 ? pending.first : e.top1 === null ? pending.train : pending.validated).push(s);
      epochStart = now;
    },
  },
});
const total = (performance.now() - start) / 1000;
const mean = (a: number[]) => a.length ? a.reduce((p, q) => p + q, 0) / a.length : NaN;
const cpu = await lscpu();
const lines = [
  `Profile of ${table.id}, IPC ${v.ipc}, seeds ${v.seeds}, epochs ${epochs ?? "protocol"}; ` +
  `${cpu}; total ${total.toFixed(0)} s`,
  "",
  "| unit kind | units | seconds | share |",
  "| --- | ---: | ---: | ---: |",
  ...[...kinds].sort((a, b) => b[1].seconds - a[1].seconds).map(([k, e]) =>
    `| ${k} | ${e.units} | ${e.seconds.toFixed(1)} | ${(100 * e.seconds / total).toFixed(0)}% |`
  ),
];
const evals = [...epochTimes].map(([kind, t]) => {
  const train = mean(t.train);
  return {
    kind,
    units: t.first.length,
    trainEpoch: train,
    validation: mean(t.validated) - train,
    setup: mean(t.first) - train,
  };
});
if (evals.length) {
  lines.push(
    "",
    "| evaluation | units | s per training epoch | s per validation | first-epoch setup s |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...evals.map((e) =>
      `| ${e.kind} | ${e.units} | ${e.trainEpoch.toFixed(2)} | ${e.validation.toFixed(2)} | ${
        e.setup.toFixed(2)
      } |`
    ),
  );
}
console.log(lines.join("\n"));
if (v.out) {
  const json = { table: table.id, cpu, total, kinds: Object.fromEntries(kinds), evals };
  await Deno.writeTextFile(v.out, JSON.stringify(json, null, 2) + "\n");
}

/** lscpu's model name and the cores visible. */
async function lscpu(): Promise<string> {
  try {
    const out = await new Deno.Command("lscpu", { stdout: "piped", stderr: "null" }).output();
    const m = /Model name:\s*(.+)/.exec(new TextDecoder().decode(out.stdout));
    return `${m ? m[1].trim() : "unknown CPU"}, ${navigator.hardwareConcurrency} cores`;
  } catch {
    return "unknown CPU";
  }
}
