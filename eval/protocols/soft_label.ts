/**
 * Soft-label evaluation stage (RDED; SPEC section 4, paper App. I): a student trained from
 * scratch on the distilled set with soft labels that a fixed teacher gives to every CutMix-ed
 * batch, validated on the real validation images.
 *
 * Per run (seed s): init the student from Rng(s, 0); per epoch e, Rng(s, 1, e) shuffles the
 * distilled set into batches (last one partial) and draws, per image, RandomResizedCrop(S,
 * scale 0.5..1) + flip + ImageNet normalisation, then per batch CutMix (beta 1, always);
 * the teacher (eval mode) labels the mixed batch; loss = KLDiv(batchmean)(log_softmax(s/T),
 * softmax(t/T)), T = 20, no T^2 factor; AdamW (wd 0.01 on conv/linear weights only, RDED
 * `get_parameters`) with LambdaLR half cosine per epoch.
 *
 * Teachers: a torchvision resnet18 checkpoint (.pth or safetensors; `teacherClassIndices`
 * keeps those rows of its classifier, RDED's `pruning_classifier`), or an artifact written by
 * `trainTeacher` (the cpu scale's teacher trained on real data).
 *
 * Known difference from RDED's script: RDED also runs the student in train mode on the
 * un-mixed batch for a training-accuracy meter, which advances BatchNorm running statistics
 * a second time per step; we do not. RDED's `ShufflePatches` (for its own 2x2 mosaics) is
 * not applied (SPEC lists RandomResizedCrop and flip only).
 *
 * @module
 */
import { loadCheckpoint } from "../../models/io/checkpoint.ts";
import { AdamW } from "../../models/train/optim.ts";
import type { SessionOptions } from "../../models/graph/session.ts";
import type { Tensor } from "../../models/core/tensor.ts";
import { Trainer } from "../../models/train/trainer.ts";
import { Rng } from "../../models/core/random.ts";
import type { Artifact, Store } from "../../stages/store/store.ts";
import { composeTrainAugment, SOFT_LABEL_AUGMENT } from "../augment/compose.ts";
import { cutmixSoft } from "../augment/cutmix.ts";
import type { Scale } from "./hard_label_protocol.ts";
import { buildClassifier } from "../classifiers/zoo.ts";
import {
  decays,
  softLabelLr,
  type SoftLabelProtocol,
  softLabelProtocol,
} from "./soft_label_protocol.ts";
import { epochBatches, gatherBatch, type ImageSet, loadImageSet } from "./image_data.ts";
import { evaluateTop1 } from "./evaluate.ts";
import { fit, splitParams, stepGroups, STREAM } from "./fit.ts";
import {
  type ProtocolReport,
  type RunResult,
  runResult,
  runSeeds,
  writeResults,
} from "./results.ts";

/** Where the teacher's weights come from. */
export type TeacherSource =
  | { artifact: string }
  | { checkpoint: string; classIndices?: number[] };

/** Options of {@link softLabelEval}. */
export interface SoftLabelOptions {
  /** Artifact name in the store, e.g. `eval/soft-label/imagenette-ipc10`. */
  name: string;
  /** Protocol scale: the paper's (224 px) or the cpu one (64 px). */
  scale: Scale;
  /** Distilled ImageFolder(s): one for every seed, or one per seed. */
  train: string | string[];
  /** Real validation ImageFolder (e.g. ImageNette val). */
  val: string;
  /**
   * Classes in label order (preset, comma list or array); default every sub-folder of the train
   * folder, sorted.
   */
  classes?: string | string[];
  /** Student network (zoo name); RDED's is `resnet-18-bn` (torchvision resnet18). */
  student: string;
  /** Where the teacher's weights come from. */
  teacher: TeacherSource;
  /** Teacher network (zoo name), default `resnet-18-bn`. */
  teacherModel?: string;
  /** Training seeds, one run each. */
  seeds: number[];
  /** Override the protocol's epochs. */
  epochs?: number;
  /** Override the image side (the validation resize follows: S / 7 * 8). */
  imageSize?: number;
  /** Override the protocol's student batch size. */
  batchSize?: number;
  /** Override the validation subset (images per class; null = all). */
  valPerClass?: number | null;
  /** Checkpoint interval in epochs (default 10). */
  checkpointEvery?: number;
  /** Validation batch size (default 100). */
  evalBatch?: number;
  /** Replace an artifact made with other options. */
  overwrite?: boolean;
  /** Options of the onnxruntime sessions (teacher and students). */
  session?: SessionOptions;
  /** Stops after the current epoch (a checkpoint is written; re-run to resume). */
  signal?: AbortSignal;
}

