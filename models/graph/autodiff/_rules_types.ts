/**
 * Shared types and attribute readers of the gradient rules.
 *
 * @module
 */
import type { Node, Value } from "../graph.ts";

/**
 * Backward of one op (a type; see the rule tables for instances): given the node, the gradients of its outputs (null where none flows)
 * and which inputs need a gradient, returns one gradient (or null) per input.
 */
export type GradRule = (n: Node, dys: (Value | null)[], needs: boolean[]) => (Value | null)[];

/**
 * An int attribute of a node, or a default.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { softmax } from "../ops/activation.ts";
 * import { attrInt } from "./_rules_types.ts";
 * const g = new Graph();
 * softmax(g.input("x", [2, 3]), 1);
 * attrInt(g.nodes[0], "axis", -1); // 1
 * ```
 */
export function attrInt(n: Node, name: string, dflt: number): number {
  const a = n.attrs[name];
  return a ? (a.value as number) : dflt;
}

/**
 * An ints attribute of a node, or a default.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { permute } from "../ops/shape.ts";
 * import { attrInts } from "./_rules_types.ts";
 * const g = new Graph();
 * permute(g.input("x", [2, 3]), [1, 0]);
 * attrInts(g.nodes[0], "perm", []); // [1, 0]
 * ```
 */
export function attrInts(n: Node, name: string, dflt: number[]): number[] {
  const a = n.attrs[name];
  return a ? [...(a.value as number[])] : dflt;
}

/**
 * The numbers held by a constant input (shape vectors, axes, exponents).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { constNumbers } from "./_rules_types.ts";
 * constNumbers(new Graph().ints([2, 3]), "a shape"); // [2, 3]
 * ```
 */
export function constNumbers(v: Value | null, what: string): number[] {
  const d = v ? v.graph.constantData(v) : undefined;
  if (!d) throw new Error(`Gradient rule needs ${what} to be a constant`);
  return Array.from(d as ArrayLike<number | bigint>, Number);
}
