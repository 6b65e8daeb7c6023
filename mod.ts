/**
 * mgd3: dataset distillation with diffusion models and mode guidance (MGD3), on
 * onnxruntime-node. This module only re-exports; each export is documented where it is
 * defined.
 *
 * @example
 * ```ts
 * import { Store, sample, SAMPLE_DEFAULTS } from "./mod.ts";
 * const store = await Store.open(".store");
 * ```
 *
 * @module
 */

// Tensors, safetensors and checkpoints
export * from "./models/tensor.ts";
export * from "./models/safetensors.ts";
export * from "./models/checkpoint.ts";
export {
  readPytorchCheckpoint,
  readPytorchStateDict,
  stateDict,
} from "./models/pytorch_checkpoint.ts";

// Optimizers and schedules
export * from "./models/optim.ts";
export * from "./models/lr_schedule.ts";

// The store and stage plumbing
export * from "./stages/store.ts";
export * from "./stages/version.ts";
export * from "./stages/progress.ts";
export * from "./stages/random.ts";
export * from "./stages/shard.ts";

// Datasets
export * from "./stages/classes.ts";
export * from "./stages/image_folder.ts";
export * from "./stages/load_images.ts";
export * from "./stages/write_image_folder.ts";

// Diffusion sampling and mode guidance
export * from "./stages/diffusion/schedule.ts";
export * from "./stages/diffusion/denoiser.ts";
export * from "./stages/diffusion/sampler.ts";
export * from "./stages/guidance.ts";
export * from "./stages/sample.ts";

// Pipeline stages
export * from "./stages/codec.ts";
export * from "./stages/encode.ts";
export * from "./stages/discover.ts";
export * from "./stages/decode.ts";
export * from "./stages/modes/mod.ts";
