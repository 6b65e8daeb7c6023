/**
 * What a scale loader hands back before `loadScale` narrows it to the parts asked for.
 *
 * @module
 */
import type { ScaleFacts, ScaleModels } from "./scale.ts";

/** The models of a scale that one load may skip. */
export type ScalePart = "codec" | "denoiser";

/** A loaded scale: the facts, and the parts (and content ids) that were loaded. */
export type LoadedParts =
  & ScaleFacts
  & Partial<Pick<ScaleModels, "codec" | "denoiser" | "hash" | "modelId" | "describe">>;
