/**
 * ConvNet-D of the dataset-distillation benchmarks (IDC `models/convnet.py`, from DC/DM):
 * D x [Conv3x3(width, padding 1), norm, ReLU, AvgPool2] -> flatten -> Linear.
 * Norm "instance" is `nn.GroupNorm(width, width)` with affine weights. Weights keep PyTorch's
 * default init (IDC's ConvNet has no init loop, unlike its ResNets).
 *
 * State-dict names as IDC's module: `layers.conv.<d>`, `layers.norm.<d>`, `classifier`.
 *
 * Adapted from snu-mllab/Efficient-Dataset-Condensation@HEAD models/convnet.py (semantics only).
 *
 * @module
 */
import type { Value } from "../../models/graph/graph.ts";
import type { Layers } from "../../models/graph/nn.ts";
import { relu } from "../../models/graph/ops/activation.ts";
import { avgPool } from "../../models/graph/ops/pool.ts";
import { flatten } from "../../models/graph/ops/shape.ts";
import type { ModelFn } from "../../models/train/trainer.ts";
import { norm2d, type NormKind } from "./_layers.ts";

/** IDC's default ConvNet width (`net_width=128`). */
export const CONVNET_WIDTH = 128;

/** Options of {@link convNet}. */
export interface ConvNetOptions {
  classes: number;
  /** Number of conv blocks D; see {@link convNetDepthFor}. */
  depth: number;
  /** Channels of every conv (default 128). */
  width?: number;
  /** Default "instance" (the hard-label protocol). */
  norm?: NormKind;
}

/**
 * The ConvNet depth used at an input resolution: one block per halving down to about 4 px,
 * `round(log2(size)) - 2` (32 px -> 3, 64 -> 4, 128 -> 5, 224/256 -> 6: ConvNet-6 is the
 * paper's network at 224 px, SPEC section 4; ConvNet-4 at the cpu scale's 64 px).
 *
 * @example
 * ```ts
 * import { convNetDepthFor } from "./convnet.ts";
 * convNetDepthFor(224); // 6
 * convNetDepthFor(64); // 4
 * ```
 */
export function convNetDepthFor(size: number): number {
  if (!(Number.isInteger(size) && size >= 8)) {
    throw new RangeError(`ConvNet needs an integer image size >= 8, got ${size}`);
  }
  return Math.round(Math.log2(size)) - 2;
}

/**
 * ConvNet-D as a trainer model function.
 *
 * @example
 * ```ts
 * import { Trainer } from "../../models/train/trainer.ts";
 * import { convNet } from "./convnet.ts";
 * const t = new Trainer({
 *   model: convNet({ classes: 10, depth: 4 }),
 *   inputShape: [3, 64, 64],
 *   classes: 10,
 *   loss: { kind: "crossEntropy" },
 *   random: Math.random,
 * });
 * t.stateDict().get("layers.conv.0.weight")!.shape; // [128, 3, 3, 3]
 * ```
 */
export function convNet(o: ConvNetOptions): ModelFn {
  const width = o.width ?? CONVNET_WIDTH;
  const norm = o.norm ?? "instance";
  return (nn: Layers, x: Value): Value => {
    let h = x;
    for (let d = 0; d < o.depth; d++) {
      if (h.shape[2] < 2 || h.shape[3] < 2) {
        throw new RangeError(`ConvNet-${o.depth} needs a larger input than ${x.shape.slice(1)}`);
      }
      h = nn.conv2d(`layers.conv.${d}`, h, width, 3, { padding: 1 });
      h = norm2d(nn, `layers.norm.${d}`, h, norm);
      h = avgPool(relu(h), 2); // [N, width, H / 2^(d+1), W / 2^(d+1)]
    }
    return nn.linear("classifier", flatten(h, 1), o.classes);
  };
}
