/**
 * `deno task demo`: the whole MGD3 pipeline at the cpu scale on the shipped ImageNette-64
 * subset, with the toolkit's own latent diffusion model and TAEF2:
 * encode -> k-means modes -> MGD3 sampling at IPC 10 (and the unguided baseline) -> decode
 * -> a short hard-label evaluation of both on the shipped val images -> t-SNE, diversity,
 * representativeness -> a report (markdown and a self-contained HTML page).
 * Everything lives in a store, so a rerun reuses what is already there.
 *
 * Usage: deno run -A examples/demo.ts [--store .store/demo] [--model weights/cpu_unet.safetensors]
 *        [--epochs N] [--classes a,b] [--ipc 10] [--seed 0]
 */
import { parseArgs } from "node:util";
import { encodeBase64 } from "../models/core/base64.ts";
import { parseDecimal } from "../models/core/decimal.ts";
import { Store } from "../stages/store/store.ts";
import { encode } from "../stages/encode.ts";
import { discover } from "../stages/discover.ts";
import { sample, SAMPLE_DEFAULTS } from "../stages/sample.ts";
import { decode, DECODE_DEFAULTS } from "../stages/decode.ts";
import { ALL } from "../stages/store/shard.ts";
import { setProgressMode } from "../stages/progress.ts";
import { loadScale, SHIPPED_CPU_MODEL } from "../models/scales/mod.ts";
import { hardLabelEval } from "../eval/protocols/hard_label.ts";
import { formatDiversityTable } from "../eval/metrics/diversity_table.ts";
import { measure } from "../eval/measure.ts";
import { COVERAGE_LEGEND, formatCoverageTable } from "../eval/metrics/coverage_table.ts";
import { codeVersion, formatVersion } from "../stages/store/version.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const { values: v } = parseArgs({
  args: Deno.args,
  strict: true,
  options: {
    store: { type: "string", default: ".store/demo" },
    model: { type: "string", default: SHIPPED_CPU_MODEL },
    data: { type: "string", default: `${ROOT}data/imagenette-64` },
    classes: { type: "string" },
    ipc: { type: "string", default: "10" },
    seed: { type: "string", default: "0" },
    epochs: { type: "string" },
    "tsne-classes": { type: "string", default: "10" },
    progress: { type: "string", default: "auto" },
    help: { type: "boolean", short: "h" },
  },
});
if (v.help) {
  console.log(
    "Usage: deno task demo [--store DIR] [--model FILE] [--data DIR] [--classes a,b] [--ipc N] [--seed N] [--epochs N]",
  );
  Deno.exit(0);
}
/** A decimal-integer flag >= min; anything else ("0x2", "1e1") exits with status 2. */
function int(name: string, text: string, min: number): number {
  const n = parseDecimal(text, "integer");
  if (n === null || n < min) {
    console.error(`demo: --${name} must be a decimal integer >= ${min}, got '${text}'`);
    Deno.exit(2);
  }
  return n;
}
const ipc = int("ipc", v.ipc!, 1);
const seed = int("seed", v.seed!, 0);
const epochs = v.epochs === undefined ? undefined : int("epochs", v.epochs, 1);
const tsneClasses = int("tsne-classes", v["tsne-classes"]!, 0);
setProgressMode(v.progress as "auto");
const start = performance.now();
const say = (s: string) =>
  console.error(`[demo ${((performance.now() - start) / 1000).toFixed(0)}s] ${s}`);

// 0. The cpu scale: the model file carries the U-Net, the TAEF2 image size, the latent
// normalisation and the classes; the scale adds the sampling settings that fit the U-Net.
await Deno.stat(v.model!).catch(() => {
  throw new Error(
    `No model file at ${v.model}: train one with 'deno task train:model' or pass --model`,
  );
});
const scale = await loadScale({ scale: "cpu", model: v.model! });
const training = scale.provenance.training;
const classes = v.classes ? v.classes.split(",") : [...scale.classes!];
const store = await Store.open(v.store!);

// 1. Encode the shipped train images; 2. k-means modes (k = IPC).
say("encoding the training images with TAEF2");
await encode(store, scale, { data: `${v.data}/train`, classes, out: "latents/train" });
say("finding the modes (k-means, k = IPC)");
await discover(store, {
  latents: "latents/train",
  out: `modes/ipc${ipc}`,
  modes: { method: "kmeans", k: ipc, seed: 0 },
  shard: ALL,
  overwrite: false,
});

// 3. Sample MGD3 and the unguided baseline; 4. decode both.
const methods = { MGD3: SAMPLE_DEFAULTS.guidance, DiT: null } as const;
const folders: Record<string, string> = {};
const sheets: Record<string, string> = {};
for (const [name, guidance] of Object.entries(methods)) {
  say(
    `sampling ${name} (IPC ${ipc}, CFG 4.0, ${
      guidance ? "lambda 0.1, t_stop 25" : "no mode guidance"
    })`,
  );
  await sample(store, scale, {
    modes: `modes/ipc${ipc}`,
    out: `samples/${name}-s${seed}`,
    model: `unet:${training.code ?? "?"}:${training.steps ?? "?"}`,
    guidance,
    seed,
  });
  const d = await decode(store, scale.codec, {
    ...DECODE_DEFAULTS,
    samples: `samples/${name}-s${seed}`,
    out: `distilled/${name}-s${seed}`,
  });
  folders[name] = d.imageFolder;
  sheets[name] = d.contactSheet!;
}
// Nothing after this needs the models (measure reads the store): free the codec and the U-Net
// before the evaluations, whose training sessions are the run's largest memory.
await scale.release();

