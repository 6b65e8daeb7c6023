/**
 * Gaussian diffusion schedules with the semantics of DiT's `diffusion/` package (itself from
 * OpenAI's guided-diffusion): linear betas, respacing with `space_timesteps`, and the
 * posterior coefficients a DDPM or DDIM step needs. Everything is computed in float64,
 * as DiT does with numpy, and cast to float32 where a step uses it.
 *
 * Notation (code -> paper / DDPM): betas -> beta_t, alphasCumprod -> alpha-bar_t,
 * posteriorVariance -> beta-tilde_t, timestepMap -> the original timestep of each respaced step.
 *
 * @module
 */

/** DiT's training schedule: 1000 steps, linear betas 1e-4 .. 0.02 (SPEC section 2). */
export const DIT_TRAIN_STEPS = 1000;
/** First beta of the linear schedule (DiT `get_named_beta_schedule("linear")`). */
export const LINEAR_BETA_START = 1e-4;
/** Last beta of the linear schedule. */
export const LINEAR_BETA_END = 0.02;

/**
 * Linear betas as numpy's `linspace(start, end, n)` in float64.
 *
 * @example
 * ```ts
 * import { linearBetas } from "./schedule.ts";
 * const betas = linearBetas(1000); // 1e-4 .. 0.02
 * ```
 */
export function linearBetas(
  n: number,
  start = LINEAR_BETA_START,
  end = LINEAR_BETA_END,
): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = start;
    return out;
  }
  const step = (end - start) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  out[n - 1] = end; // numpy's linspace sets the endpoint exactly
  return out;
}

/**
 * LDM's "linear" schedule (CompVis latent-diffusion `make_beta_schedule("linear")`, which
 * diffusers calls "scaled_linear"): the squares of `linspace(sqrt(start), sqrt(end), n)`,
 * in float64. cin256-v2: start 0.0015, end 0.0195.
 *
 * @example
 * ```ts
 * import { scaledLinearBetas } from "./schedule.ts";
 * const betas = scaledLinearBetas(1000, 0.0015, 0.0195); // betas[0] = 0.0015
 * ```
 */
export function scaledLinearBetas(n: number, start: number, end: number): Float64Array {
  const roots = linearBetas(n, Math.sqrt(start), Math.sqrt(end));
  return roots.map((r) => r * r);
}

/**
 * Which betas a model was trained with: DiT's linear betas, or LDM's squared-linspace
 * ("scaled_linear"); `start` and `end` are the first and last beta.
 *
 * @example
 * ```ts
 * import type { BetaSchedule } from "./schedule.ts";
 * const cin256: BetaSchedule = { kind: "scaled_linear", start: 0.0015, end: 0.0195 };
 * ```
 */
export type BetaSchedule = {
  /** "linear": DiT/ADM; "scaled_linear": LDM's "linear" (squares of a linspace of roots). */
  kind: "linear" | "scaled_linear";
  /** First beta. */
  start: number;
  /** Last beta. */
  end: number;
};

/**
 * The `n` training betas of a {@link BetaSchedule} (default: DiT's linear 1e-4..0.02).
 *
 * @example
 * ```ts
 * import { makeBetas } from "./schedule.ts";
 * makeBetas(1000, { kind: "scaled_linear", start: 0.0015, end: 0.0195 });
 * ```
 */
export function makeBetas(n: number, s?: BetaSchedule): Float64Array {
  if (!s) return linearBetas(n);
  if (!(s.start > 0 && s.end >= s.start && s.end <= 1)) {
    throw new RangeError(`Beta schedule needs 0 < start <= end <= 1, got ${s.start}..${s.end}`);
  }
  if (s.kind === "linear") return linearBetas(n, s.start, s.end);
  if (s.kind === "scaled_linear") return scaledLinearBetas(n, s.start, s.end);
  throw new RangeError(`Unknown beta schedule kind '${(s as { kind: string }).kind}'`);
}

/**
 * The timesteps kept when respacing, as DiT's `space_timesteps(numTimesteps, sectionCounts)`:
 * "50" keeps round(i * 999 / 49) for i = 0..49; "10,15,20" strides equal sections; "ddimN"
 * uses the integer stride of the DDIM paper. Returned sorted ascending.
 *
 * @example
 * ```ts
 * import { spaceTimesteps } from "./schedule.ts";
 * spaceTimesteps(1000, "50").slice(0, 3); // [0, 20, 41]
 * ```
 */
