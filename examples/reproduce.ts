/**
 * `deno task reproduce:<table>`: one paper table, figure or sweep, end to end (encode,
 * discover, sample, decode, evaluate, report), at the cpu scale (the toolkit's own model on
 * ImageNette at 64 px) or at the paper scale (your DiT and AutoencoderKL checkpoints and
 * data). Resumable (rerun the same command), shardable (`--shard i/n` on n workers sharing
 * one store). Prints the markdown table "paper | ours" and writes
 * `<store>/tables/<table>/{results.json,results.md,plots/}` (`tables/<table>-quick` for
 * `--quick`; a hash suffix when --seeds, --epochs, --networks, --classes or --eval-size
 * override the protocol, so no run replaces another settings' report).
 *
 * Usage: deno run -A examples/reproduce.ts TABLE [flags]   (--help for the flags, --list for the tables)
 *
 * @module
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { Store } from "../stages/store/store.ts";
import { parseShard } from "../stages/store/shard.ts";
import { type ProgressMode, setProgressMode } from "../stages/progress.ts";
import { resolveClasses } from "../stages/images/classes.ts";
import { parseDecimal } from "../models/core/decimal.ts";
import { DEFAULT_IMAGENETTE } from "../eval/sanity.ts";
import { QUICK_EPOCH_DIVISOR, runTable } from "../eval/tables/run_table.ts";
import { defaultWorkers, runWorkers, threadsPerWorker } from "../eval/tables/workers.ts";
import { setDefaultThreads } from "../models/graph/session.ts";
import { TABLES } from "../eval/tables/tables.ts";
import { measureCost } from "../eval/tables/cost.ts";
import type { ModelSource } from "../models/scales/mod.ts";
import { fillFromCache, PAPER_ASSET_FLAGS } from "../stages/fetch/paper_assets.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const USAGE = `Usage: deno run -A examples/reproduce.ts TABLE [flags]
Tables: ${Object.keys(TABLES).join(", ")}, cost  (--list describes them)

  --scale cpu|paper     cpu: the toolkit's U-Net on ImageNette at 64 px (default); paper: DiT + VAE
  --quick               one seed, epochs / ${QUICK_EPOCH_DIVISOR} validated once, fewer columns where the table says
  --store DIR           store (default .store/reproduce-<scale>)
  --seeds 0,1,2         seeds of the distilled sets and their runs (default: the table's)
  --epochs N            epochs of every evaluation run (default: the protocol's)
  --shard i/n           worker i of n sharing the store (e.g. a Slurm array job)
  --classes LIST        keep only these classes of each dataset (comma list or preset)
  --networks LIST       evaluate every cell with these networks instead of the table's (at the
                        cpu scale ConvNet-4 stands in for ResNetAP-10 unless --networks says)
  --eval-size N         evaluation image side (default 64 cpu, 224 paper)
  --data DIR --val DIR  train/val ImageFolders (cpu default: ${DEFAULT_IMAGENETTE}/{train,val})
  --imagenet DIR --imagenet-val DIR   ImageNet-1K train/val ImageFolders (wnid folders) for
                        ImageIDC, ImageWoof, ImageNet A..E, ImageNet-100 and ImageNet-1K
  --model FILE          cpu-scale model (default weights/cpu_unet.safetensors)
  --dit FILE --dit-config NAME --vae DIR --image-size N --num-classes N
                        paper scale: DiT checkpoint (DiT-XL/2), AutoencoderKL diffusers folder,
                        image side (256) and DiT classes (1000 = ImageNet ids; else label order)
  --ldm FILE [--ldm-config cin256-v2|FILE.json]
                        paper scale with CompVis's class-conditional LDM (cin256-v2.ckpt: U-Net,
                        VQ-f4 codec and class embedder in one file): fills the LDM rows of
                        Tables 1 and 6 (report tables/<table>-ldm). Assumptions the paper does
                        not state: CFG scale 3.0 (LDM repo's ImageNet sampling), 50 DDPM steps
                        respaced as DiT's, t_stop 25; image side from the config (256)
  --sd DIR [--prompt-template "a photo of a {}"] [--prompts FILE.json]
                        paper scale with text-to-image Stable Diffusion (a diffusers SD 1.x/2.x
                        folder): fills Fig. 4 (a)-(c) (reproduce:fig4, report tables/fig4-sd).
                        Prompts: the ImageNet class names of the wnids (or the --prompts file);
                        DDIM (Algorithm 1) with the folder's scheduler config, 50 steps; CFG 7.5
                        (diffusers' default, an assumption: the paper states none); image side
                        from the folder (sample_size x 8) unless --image-size
  --teacher FILE        soft-label teacher (torchvision resnet18 checkpoint), paper scale
  --fetch               paper scale: download the assets a flag above leaves out (DiT-XL/2,
                        sd-vae-ft-mse, resnet18 teacher, ImageNette) into the cache; without it
                        the cache's copies are used when there, and the missing ones are named
  --cache DIR --mirror DIR|URL   asset cache (default MGD3_CACHE or ~/.cache/mgd3) and mirror
  --minimax FILE        MinMax Diffusion checkpoint (a finetuned DiT; at the cpu scale a model
                        file like --model), sampled like DiT for the MinMax rows (fig4d, fig5, fig8)
  --workers N           worker processes on this machine sharing the cores and the store, each
                        taking whole units as they become ready (default 2 at the cpu scale on
                        2 or more cores, else 1; results do not depend on it)
  --threads N           onnxruntime threads per op (default: cores / workers)
  --poll SECONDS        how often a worker checks for other workers' outputs (default 30 with
                        --shard, 2 with --workers)
  --progress MODE       auto|bar|lines|silent
`;

function usage(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  Deno.exit(2);
}

const OPTIONS = {
  scale: { type: "string", default: "cpu" },
  quick: { type: "boolean", default: false },
  store: { type: "string" },
  seeds: { type: "string" },
  epochs: { type: "string" },
  shard: { type: "string", default: "0/1" },
  classes: { type: "string" },
  networks: { type: "string" },
  "eval-size": { type: "string" },
  data: { type: "string" },
  val: { type: "string" },
  imagenet: { type: "string" },
  "imagenet-val": { type: "string" },
  model: { type: "string", default: `${ROOT}weights/cpu_unet.safetensors` },
  dit: { type: "string" },
  "dit-config": { type: "string", default: "DiT-XL/2" },
  vae: { type: "string" },
  ldm: { type: "string" },
  "ldm-config": { type: "string" },
  sd: { type: "string" },
  prompts: { type: "string" },
  "prompt-template": { type: "string" },
  "image-size": { type: "string" },
  "num-classes": { type: "string", default: "1000" },
  teacher: { type: "string" },
  minimax: { type: "string" },
  threads: { type: "string" },
  workers: { type: "string" },
  claim: { type: "boolean", default: false }, // internal: one of --workers' processes
  poll: { type: "string" },
  progress: { type: "string", default: "auto" },
  fetch: { type: "boolean", default: false },
  cache: { type: "string" },
  mirror: { type: "string" },
  list: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;
let parsed;
try {
  parsed = parseArgs({ args: Deno.args, strict: true, allowPositionals: true, options: OPTIONS });
} catch (e) {
  usage((e as Error).message);
}
const { values: v, positionals } = parsed;

function int(name: string, text: string, min: number): number {
  const n = parseDecimal(text, "integer");
  if (n === null || n < min) usage(`--${name} must be a decimal integer >= ${min}, got '${text}'`);
  return n;
}
const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(p));

if (v.help) {
  console.log(USAGE);
  Deno.exit(0);
}
if (v.list) {
  for (const [name, t] of Object.entries(TABLES)) console.log(`${name.padEnd(8)} ${t.title}`);
  console.log(`${"cost".padEnd(8)} Computational cost (section 5.1): one MGD3 set timed per stage`);
  Deno.exit(0);
}
if (positionals.length !== 1) usage(`Give exactly one TABLE (got ${positionals.length})`);
const isCost = positionals[0] === "cost";
const table = TABLES[positionals[0]];
if (!table && !isCost) usage(`Unknown table '${positionals[0]}'`);
if (v.scale !== "cpu" && v.scale !== "paper") {
  usage(`--scale must be cpu or paper, got '${v.scale}'`);
}
if (!["auto", "bar", "lines", "silent"].includes(v.progress!)) {
  usage(`Bad --progress '${v.progress}'`);
}
const scale = v.scale;
let shard;
try {
  shard = parseShard(v.shard!);
} catch (e) {
  usage((e as Error).message);
}
const list = (text: string | undefined) =>
  text?.split(",").map((s) => s.trim()).filter((s) => s !== "");
let classes: string[] | undefined;
try {
  const c = v.classes?.trim();
  classes = c === undefined
    ? undefined
    : c.includes(",") || /^n\d{8}$/.test(c)
    ? resolveClasses(list(c)!)
    : resolveClasses(c);
} catch (e) {
  usage((e as Error).message);
}
if (scale === "paper") {
  // Flags left out take the cache's assets (DiT-XL/2 only for the DiT-XL/2 at 256 px setting;
  // an LDM run brings its own first stage, so neither the DiT nor the SD-VAE).
  const ditXl = v["dit-config"] === "DiT-XL/2" && (v["image-size"] ?? "256") === "256";
  const wanted = PAPER_ASSET_FLAGS.filter((w) =>
    v.ldm !== undefined || v.sd !== undefined
      ? w.flag !== "dit" && w.flag !== "vae"
      : w.flag !== "dit" || ditXl
  );
  try {
    const r = await fillFromCache(wanted, v, { fetch: v.fetch, cache: v.cache, mirror: v.mirror });
    for (const [flag, path] of Object.entries(r.filled)) {
      (v as Record<string, unknown>)[flag] = path;
      console.error(`reproduce: --${flag} ${path} (from the asset cache)`);
    }
    if (r.hint) console.error(`reproduce: ${r.hint}`);
  } catch (e) {
    console.error(`reproduce ${positionals[0]}: ${(e as Error).message}`);
    Deno.exit(1);
  }
} else if (v.fetch) {
  usage("--fetch gets paper-scale assets; the cpu scale's model and images ship with the toolkit");
}
const seeds = list(v.seeds)?.map((s) => int("seeds", s, 0));
const cores = navigator.hardwareConcurrency;
const workers = v.claim
  ? 1
  : v.workers !== undefined
  ? int("workers", v.workers, 1)
  : shard.count > 1 || isCost
  ? 1
  : defaultWorkers(scale, cores);
if (workers > 1 && shard.count > 1) usage("--workers and --shard do not go together");
const threads = v.threads !== undefined
  ? int("threads", v.threads, 1)
  : workers > 1
  ? threadsPerWorker(workers, cores)
  : undefined;
setDefaultThreads(threads); // the evaluations' and metrics' sessions too
if (v.ldm !== undefined && (scale !== "paper" || v.dit !== undefined)) {
  usage("--ldm needs --scale paper and no --dit");
}
if (v.sd !== undefined && (scale !== "paper" || v.dit !== undefined || v.ldm !== undefined)) {
  usage("--sd needs --scale paper and neither --dit nor --ldm");
}
if ((v.prompts !== undefined || v["prompt-template"] !== undefined) && v.sd === undefined) {
  usage("--prompts and --prompt-template go with --sd");
}
const imageSize = v["image-size"] === undefined ? undefined : int("image-size", v["image-size"], 8);
const ldmConfig = v["ldm-config"];
const models: ModelSource = scale === "cpu"
  ? { scale, model: abs(v.model)!, threads }
  : v.sd !== undefined
  ? {
    scale,
    sd: abs(v.sd)!,
    prompts: abs(v.prompts),
    promptTemplate: v["prompt-template"],
    imageSize,
    threads,
  }
  : v.ldm !== undefined
  ? {
    scale,
    ldm: abs(v.ldm)!,
    ldmConfig: ldmConfig?.endsWith(".json") ? abs(ldmConfig) : ldmConfig,
    imageSize,
    threads,
  }
  : {
    scale,
    dit: abs(v.dit),
    ditConfig: v["dit-config"]!,
    vae: abs(v.vae),
    imageSize: imageSize ?? 256, // DiT-XL/2 + SD-VAE
    numClasses: int("num-classes", v["num-classes"]!, 1),
    threads,
  };
const cpuData = scale === "cpu";
setProgressMode(v.progress as ProgressMode);
const data = {
  train: abs(v.data ?? (cpuData ? `${DEFAULT_IMAGENETTE}/train` : undefined)),
  val: abs(v.val ?? (cpuData ? `${DEFAULT_IMAGENETTE}/val` : undefined)),
  imagenet: abs(v.imagenet),
  imagenetVal: abs(v["imagenet-val"]),
};
if (isCost) {
  // --quick: two classes; the full run: every ImageNette class (or --classes).
  const quickClasses = classes ?? (v.quick ? ["n01440764", "n02102040"] : undefined);
  try {
    const store = await Store.open(abs(v.store ?? `.store/reproduce-${scale}`)!);
    const r = await measureCost(store, {
      models,
      data,
      classes: quickClasses,
      ipc: 10, // ImageNet-100 IPC 10, the paper's cost example
      seed: seeds?.[0] ?? 0,
      name: `tables/cost${v.quick ? "-quick" : ""}`,
      machine: await machineName(),
    });
    console.log(r.markdown);
    console.log(`Written to ${r.dir}`);
  } catch (e) {
    console.error(`reproduce cost: ${(e as Error).message}`);
    Deno.exit(1);
  }
  Deno.exit(0);
}

/** lscpu's model name (the CPU the timings ran on), or "unknown CPU". */
async function machineName(): Promise<string> {
  try {
    const out = await new Deno.Command("lscpu", { stdout: "piped", stderr: "null" }).output();
    const m = /Model name:\s*(.+)/.exec(new TextDecoder().decode(out.stdout));
    return `${m ? m[1].trim() : "unknown CPU"}, ${navigator.hardwareConcurrency} cores visible`;
  } catch {
    return "unknown CPU";
  }
}