// 5. A short hard-label evaluation of each distilled set on the shipped val images.
const accuracy: Record<string, { mean: number; epochs: number }> = {};
for (const name of Object.keys(methods)) {
  say(`hard-label evaluation of ${name} (ConvNet-4 at 64 px, real val images)`);
  const r = await hardLabelEval(store, {
    name: `eval/${name}-s${seed}`,
    scale: "cpu",
    train: folders[name],
    val: `${v.data}/val`,
    classes,
    model: "convnet",
    seeds: [0],
    lowMemory: true, // two onnxruntime arenas at a time: the demo stays under 2 GB
    ...(epochs !== undefined ? { epochs } : {}),
  });
  accuracy[name] = { mean: r.mean, epochs: r.protocol.epochs };
}

// 6. t-SNE per class of the latents of originals, both synthetic sets and the modes.
say("t-SNE, diversity and representativeness per class");
const metrics = await measure(store, {
  latents: "latents/train",
  samples: Object.fromEntries(Object.keys(methods).map((m) => [m, `samples/${m}-s${seed}`])),
  modes: `modes/ipc${ipc}`,
  out: `metrics/s${seed}`,
  embedding: "tsne",
  seed: 42, // sklearn TSNE random_state=42 (SPEC section 5)
});
const table = metrics.table;
const plots: string[] = [];
for (
  const shard of (await (await store.open("latents/train")).shards()).slice(0, tsneClasses)
) {
  plots.push(await Deno.readTextFile(`${metrics.artifact}/plots/${shard}_tsne.svg`));
}

// 7. The report.
const code = formatVersion(await codeVersion());
const report = await store.artifact(`report/demo-s${seed}`, {
  kind: "report",
  options: { classes, ipc, model: v.model, code },
  seed,
  overwrite: true,
});
const accLines = Object.entries(accuracy).map(([m, a]) =>
  `| ${m} | ${a.mean.toFixed(1)} | ${a.epochs} |`
);
const md = [
  `# MGD3 demo (cpu scale)`,
  "",
  `ImageNette-64 subset, ${classes.length} classes, IPC ${ipc}, seed ${seed}; model ${v.model} (${training.steps} training steps); code ${code}.`,
  `These are cpu-scale numbers (64 px, TAEF2, the toolkit's own U-Net, a short ConvNet-4 schedule, one run): they compare methods with each other, not with the paper's 224 px numbers.`,
  "",
  "## Hard-label accuracy on the real val images (top-1 %)",
  "",
  "| method | top-1 | epochs |",
  "| --- | --- | --- |",
  ...accLines,
  "",
  "## Class-wise average diversity (paper Table 9 layout, min-max normalised)",
  "",
  formatDiversityTable(table),
  "",
  "## Mode coverage of MGD3 and of the unguided set (same noise, same modes)",
  "",
  metrics.coverage ? formatCoverageTable(metrics.coverage) : "not measured",
  "",
  COVERAGE_LEGEND,
  "",
  `Contact sheets: ${Object.values(sheets).join(", ")}`,
  "",
].join("\n");
const png = async (p: string) => `data:image/png;base64,${encodeBase64(await Deno.readFile(p))}`;
const html = `<!doctype html><html><head><meta charset="utf-8"><title>MGD3 demo</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}img{image-rendering:pixelated;max-width:100%}.plots svg{display:inline-block}</style></head><body>
<h1>MGD3 demo (cpu scale)</h1><p>${md.split("\n")[2]}</p><p>${md.split("\n")[3]}</p>
<h2>Hard-label accuracy (top-1 %)</h2><table><tr><th>method</th><th>top-1</th><th>epochs</th></tr>${
  Object.entries(accuracy).map(([m, a]) =>
    `<tr><td>${m}</td><td>${a.mean.toFixed(1)}</td><td>${a.epochs}</td></tr>`
  ).join("")
}</table>
${
  (await Promise.all(
    Object.entries(sheets).map(async ([m, p]) =>
      `<h2>${m} samples (a row per class)</h2><img src="${await png(p)}">`
    ),
  )).join("\n")
}
<h2>t-SNE of the VAE latents per class</h2><div class="plots">${plots.join("\n")}</div>
<h2>Class-wise average diversity</h2><pre>${formatDiversityTable(table)}</pre>
<h2>Mode coverage (MGD3 and the unguided set, same noise and modes)</h2><pre>${
  metrics.coverage ? formatCoverageTable(metrics.coverage) : "not measured"
}</pre><p>${COVERAGE_LEGEND}</p></body></html>`;
await report.writeFile("report.md", md);
const htmlPath = await report.writeFile("report.html", html);
await report.writeJson("report.json", {
  accuracy,
  diversity: table as unknown as Record<string, unknown>,
  coverage: metrics.coverage?.rows ?? null,
  classes,
  ipc,
  seed,
});
console.log(md);
console.log(
  `Report: ${htmlPath} (and report.md beside it); ${
    ((performance.now() - start) / 1000).toFixed(0)
  } s`,
);
