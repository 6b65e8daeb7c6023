/**
 * Hard-label evaluation stage (SPEC section 4; paper App. I): train a classifier from scratch
 * on a distilled ImageFolder and report its best top-1 on the real validation images,
 * mean ± std over runs.
 *
 * Per run (seed s, distilled set D):
 * 1. D and the validation set: Resize(S) + CenterCrop(S), S = 224 (paper) or 64 (cpu);
 * 2. init the network (zoo name) from Rng(s, 0); SGD(lr 0.01, momentum 0.9, wd 5e-4);
 * 3. each epoch e: Rng(s, 1, e) shuffles D into batches of 64 (last one partial) and draws
 *    the augmentation (RandomResizedCrop 0.5..1, flip, ColorJitter 0.4, Lighting 0.1,
 *    ImageNet normalisation, CutMix beta 1 on every batch); loss = lam CE(y_a) + (1 - lam)
 *    CE(y_b); learning rate MultiStepLR(floor(2E/3), floor(5E/6), gamma 0.2);
 * 4. validate at the protocol's epochs, keep the best top-1;
 * 5. checkpoint (model, optimizer, loop state) every `checkpointEvery` epochs into the
 *    artifact; a re-run with the same options resumes from it, and skips finished runs.
 * Outputs in the artifact: `run-<i>.json` per run, `results.json` and `results.md`.
 *
 * @module
 */
import { SGD } from "../../models/train/optim.ts";
import type { SessionOptions } from "../../models/graph/session.ts";
import { Trainer } from "../../models/train/trainer.ts";
import { Rng } from "../../models/core/random.ts";
import type { Store } from "../../stages/store/store.ts";
import { composeTrainAugment, type TrainAugment } from "../augment/compose.ts";
import {
  CPU_VAL_PER_CLASS,
  evaluationEpochs,
  hardLabelLr,
  type HardLabelProtocol,
  hardLabelProtocol,
  IMAGE_SIZE,
  type Scale,
} from "./hard_label_protocol.ts";
import { buildClassifier } from "../classifiers/zoo.ts";
import {
  epochBatches,
  gatherBatch,
  type ImageSet,
  loadImageSet,
  shuffleLabels,
} from "./image_data.ts";
import { evaluateTop1 } from "./evaluate.ts";
import { fit, type ParamGroup, stepGroups, STREAM } from "./fit.ts";
import {
  type ProtocolReport,
  type RunResult,
  runResult,
  runSeeds,
  writeResults,
} from "./results.ts";

/** Options of {@link hardLabelEval}. */
export interface HardLabelOptions {
  /** Artifact name in the store, e.g. `eval/hard-label/imagenette-ipc10-mgd3`. */
  name: string;
  /** Protocol scale: the paper's (224 px) or the cpu one (64 px). */
  scale: Scale;
  /** Distilled ImageFolder: one for every seed, or one per seed (paper: datasets of seeds 0, 1, 2). */
  train: string | string[];
  /** Real validation ImageFolder (e.g. ImageNette val). */
  val: string;
  /** Classes in label order (preset, comma list or array); default the train folder's classes. */
  classes?: string | string[];
  /** Zoo network (eval/classifiers/zoo.ts), e.g. `resnetap-10` (the paper's default). */
  model: string;
  /** Training seeds, one run each. */
  seeds: number[];
  /** Override the protocol's epoch table. */
  epochs?: number;
  /** Override the image side (tests use 32 px). */
  imageSize?: number;
  /** Override the validation interval in epochs (budget measurements). */
  evalEvery?: number;
  /** Override the validation subset (images per class; null = all). */
  valPerClass?: number | null;
  /** Use only the first k images per class of the training folder (null = all). */
  trainPerClass?: number | null;
  /** Permute the training labels (the sanity control: accuracy should fall to chance). */
  shuffleLabels?: boolean;
  /** Checkpoint interval in epochs (default: the validation interval). */
  checkpointEvery?: number;
  /** Validation batch size (default 100). */
  evalBatch?: number;
  /** Replace an artifact made with other options. */
  overwrite?: boolean;
  /** Options of the onnxruntime training sessions. */
  session?: SessionOptions;
  /**
   * Free the partial-batch and validation sessions around each validation, so that at most two
   * onnxruntime arenas are held at once instead of three (a ConvNet-4 at 64 px: about 1 GB
   * less; the demo stays under 2 GB). Costs about 5% more CPU time per evaluation (the freed
   * sessions are rebuilt); the results are bit-identical. Default false.
   */
  lowMemory?: boolean;
  /** Stops after the current epoch (a checkpoint is written; re-run to resume). */
  signal?: AbortSignal;
  /** Called after every epoch of every run. */
  onEpoch?: (e: EpochInfo) => void;
}

