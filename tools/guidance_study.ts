/**
 * `deno task study:guidance` (issue 19): how the cpu-scale model's samples respond to mode
 * guidance. Encodes the shipped ImageNette-64 subset, finds IPC k-means modes per class, then
 * samples one set per grid point (CFG x variance x lambda x t_stop, and lambda 0 = unguided from
 * the same noise) and measures mode coverage in latent and t-SNE space, the shift from the
 * unguided twin, and a judge's accuracy on the decoded samples (eval/guidance_response.ts). No
 * classifier is trained on the samples. Resumable: the store keeps samples and the judge, and
 * `<out>/results.json` is written after every grid point.
 *
 * Writes `<out>/results.json`, `<out>/results.md` and `<out>/guidance_response.png`.
 *
 * Usage: deno task study:guidance [--out docs/guidance_study] [--store .store/guidance]
 *        [--lambda 0.1,0.3,1,3] [--t-stop 25,0] [--cfg 4.0] [--variance fixed_small]
 *        [--ipc 10] [--classes a,b] [--steps 50] [--seed 0] [--tsne-seed 42|none]
 *        [--judge train|none] [--judge-data DIR] [--judge-model resnet-18-bn]
 *        [--judge-epochs 12] [--judge-per-class N]
 */
import { parseArgs } from "node:util";
import { Store } from "../stages/store/store.ts";
import { encode } from "../stages/encode.ts";
import { discover } from "../stages/discover.ts";
import { ALL } from "../stages/store/shard.ts";
import { setProgressMode } from "../stages/progress.ts";
import { loadScale, SHIPPED_CPU_MODEL } from "../models/scales/mod.ts";
import { parseDecimal } from "../models/core/decimal.ts";
import type { VarianceType } from "../models/diffusion/sampling.ts";
import { type GuidanceResponse, guidanceResponse } from "../eval/guidance_response.ts";
import { guidancePlot } from "../eval/plots/guidance_plot.ts";
import { makeJudge } from "./_judge.ts";
import { guidanceMarkdown, guidancePoints, pullDiagnostics } from "./_guidance_report.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const { values: v } = parseArgs({
  args: Deno.args,
  strict: true,
  options: {
    store: { type: "string", default: `${ROOT}.store/guidance` },
    out: { type: "string", default: `${ROOT}docs/guidance_study` },
    model: { type: "string", default: SHIPPED_CPU_MODEL },
    data: { type: "string", default: `${ROOT}data/imagenette-64` },
    classes: { type: "string" },
    ipc: { type: "string", default: "10" },
    seed: { type: "string", default: "0" },
    steps: { type: "string", default: "50" },
    cfg: { type: "string", default: "4.0" },
    variance: { type: "string", default: "fixed_small" },
    lambda: { type: "string", default: "0.1,0.3,1,3" },
    "t-stop": { type: "string", default: "25,0" },
    "tsne-seed": { type: "string", default: "42" },
    judge: { type: "string", default: "train" },
    "judge-data": { type: "string", default: `${ROOT}../shared/data/imagenette2-224` },
    "judge-model": { type: "string", default: "resnet-18-bn" },
    "judge-epochs": { type: "string", default: "12" },
    "judge-per-class": { type: "string" },
    progress: { type: "string", default: "auto" },
    help: { type: "boolean", short: "h" },
  },
});
if (v.help) {
  console.log(
    "Usage: deno task study:guidance [--out DIR] [--store DIR] [--lambda 0.1,0.3,1,3] [--t-stop 25,0]\n" +
      "       [--cfg 4.0] [--variance fixed_small,fixed_large] [--ipc 10] [--classes a,b] [--steps 50]\n" +
      "       [--seed 0] [--tsne-seed 42|none] [--judge train|none] [--judge-data DIR]\n" +
      "       [--judge-model resnet-18-bn] [--judge-epochs 12] [--judge-per-class N]",
  );
  Deno.exit(0);
}
const num = (flag: string, s: string, kind: "integer" | "float", min: number) => {
  const n = parseDecimal(s.trim(), kind);
  if (n === null || n < min) {
    throw new RangeError(`--${flag}: '${s}' is not a plain decimal ${kind} >= ${min}`);
  }
  return n;
};
const list = (flag: string, kind: "integer" | "float", min: number) =>
  (v[flag as keyof typeof v] as string).split(",").map((s) => num(flag, s, kind, min));
