/**
 * Pooling and resampling: avgPool (AveragePool), maxPool (MaxPool with its Indices output,
 * used by the backward), globalAvgPool and nearest-neighbour upsampling (Resize).
 *
 * @module
 */
import type { Value } from "../graph.ts";
import { attr, node1 } from "./operands.ts";
import { perDim } from "./conv.ts";

/** Pooling geometry (PyTorch argument names); stride defaults to the kernel. */
export interface PoolOptions {
  stride?: number | number[];
  padding?: number | number[];
  /** Average pooling: count padded zeros in the divisor (PyTorch default true). */
  countIncludePad?: boolean;
  ceilMode?: boolean;
}

function poolShape(x: Value, k: number[], s: number[], p: number[], ceil: boolean, op: string) {
  const out = x.shape.slice(0, 2);
  k.forEach((ki, i) => {
    const span = x.shape[2 + i] + 2 * p[i] - ki;
    let d = (ceil ? Math.ceil(span / s[i]) : Math.floor(span / s[i])) + 1;
    if (ceil && (d - 1) * s[i] >= x.shape[2 + i] + p[i]) d--; // PyTorch's ceil-mode rule
    if (d < 1) throw new RangeError(`${op}: kernel [${k}] larger than padded input ${x}`);
    out.push(d);
  });
  return out;
}

function poolAttrs(k: number[], s: number[], p: number[], ceil: boolean) {
  return {
    kernel_shape: attr.ints(k),
    strides: attr.ints(s),
    pads: attr.ints([...p, ...p]),
    ceil_mode: attr.int(ceil ? 1 : 0),
  };
}

/**
 * Average pooling over the spatial dims of `x [N, C, ...]`.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { avgPool } from "./pool.ts";
 * const y = avgPool(new Graph().input("x", [1, 2, 8, 8]), 2); // [1, 2, 4, 4]
 * ```
 */
export function avgPool(x: Value, kernel: number | number[], o: PoolOptions = {}): Value {
  const n = x.rank - 2;
  const k = perDim(kernel, n, 1);
  const s = perDim(o.stride ?? k, n, 1);
  const p = perDim(o.padding, n, 0);
  const out = poolShape(x, k, s, p, o.ceilMode ?? false, "avgPool");
  return node1(x.graph, "AveragePool", [x], out, x.dtype, {
    ...poolAttrs(k, s, p, o.ceilMode ?? false),
    count_include_pad: attr.int(o.countIncludePad === false ? 0 : 1),
  });
}

/**
 * Max pooling (overlapping windows allowed, e.g. ResNet's 3x3 stride 2 padding 1).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { maxPool } from "./pool.ts";
 * const y = maxPool(new Graph().input("x", [1, 2, 8, 8]), 3, { stride: 2, padding: 1 });
 * ```
 */
export function maxPool(x: Value, kernel: number | number[], o: PoolOptions = {}): Value {
  const n = x.rank - 2;
  const k = perDim(kernel, n, 1);
  const s = perDim(o.stride ?? k, n, 1);
  const p = perDim(o.padding, n, 0);
  const out = poolShape(x, k, s, p, o.ceilMode ?? false, "maxPool");
  // The Indices output feeds the backward; it is dropped from the model when unused.
  return x.graph.node(
    "MaxPool",
    [x],
    [{ shape: out, dtype: x.dtype }, { shape: out, dtype: "int64" }],
    poolAttrs(k, s, p, o.ceilMode ?? false),
  )[0];
}

/**
 * Mean over all spatial dims, keeping them as 1.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { globalAvgPool } from "./pool.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = globalAvgPool(x);
 * ```
 */
export function globalAvgPool(x: Value): Value {
  const out = x.shape.map((d, i) => (i < 2 ? d : 1));
  return node1(x.graph, "GlobalAveragePool", [x], out, x.dtype);
}

/**
 * Nearest-neighbour upsampling by integer factors (PyTorch `interpolate(mode="nearest")`).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { upsampleNearest } from "./pool.ts";
 * const y = upsampleNearest(new Graph().input("x", [1, 2, 4, 4]), 2); // [1, 2, 8, 8]
 * ```
 */
export function upsampleNearest(x: Value, scale: number | number[]): Value {
  const s = perDim(scale, x.rank - 2, 1);
  if (!s.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new RangeError(`upsampleNearest: scale [${s}] must be positive integers`);
  }
  const scales = [1, 1, ...s];
  const out = x.shape.map((d, i) => d * scales[i]);
  const g = x.graph;
  return node1(
    x.graph,
    "Resize",
    [x, null, g.constant(Float32Array.from(scales), [scales.length], "float32")],
    out,
    x.dtype,
    {
      mode: attr.string("nearest"),
      coordinate_transformation_mode: attr.string("asymmetric"),
      nearest_mode: attr.string("floor"),
    },
  );
}
