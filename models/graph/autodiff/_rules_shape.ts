/**
 * Gradient rules of shape ops and reductions: views reshape back, Transpose inverts its
 * permutation, Concat/Split swap, Slice scatters into zeros with Pad (steps and negative
 * steps via interleaving and flipping), Gather scatter-adds (ScatterND), reductions expand.
 *
 * @module
 */
import type { Value } from "../graph.ts";
import { div } from "../ops/elementwise.ts";
import { node1 } from "../ops/operands.ts";
import { sumTo } from "../ops/reduce.ts";
import {
  cat,
  expand,
  pad,
  permute,
  reshape,
  slice,
  split,
  unsqueeze,
  zeros,
} from "../ops/shape.ts";
import { attr } from "../ops/operands.ts";
import { attrInt, attrInts, constNumbers, type GradRule } from "./_rules_types.ts";

const view: GradRule = (n, [dy]) => [reshape(dy!, n.inputs[0]!.shape), null];

/**
 * Shape-op and reduction rules, keyed by ONNX op type.
 *
 * @example
 * ```ts
 * import { SHAPE_RULES } from "./_rules_shape.ts";
 * Object.keys(SHAPE_RULES); // op types with a rule
 * ```
 */
export const SHAPE_RULES: Record<string, GradRule> = {
  Reshape: view,
  Flatten: view,
  Squeeze: view,
  Unsqueeze: view,
  Transpose: (n, [dy]) => {
    const perm = attrInts(n, "perm", []);
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [permute(dy!, inv)];
  },
  Concat: (n, [dy], nd) => {
    const a = attrInt(n, "axis", 0);
    const parts = split(dy!, n.inputs.map((x) => x!.shape[a]), a);
    return parts.map((p, i) => (nd[i] ? p : null));
  },
  Split: (n, dys) => {
    const a = attrInt(n, "axis", 0);
    const parts = dys.map((d, i) =>
      d ?? zeros(n.outputs[i].graph, n.outputs[i].shape, n.outputs[i].dtype)
    );
    return [cat(parts, a), null];
  },
  Expand: (n, [dy]) => [sumTo(dy!, n.inputs[0]!.shape), null],
  Slice: (n, [dy]) => {
    const x = n.inputs[0]!;
    const starts = constNumbers(n.inputs[1], "Slice starts");
    const axes = n.inputs[3] ? constNumbers(n.inputs[3], "Slice axes") : starts.map((_, i) => i);
    const steps = n.inputs[4] ? constNumbers(n.inputs[4], "Slice steps") : starts.map(() => 1);
    return [sliceBackward(dy!, x, axes, starts, steps)];
  },
  Pad: (n, [dy]) => {
    const x = n.inputs[0]!;
    const pads = constNumbers(n.inputs[1], "Pad pads");
    const r = x.rank;
    const axes = x.shape.map((_, i) => i);
    const starts = axes.map((i) => Math.max(pads[i], 0));
    const ends = axes.map((i) =>
      starts[i] + x.shape[i] + Math.min(pads[i], 0) + Math.min(pads[i + r], 0)
    );
    const cropped = slice(dy!, axes, starts, ends);
    return [pad(cropped, pads.map((p) => Math.max(-p, 0))), null];
  },
  Gather: (
    n,
    [dy],
  ) => [gatherBackward(dy!, n.inputs[0]!, n.inputs[1]!, attrInt(n, "axis", 0)), null],
  ReduceSum: (n, [dy]) => {
    const x = n.inputs[0]!;
    const axes = n.inputs[1] ? constNumbers(n.inputs[1], "ReduceSum axes") : [];
    return [expandBack(dy!, x, axes), null];
  },
  ReduceMean: (n, [dy]) => {
    const x = n.inputs[0]!;
    const axes = n.inputs[1] ? constNumbers(n.inputs[1], "ReduceMean axes") : [];
    const all = axes.length ? axes.map((a) => (a < 0 ? a + x.rank : a)) : x.shape.map((_, i) => i);
    const count = all.reduce((p, a) => p * x.shape[a], 1);
    return [expandBack(div(dy!, count), x, axes), null];
  },
};

/** Reshapes a reduced gradient to keepdims form and broadcasts it to the input shape. */
function expandBack(dy: Value, x: Value, axes: number[]): Value {
  const all = axes.length ? axes.map((a) => (a < 0 ? a + x.rank : a)) : x.shape.map((_, i) => i);
  const kept = x.shape.map((d, i) => (all.includes(i) ? 1 : d));
  return expand(reshape(dy, kept), x.shape);
}

function sliceBackward(
  dy: Value,
  x: Value,
  axes: number[],
  starts: number[],
  steps: number[],
): Value {
  let d = dy;
  axes.forEach((ax, i) => {
    const a = ax < 0 ? ax + x.rank : ax;
    const n = x.shape[a];
    const len = dy.shape[a];
    let step = steps[i];
    if (len === 0) {
      d = zeros(x.graph, d.shape.map((s, k) => (k === a ? n : s)), x.dtype);
      return;
    }
    let first = starts[i] < 0 ? starts[i] + n : starts[i];
    first = step > 0 ? Math.min(Math.max(first, 0), n) : Math.min(Math.max(first, -1), n - 1);
    if (step < 0) { // flip so indices ascend
      d = slice(d, [a], [-1], [-(2 ** 62)], [-1]);
      first = first + (len - 1) * step;
      step = -step;
    }
    if (step > 1) { // interleave step-1 zeros after each element
      const u = unsqueeze(d, [a + 1]);
      const pads = Array(2 * u.rank).fill(0);
      pads[u.rank + a + 1] = step - 1;
      const spread = reshape(pad(u, pads), d.shape.map((s, k) => (k === a ? s * step : s)));
      d = slice(spread, [a], [0], [(len - 1) * step + 1]);
    }
    const pads = Array(2 * d.rank).fill(0);
    pads[a] = first;
    pads[d.rank + a] = n - (first + (len - 1) * step + 1);
    d = pad(d, pads);
  });
  return d;
}

function gatherBackward(dy: Value, x: Value, idx: Value, ax: number): Value {
  const a = ax < 0 ? ax + x.rank : ax;
  const ri = idx.rank;
  const k = idx.shape.reduce((p, q) => p * q, 1);
  // Move the index dims of dy to the front: [idx..., x[:a]..., x[a+1:]...].
  const perm = [
    ...Array.from({ length: ri }, (_, i) => a + i),
    ...Array.from({ length: a }, (_, i) => i),
    ...Array.from({ length: x.rank - a - 1 }, (_, i) => a + ri + i),
  ];
  const rest = [...x.shape.slice(0, a), ...x.shape.slice(a + 1)];
  const upd = reshape(permute(dy, perm), [k, ...rest]);
  const target = [x.shape[a], ...rest];
  const ids = reshape(idx.dtype === "int64" ? idx : castInt64(idx), [k, 1]);
  const g = x.graph;
  const scattered = node1(g, "ScatterND", [zeros(g, target, x.dtype), ids, upd], target, x.dtype, {
    reduction: attr.string("add"),
  });
  const back = [
    ...Array.from({ length: a }, (_, i) => i + 1),
    0,
    ...Array.from({ length: x.rank - a - 1 }, (_, i) => a + 1 + i),
  ];
  return permute(scattered, back);
}

function castInt64(v: Value): Value {
  return node1(v.graph, "Cast", [v], v.shape, "int64", { to: attr.int(7) });
}
