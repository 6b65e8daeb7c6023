/**
 * The toolkit's one image batch type: float32 values in NCHW (row-major) order, as PyTorch's
 * `Tensor[N, C, H, W]`. Image folders are written from it (write_image_folder.ts) and every
 * augmentation (eval/augment/) takes and returns it. Pixel values are in [0, 1] before
 * `normalize`; ColorJitter and Lighting do not clamp (IDC does not), so values slightly
 * outside [0, 1] are expected after them; decoded samples are in [-1, 1].
 *
 * @module
 */

/** A batch of images: `data` holds N * C * H * W float32 values, NCHW order. */
export interface ImageBatch {
  /** Pixel values, NCHW row-major. */
  data: Float32Array;
  /** [N, C, H, W] ({@link imageBatch} checks the rank; a `Tensor` fits too). */
  shape: readonly number[];
}

/**
 * Makes an image batch, checking the shape and the data length (zeros when no data).
 *
 * @example
 * ```ts
 * import { imageBatch } from "./image_batch.ts";
 * const x = imageBatch([2, 3, 64, 64]); // two black 64x64 RGB images
 * ```
 */
export function imageBatch(
  shape: readonly number[],
  data?: Float32Array,
): ImageBatch {
  if (shape.length !== 4) {
    throw new RangeError(`Image batch shape must be 4 integers >= 0 [N, C, H, W], got [${shape}]`);
  }
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(
        `Image batch shape must be 4 integers >= 0 [N, C, H, W], got [${shape}]`,
      );
    }
  }
  const [n, c, h, w] = shape;
  const size = n * c * h * w;
  if (data && data.length !== size) {
    throw new RangeError(
      `Image batch of shape [${shape}] needs ${size} values, got ${data.length}`,
    );
  }
  return { data: data ?? new Float32Array(size), shape: [n, c, h, w] };
}

/**
 * The image at `index` of a batch as a view (no copy): C * H * W values.
 *
 * @example
 * ```ts
 * import { imageAt, imageBatch } from "./image_batch.ts";
 * const first = imageAt(imageBatch([2, 3, 8, 8]), 0); // Float32Array(192)
 * ```
 */
export function imageAt(batch: ImageBatch, index: number): Float32Array {
  const [n, c, h, w] = batch.shape;
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new RangeError(`Image index ${index} out of range for a batch of ${n}`);
  }
  const size = c * h * w;
  return batch.data.subarray(index * size, (index + 1) * size);
}
