/**
 * Stage `sample`: one synthetic latent per mode of each class, with classifier-free
 * guidance and MGD3 mode guidance (or plain sampling, or D4M-style prototype
 * initialisation), read from and written to the store.
 *
 * Input: a modes artifact (from `discover`), one shard per class with `modes` [k, C, H, W]
 * and metadata `class` (model class id) and `name`. Output: an artifact with one shard per
 * class holding `latents` [k, C, H, W]. Sample i of class c is drawn with its own generator
 * `Rng.from(seed, c, i)`, so results do not depend on batch size or sharding.
 *
 * Given a scale (models/scales `loadScale`), the options that depend on the model (CFG
 * channels, variance, training steps, the model's id) come from it and every other option
 * from {@link SAMPLE_DEFAULTS}; given a bare denoiser, every option is the caller's.
 *
 * @module
 */
import type { BrokenShard, Store } from "./store/store.ts";
import type { Denoiser } from "../models/diffusion/denoiser.ts";
import type { CfgChannels, ModelSampling, VarianceType } from "../models/diffusion/sampling.ts";
import { firstStepIndex, sampleBatch, type SampleRequest } from "./diffusion/sampler.ts";
import {
  type BetaSchedule,
  DIT_TRAIN_STEPS,
  GaussianSchedule,
  makeBetas,
  spaceTimesteps,
} from "../models/diffusion/schedule.ts";
import {
  diffusersSchedule,
  type DiffusersTimesteps,
} from "../models/diffusion/diffusers_timesteps.ts";
import { guidedSteps, MGD3_DEFAULTS, type ModeGuidance } from "./diffusion/guidance.ts";
import { Rng } from "../models/core/random.ts";
import { ALL, type Shard } from "./store/shard.ts";
import { createProgress } from "./progress.ts";
import { withDefaults } from "./_defaults.ts";
import { OptionError } from "./option_error.ts";

/**
 * Options of {@link sample}; the model's settings (cfgChannels, variance, trainSteps) come
 * with its scale, every other default is written out in {@link SAMPLE_DEFAULTS}.
 */
export interface SampleOptions {
  /** Modes artifact to read (written by `discover`). */
  modes: string;
  /** Artifact to write. */
  out: string;
  /** Identifies the denoiser (checkpoint path and config) in the artifact's provenance. */
  model: string;
  /** "ddpm" (the paper's main sampler) or "ddim" (Table 6). */
  method: "ddpm" | "ddim";
  /** Respaced steps: 50 (SPEC section 2, DiT `space_timesteps(1000, "50")`). */
  steps: number;
  /** Training steps of the model's schedule: 1000, linear betas 1e-4..0.02 (SPEC section 2). */
  trainSteps: number;
  /**
   * The model's training betas when not DiT's linear 1e-4..0.02 (the LDM scale sets LDM's
   * scaled_linear 0.0015..0.0195); absent = DiT's.
   */
  betas?: BetaSchedule;
  /**
   * diffusers' DDIM timesteps (a Stable Diffusion scale sets its scheduler config's); absent =
   * DiT's `space_timesteps(trainSteps, steps)`.
   */
  timesteps?: DiffusersTimesteps;
  /** Classifier-free guidance scale 4.0 (SPEC section 2). */
  cfgScale: number;
  /**
   * Latent channels CFG guides: "all", or N to guide the first N of the model's C channels
   * (1..C); 3 reproduces DiT-XL/2's `forward_with_cfg`.
   */
  cfgChannels: CfgChannels;
  /** DDPM variance: learned range for DiT (learn_sigma), fixed for models without it. */
  variance: VarianceType;
  /**
   * Mode guidance, lambda 0.1 (App. F) and t_stop 25 (App. A); null = unguided DiT baseline.
   * Guidance must act on at least one step: t_stop below the first respaced index run
   * (steps - 1, or the D4M start), else the stage refuses the options.
   */
  guidance: ModeGuidance | null;
  /** D4M-style prototype initialisation strength (0.7, SPEC section 3), or null. */
  strength: number | null;
  /** Seed of the generated dataset (paper: 0, 1, 2). */
  seed: number;
  /** Samples per network call (does not change results). */
  batchSize: number;
  /** Classes handled by this worker. */
  shard: Shard;
  /** Replace an artifact made with other options. */
  overwrite: boolean;
  /**
   * Stops the stage between two shards (or batches) when aborted; what is written stays valid
   * and a rerun resumes. Not part of the artifact's options.
   */
  signal?: AbortSignal;
}

