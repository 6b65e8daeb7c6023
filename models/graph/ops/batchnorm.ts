/**
 * BatchNorm (PyTorch `nn.BatchNorm{1,2,3}d` semantics) as a composite op.
 *
 * Train mode normalises with the batch statistics (biased variance) and returns the new
 * running statistics, `running = (1 - momentum) running + momentum batch`, using the
 * unbiased batch variance `var M / (M - 1)` for the running var as PyTorch does. Eval mode
 * is one ONNX BatchNormalization node with the running statistics.
 *
 * @module
 */
import type { Value } from "../graph.ts";
import { attr } from "./operands.ts";
import { add, mul, reciprocal, sqrt, sub } from "./elementwise.ts";
import { mean, sum } from "./reduce.ts";
import { permute, reshape } from "./shape.ts";
import { transposedFrom } from "./operands.ts";
import { BN_MOMENTUM, NORM_EPS } from "./norm.ts";

/** Options of {@link batchNorm}. */
export interface BatchNormOptions {
  training: boolean;
  /** Axis holding the channels (default 1, NCHW); train mode only. */
  channelAxis?: number;
  momentum?: number;
  eps?: number;
}

/** Output of {@link batchNorm}: `y` and, in train mode, the new running statistics. */
export interface BatchNormResult {
  y: Value;
  runningMean?: Value;
  runningVar?: Value;
}

/**
 * BatchNorm over `x [N, C, ...]` with per-channel `gamma`, `beta` and running statistics.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { batchNorm } from "./batchnorm.ts";
 * const g = new Graph();
 * const [w, b, rm, rv] = ["w", "b", "rm", "rv"].map((n) => g.input(n, [4]));
 * const { y, runningMean } = batchNorm(g.input("x", [2, 4, 8, 8]), w, b, rm, rv, {
 *   training: true,
 * });
 * ```
 */
export function batchNorm(
  x: Value,
  gamma: Value,
  beta: Value,
  runningMean: Value,
  runningVar: Value,
  o: BatchNormOptions,
): BatchNormResult {
  const t = o.training ? transposedFrom(x) : null;
  if (t && (o.channelAxis ?? 1) === 1) {
    // BN(T(z)) = T(BN over z's matching channel axis): keeps channels-last maps transpose-free.
    const r = batchNorm(t[0], gamma, beta, runningMean, runningVar, { ...o, channelAxis: t[1][1] });
    return { ...r, y: permute(r.y, t[1]) };
  }
  const ca = o.channelAxis ?? 1;
  const c = x.shape[ca];
  const eps = o.eps ?? NORM_EPS;
  const chan = x.shape.map((d, i) => (i === ca ? d : 1)); // [1, C, 1, 1]
  const axes = x.shape.map((_, i) => i).filter((i) => i !== ca);
  const count = axes.reduce((p, a) => p * x.shape[a], 1); // M
  const g = x.graph;
  if (!o.training) {
    if (ca !== 1) throw new Error("batchNorm: eval mode needs channels on axis 1");
    const [y] = g.composite([x, gamma, beta], () => {
      const [y] = g.node(
        "BatchNormalization",
        [x, gamma, beta, runningMean, runningVar],
        [{ shape: x.shape, dtype: x.dtype }],
        { epsilon: attr.float(eps) },
      );
      return {
        outputs: [y],
        backward: ([dy], needs) => {
          const inv = reshape(reciprocal(sqrt(add(runningVar, eps))), chan);
          const xhat = mul(sub(x, reshape(runningMean, chan)), inv);
          return [
            needs[0] ? mul(dy!, mul(inv, reshape(gamma, chan))) : null,
            needs[1] ? sum(mul(dy!, xhat), axes) : null,
            needs[2] ? sum(dy!, axes) : null,
          ];
        },
      };
    });
    return { y };
  }
  const m = o.momentum ?? BN_MOMENTUM;
  const [y, rm, rv] = g.composite([x, gamma, beta], () => {
    const mu = mean(x, axes, true); // [1, C, 1, 1]
    const xc = sub(x, mu);
    const v = mean(mul(xc, xc), axes, true); // biased batch variance
    const rstd = reciprocal(sqrt(add(v, eps))); // [1, C, 1, 1]
    const g4 = reshape(gamma, chan);
    const y = add(mul(xc, mul(rstd, g4)), reshape(beta, chan)); // xhat gamma + beta, xhat unstored
    const newMean = add(mul(runningMean, 1 - m), mul(reshape(mu, [c]), m));
    const unbiased = count > 1 ? count / (count - 1) : 1;
    const newVar = add(mul(runningVar, 1 - m), mul(reshape(v, [c]), m * unbiased));
    return {
      outputs: [y, newMean, newVar],
      backward: ([dy], needs) => {
        if (!dy) return [null, null, null];
        // With xhat = xc rstd: s2 = sum(dy xhat) = rstd sum(dy xc);
        // dx = a dy + b xhat + cc = a dy + (b rstd) xc + cc, a = gamma rstd.
        const s1 = sum(dy, axes); // [C]
        const s2 = mul(sum(mul(dy, xc), axes), reshape(rstd, [c])); // [C]
        let dx: Value | null = null;
        if (needs[0]) {
          const a = mul(g4, rstd); // [1, C, 1, 1]
          const am = mul(a, -1 / count);
          const bx = mul(mul(am, reshape(s2, chan)), rstd); // coefficient of xc
          const cc = mul(am, reshape(s1, chan));
          dx = add(add(mul(dy, a), mul(xc, bx)), cc);
        }
        return [dx, needs[1] ? s2 : null, needs[2] ? s1 : null];
      },
    };
  });
  return { y, runningMean: rm, runningVar: rv };
}
