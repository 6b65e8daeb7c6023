/**
 * Normalisation layers as composites with hand-written backward passes:
 * - groupNorm / instanceNorm / layerNorm: one ONNX LayerNormalization over the normalised
 *   block (it also returns the inverse std the backward needs), then the per-channel affine
 *   (for inference, instance norm is one InstanceNormalization node);
 * - batchNorm in train mode: batch statistics from primitives, new running statistics as
 *   extra outputs (PyTorch momentum; unbiased variance for the running var);
 * - batchNorm in eval mode: ONNX BatchNormalization (fusable into a preceding Conv).
 *
 * Backward of a normalisation with `xhat = (x - mean) * rstd`, `y = xhat * gamma + beta`
 * over M elements per statistic: `dx = rstd * (dy gamma - mean(dy gamma) - xhat
 * mean(dy gamma xhat))`, `dgamma = sum(dy xhat)`, `dbeta = sum(dy)`.
 *
 * @module
 */
import type { Value } from "../graph.ts";
import { attr } from "./operands.ts";
import { add, mul, sub } from "./elementwise.ts";
import { mean, sum } from "./reduce.ts";
import { expand, reshape } from "./shape.ts";

/**
 * Instance norms over at most this many pixels per map also train with the single
 * InstanceNormalization forward (and recompute statistics in the backward): measured faster
 * for 32x32 and smaller maps on 2 cores, slower for 64x64 (bench/engine_bench.ts).
 */
export const normLowering = { inTrainMaxPixels: 1024 };

/** Default epsilon of PyTorch's normalisation layers. */
export const NORM_EPS = 1e-5;
/** Default momentum of PyTorch's BatchNorm running statistics. */
export const BN_MOMENTUM = 0.1;

function ones(x: Value, n: number): Value {
  const d = x.dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
  return x.graph.constant(d.fill(1), [n], x.dtype);
}

/** `xhat` of rows `[R, M]` normalised over M, and the inverse std per row `[R, 1]`. */
function normalizeRows(x2: Value, eps: number): [Value, Value] {
  const [r, m] = x2.shape;
  const [xhat, , rstd] = x2.graph.node(
    "LayerNormalization",
    [x2, ones(x2, m)],
    [
      { shape: [r, m], dtype: x2.dtype },
      { shape: [r, 1], dtype: x2.dtype },
      { shape: [r, 1], dtype: x2.dtype },
    ],
    { axis: attr.int(1), epsilon: attr.float(eps) },
  );
  return [xhat, rstd];
}

/**
 * GroupNorm over `x [N, C, ...]` with `groups` groups and optional per-channel affine
 * (PyTorch `nn.GroupNorm`; `groups == C` is instance norm, as in the ConvNet of DC/DM).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { groupNorm } from "./norm.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = groupNorm(x, 4, g.input("w", [4]), g.input("b", [4]));
 * ```
 */