export function spaceTimesteps(numTimesteps: number, sectionCounts: string | number[]): number[] {
  if (typeof sectionCounts === "string" && sectionCounts.startsWith("ddim")) {
    const desired = Number(sectionCounts.slice(4));
    for (let stride = 1; stride < numTimesteps; stride++) {
      if (Math.ceil(numTimesteps / stride) === desired) {
        return Array.from({ length: desired }, (_, i) => i * stride);
      }
    }
    throw new RangeError(
      `Cannot respace ${numTimesteps} steps to exactly ${desired} with an integer stride`,
    );
  }
  const counts = typeof sectionCounts === "string"
    ? sectionCounts.split(",").map(Number)
    : sectionCounts;
  if (counts.some((c) => !Number.isInteger(c) || c < 1)) {
    throw new RangeError(
      `Respacing section counts must be positive integers, got '${sectionCounts}'`,
    );
  }
  const sizePer = Math.floor(numTimesteps / counts.length);
  const extra = numTimesteps % counts.length;
  const steps = new Set<number>();
  let startIdx = 0;
  counts.forEach((count, i) => {
    const size = sizePer + (i < extra ? 1 : 0);
    if (size < count) {
      throw new RangeError(`Cannot divide a section of ${size} steps into ${count}`);
    }
    const frac = count <= 1 ? 1 : (size - 1) / (count - 1);
    let cur = 0;
    for (let j = 0; j < count; j++) {
      steps.add(startIdx + roundHalfEven(cur));
      cur += frac;
    }
    startIdx += size;
  });
  return [...steps].sort((a, b) => a - b);
}

/**
 * A diffusion schedule and its derived coefficients (guided-diffusion's GaussianDiffusion
 * fields). Build the base schedule with {@link GaussianSchedule.fromBetas} and respace it
 * with {@link GaussianSchedule.respace}.
 *
 * @example
 * ```ts
 * import { GaussianSchedule, linearBetas, spaceTimesteps } from "./schedule.ts";
 * const base = GaussianSchedule.fromBetas(linearBetas(1000));
 * const s = base.respace(spaceTimesteps(1000, "50")); // 50 steps; s.timestepMap[49] === 999
 * ```
 */
export class GaussianSchedule {
  /** Number of steps (of this schedule, after any respacing). */
  readonly numSteps: number;
  /** Cumulative products of (1 - beta), abar_t. */
  readonly alphasCumprod: Float64Array;
  /** abar_{t-1} (1 at step 0). */
  readonly alphasCumprodPrev: Float64Array;
  /** Variance of the posterior q(x_{t-1} | x_t, x_0): beta_t (1 - abar_{t-1}) / (1 - abar_t). */
  readonly posteriorVariance: Float64Array;
  /** log of the posterior variance, with step 0 replaced by step 1 (it is 0 there). */
  readonly posteriorLogVarianceClipped: Float64Array;
  /** Coefficient of x_0 in the posterior mean: beta_t sqrt(abar_{t-1}) / (1 - abar_t). */
  readonly posteriorMeanCoef1: Float64Array;
  /** Coefficient of x_t in the posterior mean: (1 - abar_{t-1}) sqrt(1 - beta_t) / (1 - abar_t). */
  readonly posteriorMeanCoef2: Float64Array;

