/**
 * The timesteps and alpha-bars of diffusers' `DDIMScheduler` (the scheduler Stable Diffusion
 * folders are sampled with): `set_timesteps` with "leading" (plus `steps_offset`), "trailing"
 * or "linspace" spacing, and `step`'s previous alpha-bar, which is that of t - T // S (not
 * always the previous kept timestep) or, past the first training step, `final_alpha_cumprod`
 * (1 with `set_alpha_to_one`, else alpha-bar_0). Adapted from
 * huggingface/diffusers@58eb52c `schedulers/scheduling_ddim.py` (semantics only).
 *
 * Notation (code -> diffusers): T -> num_train_timesteps, S -> num_inference_steps,
 * offset -> steps_offset, abar -> alphas_cumprod.
 *
 * @module
 */
import { GaussianSchedule, roundHalfEven } from "./schedule.ts";

/**
 * How a diffusers scheduler config places its inference timesteps.
 *
 * @example
 * ```ts
 * import type { DiffusersTimesteps } from "./diffusers_timesteps.ts";
 * // runwayml/stable-diffusion-v1-5 scheduler_config.json
 * const sd15: DiffusersTimesteps = { spacing: "leading", offset: 1, setAlphaToOne: false };
 * ```
 */
export interface DiffusersTimesteps {
  /** `timestep_spacing` (diffusers' default "leading"). */
  spacing: "leading" | "trailing" | "linspace";
  /** `steps_offset`, added to "leading" timesteps (SD 1.x and 2.x: 1). */
  offset: number;
  /** `set_alpha_to_one`: the alpha-bar after the last step is 1 (true) or alpha-bar_0 (false). */
  setAlphaToOne: boolean;
}

/**
 * `DDIMScheduler.set_timesteps(S)`'s timesteps, in diffusers' (descending) order.
 *
 * @example
 * ```ts
 * import { diffusersTimesteps } from "./diffusers_timesteps.ts";
 * diffusersTimesteps(1000, 50, { spacing: "leading", offset: 1, setAlphaToOne: false });
 * // [981, 961, ..., 21, 1]
 * ```
 */
export function diffusersTimesteps(T: number, S: number, d: DiffusersTimesteps): number[] {
  if (!(Number.isInteger(S) && S >= 1 && S <= T)) {
    throw new RangeError(
      `Inference steps must be an integer in 1..${T} (the training steps), got ${S}`,
    );
  }
  if (!(Number.isInteger(d.offset) && d.offset >= 0)) {
    throw new RangeError(`steps_offset must be a non-negative integer, got ${d.offset}`);
  }
  const out: number[] = [];
  if (d.spacing === "linspace") {
    for (let i = S - 1; i >= 0; i--) out.push(roundHalfEven(S === 1 ? 0 : (i * (T - 1)) / (S - 1)));
  } else if (d.spacing === "leading") {
    const ratio = Math.floor(T / S);
    for (let i = S - 1; i >= 0; i--) out.push(i * ratio + d.offset);
  } else if (d.spacing === "trailing") {
    const ratio = T / S;
    // numpy: round(arange(T, 0, -ratio)) - 1; arange's length is ceil(T / ratio)
    const n = Math.ceil(T / ratio - 1e-12);
    for (let i = 0; i < n; i++) out.push(roundHalfEven(T - i * ratio) - 1);
  } else {
    throw new RangeError(
      `timestep_spacing '${
        (d as { spacing: string }).spacing
      }' is not one of leading, trailing, linspace`,
    );
  }
  const bad = out.find((t) => t < 0 || t >= T);
  if (bad !== undefined) {
    throw new RangeError(
      `Timestep ${bad} (steps_offset ${d.offset}, ${S} steps) is outside the ${T} training steps`,
    );
  }
  return out;
}

/**
 * The sampler's schedule for diffusers' DDIM: respaced step i (ascending, as the sampler
 * indexes it) has the alpha-bar of the i-th smallest timestep and the previous alpha-bar that
 * `DDIMScheduler.step` uses.
 *
 * @example
 * ```ts
 * import { diffusersSchedule } from "./diffusers_timesteps.ts";
 * import { scaledLinearBetas } from "./schedule.ts";
 * const s = diffusersSchedule(scaledLinearBetas(1000, 0.00085, 0.012), 50, {
 *   spacing: "leading", offset: 1, setAlphaToOne: false,
 * });
 * s.timestepMap[49]; // 981
 * ```
 */
export function diffusersSchedule(
  betas: Float64Array,
  S: number,
  d: DiffusersTimesteps,
): GaussianSchedule {
  const T = betas.length;
  const base = GaussianSchedule.fromBetas(betas).alphasCumprod;
  const ts = diffusersTimesteps(T, S, d).reverse(); // ascending
  const stride = Math.floor(T / S);
  const final = d.setAlphaToOne ? 1 : base[0];
  const acp = Float64Array.from(ts, (t) => base[t]);
  const prev = Float64Array.from(ts, (t) => (t - stride >= 0 ? base[t - stride] : final));
  return GaussianSchedule.fromAlphas(acp, prev, Int32Array.from(ts));
}
