/**
 * Matrix products: gemm (ONNX Gemm), PyTorch's `F.linear`, and batched matmul with NumPy
 * broadcasting (ONNX MatMul).
 *
 * @module
 */
import type { Value } from "../graph.ts";
import { attr, broadcastShapes, node1, sameType } from "./operands.ts";

/**
 * `alpha * op(a) @ op(b) + beta * c` for 2-D `a`, `b` (ONNX Gemm).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { gemm } from "./matmul.ts";
 * const g = new Graph();
 * const y = gemm(g.input("a", [4, 3]), g.input("b", [5, 3]), null, { transB: true }); // [4, 5]
 * ```
 */
export function gemm(
  a: Value,
  b: Value,
  c: Value | null,
  o: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {},
): Value {
  sameType("gemm", a, b);
  if (a.rank !== 2 || b.rank !== 2) throw new RangeError(`gemm: ${a} and ${b} must be 2-D`);
  const [m, k] = o.transA ? [a.shape[1], a.shape[0]] : a.shape;
  const [k2, n] = o.transB ? [b.shape[1], b.shape[0]] : b.shape;
  if (k !== k2) throw new RangeError(`gemm: inner dims of ${a} and ${b} differ`);
  if (c) broadcastShapes("gemm", c.shape, [m, n]);
  return node1(a.graph, "Gemm", c ? [a, b, c] : [a, b], [m, n], a.dtype, {
    transA: attr.int(o.transA ? 1 : 0),
    transB: attr.int(o.transB ? 1 : 0),
    alpha: attr.float(o.alpha ?? 1),
    beta: attr.float(o.beta ?? 1),
  });
}

/**
 * PyTorch `F.linear`: `x [N, in] @ w[out, in]^T + b`.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { linear } from "./matmul.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 3]);
 * const w = g.input("w", [5, 3]);
 * const b = g.input("b", [5]);
 * const y = linear(x, w, b);
 * ```
 */
export function linear(x: Value, w: Value, b: Value | null): Value {
  return gemm(x, w, b, { transB: true });
}

/**
 * Batched matrix product with NumPy broadcasting of the batch dims (ONNX MatMul);
 * 1-D operands are promoted as in NumPy.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { matmul } from "./matmul.ts";
 * const g = new Graph();
 * const y = matmul(g.input("a", [2, 4, 3]), g.input("b", [3, 5])); // [2, 4, 5]
 * ```
 */
export function matmul(a: Value, b: Value): Value {
  sameType("matmul", a, b);
  const as = a.rank === 1 ? [1, a.shape[0]] : a.shape;
  const bs = b.rank === 1 ? [b.shape[0], 1] : b.shape;
  if (as[as.length - 1] !== bs[bs.length - 2]) {
    throw new RangeError(`matmul: inner dims of ${a} and ${b} differ`);
  }
  const batch = broadcastShapes("matmul", as.slice(0, -2), bs.slice(0, -2));
  const out = [...batch];
  if (a.rank > 1) out.push(as[as.length - 2]);
  if (b.rank > 1) out.push(bs[bs.length - 1]);
  return node1(a.graph, "MatMul", [a, b], out, a.dtype);
}
