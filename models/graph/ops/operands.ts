/**
 * Shared helpers of the op builders: operand coercion, broadcasting and axis handling.
 *
 * @module
 */
import { type Graph, makeData, type Value } from "../graph.ts";
import type { ElemType } from "../onnx_proto.ts";

/** A value or a number that becomes a scalar constant of the other operand's type. */
export type Operand = Value | number;

/** Coerces operands to values of one graph; numbers become scalar constants. */
export function values(op: string, ...xs: Operand[]): Value[] {
  const ref = xs.find((x): x is Value => typeof x !== "number");
  if (!ref) throw new Error(`${op}: at least one operand must be a graph value`);
  return xs.map((x) =>
    typeof x === "number" ? ref.graph.constant(makeData(ref.dtype, [x]), [], ref.dtype) : x
  );
}

/** NumPy broadcast of shapes; throws naming the op and both shapes when incompatible. */
export function broadcastShapes(op: string, ...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const k = s.length - rank + i;
      const e = k >= 0 ? s[k] : 1;
      if (e === 1) continue;
      if (d !== 1 && d !== e) {
        throw new RangeError(
          `${op}: shapes ${shapes.map((x) => `[${x}]`).join(" and ")} do not broadcast`,
        );
      }
      d = e;
    }
    out.push(d);
  }
  return out;
}

/** Normalises a possibly negative axis for a rank; throws when out of range. */
export function axis(op: string, a: number, rank: number): number {
  const r = a < 0 ? a + rank : a;
  if (!Number.isInteger(r) || r < 0 || r >= rank) {
    throw new RangeError(`${op}: axis ${a} out of range for rank ${rank}`);
  }
  return r;
}

/** Requires two values to have equal element types. */
export function sameType(op: string, a: Value, b: Value): void {
  if (a.dtype !== b.dtype) throw new TypeError(`${op}: ${a} and ${b} differ in element type`);
}

/** Requires a floating-point value. */
export function isFloat(op: string, x: Value): void {
  if (x.dtype !== "float32" && x.dtype !== "float64" && x.dtype !== "float16") {
    throw new TypeError(`${op}: ${x} must be floating point`);
  }
}

/** Appends a single-output node with the given output shape and type. */
export function node1(
  g: Graph,
  op: string,
  inputs: (Value | null)[],
  shape: readonly number[],
  dtype: ElemType,
  attrs: Parameters<Graph["node"]>[3] = {},
  domain = "",
): Value {
  return g.node(op, inputs, [{ shape, dtype }], attrs, domain)[0];
}

/** Shorthand attribute constructors. */
export const attr = {
  int: (value: number) => ({ kind: "int" as const, value }),
  float: (value: number) => ({ kind: "float" as const, value }),
  ints: (value: readonly number[]) => ({ kind: "ints" as const, value }),
  string: (value: string) => ({ kind: "string" as const, value }),
};

/**
 * When `x` is a Transpose of some `z`, returns `[z, perm]` so that a layout-agnostic op can
 * run on `z` and be transposed after: pushing transposes down lets the channels-last
 * Gemm-lowered convs (`conv_gemm.ts`) meet each other's transposes and fold them away.
 * Only outside composite ops, whose internals autodiff treats as a unit.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { permute } from "./shape.ts";
 * import { transposedFrom } from "./operands.ts";
 * const g = new Graph();
 * const z = g.input("z", [2, 3, 4]);
 * transposedFrom(permute(z, [0, 2, 1]))?.[1]; // [0, 2, 1]
 * ```
 */
export function transposedFrom(x: Value): [Value, number[]] | null {
  if (x.graph.inComposite) return null;
  const n = x.graph.producer(x);
  if (n?.op !== "Transpose" || n.region) return null; // a composite's internals stay inside it
  return [n.inputs[0]!, n.attrs.perm.value as number[]];
}
