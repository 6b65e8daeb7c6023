/**
 * The point-set type the metrics take: n rows of d float32 features (flattened latents,
 * or 2-D embedding coordinates), row-major.
 *
 * @module
 */

/** n points of d dimensions, row-major. */
export interface Points {
  /** n * d values. */
  data: Float32Array;
  /** [n, d]. */
  shape: [number, number];
}

/**
 * Wraps row-major data as `Points`, checking that its length is a multiple of `dim`.
 *
 * @example
 * ```ts
 * import { points } from "./points.ts";
 * const p = points(new Float32Array([0, 0, 1, 1, 2, 0]), 2); // 3 points in 2-D
 * ```
 */
export function points(data: Float32Array, dim: number): Points {
  if (!Number.isInteger(dim) || dim <= 0 || data.length % dim !== 0) {
    throw new RangeError(`Cannot view ${data.length} values as points of dimension ${dim}`);
  }
  return { data, shape: [data.length / dim, dim] };
}
