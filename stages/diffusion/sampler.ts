/**
 * The sampling loop: DDPM (DiT's `p_sample`, learned-range or fixed variances) or DDIM
 * (eta 0 by default), classifier-free guidance, MGD3 mode guidance with stop guidance, and
 * D4M-style prototype initialisation. The model (`models/diffusion/denoiser.ts`), the DDPM
 * and DDIM steps (`_ddpm_step.ts`, `_ddim_step.ts`) and the guidance term (`guidance.ts`)
 * are separate; this file writes the loop and applies the guidance between them.
 *
 * Notation (code -> paper): x -> x_t, x0 -> x-hat_0, eps -> epsilon, mode -> m_i,
 * g -> m_i - x-hat_0, lambda -> lambda, mean -> mu_theta(x_t, t), sigma -> sigma_t (the
 * model's std), abar -> alpha-bar_t, index -> the respaced step S-1 .. 0.
 *
 * @module
 */
import { combineCfg, type Denoiser, predictX0Eps } from "../../models/diffusion/denoiser.ts";
import type { GaussianSchedule } from "../../models/diffusion/schedule.ts";
import type { CfgChannels, VarianceType } from "../../models/diffusion/sampling.ts";
import { guidanceActive, guidedSteps, modeDirection, type ModeGuidance } from "./guidance.ts";
import { ddpmStd, ddpmStep, posteriorMean } from "./_ddpm_step.ts";
import { type DdimCoefs, ddimCoefs, ddimStep } from "./_ddim_step.ts";

/** Where the Gaussian noise of one sample comes from (seeded per sample, or read from the store). */
export interface NoiseSource {
  /** The initial noise x_T (or the noise added to a prototype). */
  initial(): Float32Array;
  /** The noise z of the DDPM (or eta > 0 DDIM) step at respaced `index`. */
  step(index: number): Float32Array;
}

/** One sample to draw. */
export interface SampleRequest {
  /** Class id to sample (0 <= classId < the denoiser's numClasses). */
  classId: number;
  /** Source of the sample's Gaussian noise. */
  noise: NoiseSource;
  /** The mode to guide towards (m_i, flattened latent); required when guidance is set. */
  mode?: Float32Array;
  /** D4M-style initialisation: the prototype latent to noise and denoise from. */
  prototype?: Float32Array;
}

/** Options of {@link sampleBatch}. */
export interface SamplerOptions {
  /** The (respaced) diffusion schedule to sample with. */
  schedule: GaussianSchedule;
  /** Sampler: DDPM (ancestral) or DDIM steps. */
  method: "ddpm" | "ddim";
  /** Classifier-free guidance scale (4.0 for DiT-XL/2, SPEC section 2); 1 disables it. */
  cfgScale: number;
  /** Output channels CFG guides: 3 reproduces DiT's `forward_with_cfg`; "all" guides every latent channel. */
  cfgChannels: CfgChannels;
  /** Variance of DDPM steps; "learned_range" needs a denoiser with learnSigma. */
  variance: VarianceType;
  /** MGD3 mode guidance; null for plain sampling. */
  guidance: ModeGuidance | null;
  /** DDIM eta (0: deterministic, paper Algorithm 1). */
  eta?: number;
  /** D4M-style start: fraction of the steps run from the noised prototype (0.7). */
  strength?: number;
  /** Called after each step with the number of the step done and the total. */
  onStep?: (done: number, total: number) => void;
}

/** One sample's prediction at a step: x0_hat, eps and DiT's variance values (learnSigma). */
interface Prediction {
  x0: Float32Array; // [C, H, W]
  eps: Float32Array; // [C, H, W]
  varValues: Float32Array | null; // [C, H, W] in [-1, 1]
}

/**
 * Draws one latent per request with the same network call for the whole batch (doubled
 * for CFG). Each request's noise comes from its own source, so results do not depend on
 * how requests are batched.
 *
 * @example
 * ```ts
 * import { sampleBatch } from "./sampler.ts";
 * const latents = await sampleBatch(dit, requests, {
 *   schedule, method: "ddpm", cfgScale: 4.0, cfgChannels: 3, variance: "learned_range",
 *   guidance: { lambda: 0.1, tStop: 25 },
 * }); // [B, 4, 32, 32] flattened
 * ```
 */