/**
 * The paper's settings for the options that do not depend on the model (SPEC section 2);
 * `trainSteps` is DiT's 1000-step schedule, for a bare denoiser (a scale brings its own).
 * CFG channels and variance belong to the model: its scale has them (`scale.sampling`).
 */
export const SAMPLE_DEFAULTS = {
  method: "ddpm",
  steps: 50,
  trainSteps: DIT_TRAIN_STEPS,
  cfgScale: 4.0,
  guidance: MGD3_DEFAULTS, // lambda 0.1 (App. F), t_stop 25 (App. A)
  strength: null,
  seed: 0,
  batchSize: 8,
  shard: ALL,
  overwrite: false,
} as const satisfies Partial<SampleOptions>;

/**
 * A denoiser with the sampling settings that fit it: a scale from models/scales `loadScale`.
 *
 * @example
 * ```ts
 * import type { SampleScale } from "./sample.ts";
 * const bare = (s: SampleScale) => s.denoiser; // with s.sampling: cfgChannels, variance, ...
 * ```
 */
export interface SampleScale {
  /** The denoiser to sample with. */
  denoiser: Denoiser;
  /** Its CFG channels, variance and training steps. */
  sampling: ModelSampling;
  /** Its identity in provenance (the default of the `model` option). */
  modelId?: string;
}

/**
 * Options of {@link sample} with a scale: the artifacts to read and write, and any option to
 * change; an option left out (or undefined) is the scale's or {@link SAMPLE_DEFAULTS}'.
 *
 * @example
 * ```ts
 * import type { ScaleSampleOptions } from "./sample.ts";
 * const o: ScaleSampleOptions = { modes: "modes/ipc10", out: "samples/mgd3-s0", seed: 0 };
 * ```
 */
export type ScaleSampleOptions = Pick<SampleOptions, "modes" | "out"> & Partial<SampleOptions>;

/** What {@link sample} did. */
export interface SampleReport {
  /** Name of the artifact written. */
  artifact: string;
  /** Class shards written by this call. */
  written: string[];
  /** Class shards skipped because the artifact already had them. */
  skipped: string[];
  /** Class shards found broken (truncated, corrupt, from another key) and written again. */
  redone: BrokenShard[];
  /** Wall-clock seconds the call took. */
  seconds: number;
}

/**
 * Runs the sampling stage over every class shard of the modes artifact that belongs to
 * this worker; finished class shards are skipped. Takes a scale (its denoiser and the
 * settings that fit it) and the options to change, or a bare denoiser and every option.
 *
 * @example
 * ```ts
 * import { SAMPLE_DEFAULTS, sample } from "./sample.ts";
 * import { loadScale, SHIPPED_CPU_MODEL } from "../models/scales/mod.ts";
 * const scale = await loadScale({ scale: "cpu", model: SHIPPED_CPU_MODEL });
 * await sample(store, scale, { modes: "modes/imagenette-ipc10", out: "samples/mgd3-s0", seed: 0 });
 * // a bare denoiser takes every option:
 * await sample(store, dit, {
 *   ...SAMPLE_DEFAULTS, modes: "modes/imagenette-ipc10", out: "samples/mgd3-ipc10-s0",
 *   model: "DiT-XL-2-256x256.pt", cfgChannels: 3, variance: "learned_range",
 * });
 * ```
 */
