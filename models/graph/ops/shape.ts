/**
 * Shape ops: reshape, permute (Transpose), flatten, cat (Concat), slice, split, squeeze,
 * unsqueeze, expand and gather (embedding lookup). All shapes are resolved at build time.
 *
 * @module
 */
import type { Graph, Value } from "../graph.ts";
import type { ElemType } from "../onnx_proto.ts";
import { attr, axis, broadcastShapes, node1 } from "./operands.ts";

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Reshape; one dim may be -1 (inferred). Returns `x` itself when the shape is unchanged.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { reshape } from "./shape.ts";
 * const g = new Graph();
 * const y = reshape(g.input("x", [2, 3, 4]), [2, -1]); // [2, 12]
 * ```
 */
export function reshape(x: Value, shape: readonly number[]): Value {
  const known = shape.filter((d) => d !== -1);
  const n = numel(x.shape);
  const out = shape.map((d) => (d === -1 ? n / Math.max(1, numel(known)) : d));
  if (
    shape.filter((d) => d === -1).length > 1 || numel(out) !== n || !out.every(Number.isInteger)
  ) {
    throw new RangeError(`reshape: cannot view ${x} as [${shape}]`);
  }
  if (out.length === x.rank && out.every((d, i) => d === x.shape[i])) return x;
  return node1(x.graph, "Reshape", [x, x.graph.ints(out)], out, x.dtype);
}

/**
 * Permutes dims (ONNX Transpose).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { permute } from "./shape.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = permute(x, [0, 2, 3, 1]);
 * ```
 */
export function permute(x: Value, perm: readonly number[]): Value {
  if (perm.length !== x.rank || [...perm].sort().some((p, i) => p !== i)) {
    throw new RangeError(`permute: [${perm}] is not a permutation of the dims of ${x}`);
  }
  if (perm.every((p, i) => p === i)) return x;
  // Fold a transpose of a transpose into one (or none): weights stored channels-last meet the
  // Gemm-lowered convs' own transposes here.
  const src = x.graph.producer(x);
  if (src?.op === "Transpose" && !src.region) { // a composite's internals stay inside it
    const inner = src.attrs.perm.value as number[];
    return permute(src.inputs[0]!, perm.map((p) => inner[p]));
  }
  return node1(x.graph, "Transpose", [x], perm.map((p) => x.shape[p]), x.dtype, {
    perm: attr.ints(perm),
  });
}

/**
 * Flattens to 2-D `[prod(dims < axis), prod(dims >= axis)]`.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { flatten } from "./shape.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = flatten(x, 1);
 * ```
 */
export function flatten(x: Value, ax = 1): Value {
  const a = ax < 0 ? ax + x.rank : ax;
  const out = [numel(x.shape.slice(0, a)), numel(x.shape.slice(a))];
  return node1(x.graph, "Flatten", [x], out, x.dtype, { axis: attr.int(a) });
}

/**
 * Concatenates along an axis.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { cat } from "./shape.ts";
 * const g = new Graph();
 * const a = g.input("a", [2, 4, 8, 8]);
 * const b = g.input("b", [2, 4, 8, 8]);
 * const y = cat([a, b], 1);
 * ```
 */
export function cat(xs: Value[], ax: number): Value {
  if (xs.length === 0) throw new Error("cat: no inputs");
  const a = axis("cat", ax, xs[0].rank);
  const out = [...xs[0].shape];
  out[a] = 0;
  for (const x of xs) {
    if (x.rank !== out.length || x.shape.some((d, i) => i !== a && d !== out[i])) {
      throw new RangeError(`cat: ${x} does not match ${xs[0]} outside axis ${a}`);
    }
    out[a] += x.shape[a];
  }
  if (xs.length === 1) return xs[0];
  return node1(xs[0].graph, "Concat", xs, out, xs[0].dtype, { axis: attr.int(a) });
}

/**
 * Python-style slice `x[start:end:step]` along the given axes (negative indices allowed).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { slice } from "./shape.ts";
 * const g = new Graph();
 * const y = slice(g.input("x", [4, 6]), [1], [0], [5], [2]); // [4, 3]
 * ```
 */
export function slice(
  x: Value,
  axes: readonly number[],
  starts: readonly number[],
  ends: readonly number[],
  steps?: readonly number[],
): Value {
  const st = steps ?? axes.map(() => 1);
  const out = [...x.shape];
  const ax = axes.map((a) => axis("slice", a, x.rank));
  ax.forEach((a, i) => {
    out[a] = sliceLength(x.shape[a], starts[i], ends[i], st[i]);
  });
  return node1(
    x.graph,
    "Slice",
    [x, x.graph.ints(starts), x.graph.ints(ends), x.graph.ints(ax), x.graph.ints(st)],
    out,
    x.dtype,
  );
}

