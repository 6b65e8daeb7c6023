/**
 * Reductions: sum (ReduceSum) and mean (ReduceMean), both with axes as an input (opset 18;
 * ReduceMean's axes were an attribute up to opset 17), and sumTo, which undoes broadcasting
 * for gradients.
 *
 * @module
 */
import type { Value } from "../graph.ts";
import { attr, axis, node1 } from "./operands.ts";
import { reshape } from "./shape.ts";

function reducedShape(op: string, x: Value, axes: readonly number[], keepdims: boolean) {
  const ax = [...new Set(axes.map((a) => axis(op, a, x.rank)))].sort((p, q) => p - q);
  const shape = keepdims
    ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !ax.includes(i));
  return { ax, shape };
}

/**
 * Sum over axes (all axes when `axes` is empty).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { sum } from "./reduce.ts";
 * const g = new Graph();
 * const s = sum(g.input("x", [2, 3]), [1], true); // [2, 1]
 * ```
 */
export function sum(x: Value, axes: readonly number[] = [], keepdims = false): Value {
  const all = axes.length === 0 ? x.shape.map((_, i) => i) : axes;
  const { ax, shape } = reducedShape("sum", x, all, keepdims);
  const split = splitSuffix(x, ax);
  if (split) return reshape(sum(sum(x, split[1], true), split[0], true), shape);
  return node1(x.graph, "ReduceSum", [x, x.graph.ints(ax)], shape, x.dtype, {
    keepdims: attr.int(keepdims ? 1 : 0),
  });
}

/**
 * Mean over axes (all axes when empty).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { mean } from "./reduce.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = mean(x, [2, 3], true);
 * ```
 */
export function mean(x: Value, axes: readonly number[] = [], keepdims = false): Value {
  const all = axes.length === 0 ? x.shape.map((_, i) => i) : axes;
  const { ax, shape } = reducedShape("mean", x, all, keepdims);
  const split = splitSuffix(x, ax);
  if (split) return reshape(mean(mean(x, split[1], true), split[0], true), shape);
  return node1(x.graph, "ReduceMean", [x, x.graph.ints(ax)], shape, x.dtype, {
    keepdims: attr.int(keepdims ? 1 : 0),
  });
}

/**
 * Reductions over a trailing block of axes plus others (BatchNorm's [0, 2, 3]) run as two
 * steps, the contiguous trailing block first: onnxruntime's strided single-pass reduction
 * measured about twice as slow. Returns [other axes, trailing axes] or null.
 */
function splitSuffix(x: Value, ax: readonly number[]): [number[], number[]] | null {
  let k = x.rank;
  while (k > 0 && ax.includes(k - 1)) k--;
  const suffix = ax.filter((a) => a >= k);
  const rest = ax.filter((a) => a < k);
  if (
    suffix.length === 0 || rest.length === 0 || x.shape.slice(k).reduce((p, q) => p * q, 1) < 16
  ) {
    return null;
  }
  return [rest, suffix];
}

/**
 * Sums a broadcast result back to `shape` (the gradient of broadcasting `shape` up).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { sumTo } from "./reduce.ts";
 * const g = new Graph();
 * const b = sumTo(g.input("dy", [4, 3]), [3]); // [3]
 * ```
 */
export function sumTo(x: Value, shape: readonly number[]): Value {
  const lead = x.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i);
  }
  if (axes.length === 0) return reshape(x, shape);
  return reshape(sum(x, axes, true), shape);
}