export function sample(
  store: Store,
  scale: SampleScale,
  options: ScaleSampleOptions,
): Promise<SampleReport>;
export function sample(
  store: Store,
  model: Denoiser,
  options: SampleOptions,
): Promise<SampleReport>;
export async function sample(
  store: Store,
  target: Denoiser | SampleScale,
  options: SampleOptions | ScaleSampleOptions,
): Promise<SampleReport> {
  const start = performance.now();
  const { model, o } = resolveOptions(target, options);
  checkOptions(o, model);
  const modes = await store.open(o.modes, {
    kind: "modes",
    reader: "sample option modes (--modes)",
  });
  const { shard, batchSize, overwrite, signal: _signal, ...identity } = o;
  const out = await store.artifact(o.out, {
    kind: "samples",
    options: { ...identity, modesKey: modes.manifest.key },
    seed: o.seed,
    overwrite,
  });
  const betas = makeBetas(o.trainSteps, o.betas);
  const schedule = o.timesteps
    ? diffusersSchedule(betas, o.steps, o.timesteps)
    : GaussianSchedule.fromBetas(betas).respace(spaceTimesteps(o.trainSteps, String(o.steps)));
  const classShards = await modes.shards();
  const mine = classShards.filter((_, j) => j % shard.count === shard.index);
  const report: SampleReport = {
    artifact: o.out,
    written: [],
    skipped: [],
    redone: out.redone,
    seconds: 0,
  };
  const D = model.latentShape.reduce((a, b) => a * b, 1);
  const stepsRun = o.strength !== null ? Math.floor(o.steps * o.strength) : o.steps;
  // Classes in flight: a network call takes up to batchSize samples across class shards (small
  // models fill their matrix products only with wide batches); a class shard is written as soon
  // as its last sample is drawn, so a stopped run keeps every finished class.
  const open: ClassInFlight[] = [];
  let next = 0;
  const openNext = async (): Promise<ClassInFlight | null> => {
    while (next < mine.length) {
      const name = mine[next++];
      if (await out.finished(name)) {
        report.skipped.push(name);
        continue;
      }
      const { tensors, metadata } = await modes.readShard(name);
      const m = tensors.get("modes");
      if (!m) throw new Error(`${modes.shardPath(name)} has no 'modes' tensor`);
      const [k, ...latent] = m.shape;
      if (latent.join() !== model.latentShape.join()) {
        throw new RangeError(
          `Modes in ${
            modes.shardPath(name)
          } are [${latent}] latents; the model takes [${model.latentShape}]`,
        );
      }
      const label = metadata.name ?? name;
      return {
        name,
        label,
        classId: Number(metadata.class),
        shape: m.shape,
        modes: m.data as Float32Array,
        k,
        next: 0,
        left: k,
        result: new Float32Array(k * D),
        progress: createProgress(`sample ${label}`, k * stepsRun),
      };
    }
    return null;
  };
  for (;;) {
    o.signal?.throwIfAborted();
    const chunk: { c: ClassInFlight; i: number }[] = [];
    while (chunk.length < batchSize) {
      let c = open.find((p) => p.next < p.k);
      if (!c) {
        const opened = await openNext();
        if (!opened) break;
        open.push(c = opened);
      }
      chunk.push({ c, i: c.next++ });
    }
    if (!chunk.length) break;
    const requests: SampleRequest[] = chunk.map(({ c, i }) => {
      const rng = Rng.from(o.seed, c.classId, i); // per-sample stream: batch- and shard-independent
      const modeI = c.modes.subarray(i * D, (i + 1) * D);
      return {
        classId: c.classId,
        mode: modeI,
        prototype: o.strength !== null ? modeI : undefined,
        noise: { initial: () => rng.randn(D), step: () => rng.randn(D) },
      };
    });
    const x = await sampleBatch(model, requests, {
      schedule,
      method: o.method,
      cfgScale: o.cfgScale,
      cfgChannels: o.cfgChannels,
      variance: o.variance,
      guidance: o.guidance,
      strength: o.strength ?? undefined,
      onStep: () => {
        for (const { c } of chunk) c.progress.tick(1);
      },
    });
    chunk.forEach(({ c, i }, b) => {
      c.result.set(x.subarray(b * D, (b + 1) * D), i * D);
      c.left--;
    });
    for (const c of [...open]) {
      if (c.left > 0) continue;
      c.progress.done();
      await out.writeShard(c.name, {
        latents: { dtype: "F32", shape: c.shape, data: c.result },
      }, { class: String(c.classId), name: c.label });
      report.written.push(c.name);
      open.splice(open.indexOf(c), 1);
    }
  }
  report.seconds = (performance.now() - start) / 1000;
  return report;
}