/** What {@link softLabelEval} returns (also `results.json`). */
export type SoftLabelReport = ProtocolReport<SoftLabelProtocol>;

async function teacherState(
  store: Store,
  src: TeacherSource,
  size: number,
): Promise<Map<string, Tensor>> {
  if ("artifact" in src) {
    const art = await store.open(src.artifact, {
      kind: "teacher",
      reader: "soft-label teacher (--teacher)",
    });
    const trained = art.manifest.options.imageSize;
    if (trained !== size) {
      throw new RangeError(
        `Teacher ${src.artifact} was trained at ${trained} px; this run uses ${size} px`,
      );
    }
    return (await art.readShard("teacher")).tensors;
  }
  const { tensors } = await loadCheckpoint(src.checkpoint);
  if (!src.classIndices) return tensors;
  // RDED pruning_classifier: keep the rows of the listed classes in fc.weight and fc.bias.
  for (const k of ["fc.weight", "fc.bias"]) {
    const t = tensors.get(k);
    if (!t) throw new Error(`Teacher checkpoint ${src.checkpoint} lacks '${k}'`);
    const row = t.shape.slice(1).reduce((a, b) => a * b, 1);
    const data = new Float32Array(src.classIndices.length * row);
    const from = t.data as Float32Array;
    src.classIndices.forEach((c, i) => data.set(from.subarray(c * row, (c + 1) * row), i * row));
    tensors.set(k, { dtype: "F32", shape: [src.classIndices.length, ...t.shape.slice(1)], data });
  }
  return tensors;
}

/**
 * Runs the soft-label protocol for every seed and writes the results into `store`.
 *
 * @example
 * ```ts
 * import { Store } from "../../stages/store/store.ts";
 * import { softLabelEval } from "./soft_label.ts";
 * const store = await Store.open(".store");
 * const r = await softLabelEval(store, {
 *   name: "eval/soft-label/imagenette-ipc10",
 *   scale: "cpu",
 *   train: "out/mgd3-imagenette-ipc10",
 *   val: "data/imagenette2-224/val",
 *   classes: "imagenette",
 *   student: "resnet-18-bn",
 *   teacher: { artifact: "teachers/imagenette-resnet18-64" },
 *   seeds: [0],
 * });
 * ```
 */
export async function softLabelEval(store: Store, o: SoftLabelOptions): Promise<SoftLabelReport> {
  const dirs = typeof o.train === "string" ? [o.train] : o.train;
  if (o.seeds.length === 0 || (dirs.length !== 1 && dirs.length !== o.seeds.length)) {
    throw new RangeError(
      `Give seeds and one train folder or one per seed (${dirs.length}, ${o.seeds.length})`,
    );
  }
  const probe = softLabelProtocol(o.scale, 1, 1);
  const size = o.imageSize ?? probe.imageSize;
  const valPerClass = o.valPerClass !== undefined ? o.valPerClass : probe.valPerClass;
  const sets = new Map<string, ImageSet>();
  for (const d of new Set(dirs)) sets.set(d, await loadImageSet(d, { classes: o.classes, size }));
  const first = sets.values().next().value!;
  const ipc = first.perClassMax, classes = first.classNames.length;
  const p: SoftLabelProtocol = {
    ...softLabelProtocol(o.scale, ipc, classes, o.epochs),
    imageSize: size,
    valResize: Math.floor(size / 7) * 8,
    valPerClass,
  };
  if (o.batchSize) p.batchSize = o.batchSize;
  const val = await loadImageSet(o.val, {
    classes: first.classNames,
    size,
    resize: p.valResize,
    perClass: valPerClass,
  });
  const teacherModel = o.teacherModel ?? "resnet-18-bn";
  const options = {
    protocol: p,
    student: o.student,
    teacher: o.teacher,
    teacherModel,
    train: dirs,
    val: o.val,
    classes: first.classNames,
    seeds: o.seeds,
    ipc,
  };
  // Not in the artifact key: they do not change the results.
  const loop = { checkpointEvery: o.checkpointEvery ?? 10, evalBatch: o.evalBatch ?? 100 };
  const art = await store.artifact(o.name, {
    kind: "eval-soft-label",
    options,
    seed: o.seeds[0],
    overwrite: o.overwrite,
  });
  const teacher = new Trainer({
    model: buildClassifier(teacherModel, { classes, imageSize: size }),
    inputShape: [3, size, size],
    classes,
    loss: { kind: "crossEntropy" },
    random: Math.random, // every weight is replaced by the state below
    state: await teacherState(store, o.teacher, size),
    session: o.session,
  });
  let runs: RunResult[];
  try {
    runs = await runSeeds(
      art,
      o.seeds,
      dirs,
      (i, seed, dir) =>
        trainStudent({ o, p, teacher, train: sets.get(dir)!, val, seed, run: i, dir, art, loop }),
    );
  } finally {
    await teacher.release();
  }
  return await writeResults(art, {
    protocol: p,
    ipc,
    runs,
    title:
      `Soft-label evaluation: ${o.student} (teacher ${teacherModel}), ${o.scale} scale, IPC ${ipc}`,
    options,
    name: o.name,
  });
}