export function groupNorm(
  x: Value,
  groups: number,
  gamma: Value | null,
  beta: Value | null,
  eps = NORM_EPS,
  o: { inference?: boolean } = {},
): Value {
  const [n, c] = x.shape;
  if (c % groups) {
    throw new RangeError(`groupNorm: ${c} channels do not split into ${groups} groups`);
  }
  const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const m = (c / groups) * inner;
  const chan = [1, c, ...x.shape.slice(2).map(() => 1)];
  const inputs = [x, gamma, beta].filter((v): v is Value => v !== null);
  // Instance norm with affine weights as one InstanceNormalization node (faster than
  // LayerNormalization + Mul + Add) for inference and for small maps in training; it stays
  // differentiable: the backward recomputes the statistics the forward did not keep.
  const useIn = (o.inference === true || inner <= normLowering.inTrainMaxPixels) && groups === c &&
    gamma &&
    beta && x.rank > 2;
  return x.graph.composite(inputs, () => {
    let stats: [Value, Value] | null = null; // xhat [N*G, M], rstd [N*G, 1]
    const getStats = () => (stats ??= normalizeRows(reshape(x, [n * groups, m]), eps));
    let y: Value;
    if (useIn) {
      y = x.graph.node("InstanceNormalization", [x, gamma, beta], [{
        shape: x.shape,
        dtype: x.dtype,
      }], {
        epsilon: attr.float(eps),
      })[0];
    } else {
      const xhat = reshape(getStats()[0], x.shape);
      y = gamma ? mul(xhat, reshape(gamma, chan)) : xhat;
      if (beta) y = add(y, reshape(beta, chan));
    }
    return {
      outputs: [y],
      backward: ([dy], needs) => {
        const [xh2, rstd] = getStats();
        const xhat = reshape(xh2, x.shape);
        const spatial = x.shape.map((_, i) => i).slice(2);
        const s1 = spatial.length ? sum(dy!, spatial) : dy!; // [N, C]
        const s2 = spatial.length ? sum(mul(dy!, xhat), spatial) : mul(dy!, xhat); // [N, C]
        const out: (Value | null)[] = [];
        if (needs[0]) {
          const cg = c / groups;
          const toChan = (v: Value) =>
            reshape(expand(v, [n, groups, cg]), [n, c, ...chan.slice(2)]);
          const r = reshape(rstd, [n, groups, 1]); // [N, G, 1]
          const g3 = gamma ? reshape(gamma, [1, groups, cg]) : null;
          const grp = (v: Value) => sum(reshape(v, [n, groups, cg]), [2], true); // [N, G, 1]
          const gs = (v: Value) => (gamma ? mul(v, reshape(gamma, [1, c])) : v);
          const rm = mul(r, -1 / m);
          const a = toChan(g3 ? mul(r, g3) : r); // gamma * rstd
          const b = toChan(mul(grp(gs(s2)), rm));
          const cc = toChan(mul(grp(gs(s1)), rm));
          out.push(add(add(mul(dy!, a), mul(xhat, b)), cc));
        } else out.push(null);
        if (gamma) out.push(needs[out.length] ? sum(s2, [0]) : null);
        if (beta) out.push(needs[out.length] ? sum(s1, [0]) : null);
        return out;
      },
    };
  })[0];
}

/**
 * Instance norm with affine weights (GroupNorm with one group per channel).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { instanceNorm } from "./norm.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const w = g.input("w", [4]);
 * const b = g.input("b", [4]);
 * const y = instanceNorm(x, w, b);
 * ```
 */
export function instanceNorm(
  x: Value,
  gamma: Value | null,
  beta: Value | null,
  eps = NORM_EPS,
): Value {
  return groupNorm(x, x.shape[1], gamma, beta, eps);
}

/**
 * LayerNorm over the last `normalized.length` dims (PyTorch `nn.LayerNorm`).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { layerNorm } from "./norm.ts";
 * const g = new Graph();
 * const y = layerNorm(g.input("x", [2, 5, 8]), g.input("w", [8]), g.input("b", [8]));
 * ```
 */
export function layerNorm(
  x: Value,
  gamma: Value | null,
  beta: Value | null,
  eps = NORM_EPS,
): Value {
  const d = gamma?.shape ?? beta?.shape ?? [x.shape[x.rank - 1]];
  const m = d.reduce((a, b) => a * b, 1);
  const rows = x.shape.reduce((a, b) => a * b, 1) / m;
  const inputs = [x, gamma, beta].filter((v): v is Value => v !== null);
  return x.graph.composite(inputs, () => {
    const [xh2, rstd] = normalizeRows(reshape(x, [rows, m]), eps); // [R, M], [R, 1]
    const g2 = gamma ? reshape(gamma, [1, m]) : null;
    let y2 = g2 ? mul(xh2, g2) : xh2;
    if (beta) y2 = add(y2, reshape(beta, [1, m]));
    return {
      outputs: [reshape(y2, x.shape)],
      backward: ([dy], needs) => {
        const dy2 = reshape(dy!, [rows, m]);
        const dxh = g2 ? mul(dy2, g2) : dy2;
        const out: (Value | null)[] = [];
        if (needs[0]) {
          const t = sub(sub(dxh, mean(dxh, [1], true)), mul(xh2, mean(mul(dxh, xh2), [1], true)));
          out.push(reshape(mul(t, rstd), x.shape));
        } else out.push(null);
        if (gamma) {
          out.push(needs[out.length] ? reshape(sum(mul(dy2, xh2), [0]), gamma.shape) : null);
        }
        if (beta) out.push(needs[out.length] ? reshape(sum(dy2, [0]), beta.shape) : null);
        return out;
      },
    };
  })[0];
}