export async function sampleBatch(
  model: Denoiser,
  requests: SampleRequest[],
  o: SamplerOptions,
): Promise<Float32Array> {
  const D = model.latentShape.reduce((a, b) => a * b, 1);
  checkOptions(model, requests, o, D);
  const lambda = o.guidance?.lambda ?? 0;
  // 1. Start: x_T ~ N(0, I), or the prototype noised to the first step run (D4M).
  const start = firstStepIndex(o.schedule.numSteps, o.strength);
  const x = initialLatents(requests, o, start, D); // [B, C, H, W]
  for (let index = start; index >= 0; index--) {
    // 2-3. One network call (CFG on a doubled batch), then x0_hat and eps per sample.
    const preds = await predict(model, x, requests, o, index);
    const guided = lambda !== 0 && guidanceActive(index, o.guidance!.tStop);
    const ddim = o.method === "ddim" ? ddimCoefs(o.schedule, index, o.eta ?? 0) : null;
    for (const [b, { x0, eps, varValues }] of preds.entries()) {
      const xb = x.subarray(b * D, (b + 1) * D); // [C, H, W]
      const g = guided ? modeDirection(x0, requests[b].mode!) : null; // m_i - x0_hat
      if (ddim === null) {
        // 4a. DDPM: x_{t-1} = mu(x_t, x0_hat) + lambda sigma g + sigma z (no z at index 0).
        const mean = posteriorMean(o.schedule, index, x0, xb); // [C, H, W] float64
        const sigma = ddpmStd(o.schedule, index, o.variance, varValues, D); // [C, H, W]
        if (g) guideMean(mean, lambda, sigma, g);
        ddpmStep(xb, mean, sigma, index > 0 ? stepNoise(requests[b], index, D) : null);
      } else {
        // 4b. DDIM (Algorithm 1): eps_hat = eps - sqrt(1 - abar) lambda g; x0' from eps_hat.
        const p = g ? guideEps(ddim, lambda, g, xb, eps) : { x0, eps };
        const z = ddim.sigma > 0 && index > 0 ? stepNoise(requests[b], index, D) : null;
        ddimStep(xb, ddim, p.x0, p.eps, z);
      }
    }
    o.onStep?.(start - index + 1, start + 1);
  }
  return x;
}

/**
 * The first respaced index the loop runs for S steps: S-1, or with D4M-style initialisation
 * the start floor(S * strength) - 1 (-1: no step runs).
 *
 * @example
 * ```ts
 * import { firstStepIndex } from "./sampler.ts";
 * firstStepIndex(50); // 49
 * firstStepIndex(50, 0.7); // 34
 * ```
 */
export function firstStepIndex(S: number, strength?: number): number {
  return strength === undefined ? S - 1 : Math.min(S, Math.floor(S * strength)) - 1;
}

/** x_T = z per request, or sqrt(abar) prototype + sqrt(1 - abar) z at `start` (D4M). */
function initialLatents(
  requests: SampleRequest[],
  o: SamplerOptions,
  start: number,
  D: number,
): Float32Array {
  const x = new Float32Array(requests.length * D); // [B, C, H, W]
  requests.forEach((r, b) => {
    const z = r.noise.initial();
    checkLength(z, D, "initial noise");
    if (o.strength !== undefined) {
      const abar = o.schedule.alphasCumprod[start];
      const a = Math.fround(Math.sqrt(abar));
      const s = Math.fround(Math.sqrt(1 - abar));
      for (let i = 0; i < D; i++) x[b * D + i] = a * r.prototype![i] + s * z[i];
    } else {
      x.set(z, b * D);
    }
  });
  return x;
}

/**
 * The model output at respaced `index` -> (x0_hat, eps) per sample: the network at the
 * original timestep, CFG on a doubled batch [cond; null] combined by `combineCfg` (DiT
 * `forward_with_cfg`), then x0_hat and eps from the guided prediction.
 */
async function predict(
  model: Denoiser,
  x: Float32Array, // [B, C, H, W]
  requests: SampleRequest[],
  o: SamplerOptions,
  index: number,
): Promise<Prediction[]> {
  const [C, H, W] = model.latentShape;
  const plane = H * W;
  const D = C * plane;
  const B = requests.length;
  const outChannels = model.learnSigma ? 2 * C : C;
  const useCfg = o.cfgScale !== 1;
  const y = requests.map((r) => r.classId);
  const yIn = Int32Array.from(useCfg ? [...y, ...new Array(B).fill(model.numClasses)] : y);
  const xIn = useCfg ? concat(x, x) : x; // [2B or B, C, H, W]
  const tIn = new Float32Array(yIn.length).fill(o.schedule.timestepMap[index]);
  let out = await model.forward(xIn, tIn, yIn); // [2B or B, Cout, H, W]
  checkLength(out, yIn.length * outChannels * plane, "model output");
  if (useCfg) {
    const channels = o.cfgChannels === "all" ? C : o.cfgChannels;
    out = combineCfg(out, B, outChannels, plane, o.cfgScale, channels); // [B, Cout, H, W]
  }
  const abar = o.schedule.alphasCumprod[index];
  return requests.map((_, b) => {
    const base = b * outChannels * plane;
    const pred = out.subarray(base, base + D); // [C, H, W]
    const { x0, eps } = predictX0Eps(
      model.predictionType,
      x.subarray(b * D, (b + 1) * D),
      pred,
      abar,
    );
    const varValues = model.learnSigma ? out.subarray(base + D, base + 2 * D) : null;
    return { x0, eps, varValues };
  });
}