async function trainStudent(a: {
  o: SoftLabelOptions;
  p: SoftLabelProtocol;
  teacher: Trainer;
  train: ImageSet;
  val: ImageSet;
  seed: number;
  run: number;
  dir: string;
  art: Artifact;
  loop: { checkpointEvery: number; evalBatch: number };
}): Promise<RunResult> {
  const { o, p, train, seed } = a;
  const s = p.imageSize, classes = train.classNames.length;
  let random = Rng.from(seed, STREAM.init);
  const student = new Trainer({
    model: buildClassifier(o.student, { classes, imageSize: s }),
    inputShape: [3, s, s],
    classes,
    loss: { kind: "klDiv", temperature: p.temperature },
    random: () => random.random(),
    session: o.session,
  });
  const shapes = new Map([...student.store.entries].map(([k, v]) => [k, v.shape]));
  const [wd, noWd] = splitParams(student.params, (k) => decays(k, shapes.get(k)!));
  const groups = [
    { optimizer: new AdamW({ lr: p.lr, betas: p.betas, weightDecay: p.weightDecay }), params: wd },
    { optimizer: new AdamW({ lr: p.lr, betas: p.betas, weightDecay: 0 }), params: noWd },
  ];
  const augment = composeTrainAugment({ size: s, ...SOFT_LABEL_AUGMENT, scale: p.cropScale });
  try {
    const state = await fit({
      trainer: student,
      groups,
      epochs: p.epochs,
      lr: softLabelLr(p.epochs),
      evalEpochs: p.evalEpochs,
      label: `soft-label ${o.student} seed ${seed}`,
      checkpoint: {
        artifact: a.art,
        shard: `checkpoint-run-${a.run}`,
        every: a.loop.checkpointEvery,
      },
      signal: o.signal,
      evaluate: () => evaluateTop1(student, a.val, a.loop.evalBatch),
      trainEpoch: async (e) => {
        const rng = Rng.from(seed, STREAM.epoch, e);
        random = Rng.from(seed, STREAM.dropout, e);
        let total = 0;
        for (const idx of epochBatches(rng.permutation(train.labels.length), p.batchSize)) {
          const labels = Int32Array.from(idx, (j) => train.labels[j]);
          const x = augment(gatherBatch(train, idx), labels, rng).images; // RRC, flip, normalise
          const mixed = cutmixSoft(x, rng).images.data; // [B, 3, S, S]
          const soft = await a.teacher.forward(mixed); // [B, classes] teacher logits
          total += idx.length * await stepGroups(student, groups, { x: mixed, teacher: soft });
        }
        return total / train.labels.length;
      },
    });
    return runResult(state, { run: a.run, seed, train: a.dir, epochs: p.epochs });
  } finally {
    await student.release();
  }
}
