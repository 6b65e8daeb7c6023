/**
 * Teacher training for the soft-label protocol at cpu scale. RDED's teacher is a pretrained
 * torchvision ResNet-18; without downloads (and at 64 px) we train one on the real training
 * images with a standard supervised recipe of our own choosing (torchvision's reference
 * classification recipe, shortened and lr-scaled):
 *
 * - Resize(S) + CenterCrop(S), then RandomResizedCrop(S, scale 0.08..1), flip, ImageNet
 *   normalisation (torchvision `ImageClassification` train preset), no CutMix;
 * - SGD lr 0.1 x batch / 256, momentum 0.9, weight decay 1e-4, cosine annealing per epoch;
 * - cross-entropy, batch 64, validated at five evenly spaced epochs.
 *
 * The trained weights are written as the shard `teacher` of the artifact (PyTorch names,
 * e.g. `conv1.weight`, loadable by `soft_label.ts` or by PyTorch via safetensors), with
 * `results.json` (validation top-1) beside them. Resumable like the evaluation stages.
 *
 * @module
 */
import { cosineLr } from "../../models/train/lr_schedule.ts";
import { SGD } from "../../models/train/optim.ts";
import type { SessionOptions } from "../../models/graph/session.ts";
import { Trainer } from "../../models/train/trainer.ts";
import { Rng } from "../../models/core/random.ts";
import type { Store } from "../../stages/store/store.ts";
import { composeTrainAugment } from "../augment/compose.ts";
import { evaluationEpochs, IMAGE_SIZE, type Scale } from "./hard_label_protocol.ts";
import { buildClassifier } from "../classifiers/zoo.ts";
import { epochBatches, gatherBatch, loadImageSet } from "./image_data.ts";
import { listImageFolder } from "../../stages/images/image_folder.ts";
import { top1Accuracy } from "./evaluate.ts";
import { fit, stepGroups, STREAM } from "./fit.ts";

/** The teacher recipe (see the module notes). */
export const TEACHER_RECIPE = {
  model: "resnet-18-bn", // RDED's teacher architecture (torchvision resnet18)
  batchSize: 64,
  lr: 0.1 * 64 / 256, // torchvision reference lr 0.1 at batch 256, linear scaling
  momentum: 0.9,
  weightDecay: 1e-4, // torchvision reference
  cropScale: [0.08, 1] as [number, number], // torchvision RandomResizedCrop default
  epochs: 20, // cpu scale; not yet measured (a starting point, recorded in provenance)
};

/** Options of {@link trainTeacher}. */
export interface TeacherOptions {
  /** Artifact name, e.g. `teachers/imagenette-resnet18-64`. */
  name: string;
  /** Scale: sets the default image side (paper 224, cpu 64) and validation subset. */
  scale: Scale;
  /** Real training ImageFolder. */
  train: string;
  /** Real validation ImageFolder. */
  val: string;
  /**
   * Classes in label order (preset, comma list or array); default every sub-folder of `train`,
   * sorted.
   */
  classes?: string | string[];
  /** Seed of the initial weights, the batch order and the augmentation. */
  seed: number;
  /** Default {@link TEACHER_RECIPE}.epochs. */
  epochs?: number;
  /** Default {@link TEACHER_RECIPE}.model. */
  model?: string;
  /** Override the image side of the scale. */
  imageSize?: number;
  /** Use only the first k training images per class (null = all). */
  trainPerClass?: number | null;
  /** Validation images per class (null = all; default 50 at cpu scale). */
  valPerClass?: number | null;
  /** Replace an artifact made with other options. */
  overwrite?: boolean;
  /** Options of the onnxruntime training session. */
  session?: SessionOptions;
  /** Stops after the current epoch (a checkpoint is written; re-run to resume). */
  signal?: AbortSignal;
}

/** What {@link trainTeacher} returns (also `results.json`). */
export interface TeacherReport {
  /** Directory of the artifact written. */
  artifact: string;
  /** Shard holding the weights (`<artifact>/teacher.safetensors`). */
  shard: "teacher";
  /** The teacher's zoo network. */
  model: string;
  /** Class names in label order. */
  classes: string[];
  /** Side of the square images it was trained on, in pixels. */
  imageSize: number;
  /** Top-1 of the stored (final) weights, in percent: the validation after the last epoch. */
  top1: number;
  /** Best validation top-1 over the run, in percent. */
  bestTop1: number;
  /** Training epochs. */
  epochs: number;
  /** Wall-clock seconds spent training. */
  seconds: number;
}

