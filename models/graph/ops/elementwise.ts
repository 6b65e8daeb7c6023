/**
 * Elementwise ops with NumPy broadcasting: add sub mul div neg exp log sqrt pow abs and the
 * helpers the gradient rules need (reciprocal, erf, sign, cast, where, greater, addN).
 *
 * @module
 */
import type { Value } from "../graph.ts";
import type { ElemType } from "../onnx_proto.ts";
import {
  attr,
  broadcastShapes,
  isFloat,
  node1,
  type Operand,
  sameType,
  transposedFrom,
  values,
} from "./operands.ts";
import { permute } from "./shape.ts";

const PUSHABLE = new Set(["Add", "Sub", "Mul", "Div"]);

function binary(op: string, a: Operand, b: Operand): Value {
  const [x, y] = values(op, a, b);
  sameType(op, x, y);
  if (PUSHABLE.has(op)) {
    // Transpose(u) op Transpose(v) with one perm (or with a scalar) = Transpose(u op v).
    const tx = transposedFrom(x), ty = transposedFrom(y);
    const same = tx && ty && tx[1].join() === ty[1].join() && x.shape.join() === y.shape.join();
    if (same) return permute(binary(op, tx[0], ty[0]), tx[1]);
    if (tx && y.rank === 0) return permute(binary(op, tx[0], y), tx[1]);
    if (ty && x.rank === 0) return permute(binary(op, x, ty[0]), ty[1]);
  }
  return node1(x.graph, op, [x, y], broadcastShapes(op, x.shape, y.shape), x.dtype);
}

function unary(op: string, x: Value, float = true): Value {
  if (float) isFloat(op, x);
  return node1(x.graph, op, [x], x.shape, x.dtype);
}

/**
 * `a + b` with broadcasting (numbers become constants).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { add } from "./elementwise.ts";
 * const g = new Graph();
 * const y = add(g.input("x", [2, 3]), 1); // [2, 3]
 * ```
 */
export function add(a: Operand, b: Operand): Value {
  return binary("Add", a, b);
}

/**
 * `a - b` with broadcasting.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { sub } from "./elementwise.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = sub(x, 1);
 * ```
 */
export function sub(a: Operand, b: Operand): Value {
  return binary("Sub", a, b);
}

/**
 * `a * b` with broadcasting.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { mul } from "./elementwise.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4]);
 * const w = g.input("w", [4]);
 * const y = mul(x, w);
 * ```
 */
export function mul(a: Operand, b: Operand): Value {
  return binary("Mul", a, b);
}

/**
 * `a / b` with broadcasting.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { div } from "./elementwise.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = div(x, 2);
 * ```
 */
export function div(a: Operand, b: Operand): Value {
  return binary("Div", a, b);
}

/**
 * `-x`.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { neg } from "./elementwise.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = neg(x);
 * ```
 */
export function neg(x: Value): Value {
  return unary("Neg", x);
}

/**
 * `exp(x)`.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { exp } from "./elementwise.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = exp(x);
 * ```
 */
export function exp(x: Value): Value {
  return unary("Exp", x);
}

/**
 * Natural logarithm.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { log } from "./elementwise.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = log(x);
 * ```
 */
export function log(x: Value): Value {
  return unary("Log", x);
}

/**
 * Square root.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { sqrt } from "./elementwise.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = sqrt(x);
 * ```
 */
export function sqrt(x: Value): Value {
  return unary("Sqrt", x);
}

/**
 * `|x|`.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { abs } from "./elementwise.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = abs(x);
 * ```
 */
export function abs(x: Value): Value {
  return unary("Abs", x);
}

/**
 * `1 / x`.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { reciprocal } from "./elementwise.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = reciprocal(x);
 * ```
 */
export function reciprocal(x: Value): Value {
  return unary("Reciprocal", x);
}

/**
 * Gauss error function.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { erf } from "./elementwise.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = erf(x);
 * ```
 */
export function erf(x: Value): Value {
  return unary("Erf", x);
}

/**
 * Sign (-1, 0, 1).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { sign } from "./elementwise.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = sign(x);
 * ```
 */
export function sign(x: Value): Value {
  return unary("Sign", x);
}

/**
 * `x ** p` for a constant exponent `p` (differentiable in `x` only).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { pow } from "./elementwise.ts";
 * const g = new Graph();
 * const y = pow(g.input("x", [3]), 2);
 * ```
 */
export function pow(x: Value, p: number): Value {
  isFloat("Pow", x);
  const [, e] = values("Pow", x, p);
  return node1(x.graph, "Pow", [x, e], x.shape, x.dtype);
}

/**
 * Converts the element type.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { cast } from "./elementwise.ts";
 * const g = new Graph();
 * const mask = g.input("mask", [2, 4, 8, 8], "bool");
 * const y = cast(mask, "float32");
 * ```
 */
export function cast(x: Value, to: ElemType): Value {
  if (x.dtype === to) return x;
  const code =
    { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 }[to];
  return node1(x.graph, "Cast", [x], x.shape, to, { to: attr.int(code) });
}

/**
 * `a > b` as bool, broadcasting.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { greater } from "./elementwise.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = greater(x, 0);
 * ```
 */
export function greater(a: Operand, b: Operand): Value {
  const [x, y] = values("Greater", a, b);
  return node1(x.graph, "Greater", [x, y], broadcastShapes("Greater", x.shape, y.shape), "bool");
}

/**
 * `cond ? a : b`, broadcasting.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { where } from "./elementwise.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const mask = g.input("mask", [2, 4, 8, 8], "bool");
 * const y = where(mask, x, 0);
 * ```
 */
export function where(cond: Value, a: Operand, b: Operand): Value {
  const [x, y] = values("Where", a, b);
  sameType("Where", x, y);
  const shape = broadcastShapes("Where", cond.shape, x.shape, y.shape);
  return node1(cond.graph, "Where", [cond, x, y], shape, x.dtype);
}

/** Sum of several values of one shape (one Sum node); returns the value itself for one. */
export function addN(xs: Value[]): Value {
  if (xs.length === 1) return xs[0];
  const shape = broadcastShapes("Sum", ...xs.map((x) => x.shape));
  return node1(xs[0].graph, "Sum", xs, shape, xs[0].dtype);
}
