/**
 * The interface every class-conditional denoiser implements (DiT, the cpu-scale U-Net, an
 * analytic stand-in in tests), and the pure conversions a sampler needs: classifier-free
 * guidance on a doubled batch, and x0/eps from an eps- or v-prediction.
 *
 * @module
 */

/** What the network predicts in its first C output channels. */
export type PredictionType = "eps" | "v";

/**
 * A class-conditional denoiser. The null class (for classifier-free guidance) is
 * `numClasses`, as in DiT's label embedder.
 *
 * @example
 * ```ts
 * import type { Denoiser } from "./denoiser.ts";
 * const zero: Denoiser = {
 *   latentShape: [4, 32, 32], numClasses: 1000, predictionType: "eps", learnSigma: false,
 *   forward: async (x) => new Float32Array(x.length),
 * };
 * ```
 */
export interface Denoiser {
  /** [C, H, W] of one latent. */
  latentShape: [number, number, number];
  /**
   * Class count; class id `numClasses` is the null (unconditional) label of classifier-free
   * guidance.
   */
  numClasses: number;
  /** What the network predicts. */
  predictionType: PredictionType;
  /** True when the output has 2C channels, the last C being DiT's variance values in [-1, 1]. */
  learnSigma: boolean;
  /**
   * Runs the network on a batch: x [B, C, H, W], t [B] original (not respaced) timesteps,
   * y [B] class ids. Returns [B, C or 2C, H, W].
   */
  forward(x: Float32Array, t: Float32Array, y: Int32Array): Promise<Float32Array>;
}

/**
 * Classifier-free guidance as DiT's `forward_with_cfg`: the output of a doubled batch
 * [cond; uncond] is combined as uncond + scale * (cond - uncond) on the first `channels`
 * output channels; every other channel (DiT: the 4th latent channel and the variance values)
 * is taken from the conditional half. Returns the combined [B, Cout, H, W] output. Each
 * combined value is computed in float64 and rounded to float32 once (PyTorch rounds after
 * each operation; on the tiny DiT fixture the two differ by at most 1 ulp); DiT's
 * `forwardWithCfg` uses this same combiner.
 *
 * @example
 * ```ts
 * import { combineCfg } from "./denoiser.ts";
 * // DiT-XL/2 parity: guide only the first 3 of 4 latent channels (SPEC section 2)
 * const out = combineCfg(doubled, 1, 8, 32 * 32, 4.0, 3);
 * ```
 */
export function combineCfg(
  doubled: Float32Array, // [2B, Cout, H, W]
  batch: number,
  outChannels: number,
  plane: number,
  scale: number,
  channels: number,
): Float32Array {
  if (doubled.length !== 2 * batch * outChannels * plane) {
    throw new RangeError(
      `CFG output has ${doubled.length} values; expected 2 x ${batch} x ${outChannels} x ${plane}`,
    );
  }
  const per = outChannels * plane;
  const out = doubled.slice(0, batch * per); // [B, Cout, H, W], conditional half
  const guided = channels * plane;
  for (let b = 0; b < batch; b++) {
    const c = b * per;
    const u = (batch + b) * per;
    for (let i = 0; i < guided; i++) {
      const cond = doubled[c + i];
      const unc = doubled[u + i];
      out[c + i] = unc + scale * (cond - unc);
    }
  }
  return out;
}

/**
 * x0_hat and eps of one sample from the network's prediction at cumulative alpha `abar`:
 * eps-prediction: x0 = sqrt(1/abar) x - sqrt(1/abar - 1) eps (DiT `_predict_xstart_from_eps`);
 * v-prediction: x0 = sqrt(abar) x - sqrt(1 - abar) v, eps = sqrt(1 - abar) x + sqrt(abar) v.
 *
 * @example
 * ```ts
 * import { predictX0Eps } from "./denoiser.ts";
 * const { x0, eps } = predictX0Eps("eps", x, pred, 0.5);
 * ```
 */
export function predictX0Eps(
  type: PredictionType,
  x: Float32Array,
  pred: Float32Array,
  abar: number,
): { x0: Float32Array; eps: Float32Array } {
  const n = x.length;
  const x0 = new Float32Array(n);
  const eps = new Float32Array(n);
  if (type === "eps") {
    const a = Math.fround(Math.sqrt(1 / abar));
    const b = Math.fround(Math.sqrt(1 / abar - 1));
    for (let i = 0; i < n; i++) {
      eps[i] = pred[i];
      x0[i] = a * x[i] - b * pred[i];
    }
  } else {
    const a = Math.fround(Math.sqrt(abar));
    const b = Math.fround(Math.sqrt(1 - abar));
    for (let i = 0; i < n; i++) {
      x0[i] = a * x[i] - b * pred[i];
      eps[i] = b * x[i] + a * pred[i];
    }
  }
  return { x0, eps };
}
