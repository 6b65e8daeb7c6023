/**
 * Loads a list of image files into one float32 batch [N, 3, S, S], preprocessed exactly as
 * the reference code does it (decoding with sharp, resizing with a re-implementation of
 * Pillow's resampling; see `_preprocess.ts` and `_pil_resample.ts`).
 *
 * Measured against PIL 9.4 + numpy (2026-11): identical 8-bit pixels, so identical float32
 * values (max abs difference 0), for 300 ImageNette val JPEGs (30 per class) in
 * center_crop_arr at S = 32, 64, 256 (256 upsamples) and resize_center_crop at S = 64, and for
 * the fixture of tests/image_folder_test.ts (tools/fixtures/make_image_fixtures.py: odd sizes,
 * two BOX halvings, upsampling, a round-half-to-even tie, grayscale, RGBA, palette, CMYK),
 * which asserts exact equality. sharp's own kernels were not close enough to use: sharp
 * "cubic" (224 -> 64 px in one step) vs ADM's BOX + BICUBIC gave max 18/255, mean 0.62/255
 * over 50 images; "lanczos3" max 29/255, mean 1.49/255. Speed on 2 cores: about 1.5 ms
 * (resize_center_crop, 64 px) to 5 ms (center_crop_arr, 256 px) per 224 px JPEG.
 *
 * @module
 */

import { decodeRgb } from "./_decode_rgb.ts";
import { centerCropArr, resizeCenterCrop } from "./_preprocess.ts";
import type { RgbImage } from "./_pil_resample.ts";

/**
 * Anything with a file path (e.g. an `ImageItem` from `listImageFolder`).
 *
 * @example
 * ```ts
 * import type { HasPath } from "./load_images.ts";
 * const item: HasPath = { path: "photo.jpg" };
 * ```
 */
export interface HasPath {
  /** Path of the image file. */
  path: string;
}

/**
 * How an image becomes S x S:
 * - `"center_crop_arr"`: ADM's `center_crop_arr` (BOX halvings, BICUBIC, center crop), the
 *   encoding preprocessing of DiT/MinimaxDiffusion/MGD3 (SPEC.md section 1).
 * - `"resize_center_crop"`: torchvision `Resize(S)` + `CenterCrop(S)` (PIL BILINEAR with
 *   antialiasing), the evaluation preprocessing (SPEC.md section 4).
 *
 * @example
 * ```ts
 * import type { ResizeMode } from "./load_images.ts";
 * const mode: ResizeMode = "center_crop_arr";
 * ```
 */
export type ResizeMode = "center_crop_arr" | "resize_center_crop";

/**
 * Options of {@link loadImages}.
 *
 * @example
 * ```ts
 * import type { LoadImagesOptions } from "./load_images.ts";
 * const opts: LoadImagesOptions = { size: 256, mode: "center_crop_arr", onError: "skip" };
 * ```
 */
export interface LoadImagesOptions {
  /** Output side length S in pixels. */
  size: number;
  /** Resize semantics, see {@link ResizeMode}. */
  mode: ResizeMode;
  /**
   * Value range: `"[-1,1]"` is ADM's `arr / 127.5 - 1` (the VAE's input); `"[0,1]"` is
   * torchvision's `ToTensor()` (`v / 255`). Default `"[-1,1]"`.
   */
  range?: "[-1,1]" | "[0,1]";
  /**
   * What a corrupt or unreadable file does: `"throw"` (default) rejects with an Error naming
   * the file; `"skip"` leaves it out of the batch and lists it in `skipped`.
   */
  onError?: "throw" | "skip";
  /** Called after each file with (files done, total files). */
  onProgress?: (done: number, total: number) => void;
  /** Files decoded at the same time (default 4; sharp decodes on its own thread pool). */
  concurrency?: number;
}

/**
 * Result of {@link loadImages}.
 *
 * @example
 * ```ts
 * import { loadImages, type LoadImagesResult } from "./load_images.ts";
 * const r: LoadImagesResult<{ path: string }> = await loadImages([{ path: "a.jpg" }], {
 *   size: 64,
 *   mode: "center_crop_arr",
 *   onError: "skip",
 * });
 * for (const s of r.skipped) console.warn(`skipped ${s.path}: ${s.error}`);
 * ```
 */
