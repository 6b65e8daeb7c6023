/**
 * One DDPM (ancestral) step, split as DiT's `p_mean_variance` / `p_sample` split it: the
 * posterior mean mu_theta(x_t, x0_hat), the std sigma_t of the chosen variance type, and
 * x_{t-1} = mean + sigma_t z. The sampler adds the MGD3 term to the mean in between.
 * Adapted from facebookresearch/DiT@ed81ce2 `diffusion/gaussian_diffusion.py` (semantics
 * only).
 *
 * Notation (code -> paper): xt -> x_t, x0 -> x-hat_0, mean -> mu_theta(x_t, t), sigma ->
 * sigma_t, frac -> v' = (v + 1) / 2 (DiT's learned-range interpolation), index -> the respaced
 * step S-1 .. 0.
 *
 * The mean and the std are float64 arrays: the sampler sums mean, guidance and noise in
 * float64 and rounds to float32 once, when it writes x_{t-1}.
 *
 * @module
 */
import type { GaussianSchedule } from "../../models/diffusion/schedule.ts";
import type { VarianceType } from "../../models/diffusion/sampling.ts";

/**
 * mu_theta = coef1 x0_hat + coef2 x_t (DiT `q_posterior_mean_variance`), in float64 with the
 * coefficients rounded to float32 as DiT's float32 tensors hold them.
 *
 * @example
 * ```ts
 * import { posteriorMean } from "./_ddpm_step.ts";
 * const mean = posteriorMean(schedule, 49, x0, xt); // [C, H, W] float64
 * ```
 */
export function posteriorMean(
  schedule: GaussianSchedule,
  index: number,
  x0: Float32Array, // [C, H, W]
  xt: Float32Array, // [C, H, W]
): Float64Array {
  const c1 = Math.fround(schedule.posteriorMeanCoef1[index]);
  const c2 = Math.fround(schedule.posteriorMeanCoef2[index]);
  const mean = new Float64Array(x0.length); // [C, H, W]
  for (let i = 0; i < mean.length; i++) mean[i] = c1 * x0[i] + c2 * xt[i];
  return mean;
}

/**
 * sigma_t = exp(0.5 log var_t) per element (DiT `p_mean_variance`'s model_log_variance):
 * learned range: log var = v' log(beta_t) + (1 - v') log(posterior var_t), v' = (v + 1) / 2
 * (SPEC section 2); fixed small: the clipped posterior variance; fixed large: beta_t.
 *
 * @example
 * ```ts
 * import { ddpmStd } from "./_ddpm_step.ts";
 * const sigma = ddpmStd(schedule, 49, "learned_range", varValues, 4 * 32 * 32); // float64
 * ```
 */
export function ddpmStd(
  schedule: GaussianSchedule,
  index: number,
  variance: VarianceType,
  varValues: Float32Array | null, // [C, H, W] in [-1, 1]; needed for "learned_range"
  n: number,
): Float64Array {
  const minLog = schedule.posteriorLogVarianceClipped[index];
  const maxLog = Math.log(schedule.betas[index]);
  const sigma = new Float64Array(n); // [C, H, W]
  if (variance === "learned_range") {
    if (varValues === null || varValues.length !== n) {
      throw new RangeError(`DDPM step: learned_range needs ${n} variance values`);
    }
    for (let i = 0; i < n; i++) {
      const frac = (varValues[i] + 1) / 2; // [-1, 1] -> [min_var, max_var]
      const logVar = frac * Math.fround(maxLog) + (1 - frac) * Math.fround(minLog);
      sigma[i] = Math.exp(0.5 * logVar);
    }
  } else {
    const fixedLog = variance === "fixed_small" ? minLog : schedule.fixedLargeLogVariance(index);
    sigma.fill(Math.exp(0.5 * fixedLog));
  }
  return sigma;
}

/**
 * x_{t-1} = mean + sigma_t z, written into `x` (DiT `p_sample`; no noise at index 0: pass
 * `z = null`).
 *
 * @example
 * ```ts
 * import { ddpmStep } from "./_ddpm_step.ts";
 * ddpmStep(xb, mean, sigma, index > 0 ? z : null); // xb: x_t in, x_{t-1} out
 * ```
 */
export function ddpmStep(
  x: Float32Array, // [C, H, W], overwritten with x_{t-1}
  mean: Float64Array, // [C, H, W]
  sigma: Float64Array, // [C, H, W]
  z: Float32Array | null, // [C, H, W]
): void {
  for (let i = 0; i < x.length; i++) {
    let v = mean[i];
    if (z) v += sigma[i] * z[i];
    x[i] = v;
  }
}
