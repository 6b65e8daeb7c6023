/**
 * Training of the cpu-scale class-conditional latent diffusion model (DESIGN "The two
 * scales"; issue 7): TAEF2 latents of ImageNette train at 64 px (and of the mirrored
 * images), normalised per channel, a v-prediction U-Net trained with AdamW and an EMA of its
 * weights, labels dropped 10% of the time for classifier-free guidance.
 *
 * The run lives in a store artifact: `state.safetensors` (weights, EMA, optimizer, step) is
 * rewritten atomically every `checkpointMinutes`, `loss.jsonl` logs the loss, and a rerun
 * with the same options resumes from the last checkpoint. `export` writes the EMA weights as
 * a model file (models/cpu_model.ts).
 *
 * @module
 */
import type { Artifact, Store } from "./store/store.ts";
import type { Codec } from "../models/codecs/codec.ts";
import { Rng } from "../models/core/random.ts";
import { createProgress, type Progress } from "./progress.ts";
import { codeVersion, formatVersion } from "./store/version.ts";
import { resolveClasses } from "./images/classes.ts";
import { DiffusionTrainer } from "../models/train/diffusion_trainer.ts";
import { CPU_UNET, type UNetConfig } from "../models/nets/unet/unet.ts";
import { saveCpuModel } from "../models/nets/unet/cpu_model.ts";
import { decodeSafetensors, encodeSafetensors, writeFileAtomic } from "../models/io/safetensors.ts";
import { type TrainingLatents, trainingLatents } from "./_train_latents.ts";

/** Options of {@link trainModel}. */
export interface TrainModelOptions {
  /** ImageNette train ImageFolder. */
  data: string;
  /** Class preset name or comma-separated class list (see {@link resolveClasses}). */
  classes: string;
  /** Image size (64: TAEF2 latents 32x8x8). */
  imageSize: number;
  /** The U-Net's architecture. */
  config: UNetConfig;
  /** Batch 128, AdamW lr 1e-3, EMA 0.999 (DESIGN's measured run). */
  batchSize: number;
  /** AdamW learning rate. */
  lr: number;
  /** EMA decay of the exported weights. */
  emaDecay: number;
  /** Labels dropped with probability 0.1 (classifier-free guidance). */
  cfgDropout: number;
  /** Stop after this many optimisation steps in total. */
  steps: number;
  /** Seed of the initial weights, the training noise and the batch order. */
  seed: number;
  /** Rewrite the checkpoint this often. */
  checkpointMinutes: number;
  /** Stop this run after this many minutes (the next run resumes); null = until `steps`. */
  budgetMinutes: number | null;
  /** Where the model file goes when training reaches `steps` (or on every checkpoint). */
  exportPath: string;
  /** Artifact name of the run. */
  out: string;
  /** onnxruntime intra-op threads of the training session (default: onnxruntime's choice). */
  threads?: number;
}

/** The cpu-scale model's training settings (DESIGN's measured run; see the model card). */
export const TRAIN_MODEL_DEFAULTS = {
  classes: "imagenette",
  imageSize: 64,
  config: CPU_UNET,
  batchSize: 128,
  lr: 1e-3,
  emaDecay: 0.999,
  cfgDropout: 0.1,
  // The shipped weights (weights/cpu_unet.safetensors): 1461 steps, about 86 minutes on 2
  // cores, the issue's ~90-minute budget. `--steps N` continues the same run further.
  steps: 1461,
  seed: 0,
  checkpointMinutes: 5,
  budgetMinutes: null,
  exportPath: "weights/cpu_unet.safetensors",
  out: "cpu-model",
} as const satisfies Partial<TrainModelOptions>;

/** What a call of {@link trainModel} did. */
export interface TrainModelReport {
  /** Optimisation steps done in total (this run and earlier ones). */
  steps: number;
  /** Step count of the checkpoint this run resumed from (0: a fresh start). */
  resumedFrom: number;
  /** Loss of the last step of this run (NaN when it took none). */
  lastLoss: number;
  /** Whether training has reached `steps`. */
  finished: boolean;
  /** Path of the model file written. */
  exported: string | null;
  /** Wall-clock seconds the call took. */
  seconds: number;
}

/**
 * Trains (or resumes training of) the cpu-scale model.
 *
 * @example
 * ```ts
 * import { trainModel } from "./train_model.ts";
 * const r = await trainModel(store, rawTaef2, { ...TRAIN_MODEL_DEFAULTS, data: "imagenette2/train" });
 * ```
 */
export async function trainModel(
  store: Store,
  codec: Codec,
  o: TrainModelOptions,
): Promise<TrainModelReport> {
  const start = performance.now();
  const classes = resolveClasses(o.classes);
  // 1. Latents of every training image and of its mirror image, normalised per channel.
  const channels = o.config.inChannels;
  const data = await trainingLatents(store, codec, { data: o.data, out: o.out, channels }, classes);
  // 2. The run: resume from its checkpoint when there is one.
  const run = await openRun(store, codec, o);
  const trainer = await createTrainer(o);
  const statePath = `${run.dir}/state.safetensors`;
  const resumedFrom = await resume(trainer, statePath);
  // 3. Train: batches in a seeded order, checkpoints every `checkpointMinutes` and at the end.
  const progress = createProgress(`train ${o.out}`, o.steps - trainer.steps);
  const checkpoints = new Checkpoints(run, statePath, trainer, o, {
    classes,
    norm: data.norm,
    images: data.n / 2,
    codec: codec.id,
  });
  const deadline = o.budgetMinutes === null ? Infinity : start + o.budgetMinutes * 60_000;
  const lastLoss = await trainSteps(trainer, data, o, deadline, progress, checkpoints);
  await checkpoints.save(lastLoss);
  progress.done();
  await trainer.release();
  return {
    steps: trainer.steps,
    resumedFrom,
    lastLoss,
    finished: trainer.steps >= o.steps,
    exported: o.exportPath,
    seconds: (performance.now() - start) / 1000,
  };
}

