/**
 * AlexNet and VGG11 of the cross-architecture table (paper Table 4 evaluates "in their
 * cross-architecture setup", i.e. GLaD's `networks/alexnet.py` and `networks/vgg.py`, the
 * dataset-distillation benchmark variants, not torchvision's ImageNet models):
 * - AlexNet: Conv5x5(128, p2) ReLU MaxPool2, Conv5x5(192, p2) ReLU MaxPool2, Conv3x3(256),
 *   ReLU, Conv3x3(192), ReLU, Conv3x3(192), ReLU, MaxPool2, flatten, Linear(192 (S/8)^2);
 * - VGG11: [64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M] of Conv3x3 + instance norm
 *   (`GroupNorm(C, C)`) + ReLU, AdaptiveMaxPool(7, 7), Linear(512 * 49).
 * PyTorch's default init; names as the reference Sequential indices (`features.<i>`, `fc`,
 * `classifier`).
 *
 * Adapted from GeorgeCazenavette/glad@HEAD networks/alexnet.py, networks/vgg.py (semantics only).
 *
 * @module
 */
import type { Value } from "../../models/graph/graph.ts";
import type { Layers } from "../../models/graph/nn.ts";
import { relu } from "../../models/graph/ops/activation.ts";
import { maxPool } from "../../models/graph/ops/pool.ts";
import { flatten } from "../../models/graph/ops/shape.ts";
import type { ModelFn } from "../../models/train/trainer.ts";
import { adaptiveMaxPool2d, norm2d, type NormKind } from "./_layers.ts";

/**
 * GLaD's AlexNet (input side divisible by 8).
 *
 * @example
 * ```ts
 * import { Trainer } from "../../models/train/trainer.ts";
 * import { alexNet } from "./alexnet_vgg.ts";
 * const t = new Trainer({
 *   model: alexNet({ classes: 10 }),
 *   inputShape: [3, 64, 64],
 *   classes: 10,
 *   loss: { kind: "crossEntropy" },
 *   random: Math.random,
 * });
 * t.stateDict().get("fc.weight")!.shape; // [10, 3072]
 * ```
 */
export function alexNet(o: { classes: number }): ModelFn {
  return (nn: Layers, x: Value): Value => {
    if (x.shape[2] % 8 !== 0 || x.shape[3] % 8 !== 0) {
      throw new RangeError(`AlexNet needs an input side divisible by 8, got ${x.shape.slice(2)}`);
    }
    let h = maxPool(relu(nn.conv2d("features.0", x, 128, 5, { padding: 2 })), 2);
    h = maxPool(relu(nn.conv2d("features.3", h, 192, 5, { padding: 2 })), 2);
    h = relu(nn.conv2d("features.6", h, 256, 3, { padding: 1 }));
    h = relu(nn.conv2d("features.8", h, 192, 3, { padding: 1 }));
    h = maxPool(relu(nn.conv2d("features.10", h, 192, 3, { padding: 1 })), 2); // [N, 192, S/8, S/8]
    return nn.linear("fc", flatten(h, 1), o.classes);
  };
}

/** VGG11's layer list: output channels, or "M" for MaxPool2. */
export const VGG11_CFG: readonly (number | "M")[] = [
  64,
  "M",
  128,
  "M",
  256,
  256,
  "M",
  512,
  512,
  "M",
  512,
  512,
  "M",
];

/**
 * GLaD's VGG11 (instance norm by default; "batch" is its VGG11BN, "none" a plain VGG11).
 *
 * @example
 * ```ts
 * import { Trainer } from "../../models/train/trainer.ts";
 * import { vgg11 } from "./alexnet_vgg.ts";
 * const t = new Trainer({
 *   model: vgg11({ classes: 10 }),
 *   inputShape: [3, 64, 64],
 *   classes: 10,
 *   loss: { kind: "crossEntropy" },
 *   random: Math.random,
 * });
 * t.stateDict().get("classifier.weight")!.shape; // [10, 25088]
 * ```
 */
export function vgg11(o: { classes: number; norm?: NormKind }): ModelFn {
  const norm = o.norm ?? "instance";
  return (nn: Layers, x: Value): Value => {
    let h = x;
    let i = 0;
    for (const c of VGG11_CFG) {
      if (c === "M") {
        h = maxPool(h, 2);
        i += 1;
      } else {
        h = nn.conv2d(`features.${i}`, h, c, 3, { padding: 1 });
        h = relu(norm2d(nn, `features.${i + 1}`, h, norm));
        i += 3; // conv, norm (or Identity), ReLU
      }
    }
    h = adaptiveMaxPool2d(h, [7, 7]); // [N, 512, 7, 7]
    return nn.linear("classifier", flatten(h, 1), o.classes);
  };
}
