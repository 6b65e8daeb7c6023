/**
 * Shared types and attribute readers of the gradient rules.
 *
 * @module
 */
import type { Node, Value } from "./graph.ts";

/**
 * Backward of one op: given the node, the gradients of its outputs (null where none flows)
 * and which inputs need a gradient, returns one gradient (or null) per input.
 */
export type GradRule = (n: Node, dys: (Value | null)[], needs: boolean[]) => (Value | null)[];

/** An int attribute of a node, or a default. */
export function attrInt(n: Node, name: string, dflt: number): number {
  const a = n.attrs[name];
  return a ? (a.value as number) : dflt;
}

/** An ints attribute of a node, or a default. */
export function attrInts(n: Node, name: string, dflt: number[]): number[] {
  const a = n.attrs[name];
  return a ? [...(a.value as number[])] : dflt;
}

/** The numbers held by a constant input (shape vectors, axes, exponents). */
export function constNumbers(v: Value | null, what: string): number[] {
  const d = v ? v.graph.constantData(v) : undefined;
  if (!d) throw new Error(`Gradient rule needs ${what} to be a constant`);
  return Array.from(d as ArrayLike<number | bigint>, Number);
}
