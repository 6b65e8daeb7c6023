/**
 * The MGD3 mode-guidance term and the stop-guidance rule (paper section 4, App. A and F;
 * SPEC section 2). Pure functions of (x0_hat, mode, step index).
 *
 * Notation: x0 -> x-hat_0 (the predicted clean latent), mode -> m_i (the i-th mode of the
 * class), lambda -> the guidance scale, tStop -> t_stop, index -> the respaced step index,
 * counted from S-1 down to 0.
 *
 * @module
 */

/** Mode-guidance settings; `lambda = 0` or no modes means plain sampling. */
export interface ModeGuidance {
  /** Guidance scale lambda = 0.1 (App. F; larger values are catastrophic). */
  lambda: number;
  /**
   * Stop guidance t_stop = 25 in respaced indices 49..0: guidance is applied while
   * index > tStop, i.e. on the first 24 of 50 steps (App. A; SPEC section 2).
   */
  tStop: number;
}

/** The paper's defaults: lambda 0.1 (App. F), t_stop 25 (SPEC section 2). */
export const MGD3_DEFAULTS: Readonly<ModeGuidance> = { lambda: 0.1, tStop: 25 };

/**
 * Whether guidance is applied at respaced step `index` (S-1 .. 0): index > tStop.
 *
 * @example
 * ```ts
 * import { guidanceActive } from "./guidance.ts";
 * guidanceActive(49, 25); // true
 * guidanceActive(25, 25); // false
 * ```
 */
export function guidanceActive(index: number, tStop: number): boolean {
  return index > tStop;
}

/**
 * The respaced steps guidance runs on when sampling starts at index `first` (S-1, or the
 * D4M start) and stops at `tStop`: the indices first..0 for which {@link guidanceActive}
 * holds. Empty means the guidance can never act (e.g. t_stop >= S-1).
 *
 * @example
 * ```ts
 * import { guidedSteps } from "./guidance.ts";
 * guidedSteps(49, 25).length; // 24 (indices 49..26)
 * guidedSteps(3, 25); // [] : 4 steps with t_stop 25 guide none
 * ```
 */
export function guidedSteps(first: number, tStop: number): number[] {
  const out: number[] = [];
  for (let index = first; index >= 0; index--) if (guidanceActive(index, tStop)) out.push(index);
  return out;
}

/**
 * g = m - x0_hat, the direction from the predicted clean latent to the mode (the sign of
 * the released code; the printed Eq. 6 has the opposite sign).
 *
 * @example
 * ```ts
 * import { modeDirection } from "./guidance.ts";
 * modeDirection(new Float32Array([1, 2]), new Float32Array([0, 0])); // [-1, -2]
 * ```
 */
export function modeDirection(x0: Float32Array, mode: Float32Array): Float32Array {
  if (x0.length !== mode.length) {
    throw new RangeError(`Mode has ${mode.length} values; the latent has ${x0.length}`);
  }
  const g = new Float32Array(x0.length);
  for (let i = 0; i < g.length; i++) g[i] = mode[i] - x0[i];
  return g;
}
