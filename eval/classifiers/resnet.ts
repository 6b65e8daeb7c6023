/**
 * Standard ResNets with strided convs, in two layouts:
 * - {@link resnetIdc}: IDC's `models/resnet.py` (the hard-label protocol's "ResNet-18",
 *   instance norm by default): stem `layer0.{conv1,bn1}` chosen by input size like ResNetAP
 *   (large: Conv7x7/2 + MaxPool3/2; mid: Conv3x3 + MaxPool3/2; small: Conv3x3), shortcut
 *   `downsample.{0,1}` = Conv1x1/stride + norm;
 * - {@link resnetTorchvision}: torchvision's `resnet18`/`resnet34` layout and names (`conv1`,
 *   `bn1`, `layer1.0.conv1`, ..., `fc`) with BatchNorm, so torchvision state dicts load as
 *   they are (RDED's teacher and student).
 * Both draw conv weights N(0, sqrt(2 / (k k cout))) (IDC's loop; torchvision's kaiming_normal_
 * fan_out), norm weights 1 and biases 0, and PyTorch's default Linear init.
 *
 * Adapted from snu-mllab/Efficient-Dataset-Condensation@HEAD models/resnet.py and
 * pytorch/vision torchvision/models/resnet.py (semantics only).
 *
 * @module
 */
import type { Value } from "../../models/graph/graph.ts";
import type { Layers } from "../../models/graph/nn.ts";
import { relu } from "../../models/graph/ops/activation.ts";
import { add } from "../../models/graph/ops/elementwise.ts";
import { globalAvgPool, maxPool } from "../../models/graph/ops/pool.ts";
import { flatten } from "../../models/graph/ops/shape.ts";
import type { ModelFn } from "../../models/train/trainer.ts";
import { convNormalInit, norm2d, type NormKind } from "./_layers.ts";
import { netSizeFor } from "./resnet_ap.ts";

/** Blocks per stage of the BasicBlock ResNets. */
export const BASIC_BLOCKS: Readonly<Record<10 | 18 | 34, readonly number[]>> = {
  10: [1, 1, 1, 1],
  18: [2, 2, 2, 2],
  34: [3, 4, 6, 3],
};

/** Parameters of torchvision's `resnet18()` with 1000 classes (its model card). */
export const TORCHVISION_RESNET18_PARAMS = 11_689_512;

function basicBlock(
  nn: Layers,
  name: string,
  x: Value,
  planes: number,
  stride: number,
  norm: NormKind,
): Value {
  let h = convNormalInit(nn, `${name}.conv1`, x, planes, 3, { stride, padding: 1 });
  h = relu(norm2d(nn, `${name}.bn1`, h, norm));
  h = convNormalInit(nn, `${name}.conv2`, h, planes, 3, { padding: 1 });
  h = norm2d(nn, `${name}.bn2`, h, norm);
  let skip = x;
  if (stride !== 1 || x.shape[1] !== planes) {
    skip = convNormalInit(nn, `${name}.downsample.0`, x, planes, 1, { stride });
    skip = norm2d(nn, `${name}.downsample.1`, skip, norm);
  }
  return relu(add(h, skip));
}

function stages(nn: Layers, x: Value, blocks: readonly number[], norm: NormKind): Value {
  let h = x;
  blocks.forEach((n, i) => {
    for (let j = 0; j < n; j++) {
      h = basicBlock(nn, `layer${i + 1}.${j}`, h, 64 * 2 ** i, i > 0 && j === 0 ? 2 : 1, norm);
    }
  });
  return h;
}

function checkDepth(depth: number): readonly number[] {
  const b = BASIC_BLOCKS[depth as 10 | 18 | 34];
  if (!b) throw new RangeError(`ResNet depth must be 10, 18 or 34, got ${depth}`);
  return b;
}

/** Options of {@link resnetIdc}. */
export interface ResNetIdcOptions {
  classes: number;
  depth: 10 | 18 | 34;
  /** Default "instance" (IDC `--norm_type instance`). */
  norm?: NormKind;
}

/**
 * IDC's ResNet (strided convs, stem by input size) as a trainer model function.
 *
 * @example
 * ```ts
 * import { Trainer } from "../../models/train/trainer.ts";
 * import { resnetIdc } from "./resnet.ts";
 * const t = new Trainer({
 *   model: resnetIdc({ classes: 10, depth: 18 }),
 *   inputShape: [3, 64, 64],
 *   classes: 10,
 *   loss: { kind: "crossEntropy" },
 *   random: Math.random,
 * });
 * t.stateDict().has("layer0.conv1.weight"); // true
 * ```
 */
export function resnetIdc(o: ResNetIdcOptions): ModelFn {
  const blocks = checkDepth(o.depth);
  const norm = o.norm ?? "instance";
  return (nn: Layers, x: Value): Value => {
    const size = netSizeFor(x.shape[2]);
    let h = size === "large"
      ? convNormalInit(nn, "layer0.conv1", x, 64, 7, { stride: 2, padding: 3 })
      : convNormalInit(nn, "layer0.conv1", x, 64, 3, { padding: 1 });
    h = relu(norm2d(nn, "layer0.bn1", h, norm));
    if (size !== "small") h = maxPool(h, 3, { stride: 2, padding: 1 });
    h = stages(nn, h, blocks, norm);
    return nn.linear("fc", flatten(globalAvgPool(h), 1), o.classes);
  };
}

/** Options of {@link resnetTorchvision}. */
export interface ResNetTorchvisionOptions {
  classes: number;
  /** Default 18. */
  depth?: 18 | 34;
}

/**
 * torchvision `resnet18(num_classes=classes)` (or 34): Conv7x7/2 + BatchNorm + ReLU +
 * MaxPool3/2, BasicBlocks with strided convs, AdaptiveAvgPool(1), Linear. Loads torchvision
 * state dicts (`Trainer({ state })` or `loadStateDict`).
 *
 * @example
 * ```ts
 * import { Trainer } from "../../models/train/trainer.ts";
 * import { resnetTorchvision } from "./resnet.ts";
 * const t = new Trainer({
 *   model: resnetTorchvision({ classes: 1000 }),
 *   inputShape: [3, 224, 224],
 *   classes: 1000,
 *   loss: { kind: "klDiv", temperature: 20 },
 *   random: Math.random,
 * });
 * [...t.stateDict().keys()].slice(0, 2); // ["conv1.weight", "bn1.weight"]
 * ```
 */
export function resnetTorchvision(o: ResNetTorchvisionOptions): ModelFn {
  const blocks = checkDepth(o.depth ?? 18);
  return (nn: Layers, x: Value): Value => {
    let h = convNormalInit(nn, "conv1", x, 64, 7, { stride: 2, padding: 3 });
    h = relu(nn.batchNorm("bn1", h));
    h = maxPool(h, 3, { stride: 2, padding: 1 });
    h = stages(nn, h, blocks, "batch");
    return nn.linear("fc", flatten(globalAvgPool(h), 1), o.classes); // AdaptiveAvgPool2d(1)
  };
}