const VARIANCES = ["fixed_small", "fixed_large"];
const variances = v.variance!.split(",").map((s) => {
  if (!VARIANCES.includes(s)) {
    throw new RangeError(`--variance: '${s}' is not one of ${VARIANCES.join(", ")}`);
  }
  return s as VarianceType;
});
if (!["train", "none"].includes(v.judge!)) {
  throw new RangeError(`--judge must be 'train' or 'none', got '${v.judge}'`);
}
const ipc = num("ipc", v.ipc!, "integer", 2);
const seed = num("seed", v.seed!, "integer", 0);
const steps = num("steps", v.steps!, "integer", 1);
const tsneSeed = v["tsne-seed"] === "none" ? null : num("tsne-seed", v["tsne-seed"]!, "integer", 0);
setProgressMode(v.progress as "auto");
const start = performance.now();
const say = (s: string) =>
  console.error(`[study ${((performance.now() - start) / 1000).toFixed(0)}s] ${s}`);

const scale = await loadScale({ scale: "cpu", model: v.model! });
const classes = v.classes ? v.classes.split(",") : [...scale.classes!];
const store = await Store.open(v.store!);
await Deno.mkdir(v.out!, { recursive: true });
say("encoding the training images and finding the modes (k-means, k = IPC)");
await encode(store, scale, { data: `${v.data}/train`, classes, out: "latents/train" });
await discover(store, {
  latents: "latents/train",
  out: `modes/ipc${ipc}`,
  modes: { method: "kmeans", k: ipc, seed: 0 },
  shard: ALL,
  overwrite: false,
});
const judge = v.judge === "train"
  ? await makeJudge(store, {
    data: v["judge-data"]!,
    classes,
    model: v["judge-model"]!,
    epochs: num("judge-epochs", v["judge-epochs"]!, "integer", 1),
    perClass: v["judge-per-class"] === undefined
      ? null
      : num("judge-per-class", v["judge-per-class"], "integer", 1),
    imageSize: scale.codec.imageSize,
    say,
  })
  : null;
try {
  await guidanceResponse(store, scale, {
    latents: "latents/train",
    modes: `modes/ipc${ipc}`,
    cfgs: list("cfg", "float", 1),
    variances,
    lambdas: list("lambda", "float", 0).filter((x) => x > 0),
    tStops: list("t-stop", "integer", 0),
    steps,
    seed,
    tsneSeed,
    ...(judge ? { judge: judge.top1 } : {}),
    checkpoint: `${v.out}/results.json`,
    onPoint: (p) =>
      say(
        `CFG ${p.cfg} ${p.variance} lambda ${p.lambda} t_stop ${p.tStop ?? "-"}: to mode ${
          p.coverage[0].meanToMode.toFixed(3)
        }, own nearest ${(100 * p.coverage[0].guidedNearestShare).toFixed(0)}%, covered ${
          p.coverage[0].covered
        }/${p.coverage[0].modes}, shift ${p.shiftFromUnguided.toFixed(3)}, judge ${
          p.judgeTop1?.toFixed(1) ?? "-"
        }`,
      ),
  });
  // Every point in the file (earlier runs over other grids included).
  const r: GuidanceResponse = JSON.parse(await Deno.readTextFile(`${v.out}/results.json`));
  const plot = await guidancePlot(guidancePoints(r), {
    title: `Guidance response of ${scale.modelId} (IPC ${ipc}, ${classes.length} classes)`,
  });
  await Deno.writeFile(`${v.out}/guidance_response.png`, plot.png);
  const md = guidanceMarkdown(r, {
    command: `deno task study:guidance ${Deno.args.join(" ")}`.trim(),
    judge: judge?.summary ?? "no judge (--judge none)",
    pull: pullDiagnostics(steps, scale.sampling.trainSteps, list("t-stop", "integer", 0)),
  });
  await Deno.writeTextFile(`${v.out}/results.md`, md);
  console.log(md);
  say(`written ${v.out}/results.{json,md} and guidance_response.png`);
} finally {
  await judge?.release();
  await scale.release();
}