/** What {@link HardLabelOptions.onEpoch} receives. */
export interface EpochInfo {
  /** 0-based index of the run (position of its seed in `seeds`). */
  run: number;
  /** Training seed of the run. */
  seed: number;
  /** 1-based epoch just finished. */
  epoch: number;
  /** Mean training loss of the epoch. */
  loss: number;
  /** Validation top-1, or null when this epoch was not validated. */
  top1: number | null;
}

/** What {@link hardLabelEval} returns (also written as `results.json`). */
export type HardLabelReport = ProtocolReport<HardLabelProtocol>;

async function loadSets(o: HardLabelOptions, size: number, valPerClass: number | null) {
  const dirs = typeof o.train === "string" ? [o.train] : o.train;
  if (dirs.length !== 1 && dirs.length !== o.seeds.length) {
    throw new RangeError(
      `Give one train folder or one per seed: got ${dirs.length} folders, ${o.seeds.length} seeds`,
    );
  }
  const sets = new Map<string, ImageSet>();
  for (const d of new Set(dirs)) {
    sets.set(d, await loadImageSet(d, { classes: o.classes, size, perClass: o.trainPerClass }));
  }
  const ipcs = new Set([...sets.values()].map((s) => s.perClassMax));
  if (ipcs.size !== 1) {
    throw new RangeError(`Train folders differ in images per class: ${[...ipcs].join(", ")}`);
  }
  const first = sets.values().next().value!;
  const val = await loadImageSet(o.val, {
    classes: o.classes ?? first.classNames,
    size,
    perClass: valPerClass,
  });
  return { dirs, sets, val, ipc: first.perClassMax, classes: first.classNames.length };
}

/**
 * Runs the hard-label protocol for every seed and writes the results into `store`.
 *
 * @example
 * ```ts
 * import { Store } from "../../stages/store/store.ts";
 * import { hardLabelEval } from "./hard_label.ts";
 * const report = await hardLabelEval(await Store.open(".store"), {
 *   name: "eval/hard-label/imagenette-ipc10",
 *   scale: "cpu",
 *   train: "out/mgd3-imagenette-ipc10",
 *   val: "data/imagenette2-224/val",
 *   classes: "imagenette",
 *   model: "resnetap-10",
 *   seeds: [0, 1, 2],
 * });
 * console.log(`${report.mean.toFixed(1)} ± ${report.std.toFixed(1)}`);
 * ```
 */
export async function hardLabelEval(store: Store, o: HardLabelOptions): Promise<HardLabelReport> {
  if (o.seeds.length === 0) throw new RangeError("hardLabelEval needs at least one seed");
  const size = o.imageSize ?? IMAGE_SIZE[o.scale];
  const valPerClass = o.valPerClass !== undefined
    ? o.valPerClass
    : (o.scale === "cpu" ? CPU_VAL_PER_CLASS : null);
  const { dirs, sets, val, ipc, classes } = await loadSets(o, size, valPerClass);
  const p: HardLabelProtocol = {
    ...hardLabelProtocol(o.scale, ipc, classes, o.epochs),
    imageSize: size,
    valPerClass,
  };
  if (o.evalEvery !== undefined) p.evalEvery = o.evalEvery;
  const options = {
    protocol: p,
    model: o.model,
    train: dirs,
    val: o.val,
    classes: val.classNames,
    seeds: o.seeds,
    ipc,
    trainPerClass: o.trainPerClass ?? null,
    shuffleLabels: o.shuffleLabels ?? false,
  };
  // Not in the artifact key: they do not change the results.
  const loop = { checkpointEvery: o.checkpointEvery ?? p.evalEvery, evalBatch: o.evalBatch ?? 100 };
  const art = await store.artifact(o.name, {
    kind: "eval-hard-label",
    options,
    seed: o.seeds[0],
    overwrite: o.overwrite,
  });
  const runs = await runSeeds(art, o.seeds, dirs, (i, seed, dir) => {
    let train = sets.get(dir)!;
    if (options.shuffleLabels) train = shuffleLabels(train, Rng.from(seed, STREAM.labels));
    return trainOne({ o, p, train, val, seed, run: i, dir, art, loop });
  });
  return await writeResults(art, {
    protocol: p,
    ipc,
    runs,
    title: `Hard-label evaluation: ${o.model}, ${o.scale} scale, IPC ${ipc}`,
    options,
    name: o.name,
  });
}

