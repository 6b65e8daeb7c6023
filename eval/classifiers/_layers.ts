/**
 * Layer helpers the classifier zoo shares, beyond models/nn.ts:
 * - {@link convNormalInit}: `nn.Conv2d` whose weight is drawn N(0, sqrt(2 / n)), n = k * k *
 *   out_channels (IDC's ResNet/ResNetAP init loop; torchvision ResNet's
 *   `kaiming_normal_(mode="fan_out", nonlinearity="relu")` is the same distribution);
 * - {@link norm2d}: "instance" = `nn.GroupNorm(C, C)` (affine), "batch" = `nn.BatchNorm2d`;
 * - adaptive max pooling for any input and output size (PyTorch AdaptiveMaxPool2d bins:
 *   [floor(i * in / out), ceil((i + 1) * in / out)));
 * - {@link patchify}: the ViT patch rearrangement.
 *
 * @module
 */
import type { Value } from "../../models/graph/graph.ts";
import type { Layers } from "../../models/graph/nn.ts";
import { greater, where } from "../../models/graph/ops/elementwise.ts";
import { maxPool } from "../../models/graph/ops/pool.ts";
import { gather, permute, reshape } from "../../models/graph/ops/shape.ts";

/** Normalisation of a conv net: IDC's `norm_type` ("instance" = GroupNorm(C, C)). */
export type NormKind = "instance" | "batch" | "none";

/**
 * `nn.Conv2d` (through `nn.conv2d`, in the engine's storage layout) whose weight, when the
 * layer is first created, is redrawn N(0, sqrt(2 / (k * k * cout))); the bias (if any) keeps
 * PyTorch's default. Weights that already exist (loaded or trained) are left alone.
 */
export function convNormalInit(
  nn: Layers,
  name: string,
  x: Value,
  cout: number,
  k: number,
  o: { stride?: number; padding?: number; bias?: boolean } = {},
): Value {
  const fresh = !nn.store.entries.has(`${name}.weight`);
  const y = nn.conv2d(name, x, cout, k, { ...o, bias: o.bias ?? false });
  if (fresh) {
    // iid draws, so the storage layout of the weight does not matter
    const w = nn.store.entries.get(`${name}.weight`)!.data;
    const std = Math.sqrt(2 / (k * k * cout));
    for (let i = 0; i < w.length; i++) {
      const u = Math.max(nn.store.random(), 1e-12), v = nn.store.random();
      w[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
  }
  return y;
}

/** IDC `normalization(C, norm_type)`; "none" is the identity. */
export function norm2d(nn: Layers, name: string, x: Value, kind: NormKind): Value {
  if (kind === "instance") return nn.groupNorm(name, x, x.shape[1]);
  if (kind === "batch") return nn.batchNorm(name, x);
  return x;
}

/** Bins of an adaptive pool from `n` to `m` cells: [start, end) per output cell. */
function bins(n: number, m: number): [number, number][] {
  return Array.from({ length: m }, (_, i) => [
    Math.floor((i * n) / m),
    Math.ceil(((i + 1) * n) / m),
  ]);
}

function int64(x: Value, values: number[]): Value {
  return x.graph.constant(BigInt64Array.from(values, BigInt), [values.length], "int64");
}

/** Max over the bins of one spatial axis (2 or 3): gathers of the j-th cell of each bin. */
function adaptiveMaxAxis(x: Value, ax: number, m: number): Value {
  const b = bins(x.shape[ax], m);
  const widest = Math.max(...b.map(([s, e]) => e - s));
  let y: Value | null = null;
  for (let j = 0; j < widest; j++) {
    // j-th cell of each bin, clamped to its last cell (a repeat does not change the max)
    const g = gather(x, int64(x, b.map(([s, e]) => Math.min(s + j, e - 1))), ax);
    y = y === null ? g : where(greater(g, y), g, y);
  }
  return y!;
}

/**
 * `nn.AdaptiveMaxPool2d(out)` on `x [N, C, H, W]`: a plain MaxPool when the input divides
 * evenly, else separable gathers and element-wise maxima (exact for overlapping bins).
 */
export function adaptiveMaxPool2d(x: Value, out: [number, number]): Value {
  const [h, w] = [x.shape[2], x.shape[3]];
  if (h === out[0] && w === out[1]) return x;
  if (h % out[0] === 0 && w % out[1] === 0) return maxPool(x, [h / out[0], w / out[1]]);
  return adaptiveMaxAxis(adaptiveMaxAxis(x, 2, out[0]), 3, out[1]);
}

/** `[N, C, H, W]` -> `[N, (H/p)(W/p), p p C]` (einops `b c (h p1) (w p2) -> b (h w) (p1 p2 c)`). */
export function patchify(x: Value, p: number): Value {
  const [n, c, h, w] = x.shape;
  if (h % p !== 0 || w % p !== 0) {
    throw new RangeError(`Image ${h}x${w} is not divisible into ${p}x${p} patches`);
  }
  const y = reshape(x, [n, c, h / p, p, w / p, p]); // b c h p1 w p2
  return reshape(permute(y, [0, 2, 4, 3, 5, 1]), [n, (h / p) * (w / p), p * p * c]);
}