let report;
try {
  const store = await Store.open(abs(v.store ?? `.store/reproduce-${scale}`)!);
  if (workers > 1) {
    // Same flags for every worker; each claims whole units, then this process writes the report.
    const rest = stripFlags(Deno.args, ["--workers", "--threads", "--progress"]);
    const progress = v.progress === "auto" ? "lines" : v.progress!;
    console.error(`reproduce: ${workers} workers, ${threads} thread(s) each`);
    await runWorkers({
      store,
      count: workers,
      script: new URL(import.meta.url).pathname,
      args: [...rest, "--claim", "--progress", progress],
      threads: threads!,
    });
  }
  report = await runTable(store, table!, {
    scale,
    models,
    data,
    minimax: abs(v.minimax),
    quick: v.quick,
    seeds,
    epochs: v.epochs === undefined ? undefined : int("epochs", v.epochs, 1),
    networks: list(v.networks),
    classes,
    evalSize: v["eval-size"] === undefined ? undefined : int("eval-size", v["eval-size"], 8),
    teacher: abs(v.teacher),
    shard,
    claim: v.claim,
    pollSeconds: v.poll === undefined ? undefined : int("poll", v.poll, 0),
  });
} catch (e) {
  console.error(`reproduce ${positionals[0]}: ${(e as Error).message}`);
  Deno.exit(1);
}
if (v.claim) Deno.exit(0); // the launcher prints the table
if (report.markdown) {
  console.log(report.markdown);
  console.log(
    workers > 1
      ? `Written to ${report.dir} (${workers} workers ran the units)`
      : `Written to ${report.dir} (${report.ran} units run, ${report.skipped} already done)`,
  );
} else {
  console.log(
    `Shard ${shard.index}/${shard.count}: ${report.ran} units run, ${report.skipped} already done; ` +
      "the table is written when every worker has finished (or rerun without --shard).",
  );
}

/** The arguments without the given flags (and their values: `--flag v` or `--flag=v`). */
function stripFlags(args: string[], flags: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const [name] = args[i].split("=");
    if (!flags.includes(name)) out.push(args[i]);
    else if (!args[i].includes("=")) i++;
  }
  return out;
}