  private constructor(
    readonly betas: Float64Array,
    readonly timestepMap: Int32Array,
    alphas?: { acp: Float64Array; prev: Float64Array },
  ) {
    const n = betas.length;
    this.numSteps = n;
    let acp: Float64Array = new Float64Array(n);
    let prod = 1;
    for (let i = 0; i < n; i++) {
      if (!(betas[i] > 0 && betas[i] <= 1)) {
        throw new RangeError(`beta[${i}] = ${betas[i]} is not in (0, 1]`);
      }
      prod *= 1 - betas[i];
      acp[i] = prod;
    }
    let prev: Float64Array = new Float64Array(n);
    prev[0] = 1;
    prev.set(acp.subarray(0, n - 1), 1);
    if (alphas) ({ acp, prev } = alphas); // explicit alpha-bars (diffusers' DDIM timesteps)
    const pv = new Float64Array(n);
    const c1 = new Float64Array(n);
    const c2 = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      pv[i] = (betas[i] * (1 - prev[i])) / (1 - acp[i]);
      c1[i] = (betas[i] * Math.sqrt(prev[i])) / (1 - acp[i]);
      c2[i] = ((1 - prev[i]) * Math.sqrt(1 - betas[i])) / (1 - acp[i]);
    }
    const plv = new Float64Array(n);
    for (let i = 0; i < n; i++) plv[i] = Math.log(i === 0 && n > 1 ? pv[1] : pv[i]);
    this.alphasCumprod = acp;
    this.alphasCumprodPrev = prev;
    this.posteriorVariance = pv;
    this.posteriorLogVarianceClipped = plv;
    this.posteriorMeanCoef1 = c1;
    this.posteriorMeanCoef2 = c2;
  }

  /** A schedule from betas; its timestep map is the identity. */
  static fromBetas(betas: Float64Array): GaussianSchedule {
    return new GaussianSchedule(betas, Int32Array.from(betas, (_, i) => i));
  }

  /**
   * A schedule from explicit alpha-bars: step i has abar_i = `acp[i]` and abar_{i-1} =
   * `prev[i]` (which need not be `acp[i - 1]`: diffusers' DDIM takes the alpha-bar of
   * t - T / S, or its final alpha-bar at the last step), betas 1 - abar_i / abar_{i-1}, and
   * the original timestep `timestepMap[i]` the model is conditioned on.
   *
   * @example
   * ```ts
   * import { GaussianSchedule } from "./schedule.ts";
   * const s = GaussianSchedule.fromAlphas(
   *   Float64Array.of(0.99, 0.5), Float64Array.of(0.999, 0.99), Int32Array.of(1, 501),
   * );
   * ```
   */
  static fromAlphas(
    acp: Float64Array,
    prev: Float64Array,
    timestepMap: Int32Array,
  ): GaussianSchedule {
    const n = acp.length;
    if (prev.length !== n || timestepMap.length !== n || n < 1) {
      throw new RangeError(
        `fromAlphas needs as many alpha-bars (${n}), previous alpha-bars (${prev.length}) ` +
          `and timesteps (${timestepMap.length}), at least one`,
      );
    }
    for (let i = 0; i < n; i++) {
      if (!(acp[i] > 0 && acp[i] <= prev[i] && prev[i] <= 1)) {
        throw new RangeError(
          `Step ${i}: need 0 < alpha-bar ${acp[i]} <= previous alpha-bar ${prev[i]} <= 1`,
        );
      }
    }
    const betas = acp.map((a, i) => 1 - a / prev[i]).map((b) => (b > 0 ? b : Number.EPSILON));
    return new GaussianSchedule(betas, timestepMap, {
      acp: Float64Array.from(acp),
      prev: Float64Array.from(prev),
    });
  }

  /**
   * The respaced schedule keeping `useTimesteps` (DiT's SpacedDiffusion): new betas
   * 1 - alpha-bar_i / alpha-bar_prev-kept, and a map to the original timesteps, which is what
   * the model is conditioned on.
   */
  respace(useTimesteps: number[]): GaussianSchedule {
    const keep = new Set(useTimesteps);
    const betas: number[] = [];
    const map: number[] = [];
    let last = 1;
    for (let i = 0; i < this.numSteps; i++) {
      if (!keep.has(i)) continue;
      betas.push(1 - this.alphasCumprod[i] / last);
      last = this.alphasCumprod[i];
      map.push(this.timestepMap[i]);
    }
    if (betas.length !== keep.size) {
      throw new RangeError(`Respacing asked for timesteps outside 0..${this.numSteps - 1}`);
    }
    return new GaussianSchedule(Float64Array.from(betas), Int32Array.from(map));
  }

  /** log(beta_t) with beta_0 replaced by the posterior variance at 1 ("fixed large"). */
  fixedLargeLogVariance(t: number): number {
    return Math.log(t === 0 && this.numSteps > 1 ? this.posteriorVariance[1] : this.betas[t]);
  }
}

/**
 * Python's and numpy's round(): halves go to the even neighbour.
 *
 * @example
 * ```ts
 * import { roundHalfEven } from "./schedule.ts";
 * roundHalfEven(20.5); // 20
 * ```
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
