/**
 * `mgd3 train-model`: trains (or resumes) the cpu-scale latent diffusion model and writes
 * its model file. `deno task train:model` runs it on the full ImageNette train set.
 *
 * @module
 */
import { type Command, UsageError } from "./command.ts";
import { intFlag, numberFlag } from "./_flags.ts";
import { TRAIN_MODEL_DEFAULTS, trainModel } from "../stages/train_model.ts";
import { Store } from "../stages/store/store.ts";
import { loadCodec } from "../models/scales/mod.ts";

/** The `train-model` command. */
export const trainModelCommand: Command = {
  name: "train-model",
  summary: "Train or resume the cpu-scale class-conditional latent U-Net on TAEF2 latents.",
  flags: {
    store: {
      type: "string",
      default: ".store",
      description: "store directory (the run and its checkpoints live there)",
    },
    data: { type: "string", description: "ImageNette train ImageFolder" },
    steps: {
      type: "string",
      default: String(TRAIN_MODEL_DEFAULTS.steps),
      description: "total optimisation steps",
    },
    "batch-size": {
      type: "string",
      default: String(TRAIN_MODEL_DEFAULTS.batchSize),
      description: "batch size",
    },
    lr: {
      type: "string",
      default: String(TRAIN_MODEL_DEFAULTS.lr),
      description: "AdamW learning rate",
    },
    seed: { type: "string", default: "0", description: "training seed" },
    minutes: {
      type: "string",
      description: "stop this run after this many minutes (rerun to resume)",
    },
    "checkpoint-minutes": {
      type: "string",
      default: "5",
      description: "minutes between checkpoints",
    },
    export: {
      type: "string",
      default: TRAIN_MODEL_DEFAULTS.exportPath,
      description: "model file to write (EMA weights, F16)",
    },
    threads: { type: "string", description: "onnxruntime threads per op" },
  },
  positionals: [],
  epilog: "Example: mgd3 train-model --data ../shared/data/imagenette2-224/train --minutes 60",
  async run(v) {
    if (v.data === undefined) {
      throw new UsageError("--data is required (the ImageNette train folder)");
    }
    // Raw (unnormalised) latents of the shipped TAEF2: the model file records their statistics.
    const codec = await loadCodec({ codec: "taef2", imageSize: TRAIN_MODEL_DEFAULTS.imageSize });
    try {
      const r = await trainModel(await Store.open(v.store as string), codec, {
        ...TRAIN_MODEL_DEFAULTS,
        data: v.data as string,
        steps: intFlag("steps", v.steps as string, 1),
        batchSize: intFlag("batch-size", v["batch-size"] as string, 1),
        lr: numberFlag("lr", v.lr as string, 0),
        seed: intFlag("seed", v.seed as string, 0),
        budgetMinutes: v.minutes === undefined
          ? null
          : numberFlag("minutes", v.minutes as string, 0),
        checkpointMinutes: numberFlag("checkpoint-minutes", v["checkpoint-minutes"] as string, 0),
        exportPath: v.export as string,
        threads: v.threads === undefined ? undefined : intFlag("threads", v.threads as string, 1),
      });
      console.log(
        `${
          r.finished ? "finished" : "paused"
        } at step ${r.steps} (resumed from ${r.resumedFrom}), loss ${r.lastLoss.toFixed(4)}, ` +
          `${r.seconds.toFixed(0)} s; model file ${r.exported}`,
      );
    } finally {
      await codec.release();
    }
  },
};