/**
 * Trains (or resumes, or returns the finished) teacher and stores its weights.
 *
 * @example
 * ```ts
 * import { Store } from "../../stages/store/store.ts";
 * import { trainTeacher } from "./teacher.ts";
 * const t = await trainTeacher(await Store.open(".store"), {
 *   name: "teachers/imagenette-resnet18-64",
 *   scale: "cpu",
 *   train: "data/imagenette2-224/train",
 *   val: "data/imagenette2-224/val",
 *   classes: "imagenette",
 *   seed: 0,
 * });
 * console.log(t.top1);
 * ```
 */
export async function trainTeacher(store: Store, o: TeacherOptions): Promise<TeacherReport> {
  const size = o.imageSize ?? IMAGE_SIZE[o.scale];
  const valPerClass = o.valPerClass !== undefined ? o.valPerClass : (o.scale === "cpu" ? 50 : null);
  const epochs = o.epochs ?? TEACHER_RECIPE.epochs;
  const model = o.model ?? TEACHER_RECIPE.model;
  // The class list (cheap: a directory listing) identifies the artifact; the images are only
  // loaded when there is training left to do.
  const classNames: string[] = [];
  for (const it of await listImageFolder(o.train, { classes: o.classes })) {
    classNames[it.classIndex] = it.className;
  }
  const options = {
    recipe: { ...TEACHER_RECIPE, epochs, model },
    scale: o.scale,
    imageSize: size,
    train: o.train,
    val: o.val,
    classes: classNames,
    trainPerClass: o.trainPerClass ?? null,
    valPerClass,
  };
  const art = await store.artifact(o.name, {
    kind: "teacher",
    options,
    seed: o.seed,
    overwrite: o.overwrite,
  });
  try {
    const done = JSON.parse(await Deno.readTextFile(`${art.dir}/results.json`)) as TeacherReport;
    if ((await art.verifyShard("teacher")).status === "ok") return done;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const train = await loadImageSet(o.train, {
    classes: classNames,
    size,
    perClass: o.trainPerClass,
  });
  const val = await loadImageSet(o.val, { classes: classNames, size, perClass: valPerClass });
  const classes = classNames.length;
  let random = Rng.from(o.seed, STREAM.init);
  const trainer = new Trainer({
    model: buildClassifier(model, { classes, imageSize: size }),
    inputShape: [3, size, size],
    classes,
    loss: { kind: "crossEntropy" },
    random: () => random.random(),
    session: o.session,
  });
  const { batchSize, lr, momentum, weightDecay, cropScale } = TEACHER_RECIPE;
  const groups = [{ optimizer: new SGD({ lr, momentum, weightDecay }), params: trainer.params }];
  const augment = composeTrainAugment({
    size,
    scale: cropScale,
    jitter: null,
    lightingStd: 0,
    cutmix: null,
  });
  try {
    const state = await fit({
      trainer,
      groups,
      epochs,
      lr: cosineLr(lr, epochs),
      evalEpochs: evaluationEpochs(epochs, Math.max(1, Math.floor(epochs / 5))),
      label: `teacher ${model}`,
      checkpoint: { artifact: art, shard: "checkpoint", every: 1 },
      signal: o.signal,
      evaluate: () => top1Accuracy(trainer, val, 100),
      trainEpoch: async (e) => {
        const rng = Rng.from(o.seed, STREAM.epoch, e);
        random = Rng.from(o.seed, STREAM.dropout, e);
        let total = 0;
        for (const idx of epochBatches(rng.permutation(train.labels.length), batchSize)) {
          const labels = Int32Array.from(idx, (j) => train.labels[j]);
          const r = augment(gatherBatch(train, idx), labels, rng);
          total += idx.length * await stepGroups(trainer, groups, { x: r.images.data, labels });
        }
        return total / train.labels.length;
      },
    });
    await art.writeShard("teacher", trainer.stateDict(), { "mgd3.model": model });
    const report: TeacherReport = {
      artifact: art.dir,
      shard: "teacher",
      model,
      classes: classNames,
      imageSize: size,
      top1: state.history[state.history.length - 1].top1,
      bestTop1: state.bestTop1,
      epochs,
      seconds: state.seconds,
    };
    await art.writeJson("results.json", { ...report, history: state.history });
    return report;
  } finally {
    await trainer.release();
  }
}
