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
export * from "./models/core/tensor.ts";
export * from "./models/io/safetensors.ts";
export * from "./models/io/checkpoint.ts";
export {
  readPytorchCheckpoint,
  readPytorchStateDict,
  stateDict,
} from "./models/io/pytorch_checkpoint.ts";
export type { ReadPytorchOptions } from "./models/io/pytorch_checkpoint.ts";

// Optimizers and schedules
export * from "./models/train/optim.ts";
export * from "./models/train/lr_schedule.ts";

// The store and stage plumbing
export * from "./stages/store/store.ts";
export * from "./stages/store/version.ts";
export * from "./stages/progress.ts";
export * from "./models/core/random.ts";
export * from "./stages/store/shard.ts";
export * from "./stages/option_error.ts";

// Datasets
export * from "./stages/images/classes.ts";
export * from "./stages/images/image_folder.ts";
export * from "./stages/images/load_images.ts";
export * from "./stages/images/write_image_folder.ts";

// Diffusion sampling and mode guidance
export * from "./models/diffusion/schedule.ts";
export * from "./models/diffusion/denoiser.ts";
export * from "./models/diffusion/sampling.ts";
export * from "./models/diffusion/class_ids.ts";
export * from "./stages/diffusion/sampler.ts";
export * from "./stages/diffusion/guidance.ts";
export * from "./stages/sample.ts";

// Text prompts for Stable Diffusion: the CLIP tokenizer, class-name prompts, ImageNet class names
export * from "./models/text/mod.ts";

// Pipeline stages
export * from "./models/codecs/codec.ts";
export * from "./stages/encode.ts";
export * from "./stages/discover.ts";
export * from "./stages/decode.ts";
export * from "./stages/modes/mod.ts";

// The cpu-scale model and the networks built from checkpoints
export type {
  ElemData,
  Graph,
  ModelBytes,
  Node,
  ParamInfo,
  Region,
  ToModelOptions,
  Value,
} from "./models/graph/graph.ts";
export { ONNX_DTYPE } from "./models/graph/onnx_proto.ts";
export type { AttrValue, ElemType, TensorMsg } from "./models/graph/onnx_proto.ts";
export type { InitKind, Layers, ParamStore, StoredParam } from "./models/graph/nn.ts";
export type { SessionOptions } from "./models/graph/session.ts";
export type { Batch, LossSpec, ModelFn, Trainer, TrainerOptions } from "./models/train/trainer.ts";
export type { GraphOptimizer } from "./models/train/graph_sgd.ts";
export type { Arch } from "./models/nets/dit/config.ts";
export * from "./models/nets/unet/unet.ts";
export * from "./models/nets/unet/denoiser.ts";
export * from "./models/train/diffusion_trainer.ts";
export * from "./models/nets/unet/cpu_model.ts";
export * from "./models/codecs/taesd.ts";
export * from "./models/codecs/autoencoder_kl.ts";
export * from "./models/codecs/sd_vae_codec.ts";
export * from "./models/codecs/vq_codec.ts";
export * from "./models/graph/weights.ts";
export * from "./models/nets/dit/mod.ts";
export * from "./models/nets/ldm/mod.ts";
export * from "./models/nets/clip/mod.ts";
export * from "./models/nets/sd/mod.ts";
export * from "./stages/train_model.ts";

// The scales: the codec, denoiser, class ids and sampling settings that belong together
export * from "./models/scales/mod.ts";

// Evaluation: protocols, classifier zoo, metrics, plots
export type { ParamGroup } from "./eval/protocols/fit.ts";
export type { ImageSet } from "./eval/protocols/image_data.ts";
export type { ProtocolReport, RunResult } from "./eval/protocols/results.ts";
export * from "./eval/protocols/hard_label.ts";
export * from "./eval/protocols/hard_label_protocol.ts";
export * from "./eval/protocols/soft_label.ts";
export * from "./eval/protocols/soft_label_protocol.ts";
export * from "./eval/protocols/teacher.ts";
export * from "./eval/classifiers/zoo.ts";
export * from "./eval/metrics/tsne.ts";
export * from "./eval/metrics/umap.ts";
export * from "./eval/metrics/diversity.ts";
export * from "./eval/metrics/class_metrics.ts";
export * from "./eval/metrics/diversity_table.ts";
export * from "./eval/metrics/embed_class.ts";
export * from "./eval/metrics/points.ts";
export * from "./eval/metrics/coverage.ts";
export * from "./eval/metrics/coverage_table.ts";
export * from "./eval/guidance_response.ts";
export type { PlotResult } from "./eval/plots/render.ts";
export * from "./eval/plots/tsne_scatter.ts";
export * from "./eval/plots/diversity_plot.ts";
export * from "./eval/plots/sweep_plot.ts";
export * from "./eval/plots/guidance_plot.ts";
// The one image batch type (also exported as ImageBatch, with write_image_folder.ts); the old name stays.
export type { ImageBatch as AugmentImageBatch } from "./stages/images/image_batch.ts";
export type { ColorJitterOptions } from "./eval/augment/color_jitter.ts";
export * from "./eval/augment/compose.ts";
export * from "./eval/augment/cutmix.ts";

// Paper tables
export type {
  ColumnDef,
  RealRecipe,
  Recipe,
  RowDef,
  SampleRecipe,
  TableDef,
} from "./eval/tables/spec.ts";
export type { DataPaths, DatasetId } from "./eval/tables/datasets.ts";
export type { CellPlan, Plan, Unit, UnitBase } from "./eval/tables/units.ts";
// The tables' mean ± std; models/graph.ts's Value keeps the name.
export type { CellResult, PairedDiff, TableResults, TableValue } from "./eval/tables/results.ts";
export * from "./eval/tables/paired.ts";
export * from "./eval/tables/run_table.ts";
export * from "./eval/tables/tables.ts";
export * from "./eval/measure.ts";

// Notebooks: the facade over the stages, results that display themselves, run-time option checks
export * from "./notebook/distiller.ts";
export * from "./notebook/display.ts";
export { Gallery } from "./notebook/gallery.ts";
export { checkOptions, type OptionKind } from "./notebook/options.ts";
export { assetPath, assetRoot } from "./models/core/assets.ts";

// Paper-scale assets: the registry, verified downloads into the cache, the reproduce flags they fill
export * from "./stages/fetch/registry.ts";
export * from "./stages/fetch/fetch_asset.ts";
export { type Downloaded, DownloadError, type Expected } from "./stages/fetch/download.ts";
export { UnsafeArchiveError } from "./stages/fetch/unpack.ts";
export * from "./stages/fetch/paper_assets.ts";
export { canonicalJson, fileHashPrefix, sha256File, sha256Hex } from "./models/core/hash.ts";
