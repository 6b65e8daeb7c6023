/**
 * ResNetAP of IDC (`models/resnet_ap.py`): a ResNet whose downsampling is an average pool
 * inside the block (after conv1's norm and ReLU) instead of a strided conv, with stride-1
 * convs everywhere, instance norm (`GroupNorm(C, C)`) and conv weights N(0, sqrt(2 / n)).
 *
 * The stem depends on the input size (IDC's `net_size`):
 * - size <= 64 ("small"): Conv3x3 -> norm -> ReLU (no pooling);
 * - 64 < size <= 128 ("mid"): Conv3x3 -> norm -> ReLU -> AvgPool2;
 * - otherwise ("large", the paper's 224 px): Conv7x7 stride 1 padding 3 -> norm -> ReLU -> AvgPool4.
 * Blocks: BasicBlock x [1, 1, 1, 1] (depth 10) or [2, 2, 2, 2] (18) at 64/128/256/512
 * channels; shortcut of a downsampling block: Conv1x1 -> AvgPool(stride) -> norm. Head:
 * average pool over the whole map, Linear.
 *
 * Names: `layer0.conv1`, `layer0.bn1`, `layer<i>.<j>.{conv1,bn1,conv2,bn2}`,
 * `layer<i>.0.downsample.{0,2}`, `fc`.
 *
 * Adapted from snu-mllab/Efficient-Dataset-Condensation@HEAD models/resnet_ap.py (semantics only).
 *
 * @module
 */
import type { Value } from "../../models/graph/graph.ts";
import type { Layers } from "../../models/graph/nn.ts";
import { relu } from "../../models/graph/ops/activation.ts";
import { add } from "../../models/graph/ops/elementwise.ts";
import { avgPool, globalAvgPool } from "../../models/graph/ops/pool.ts";
import { flatten } from "../../models/graph/ops/shape.ts";
import type { ModelFn } from "../../models/train/trainer.ts";
import { convNormalInit, norm2d, type NormKind } from "./_layers.ts";

/** Blocks per stage of IDC's ImageNet ResNets with BasicBlocks. */
export const RESNET_BLOCKS: Readonly<Record<10 | 18, readonly number[]>> = {
  10: [1, 1, 1, 1],
  18: [2, 2, 2, 2],
};

/** IDC's stem size for an input resolution: "small" <= 64 < "mid" <= 128 < "large". */
export type NetSize = "small" | "mid" | "large";

/**
 * IDC's `net_size` rule for ImageNet-type data.
 *
 * @example
 * ```ts
 * import { netSizeFor } from "./resnet_ap.ts";
 * netSizeFor(224); // "large"
 * netSizeFor(64); // "small"
 * ```
 */
export function netSizeFor(size: number): NetSize {
  return size <= 64 ? "small" : size <= 128 ? "mid" : "large";
}

/** Options of {@link resnetAP}. */
export interface ResNetAPOptions {
  classes: number;
  /** 10 (the paper's ResNetAP-10) or 18. */
  depth: 10 | 18;
  /** Default "instance". */
  norm?: NormKind;
  /** Channel multiplier of the base width 64 (IDC `--width`, default 1). */
  width?: number;
}

function block(
  nn: Layers,
  name: string,
  x: Value,
  planes: number,
  stride: number,
  norm: NormKind,
): Value {
  const bias = norm === "none";
  let h = convNormalInit(nn, `${name}.conv1`, x, planes, 3, { padding: 1, bias });
  h = relu(norm2d(nn, `${name}.bn1`, h, norm));
  if (stride !== 1) h = avgPool(h, stride); // IDC's modification: pool instead of stride
  h = convNormalInit(nn, `${name}.conv2`, h, planes, 3, { padding: 1, bias });
  h = norm2d(nn, `${name}.bn2`, h, norm);
  let skip = x;
  if (stride !== 1 || x.shape[1] !== planes) {
    skip = convNormalInit(nn, `${name}.downsample.0`, x, planes, 1, { bias });
    if (stride !== 1) skip = avgPool(skip, stride); // downsample.1 (no weights)
    skip = norm2d(nn, `${name}.downsample.2`, skip, norm);
  }
  return relu(add(h, skip));
}

/**
 * ResNetAP-10/18 as a trainer model function (the stem follows the input size).
 *
 * @example
 * ```ts
 * import { Trainer } from "../../models/train/trainer.ts";
 * import { resnetAP } from "./resnet_ap.ts";
 * const t = new Trainer({
 *   model: resnetAP({ classes: 10, depth: 10 }),
 *   inputShape: [3, 64, 64],
 *   classes: 10,
 *   loss: { kind: "mixedCrossEntropy" },
 *   random: Math.random,
 * });
 * ```
 */
export function resnetAP(o: ResNetAPOptions): ModelFn {
  const norm = o.norm ?? "instance";
  const base = Math.trunc(64 * (o.width ?? 1));
  const blocks = RESNET_BLOCKS[o.depth];
  if (!blocks) throw new RangeError(`ResNetAP depth must be 10 or 18, got ${o.depth}`);
  return (nn: Layers, x: Value): Value => {
    const size = netSizeFor(x.shape[2]);
    const k = size === "large" ? 7 : 3;
    let h = convNormalInit(nn, "layer0.conv1", x, base, k, {
      padding: k >> 1,
      bias: norm === "none",
    });
    h = relu(norm2d(nn, "layer0.bn1", h, norm));
    if (size !== "small") h = avgPool(h, size === "large" ? 4 : 2); // [N, 64, S/4, S/4] at 224
    blocks.forEach((n, i) => {
      for (let j = 0; j < n; j++) {
        const stride = i > 0 && j === 0 ? 2 : 1;
        h = block(nn, `layer${i + 1}.${j}`, h, base * 2 ** i, stride, norm);
      }
    });
    if (h.shape[2] !== h.shape[3]) {
      throw new RangeError(`ResNetAP needs square inputs (final map ${h.shape.slice(2)})`);
    }
    return nn.linear("fc", flatten(globalAvgPool(h), 1), o.classes); // avg_pool2d(x, W)
  };
}
