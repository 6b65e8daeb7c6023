/**
 * One DDIM step (DiT's `ddim_sample`, paper Algorithm 1): the step's coefficients, and
 * x_{t-1} = sqrt(abar_{t-1}) x0 + sqrt(1 - abar_{t-1} - sigma^2) eps + sigma z. The sampler
 * replaces (x0_hat, eps) by the mode-guided (x0', eps_hat) before the step. Adapted from
 * facebookresearch/DiT@ed81ce2 `diffusion/gaussian_diffusion.py` (semantics only).
 *
 * Notation (code -> paper): abar -> alpha-bar_t, abarPrev -> alpha-bar_{t-1}, x0 -> x-hat_0
 * (or x0'), eps -> epsilon (or eps-hat), sigma -> sigma_t(eta), index -> the respaced step
 * S-1 .. 0.
 *
 * @module
 */
import type { GaussianSchedule } from "../../models/diffusion/schedule.ts";

/**
 * The coefficients of a DDIM step at one respaced index (float32-rounded where DiT's float32
 * tensors hold them).
 *
 * @example
 * ```ts
 * import type { DdimCoefs } from "./_ddim_step.ts";
 * const c: DdimCoefs = { sqrtAbar: 1, sqrtOneMinusAbar: 0, sigma: 0, cx0: 1, ceps: 0 };
 * ```
 */
export interface DdimCoefs {
  /** sqrt(abar_t) (float32). */
  sqrtAbar: number;
  /** sqrt(1 - abar_t) (float32). */
  sqrtOneMinusAbar: number;
  /** sigma_t = eta sqrt((1 - abar_{t-1}) / (1 - abar_t)) sqrt(1 - abar_t / abar_{t-1}). */
  sigma: number;
  /** Coefficient of x0: sqrt(abar_{t-1}) (float32). */
  cx0: number;
  /** Coefficient of eps: sqrt(1 - abar_{t-1} - sigma^2) (float32). */
  ceps: number;
}

/**
 * The DDIM coefficients at respaced `index` for `eta` (0: deterministic, paper Algorithm 1).
 *
 * @example
 * ```ts
 * import { ddimCoefs } from "./_ddim_step.ts";
 * const c = ddimCoefs(schedule, 49, 0); // c.sigma === 0
 * ```
 */
export function ddimCoefs(schedule: GaussianSchedule, index: number, eta: number): DdimCoefs {
  const abar = schedule.alphasCumprod[index];
  const abarPrev = schedule.alphasCumprodPrev[index];
  const sigma = eta * Math.sqrt((1 - abarPrev) / (1 - abar)) * Math.sqrt(1 - abar / abarPrev);
  return {
    sqrtAbar: Math.fround(Math.sqrt(abar)),
    sqrtOneMinusAbar: Math.fround(Math.sqrt(1 - abar)),
    sigma,
    cx0: Math.fround(Math.sqrt(abarPrev)),
    ceps: Math.fround(Math.sqrt(1 - abarPrev - sigma * sigma)),
  };
}

/**
 * x_{t-1} = x0 cx0 + ceps eps (+ sigma z when `z` is given), written into `x`. `x0` and
 * `eps` are float32 (unguided) or the float64 guided values; the sum is rounded once.
 *
 * @example
 * ```ts
 * import { ddimCoefs, ddimStep } from "./_ddim_step.ts";
 * ddimStep(xb, ddimCoefs(schedule, index, 0), x0, eps, null); // xb: x_t in, x_{t-1} out
 * ```
 */
export function ddimStep(
  x: Float32Array, // [C, H, W], overwritten with x_{t-1}
  c: DdimCoefs,
  x0: Float32Array | Float64Array, // [C, H, W]
  eps: Float32Array | Float64Array, // [C, H, W]
  z: Float32Array | null, // [C, H, W]
): void {
  for (let i = 0; i < x.length; i++) {
    let v = x0[i] * c.cx0 + c.ceps * eps[i];
    if (z) v += c.sigma * z[i];
    x[i] = v;
  }
}
