/**
 * Reverse-mode differentiation over a {@link Graph}: walks the nodes backwards from a scalar
 * loss, applying one rule per op type (the `_rules_*.ts` tables) or a composite's own
 * backward, sums the contributions of values used more than once, and appends the
 * gradient nodes to the same graph. Only nodes between the loss and the requested values
 * are differentiated, and each rule is told which input gradients are needed.
 *
 * @module
 */
import type { Graph, Region, Value } from "../graph.ts";
import { addN } from "../ops/elementwise.ts";
import { expand, zeros } from "../ops/shape.ts";
import { CONV_RULES } from "./_rules_conv.ts";
import { ELEMENTWISE_RULES } from "./_rules_elementwise.ts";
import { POOL_RULES } from "./_rules_pool.ts";
import { SHAPE_RULES } from "./_rules_shape.ts";
import type { GradRule } from "./_rules_types.ts";

export type { GradRule } from "./_rules_types.ts";

const RULES: Record<string, GradRule> = {
  ...ELEMENTWISE_RULES,
  ...CONV_RULES,
  ...POOL_RULES,
  ...SHAPE_RULES,
};

const FLOAT = new Set(["float32", "float64", "float16"]);

/** Op types that have a gradient rule (composites carry their own). */
export function differentiableOps(): string[] {
  return Object.keys(RULES).sort();
}

/**
 * Gradients of a scalar `loss` with respect to `wrt`, as new values of the same graph
 * (zeros for values the loss does not depend on). `seed` is the loss gradient (default 1).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { grad } from "./autodiff.ts";
 * import { mul } from "../ops/elementwise.ts";
 * import { sum } from "../ops/reduce.ts";
 * const g = new Graph();
 * const x = g.input("x", [3]);
 * const [dx] = grad(sum(mul(x, x)), [x]); // 2x
 * g.output(dx, "dx");
 * ```
 */
export function grad(loss: Value, wrt: readonly Value[], seed?: Value): Value[] {
  const g: Graph = loss.graph;
  if (loss.shape.reduce((a, b) => a * b, 1) !== 1 && !seed) {
    throw new RangeError(`grad: loss ${loss} is not a scalar; pass a seed gradient`);
  }
  // 1. Values that depend on a wrt value (forward reachability).
  const live = new Set(wrt.map((v) => v.id));
  for (const n of g.nodes) {
    if (n.inputs.some((i) => i && live.has(i.id))) { for (const o of n.outputs) live.add(o.id); }
  }
  // 2. Walk backwards from the loss, accumulating contributions per value id.
  const contribs = new Map<number, Value[]>();
  contribs.set(loss.id, [seed ?? g.constant(oneOf(loss.dtype), loss.shape, loss.dtype)]);
  const total = (v: Value): Value | null => {
    const c = contribs.get(v.id);
    if (!c || c.length === 0) return null;
    const s = addN(c);
    contribs.set(v.id, [s]);
    return s;
  };
  const done = new Set<Region>();
  for (let k = g.nodes.length - 1; k >= 0; k--) {
    const n = g.nodes[k];
    if (n.region) {
      if (done.has(n.region)) continue;
      done.add(n.region);
      applyRegion(g, n.region, k, total, live, contribs);
      continue;
    }
    if (!n.outputs.some((o) => contribs.has(o.id))) continue;
    const dys = n.outputs.map(total);
    if (dys.every((d) => d === null)) continue;
    const needs = n.inputs.map((i) => !!i && live.has(i.id) && FLOAT.has(i.dtype));
    if (!needs.some(Boolean)) continue;
    const rule = RULES[n.op];
    if (!rule) throw new Error(`No gradient rule for ${n.op} (output ${n.outputs[0]})`);
    push(n.op, n.inputs, rule(n, dys, needs), needs, contribs);
  }
  return wrt.map((v) => total(v) ?? zerosLike(g, v));
}

function applyRegion(
  g: Graph,
  r: Region,
  last: number,
  total: (v: Value) => Value | null,
  live: Set<number>,
  contribs: Map<number, Value[]>,
): void {
  const outs = new Set(r.outputs.map((o) => o.id));
  for (let k = last; k >= 0 && g.nodes[k].region === r; k--) {
    for (const o of g.nodes[k].outputs) {
      if (!outs.has(o.id) && contribs.has(o.id)) {
        throw new Error(
          `Composite op: internal value ${o} is used outside it; cannot differentiate`,
        );
      }
    }
  }
  const dys = r.outputs.map(total);
  if (dys.every((d) => d === null)) return;
  const needs = r.inputs.map((i) => live.has(i.id) && FLOAT.has(i.dtype));
  if (!needs.some(Boolean)) return;
  push("composite", r.inputs, r.backward(dys, needs), needs, contribs);
}

function push(
  op: string,
  inputs: readonly (Value | null)[],
  grads: (Value | null)[],
  needs: boolean[],
  contribs: Map<number, Value[]>,
): void {
  inputs.forEach((x, i) => {
    const d = grads[i];
    if (!x || !needs[i] || !d) return;
    if (d.shape.length !== x.shape.length || d.shape.some((s, j) => s !== x.shape[j])) {
      throw new Error(`${op} gradient rule returned ${d} for input ${x}`);
    }
    const list = contribs.get(x.id);
    if (list) list.push(d);
    else contribs.set(x.id, [d]);
  });
}

function oneOf(dtype: string) {
  return dtype === "float64" ? new Float64Array([1]) : new Float32Array([1]);
}

function zerosLike(g: Graph, v: Value): Value {
  if (v.shape.length === 0) return g.scalar(0, v.dtype);
  return v.dtype === "float32" || v.dtype === "float64"
    ? zeros(g, v.shape, v.dtype)
    : expand(g.scalar(0, v.dtype), v.shape);
}
