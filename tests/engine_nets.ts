/**
 * The two reference networks of the engine parity tests and benchmark, written with the
 * layer helpers and PyTorch's state-dict names:
 * - ConvNet-3 of DC/DM (Zhao et al.): [Conv3x3(w) -> GroupNorm(w, w) -> ReLU -> AvgPool2] x depth
 *   -> Linear (`features.<i>`, `classifier`);
 * - torchvision's ResNet-18 (BasicBlock [2, 2, 2, 2], BatchNorm, 3x3/2 MaxPool, strided
 *   convs, 1x1 downsample), with a configurable base width for small fixtures.
 */
import type { Value } from "../models/graph/graph.ts";
import type { Layers } from "../models/graph/nn.ts";
import { relu } from "../models/graph/ops/activation.ts";
import { add } from "../models/graph/ops/elementwise.ts";
import { avgPool, globalAvgPool, maxPool } from "../models/graph/ops/pool.ts";
import { flatten } from "../models/graph/ops/shape.ts";

/** ConvNet-3 (width 128, instance norm, ReLU, average pooling in the papers). */
export function convNet(classes: number, width = 128, depth = 3) {
  return (nn: Layers, x: Value): Value => {
    let h = x;
    for (let d = 0; d < depth; d++) {
      h = nn.conv2d(`features.${4 * d}`, h, width, 3, { padding: 1 });
      h = nn.groupNorm(`features.${4 * d + 1}`, h, width);
      h = avgPool(relu(h), 2);
    }
    return nn.linear("classifier", flatten(h, 1), classes);
  };
}

function basicBlock(nn: Layers, name: string, x: Value, planes: number, stride: number): Value {
  let h = nn.conv2d(`${name}.conv1`, x, planes, 3, { stride, padding: 1, bias: false });
  h = relu(nn.batchNorm(`${name}.bn1`, h));
  h = nn.conv2d(`${name}.conv2`, h, planes, 3, { padding: 1, bias: false });
  h = nn.batchNorm(`${name}.bn2`, h);
  let skip = x;
  if (stride !== 1 || x.shape[1] !== planes) {
    skip = nn.conv2d(`${name}.downsample.0`, x, planes, 1, { stride, bias: false });
    skip = nn.batchNorm(`${name}.downsample.1`, skip);
  }
  return relu(add(h, skip));
}

/** torchvision ResNet-18 with base width `width` (64 in torchvision). */
export function resnet18(classes: number, width = 64) {
  return (nn: Layers, x: Value): Value => {
    let h = nn.conv2d("conv1", x, width, 7, { stride: 2, padding: 3, bias: false });
    h = relu(nn.batchNorm("bn1", h));
    h = maxPool(h, 3, { stride: 2, padding: 1 });
    [1, 2, 4, 8].forEach((m, i) => {
      const stride = i === 0 ? 1 : 2;
      h = basicBlock(nn, `layer${i + 1}.0`, h, width * m, stride);
      h = basicBlock(nn, `layer${i + 1}.1`, h, width * m, 1);
    });
    return nn.linear("fc", flatten(globalAvgPool(h), 1), classes);
  };
}
