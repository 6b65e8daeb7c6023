/**
 * What a PyTorch Lightning `.ckpt` (e.g. CompVis's cin256-v2.ckpt) names beside its state dict.
 *
 * @module
 */

/**
 * Classes a Lightning checkpoint may name outside its state dict (callback states keyed by
 * their class, omegaconf hyper-parameters); the pickle reader builds them as inert objects and
 * never calls them.
 *
 * @example
 * ```ts
 * import { LIGHTNING_GLOBALS } from "./lightning.ts";
 * LIGHTNING_GLOBALS.includes("omegaconf.dictconfig.DictConfig"); // true
 * ```
 */
export const LIGHTNING_GLOBALS: readonly string[] = [
  "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint",
  "pytorch_lightning.callbacks.lr_monitor.LearningRateMonitor",
  "omegaconf.dictconfig.DictConfig",
  "omegaconf.listconfig.ListConfig",
  "omegaconf.base.ContainerMetadata",
  "omegaconf.base.Metadata",
  "omegaconf.nodes.AnyNode",
];
