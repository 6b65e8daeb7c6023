/**
 * How class names (ImageNet wnids) become a class-conditional denoiser's class ids.
 *
 * @module
 */

/**
 * How class labels map to the denoiser's class ids: "imagenet" (DiT's ImageNet-1K index of
 * each wnid), "label" (the class's position in the dataset's class list), or the model's own
 * class list (the class's position there, as the cpu-scale model file lists it).
 *
 * @example
 * ```ts
 * import type { ClassIds } from "./class_ids.ts";
 * const dit: ClassIds = "imagenet";
 * const cpu: ClassIds = ["n01440764", "n02102040"]; // tench -> 0, springer -> 1
 * ```
 */
export type ClassIds = "imagenet" | "label" | readonly string[];