/**
 * The run's artifact. The total step count (and where or how often it writes) is not part of
 * the run's identity: raising `steps` continues the run.
 */
function openRun(store: Store, codec: Codec, o: TrainModelOptions): Promise<Artifact> {
  const {
    out: _o,
    budgetMinutes: _b,
    checkpointMinutes: _c,
    exportPath: _e,
    threads: _t,
    steps: _s,
    ...identity
  } = o;
  return store.artifact(`${o.out}/run`, {
    kind: "training",
    options: { ...identity, codec: codec.id },
    seed: o.seed,
  });
}

/** The trainer: v-prediction over 1000 steps, AdamW without weight decay, an EMA. */
function createTrainer(o: TrainModelOptions): Promise<DiffusionTrainer> {
  return DiffusionTrainer.create({
    config: o.config,
    batchSize: o.batchSize,
    lr: o.lr,
    weightDecay: 0,
    emaDecay: o.emaDecay,
    cfgDropout: o.cfgDropout,
    predictionType: "v",
    trainSteps: 1000,
    seed: o.seed,
    session: { intraOpThreads: o.threads },
  });
}

/** Loads the run's checkpoint into `trainer` when there is one; returns its step count. */
async function resume(trainer: DiffusionTrainer, statePath: string): Promise<number> {
  try {
    const bytes = await Deno.readFile(statePath);
    trainer.loadStateDict(decodeSafetensors(bytes, statePath).tensors);
    return trainer.steps;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    return 0;
  }
}

/**
 * The step loop: an epoch-wise permutation per seed, batches of `batchSize`, a loss line per
 * step, a checkpoint when one is due. Stops at `o.steps` or at `deadline`; returns the last
 * loss (NaN when it took no step).
 */
async function trainSteps(
  trainer: DiffusionTrainer,
  { x, labels, n, D }: TrainingLatents,
  o: TrainModelOptions,
  deadline: number,
  progress: Progress,
  checkpoints: Checkpoints,
): Promise<number> {
  const perEpoch = Math.floor(n / o.batchSize);
  let lastLoss = NaN;
  const xb = new Float32Array(o.batchSize * D); // [batch, C, H, W]
  const yb = new Int32Array(o.batchSize); // [batch]
  while (trainer.steps < o.steps && performance.now() < deadline) {
    const epoch = Math.floor(trainer.steps / perEpoch);
    const perm = Rng.from(o.seed, 0x5eed, epoch).permutation(n);
    const b0 = (trainer.steps % perEpoch) * o.batchSize;
    for (let i = 0; i < o.batchSize; i++) {
      const j = perm[b0 + i];
      xb.set(x.subarray(j * D, (j + 1) * D), i * D);
      yb[i] = labels[j];
    }
    lastLoss = await trainer.step(xb, yb);
    checkpoints.record(lastLoss);
    progress.tick(1, `loss ${lastLoss.toFixed(4)}`);
    if (checkpoints.due()) await checkpoints.save(lastLoss);
  }
  return lastLoss;
}

/**
 * The run's checkpoint writes: `state.safetensors` (rewritten atomically), the loss lines
 * since the last write appended to `loss.jsonl`, and the EMA weights exported as a model file.
 */
class Checkpoints {
  #log: string[] = [];
  #lastSave = performance.now();

  constructor(
    readonly run: Artifact,
    readonly statePath: string,
    readonly trainer: DiffusionTrainer,
    readonly o: TrainModelOptions,
    readonly meta: {
      classes: string[];
      norm: { mean: number[]; std: number[] };
      images: number;
      codec: string;
    },
  ) {}

  /** Logs the loss of the step just taken. */
  record(loss: number): void {
    this.#log.push(JSON.stringify({ step: this.trainer.steps, loss, t: Date.now() }) + "\n");
  }

  /** Whether `checkpointMinutes` have passed since the last write. */
  due(): boolean {
    return performance.now() - this.#lastSave > this.o.checkpointMinutes * 60_000;
  }

  /** Writes the state, the loss log and the model file. */
  async save(lastLoss: number): Promise<void> {
    const { run, trainer, o, meta } = this;
    const state = trainer.stateDict();
    await writeFileAtomic(
      this.statePath,
      encodeSafetensors(state, { steps: String(trainer.steps) }),
    );
    const prev = await Deno.readTextFile(`${run.dir}/loss.jsonl`).catch(() => "");
    await run.writeFile("loss.jsonl", prev + this.#log.join(""));
    this.#log.length = 0;
    await saveCpuModel(o.exportPath, trainer.emaWeights(), {
      config: o.config,
      predictionType: "v",
      imageSize: o.imageSize,
      normalisation: meta.norm,
      classes: meta.classes,
      training: {
        steps: trainer.steps,
        lastLoss,
        batchSize: o.batchSize,
        lr: o.lr,
        emaDecay: o.emaDecay,
        cfgDropout: o.cfgDropout,
        seed: o.seed,
        data: o.data,
        images: meta.images,
        flips: true,
        codec: meta.codec,
        code: formatVersion(await codeVersion()),
      },
    });
    this.#lastSave = performance.now();
  }
}