export interface LoadImagesResult<T extends HasPath> {
  /**
   * The batch, float32 CHW RGB: shape [N, 3, S, S] with N = items.length (a `Tensor` of
   * models/tensor.ts).
   */
  images: { dtype: "F32"; shape: number[]; data: Float32Array };
  /** The items that were loaded, in input order (row i of `images` is items[i]). */
  items: T[];
  /** Files left out with onError "skip", each with the reason. */
  skipped: { path: string; error: string }[];
}

const DEFAULT_CONCURRENCY = 4;

// 8-bit value -> float32, computed as numpy/torch do in float32 (bit-identical).
const LUT_PM1 = Float32Array.from({ length: 256 }, (_, v) => Math.fround(v / 127.5) - 1);
const LUT_01 = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/**
 * Decodes and preprocesses images into one batch [N, 3, S, S] (float32, CHW, RGB).
 * Grayscale, palette, CMYK and alpha images become RGB as PIL's `convert("RGB")` makes them
 * (alpha is dropped, not flattened). Load a large dataset in chunks: the batch takes
 * N * 3 * S * S * 4 bytes.
 *
 * @example
 * ```ts
 * import { listImageFolder } from "./image_folder.ts";
 * import { loadImages } from "./load_images.ts";
 * const items = await listImageFolder("data/imagenette2-224/train", { classes: "imagenette" });
 * const { images } = await loadImages(items.slice(0, 8), { size: 64, mode: "center_crop_arr" });
 * images.shape; // [8, 3, 64, 64], values in [-1, 1]
 * ```
 */
export async function loadImages<T extends HasPath>(
  items: readonly T[],
  options: LoadImagesOptions,
): Promise<LoadImagesResult<T>> {
  const { size, mode, range = "[-1,1]", onError = "throw", onProgress } = options;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`loadImages: size must be a positive integer, got ${size}`);
  }
  if (mode !== "center_crop_arr" && mode !== "resize_center_crop") {
    throw new RangeError(
      `loadImages: mode must be "center_crop_arr" or "resize_center_crop", got ${mode}`,
    );
  }
  if (range !== "[-1,1]" && range !== "[0,1]") {
    throw new RangeError(`loadImages: range must be "[-1,1]" or "[0,1]", got ${range}`);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`loadImages: concurrency must be a positive integer, got ${concurrency}`);
  }
  const resize = mode === "center_crop_arr" ? centerCropArr : resizeCenterCrop;
  const lut = range === "[-1,1]" ? LUT_PM1 : LUT_01;
  const plane = size * size;

  const results: (RgbImage | Error)[] = new Array(items.length);
  let next = 0;
  let done = 0;
  let failure: Error | null = null;
  const worker = async () => {
    while (next < items.length && failure === null) {
      const i = next++;
      const path = items[i].path;
      try {
        const bytes = await Deno.readFile(path);
        results[i] = resize(await decodeRgb(bytes, path), size);
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        const err = new Error(`Cannot load image '${path}': ${reason}`, { cause: e });
        if (onError === "throw") failure = err;
        results[i] = err;
      }
      onProgress?.(++done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  // Workers take files in order, so the lowest-index failure is the first bad file.
  if (failure !== null) throw results.find((r) => r instanceof Error) ?? failure;

  const kept: T[] = [];
  const skipped: { path: string; error: string }[] = [];
  for (const [i, r] of results.entries()) {
    if (r instanceof Error) skipped.push({ path: items[i].path, error: r.message });
    else kept.push(items[i]);
  }
  const data = new Float32Array(kept.length * 3 * plane); // [N, 3, S, S]
  let n = 0;
  for (const r of results) {
    if (r instanceof Error) continue;
    const base = n++ * 3 * plane;
    for (let p = 0; p < plane; p++) {
      data[base + p] = lut[r.data[p * 3]];
      data[base + plane + p] = lut[r.data[p * 3 + 1]];
      data[base + 2 * plane + p] = lut[r.data[p * 3 + 2]];
    }
  }
  return {
    images: { dtype: "F32", shape: [kept.length, 3, size, size], data },
    items: kept,
    skipped,
  };
}