/** A class shard being sampled: its modes, the samples drawn so far and its progress. */
interface ClassInFlight {
  name: string;
  label: string;
  classId: number;
  shape: number[];
  modes: Float32Array; // [k, C, H, W]
  k: number;
  /** The next sample to hand to a network call. */
  next: number;
  /** Samples not drawn yet. */
  left: number;
  result: Float32Array; // [k, C, H, W]
  progress: ReturnType<typeof createProgress>;
}

/**
 * Refuses, before the store is touched, options that can never be right, naming each option
 * and its flag: CFG channels the model does not have, mode guidance that acts on no step.
 */
function checkOptions(o: SampleOptions, model: Denoiser): void {
  const refuse = (message: string) => new OptionError(`sample: ${message}`);
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) {
    throw refuse(`--batch-size must be >= 1, got ${o.batchSize}`);
  }
  if (!(Number.isInteger(o.steps) && o.steps >= 1)) {
    throw refuse(`option steps (--steps) must be an integer >= 1, got ${o.steps}`);
  }
  const C = model.latentShape[0];
  const ch = o.cfgChannels;
  if (ch !== "all" && !(Number.isInteger(ch) && ch >= 1 && ch <= C)) {
    throw refuse(
      `option cfgChannels (--cfg-channels) must be "all" or an integer in 1..${C} ` +
        `(the model's latent channels), got ${JSON.stringify(ch)}`,
    );
  }
  if (o.strength !== null && !(o.strength > 0 && o.strength <= 1)) {
    throw refuse(`option strength (--strength) must be in (0, 1], got ${o.strength}`);
  }
  const first = firstStepIndex(o.steps, o.strength ?? undefined);
  const start = `sampling starts at respaced index ${first} (steps ${o.steps}, --steps` +
    (o.strength === null ? ")" : `; strength ${o.strength}, --strength)`);
  if (first < 0) throw refuse(`no step would run: ${start}`);
  if (o.guidance && o.guidance.lambda !== 0 && !guidedSteps(first, o.guidance.tStop).length) {
    throw refuse(
      `mode guidance (guidance.lambda ${o.guidance.lambda}, --lambda) would act on no step: ` +
        `it acts while the respaced index > guidance.tStop ${o.guidance.tStop} (--t-stop), ` +
        `and ${start}. Give a t-stop below ${first}, or lambda 0 (guidance null) to sample ` +
        `without mode guidance.`,
    );
  }
}

/** The denoiser and the full options: a scale fills the model's settings and id. */
function resolveOptions(
  target: Denoiser | SampleScale,
  options: SampleOptions | ScaleSampleOptions,
): { model: Denoiser; o: SampleOptions } {
  if (!("denoiser" in target)) return { model: target, o: options as SampleOptions };
  const o = withDefaults<SampleOptions>(
    { ...SAMPLE_DEFAULTS, ...target.sampling, model: target.modelId },
    options,
  );
  if (o.model === undefined) {
    throw new RangeError(
      "sample: option 'model' (the denoiser's id in provenance) is required: this scale has no modelId",
    );
  }
  return { model: target.denoiser, o };
}