/** MGD3 on a DDPM step (released code, SPEC section 2): mean += lambda sigma_t g, in float64. */
function guideMean(mean: Float64Array, lambda: number, sigma: Float64Array, g: Float32Array) {
  for (let i = 0; i < mean.length; i++) mean[i] += lambda * sigma[i] * g[i];
}

/**
 * MGD3 on a DDIM step (paper Algorithm 1): eps_hat = eps - sqrt(1 - abar) lambda g and
 * x0' = (x_t - sqrt(1 - abar) eps_hat) / sqrt(abar), in float64.
 */
function guideEps(
  c: DdimCoefs,
  lambda: number,
  g: Float32Array, // [C, H, W]
  xt: Float32Array, // [C, H, W]
  eps: Float32Array, // [C, H, W]
): { x0: Float64Array; eps: Float64Array } {
  const sq = c.sqrtOneMinusAbar;
  const epsHat = new Float64Array(eps.length); // [C, H, W]
  const x0 = new Float64Array(eps.length); // [C, H, W]
  for (let i = 0; i < eps.length; i++) {
    epsHat[i] = eps[i] - sq * lambda * g[i];
    x0[i] = (xt[i] - sq * epsHat[i]) / c.sqrtAbar;
  }
  return { x0, eps: epsHat };
}

/** The noise z of `r`'s step at `index`, checked for length. */
function stepNoise(r: SampleRequest, index: number, D: number): Float32Array {
  const z = r.noise.step(index);
  checkLength(z, D, `noise at step ${index}`);
  return z;
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function checkLength(a: Float32Array, n: number, what: string): void {
  if (a.length !== n) {
    throw new RangeError(`Sampler: ${what} has ${a.length} values; expected ${n}`);
  }
}

function checkOptions(
  model: Denoiser,
  requests: SampleRequest[],
  o: SamplerOptions,
  D: number,
): void {
  if (o.variance === "learned_range" && !model.learnSigma) {
    throw new RangeError(
      "Sampler option variance 'learned_range' needs a denoiser that outputs variance values (learnSigma)",
    );
  }
  const C = model.latentShape[0];
  if (
    o.cfgChannels !== "all" &&
    !(Number.isInteger(o.cfgChannels) && o.cfgChannels >= 1 && o.cfgChannels <= C)
  ) {
    throw new RangeError(
      `Sampler option cfgChannels must be 1..${C} or "all", got ${o.cfgChannels}`,
    );
  }
  if (o.strength !== undefined && !(o.strength > 0 && o.strength <= 1)) {
    throw new RangeError(`Sampler option strength must be in (0, 1], got ${o.strength}`);
  }
  if (o.guidance && !(o.guidance.lambda >= 0)) {
    throw new RangeError(`Mode guidance lambda must be >= 0, got ${o.guidance.lambda}`);
  }
  if (o.guidance && o.guidance.lambda !== 0) {
    const first = firstStepIndex(o.schedule.numSteps, o.strength);
    if (guidedSteps(first, o.guidance.tStop).length === 0) {
      throw new RangeError(
        `Mode guidance (lambda ${o.guidance.lambda}) would run on no step: it runs while the ` +
          `respaced index > tStop ${o.guidance.tStop}, and sampling starts at index ${first}`,
      );
    }
  }
  for (const [i, r] of requests.entries()) {
    if (!Number.isInteger(r.classId) || r.classId < 0 || r.classId >= model.numClasses) {
      throw new RangeError(`Sample ${i}: class ${r.classId} is outside 0..${model.numClasses - 1}`);
    }
    if (o.guidance && o.guidance.lambda !== 0) {
      checkLength(r.mode ?? new Float32Array(0), D, `sample ${i} mode`);
    }
    if (o.strength !== undefined) {
      checkLength(r.prototype ?? new Float32Array(0), D, `sample ${i} prototype`);
    }
  }
}