/**
 * One hard-label training epoch: `rng` shuffles the set into batches of `batchSize` (the last
 * one partial), augments each batch (CutMix included) and takes one step per batch on
 * `lam CE(y_a) + (1 - lam) CE(y_b)`. Returns the mean loss over the images.
 *
 * @example
 * ```ts
 * import { SGD } from "../../models/train/optim.ts";
 * import { Trainer } from "../../models/train/trainer.ts";
 * import { Rng } from "../../models/core/random.ts";
 * import { composeTrainAugment, type TrainAugment } from "../augment/compose.ts";
 * import { hardLabelEpoch } from "./hard_label.ts";
 * import { buildClassifier } from "../classifiers/zoo.ts";
 * const t = new Trainer({
 *   model: buildClassifier("convnet", { classes: 2, imageSize: 32 }),
 *   inputShape: [3, 32, 32],
 *   classes: 2,
 *   loss: { kind: "mixedCrossEntropy" },
 *   random: Math.random,
 * });
 * const set = {
 *   pixels: new Uint8Array(4 * 3 * 32 * 32),
 *   labels: Int32Array.of(0, 0, 1, 1),
 *   size: 32,
 *   classNames: ["a", "b"],
 *   perClassMax: 2,
 * };
 * const groups = [{ optimizer: new SGD({ lr: 0.01, momentum: 0.9 }), params: t.params }];
 * await hardLabelEpoch(t, groups, set, composeTrainAugment({ size: 32 }), Rng.from(0), 64);
 * ```
 */
export async function hardLabelEpoch(
  trainer: Trainer,
  groups: ParamGroup[],
  train: ImageSet,
  augment: TrainAugment,
  rng: Rng,
  batchSize: number,
): Promise<number> {
  let total = 0;
  for (const idx of epochBatches(rng.permutation(train.labels.length), batchSize)) {
    const labels = Int32Array.from(idx, (j) => train.labels[j]);
    const r = augment(gatherBatch(train, idx), labels, rng);
    const loss = await stepGroups(trainer, groups, {
      x: r.images.data,
      labels: r.labelsA,
      labelsB: r.labelsB,
      lam: r.lambda,
    });
    total += loss * idx.length;
  }
  return total / train.labels.length;
}

async function trainOne(a: {
  o: HardLabelOptions;
  p: HardLabelProtocol;
  train: ImageSet;
  val: ImageSet;
  seed: number;
  run: number;
  dir: string;
  art: Awaited<ReturnType<Store["artifact"]>>;
  loop: { checkpointEvery: number; evalBatch: number };
}): Promise<RunResult> {
  const { o, p, train, val, seed } = a;
  const s = p.imageSize;
  const classes = train.classNames.length;
  let random = Rng.from(seed, STREAM.init);
  const optimizer = new SGD({ lr: p.lr, momentum: p.momentum, weightDecay: p.weightDecay });
  const trainer = new Trainer({
    model: buildClassifier(o.model, { classes, imageSize: s }),
    inputShape: [3, s, s],
    classes,
    loss: { kind: "mixedCrossEntropy" },
    random: () => random.random(),
    session: o.session,
  });
  const augment = composeTrainAugment({ size: s }); // HARD_LABEL_AUGMENT
  const groups = [{ optimizer, params: trainer.params }];
  try {
    const state = await fit({
      trainer,
      groups,
      epochs: p.epochs,
      lr: hardLabelLr(p.epochs),
      evalEpochs: evaluationEpochs(p.epochs, p.evalEvery),
      label: `hard-label ${o.model} seed ${seed}`,
      checkpoint: {
        artifact: a.art,
        shard: `checkpoint-run-${a.run}`,
        every: a.loop.checkpointEvery,
      },
      evaluate: async () => {
        if (!o.lowMemory) return await evaluateTop1(trainer, val, a.loop.evalBatch);
        // Around a validation only the full-batch training session stays, so the
        // partial-batch and validation arenas are never held together (Trainer.release).
        await trainer.release({ keepTrain: p.batchSize });
        try {
          return await evaluateTop1(trainer, val, a.loop.evalBatch);
        } finally {
          await trainer.release({ keepTrain: p.batchSize });
        }
      },
      signal: o.signal,
      onEpoch: (epoch, loss, top1) => o.onEpoch?.({ run: a.run, seed, epoch, loss, top1 }),
      trainEpoch: (e) => {
        random = Rng.from(seed, STREAM.dropout, e);
        return hardLabelEpoch(
          trainer,
          groups,
          train,
          augment,
          Rng.from(seed, STREAM.epoch, e),
          p.batchSize,
        );
      },
    });
    return runResult(state, { run: a.run, seed, train: a.dir, epochs: p.epochs });
  } finally {
    await trainer.release();
  }
}
