/**
 * `mgd3 eval` (hard-label or soft-label training of a classifier on a distilled set, tested on
 * real validation images) and `mgd3 metrics` (t-SNE, diversity, representativeness, Table 9, and
 * with `--modes` the mode coverage in latent and t-SNE space, `coverage.json` and `coverage.md`).
 *
 * @module
 */
import { type Command, UsageError } from "./command.ts";
import { classesFlag, intFlag, OUT_FLAG, OVERWRITE_FLAG, required, STORE_FLAG } from "./_flags.ts";
import { Store } from "../stages/store/store.ts";
import { hardLabelEval } from "../eval/protocols/hard_label.ts";
import { softLabelEval } from "../eval/protocols/soft_label.ts";
import { measure } from "../eval/measure.ts";

const seedsOf = (text: string) => text.split(",").map((s) => intFlag("seeds", s, 0));

/** `mgd3 eval`. */
export const evalCommand: Command = {
  name: "eval",
  summary:
    "Train a classifier from scratch on a distilled ImageFolder and test it on real val images.",
  flags: {
    store: {
      type: "string",
      default: ".store",
      description: "store directory (results and checkpoints)",
    },
    name: { type: "string", description: "result artifact, e.g. eval/imagenette-ipc10-mgd3" },
    protocol: {
      type: "string",
      default: "hard",
      choices: ["hard", "soft"],
      description: "hard-label (MinimaxDiffusion/IDC) or soft-label (RDED)",
    },
    scale: {
      type: "string",
      default: "paper",
      choices: ["paper", "cpu"],
      description: "paper: 224 px, SPEC section 4; cpu: 64 px, shorter schedule",
    },
    train: {
      type: "string",
      description: "distilled ImageFolder, or one per seed separated by commas",
    },
    val: { type: "string", description: "real validation ImageFolder" },
    classes: {
      type: "string",
      description:
        "class preset, one wnid, or comma-separated list (default: the train folder's classes)",
    },
    model: {
      type: "string",
      default: "resnetap-10",
      description:
        "network: convnet[-D], resnetap-10, resnet-18, resnet-18-bn, alexnet, vgg11, vit",
    },
    seeds: {
      type: "string",
      default: "0,1,2",
      description: "training seeds, one run each (paper: 3 datasets)",
    },
    epochs: { type: "string", description: "override the protocol's epochs" },
    teacher: {
      type: "string",
      description:
        "soft-label: teacher checkpoint (torchvision resnet18 .pth/.safetensors) or store artifact name",
    },
    overwrite: { type: "boolean", description: "replace results made with other options" },
  },
  positionals: [],
  epilog:
    "Example: mgd3 eval --scale cpu --model convnet --train .store/distilled/MGD3-s0/images --val data/imagenette-64/val --seeds 0",
  async run(v) {
    required(v, "name", "train", "val");
    const store = await Store.open(v.store as string);
    const train = (v.train as string).split(",");
    const common = {
      name: v.name as string,
      scale: v.scale as "paper" | "cpu",
      train: train.length === 1 ? train[0] : train,
      val: v.val as string,
      ...(v.classes ? { classes: classesFlag("classes", v.classes as string) } : {}),
      seeds: seedsOf(v.seeds as string),
      ...(v.epochs ? { epochs: intFlag("epochs", v.epochs as string, 1) } : {}),
      overwrite: Boolean(v.overwrite),
    };
    const r = v.protocol === "hard"
      ? await hardLabelEval(store, { ...common, model: v.model as string })
      : await (async () => {
        required(v, "teacher");
        const t = v.teacher as string;
        const isFile = await Deno.stat(t).then((s) => s.isFile, () => false);
        return await softLabelEval(store, {
          ...common,
          student: v.model as string,
          teacher: isFile ? { checkpoint: t } : { artifact: t },
        });
      })();
    console.log(
      `top-1 ${r.mean.toFixed(2)} ± ${
        r.std.toFixed(2)
      } over ${r.runs.length} runs (IPC ${r.ipc}); results in ${r.artifact}`,
    );
  },
};

/** `mgd3 metrics`. */
export const metricsCommand: Command = {
  name: "metrics",
  summary:
    "t-SNE per class of original and synthetic latents; diversity, representativeness, Table 9, Fig. 6; mode coverage with --modes.",
  flags: {
    store: STORE_FLAG,
    latents: { type: "string", description: "latents of the original images (from encode)" },
    samples: {
      type: "string",
      description:
        "METHOD=ARTIFACT pairs separated by commas, e.g. MGD3=samples/mgd3-s0,DiT=samples/dit-s0",
    },
    modes: {
      type: "string",
      description: "modes artifact the samples were drawn from: marked in the plots, mode coverage",
    },
    out: OUT_FLAG,
    embedding: {
      type: "string",
      default: "tsne",
      choices: ["tsne", "umap"],
      description: "2-D embedding",
    },
    seed: {
      type: "string",
      default: "42",
      description: "embedding seed (sklearn TSNE random_state=42 in the paper)",
    },
    overwrite: OVERWRITE_FLAG,
  },
  positionals: [],
  epilog:
    "Example: mgd3 metrics --latents latents/train --samples MGD3=samples/mgd3-s0,DiT=samples/dit-s0 --out metrics/s0",
  async run(v) {
    required(v, "latents", "samples", "out");
    const samples: Record<string, string> = {};
    for (const pair of (v.samples as string).split(",")) {
      const [m, a] = pair.split("=");
      if (!m || !a) {
        throw new UsageError(`--samples entries must be METHOD=ARTIFACT, got '${pair}'`);
      }
      samples[m] = a;
    }
    const r = await measure(await Store.open(v.store as string), {
      latents: v.latents as string,
      samples,
      ...(v.modes ? { modes: v.modes as string } : {}),
      out: v.out as string,
      embedding: v.embedding as "tsne" | "umap",
      seed: intFlag("seed", v.seed as string, 0),
      overwrite: Boolean(v.overwrite),
    });
    console.log(r.markdown);
    console.log(`plots and per-sample values in ${r.artifact}`);
  },
};
