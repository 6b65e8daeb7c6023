/**
 * A judge for generated samples (the model card's check, issue 7; the guidance study, issue
 * 19): a classifier trained on real images (`trainTeacher`, resumable in the store) and a
 * function giving its top-1 on a decoded ImageFolder.
 *
 * @module
 */
import { resolve } from "node:path";
import type { Store } from "../stages/store/store.ts";
import { sha256Hex } from "../models/core/hash.ts";
import { Trainer } from "../models/train/trainer.ts";
import { trainTeacher } from "../eval/protocols/teacher.ts";
import { buildClassifier } from "../eval/classifiers/zoo.ts";
import { loadImageSet } from "../eval/protocols/image_data.ts";
import { argmaxRows, predictLogits } from "../eval/protocols/evaluate.ts";

/** Images per judge forward call. */
const JUDGE_BATCH = 100;

/** A trained judge. */
export interface Judge {
  /** Top-1 (%) of the judge on an ImageFolder of the judge's classes. */
  top1: (imageFolder: string) => Promise<number>;
  /** One line: the judge, its training and its top-1 on the real val images. */
  summary: string;
  /** Frees the judge's session. */
  release: () => Promise<void>;
}

/**
 * Trains (or reloads) the judge on `<data>/train`, validated on every `<data>/val` image.
 *
 * @example
 * ```ts
 * import { makeJudge } from "./_judge.ts";
 * const j = await makeJudge(store, { data: "../shared/data/imagenette2-224", classes, model:
 *   "resnet-18-bn", epochs: 12, perClass: null, imageSize: 64, say: console.error });
 * console.log(await j.top1(".store/x/decoded/images"));
 * ```
 */
export async function makeJudge(store: Store, o: {
  data: string;
  classes: string[];
  model: string;
  epochs: number;
  perClass: number | null;
  imageSize: number;
  say: (s: string) => void;
}): Promise<Judge> {
  const data = resolve(o.data); // absolute: the artifact records it
  const tag = (await sha256Hex(JSON.stringify([o.classes, o.perClass]))).slice(0, 8);
  const name = `judge/${o.model}-e${o.epochs}-${tag}`;
  o.say(
    `training the judge (${o.model}, ${o.imageSize} px, ${o.epochs} epochs) on ${o.data}/train`,
  );
  const t = await trainTeacher(store, {
    name,
    scale: "cpu",
    train: `${data}/train`,
    val: `${data}/val`,
    classes: o.classes,
    seed: 0,
    epochs: o.epochs,
    model: o.model,
    trainPerClass: o.perClass,
    valPerClass: null,
  });
  if (t.classes.join() !== o.classes.join()) {
    throw new Error(
      `The judge's classes (${t.classes.join(",")}) differ from the samples' (${
        o.classes.join(",")
      })`,
    );
  }
  const k = o.classes.length;
  const network = new Trainer({
    model: buildClassifier(t.model, { classes: k, imageSize: o.imageSize }),
    inputShape: [3, o.imageSize, o.imageSize],
    classes: k,
    loss: { kind: "crossEntropy" },
    random: Math.random, // every weight is replaced by the judge's state
    state: (await (await store.open(name)).readShard("teacher")).tensors,
  });
  const summary = `judge ${t.model} trained ${t.epochs} epochs on ${data}/train` +
    `${o.perClass === null ? "" : ` (first ${o.perClass} images per class)`}; top-1 on every ` +
    `real val image ${t.top1.toFixed(1)}%`;
  o.say(summary);
  return {
    summary,
    top1: async (folder: string) => {
      const set = await loadImageSet(folder, { classes: o.classes, size: o.imageSize });
      const pred = argmaxRows(await predictLogits(network, set, JUDGE_BATCH), k);
      let hit = 0;
      pred.forEach((p, i) => hit += p === set.labels[i] ? 1 : 0);
      return (100 * hit) / pred.length;
    },
    release: () => network.release(),
  };
}