/** Length of `range(n)[start:end:step]` with ONNX/Python clamping. */
export function sliceLength(n: number, start: number, end: number, step: number): number {
  if (step === 0) throw new RangeError("slice: step must not be 0");
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + n : start;
  let e = end < 0 ? end + n : end;
  if (step > 0) {
    s = clamp(s, 0, n);
    e = clamp(e, 0, n);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  s = clamp(s, -1, n - 1);
  e = clamp(e, -1, n - 1);
  return Math.max(0, Math.ceil((s - e) / -step));
}

/**
 * Splits along an axis into pieces of the given sizes.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { split } from "./shape.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = split(x, [2, 2], 1);
 * ```
 */
export function split(x: Value, sizes: readonly number[], ax: number): Value[] {
  const a = axis("split", ax, x.rank);
  if (sizes.reduce((p, q) => p + q, 0) !== x.shape[a]) {
    throw new RangeError(`split: sizes [${sizes}] do not add up to dim ${a} of ${x}`);
  }
  const outs = sizes.map((s) => {
    const sh = [...x.shape];
    sh[a] = s;
    return { shape: sh, dtype: x.dtype };
  });
  return x.graph.node("Split", [x, x.graph.ints(sizes)], outs, { axis: attr.int(a) });
}

/**
 * Removes size-1 dims.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { squeeze } from "./shape.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 1, 1]);
 * const y = squeeze(x, [2, 3]);
 * ```
 */
export function squeeze(x: Value, axes: readonly number[]): Value {
  const ax = axes.map((a) => axis("squeeze", a, x.rank));
  for (const a of ax) {
    if (x.shape[a] !== 1) throw new RangeError(`squeeze: dim ${a} of ${x} is not 1`);
  }
  const out = x.shape.filter((_, i) => !ax.includes(i));
  return node1(x.graph, "Squeeze", [x, x.graph.ints(ax)], out, x.dtype);
}

/**
 * Inserts size-1 dims at the given output positions.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { unsqueeze } from "./shape.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = unsqueeze(x, [0]);
 * ```
 */
export function unsqueeze(x: Value, axes: readonly number[]): Value {
  const rank = x.rank + axes.length;
  const ax = axes.map((a) => axis("unsqueeze", a, rank)).sort((p, q) => p - q);
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(ax.includes(i) ? 1 : x.shape[k++]);
  return node1(x.graph, "Unsqueeze", [x, x.graph.ints(ax)], out, x.dtype);
}

/**
 * Broadcasts to a shape (ONNX Expand).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { expand } from "./shape.ts";
 * const g = new Graph();
 * const b = g.input("b", [3]);
 * const y = expand(b, [4, 3]);
 * ```
 */
export function expand(x: Value, shape: readonly number[]): Value {
  const out = broadcastShapes("expand", x.shape, shape);
  if (out.length === x.rank && out.every((d, i) => d === x.shape[i])) return x;
  return node1(x.graph, "Expand", [x, x.graph.ints(shape)], out, x.dtype);
}

/**
 * Gathers slices along an axis by integer indices (an embedding lookup for axis 0).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { gather } from "./shape.ts";
 * const g = new Graph();
 * const e = gather(g.input("table", [10, 4]), g.input("ids", [3], "int64"), 0); // [3, 4]
 * ```
 */
export function gather(x: Value, indices: Value, ax = 0): Value {
  const a = axis("gather", ax, x.rank);
  if (indices.dtype !== "int64" && indices.dtype !== "int32") {
    throw new TypeError(`gather: indices ${indices} must be int64 or int32`);
  }
  const out = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  return node1(x.graph, "Gather", [x, indices], out, x.dtype, { axis: attr.int(a) });
}

/**
 * Constant zero-padding: `pads` lists [begin..., end...] per dim (ONNX order); negative
 * entries crop.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { pad } from "./shape.ts";
 * const y = pad(new Graph().input("x", [1, 1, 4, 4]), [0, 0, 1, 1, 0, 0, 1, 1]); // [1, 1, 6, 6]
 * ```
 */
export function pad(x: Value, pads: readonly number[]): Value {
  if (pads.length !== 2 * x.rank) throw new RangeError(`pad: need ${2 * x.rank} pads for ${x}`);
  if (pads.every((p) => p === 0)) return x;
  const out = x.shape.map((d, i) => d + pads[i] + pads[i + x.rank]);
  if (out.some((d) => d < 0)) throw new RangeError(`pad: [${pads}] crops ${x} below zero`);
  return node1(x.graph, "Pad", [x, x.graph.ints(pads)], out, x.dtype, {
    mode: attr.string("constant"),
  });
}

/**
 * A tensor of zeros of a static shape, made at run time (ConstantOfShape), not stored.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { zeros } from "./shape.ts";
 * const z = zeros(new Graph(), [64, 128], "float32");
 * ```
 */
export function zeros(g: Graph, shape: readonly number[], dtype: ElemType): Value {
  const value = {
    kind: "tensor" as const,
    value: { name: "", dtype, dims: [1], raw: new Uint8Array(dtype === "float64" ? 8 : 4) },
  };
  if (dtype !== "float32" && dtype !== "float64") {
    throw new TypeError(`zeros: ${dtype} unsupported`);
  }
  return node1(g, "ConstantOfShape", [g.ints(shape)], shape, dtype, { value });
}
