/**
 * The sampling settings that belong to a denoiser rather than to an experiment: how DDPM
 * steps pick their variance, which latent channels classifier-free guidance acts on, and the
 * length of the training schedule the model was trained with. A scale (models/scales) hands
 * them out with its denoiser, so no caller re-decides them from model facts.
 *
 * @module
 */

import type { BetaSchedule } from "./schedule.ts";
import type { DiffusersTimesteps } from "./diffusers_timesteps.ts";

/**
 * How the variance of a DDPM step is chosen: "learned_range" interpolates between the
 * posterior's two bounds with the network's extra output channels (DiT's learn_sigma);
 * "fixed_small" is the clipped posterior variance; "fixed_large" is beta_t.
 *
 * @example
 * ```ts
 * import type { VarianceType } from "./sampling.ts";
 * const dit: VarianceType = "learned_range";
 * ```
 */
export type VarianceType = "learned_range" | "fixed_small" | "fixed_large";

/**
 * Output channels classifier-free guidance combines: 3 reproduces DiT-XL/2's
 * `forward_with_cfg` (the 4th latent channel comes from the conditional half); "all" guides
 * every latent channel (standard CFG).
 *
 * @example
 * ```ts
 * import type { CfgChannels } from "./sampling.ts";
 * const unet: CfgChannels = "all";
 * ```
 */
export type CfgChannels = number | "all";

/**
 * The sampling settings that fit a denoiser (options of the `sample` stage of the same names).
 *
 * @example
 * ```ts
 * import type { ModelSampling } from "./sampling.ts";
 * // DiT-XL/2 (SPEC section 2): 3-channel CFG, learned variance, 1000 training steps
 * const dit: ModelSampling = { cfgChannels: 3, variance: "learned_range", trainSteps: 1000 };
 * ```
 */
export interface ModelSampling {
  /** Channels classifier-free guidance acts on. */
  cfgChannels: CfgChannels;
  /** DDPM variance: "learned_range" needs a denoiser with learnSigma. */
  variance: VarianceType;
  /** Steps of the linear-beta schedule the model was trained with (1000 for DiT). */
  trainSteps: number;
  /**
   * The betas the model was trained with, when not DiT's linear 1e-4..0.02 (LDM cin256-v2:
   * scaled_linear 0.0015..0.0195).
   */
  betas?: BetaSchedule;
  /**
   * The model's own CFG scale when the paper states none (LDM: 3.0, the LDM repo's ImageNet
   * sampling); absent = the sample stage's default (4.0, SPEC section 2).
   */
  cfgScale?: number;
  /**
   * diffusers' DDIM timesteps and final alpha-bar (Stable Diffusion folders: the scheduler
   * config's `timestep_spacing`, `steps_offset`, `set_alpha_to_one`); absent = DiT's
   * `space_timesteps` respacing.
   */
  timesteps?: DiffusersTimesteps;
  /** The model's sampler when the paper fixes one (Stable Diffusion: DDIM, Algorithm 1). */
  method?: "ddpm" | "ddim";
  /**
   * Samples per network call that fit the model's speed and memory (the sample stage's
   * `batchSize`; results do not depend on it); absent = the stage's default, 8.
   */
  batchSize?: number;
}
