/**
 * The classifier zoo by name, as the evaluation protocols and the command line refer to it.
 *
 * | name           | network                                                   | where        |
 * | -------------- | --------------------------------------------------------- | ------------ |
 * | `convnet`      | ConvNet-D, D from the image size (ConvNet-6 at 224 px)     | convnet.ts   |
 * | `convnet-<D>`  | ConvNet-D with an explicit depth                          | convnet.ts   |
 * | `resnetap-10`  | IDC ResNetAP-10, instance norm (the paper's main network) | resnet_ap.ts |
 * | `resnet-18`    | IDC ResNet-18, instance norm (Tables 2, 4, 5)             | resnet.ts    |
 * | `resnet-18-bn` | torchvision resnet18, BatchNorm (soft-label protocol)     | resnet.ts    |
 * | `alexnet`      | GLaD's AlexNet (Table 4)                                  | alexnet_vgg.ts |
 * | `vgg11`        | GLaD's VGG11, instance norm (Table 4)                     | alexnet_vgg.ts |
 * | `vit`          | GLaD's ViT (Table 4)                                      | vit.ts       |
 *
 * @module
 */
import type { ModelFn } from "../../models/train/trainer.ts";
import { alexNet, vgg11 } from "./alexnet_vgg.ts";
import { convNet, convNetDepthFor } from "./convnet.ts";
import { resnetIdc, resnetTorchvision } from "./resnet.ts";
import { resnetAP } from "./resnet_ap.ts";
import { vit } from "./vit.ts";

/** Names accepted by {@link buildClassifier} (plus `convnet-<D>`). */
export const CLASSIFIER_NAMES: readonly string[] = [
  "convnet",
  "resnetap-10",
  "resnet-18",
  "resnet-18-bn",
  "alexnet",
  "vgg11",
  "vit",
];

/** The networks averaged in the cross-architecture table (paper Table 4, GLaD's setup). */
export const CROSS_ARCH_MODELS: readonly string[] = ["alexnet", "vgg11", "resnet-18", "vit"];

/** What a classifier is built for. */
export interface ClassifierSpec {
  /** Number of classes (output logits). */
  classes: number;
  /** Input side in pixels (square inputs). */
  imageSize: number;
}

/**
 * A zoo network by name, for `classes` outputs at `imageSize` px.
 *
 * @example
 * ```ts
 * import { Trainer } from "../../models/train/trainer.ts";
 * import { buildClassifier } from "./zoo.ts";
 * const t = new Trainer({
 *   model: buildClassifier("resnetap-10", { classes: 10, imageSize: 64 }),
 *   inputShape: [3, 64, 64],
 *   classes: 10,
 *   loss: { kind: "mixedCrossEntropy" },
 *   random: Math.random,
 * });
 * ```
 */
export function buildClassifier(name: string, spec: ClassifierSpec): ModelFn {
  const { classes, imageSize } = spec;
  if (!(Number.isInteger(classes) && classes >= 1)) {
    throw new RangeError(`Classifier needs a positive integer class count, got ${classes}`);
  }
  const conv = /^convnet-(\d+)$/.exec(name);
  if (conv) return convNet({ classes, depth: Number(conv[1]) });
  switch (name) {
    case "convnet":
      return convNet({ classes, depth: convNetDepthFor(imageSize) });
    case "resnetap-10":
      return resnetAP({ classes, depth: 10 });
    case "resnet-18":
      return resnetIdc({ classes, depth: 18 });
    case "resnet-18-bn":
      return resnetTorchvision({ classes, depth: 18 });
    case "alexnet":
      return alexNet({ classes });
    case "vgg11":
      return vgg11({ classes });
    case "vit":
      return vit({ classes });
  }
  throw new RangeError(
    `Unknown classifier '${name}': expected one of ${
      CLASSIFIER_NAMES.join(", ")
    } or convnet-<depth>`,
  );
}
