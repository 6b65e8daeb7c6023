/**
 * Mode discovery (SPEC section 1 step 2): {@link discoverModes} and the clustering and
 * selection functions behind it.
 *
 * @example
 * ```ts
 * import { discoverModes } from "./mod.ts";
 * const X = new Float32Array(100 * 8).map(() => Math.random()); // [100, 8]
 * const { modes } = discoverModes(X, 100, 8, { method: "kmeans", k: 10 }); // [10, 8]
 * ```
 *
 * @module
 */
export * from "./discover_modes.ts";
export * from "./kmeans.ts";
export * from "./gmm.ts";
export * from "./dbscan.ts";
export * from "./spectral.ts";
export * from "./closest.ts";
export * from "./herding.ts";
export type { Rng } from "../../models/core/random.ts";
