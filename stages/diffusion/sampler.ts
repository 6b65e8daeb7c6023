/**
 * The sampling loop: DDPM (DiT's `p_sample`, learned-range or fixed variances) or DDIM
 * (eta 0 by default), classifier-free guidance, MGD3 mode guidance with stop guidance, and
 * D4M-style prototype initialisation. The model, the schedule and the guidance term are
 * separate; this file only writes the loop.
 *
 * Notation (code -> paper): x -> x_t, x0 -> x-hat_0, mode -> m_i, g -> m_i - x-hat_0,
 * lambda -> lambda, sigma -> sigma_t (the model's std), abar -> alpha-bar_t, index -> the
 * respaced step S-1 .. 0.
 *
 * @module
 */
import { combineCfg, type Denoiser, predictX0Eps } from "../../models/diffusion/denoiser.ts";
import type { GaussianSchedule } from "../../models/diffusion/schedule.ts";
import type { CfgChannels, VarianceType } from "../../models/diffusion/sampling.ts";
import { guidanceActive, modeDirection, type ModeGuidance } from "./guidance.ts";

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
  const [C, H, W] = model.latentShape;
  const plane = H * W;
  const D = C * plane;
  const B = requests.length;
  const S = o.schedule.numSteps;
  const eta = o.eta ?? 0;
  checkOptions(model, requests, o, D);
  const outChannels = model.learnSigma ? 2 * C : C;
  const cfgChannels = o.cfgChannels === "all" ? C : o.cfgChannels;
  const useCfg = o.cfgScale !== 1;

  // 1. Start: x_T ~ N(0, I), or the prototype noised to the first step run (D4M).
  let start = S - 1;
  if (o.strength !== undefined) start = Math.min(S, Math.floor(S * o.strength)) - 1;
  const x = new Float32Array(B * D); // [B, C, H, W]
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
  const y = Int32Array.from(requests, (r) => r.classId);
  const yIn = useCfg ? Int32Array.from([...y, ...new Array(B).fill(model.numClasses)]) : y;

  for (let index = start; index >= 0; index--) {
    // 2. The network at the original timestep; CFG on a doubled batch (DiT forward_with_cfg).
    const tOrig = o.schedule.timestepMap[index];
    const xIn = useCfg ? concat(x, x) : x;
    const tIn = new Float32Array(yIn.length).fill(tOrig);
    let out = await model.forward(xIn, tIn, yIn);
    checkLength(out, yIn.length * outChannels * plane, "model output");
    if (useCfg) out = combineCfg(out, B, outChannels, plane, o.cfgScale, cfgChannels);

    const abar = o.schedule.alphasCumprod[index];
    const abarPrev = o.schedule.alphasCumprodPrev[index];
    const guided = o.guidance !== null && o.guidance.lambda !== 0 &&
      guidanceActive(index, o.guidance.tStop);
    for (let b = 0; b < B; b++) {
      const xb = x.subarray(b * D, (b + 1) * D);
      const base = b * outChannels * plane;
      const pred = out.subarray(base, base + D);
      // 3. x0_hat and eps from the (guided) prediction.
      const { x0, eps } = predictX0Eps(model.predictionType, xb, pred, abar);
      const g = guided ? modeDirection(x0, requests[b].mode!) : null; // m_i - x0_hat
      const lambda = o.guidance?.lambda ?? 0;
      if (o.method === "ddpm") {
        // 4a. DDPM: x_{t-1} = mu(x_t, x0_hat) + lambda sigma g + sigma z (no z at index 0).
        const c1 = Math.fround(o.schedule.posteriorMeanCoef1[index]);
        const c2 = Math.fround(o.schedule.posteriorMeanCoef2[index]);
        const varVals = model.learnSigma ? out.subarray(base + D, base + 2 * D) : null;
        const z = index > 0 ? requests[b].noise.step(index) : null;
        if (z) checkLength(z, D, `noise at step ${index}`);
        const minLog = o.schedule.posteriorLogVarianceClipped[index];
        const maxLog = Math.log(o.schedule.betas[index]);
        const fixedLog = o.variance === "fixed_small"
          ? minLog
          : o.schedule.fixedLargeLogVariance(index);
        for (let i = 0; i < D; i++) {
          let logVar = fixedLog;
          if (o.variance === "learned_range") {
            const frac = (varVals![i] + 1) / 2; // [-1, 1] -> [min_var, max_var]
            logVar = frac * Math.fround(maxLog) + (1 - frac) * Math.fround(minLog);
          }
          const sigma = Math.exp(0.5 * logVar);
          let v = c1 * x0[i] + c2 * xb[i];
          if (g) v += lambda * sigma * g[i];
          if (z) v += sigma * z[i];
          xb[i] = v;
        }
      } else {
        // 4b. DDIM (Algorithm 1): eps_hat = eps - sqrt(1 - abar) lambda g; x0' from eps_hat.
        const sq = Math.fround(Math.sqrt(1 - abar));
        const ra = Math.fround(Math.sqrt(abar));
        const sigma = eta * Math.sqrt((1 - abarPrev) / (1 - abar)) * Math.sqrt(1 - abar / abarPrev);
        const cx0 = Math.fround(Math.sqrt(abarPrev));
        const ceps = Math.fround(Math.sqrt(1 - abarPrev - sigma * sigma));
        const z = sigma > 0 && index > 0 ? requests[b].noise.step(index) : null;
        for (let i = 0; i < D; i++) {
          let e = eps[i];
          let x0i = x0[i];
          if (g) {
            e = e - sq * lambda * g[i];
            x0i = (xb[i] - sq * e) / ra;
          }
          let v = x0i * cx0 + ceps * e;
          if (z) v += sigma * z[i];
          xb[i] = v;
        }
      }
    }
    o.onStep?.(start - index + 1, start + 1);
  }
  return x;
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
