/**
 * In-memory image sets of the evaluation protocols: an ImageFolder split loaded once with
 * torchvision `Resize(S) + CenterCrop(S)` (PIL-exact, stages/load_images.ts), held as 8-bit
 * values (the loader's output is exactly k / 255, so this is lossless and 4x smaller), and
 * turned into float batches in [0, 1] on demand.
 *
 * @module
 */
import type { ImageBatch } from "../../stages/images/image_batch.ts";
import { listImageFolder } from "../../stages/images/image_folder.ts";
import { loadImages } from "../../stages/images/load_images.ts";
import type { Rng } from "../../models/core/random.ts";

/** A labelled image set: `pixels` holds N x 3 x S x S bytes (NCHW). */
export interface ImageSet {
  /** N x 3 x S x S bytes, NCHW. */
  pixels: Uint8Array;
  /** Class label of each image (index into `classNames`). */
  labels: Int32Array;
  /** Side S of the square images, in pixels. */
  size: number;
  /** Class folder names, in label order. */
  classNames: string[];
  /** The largest number of images of one class (the IPC of a distilled set). */
  perClassMax: number;
}

const U8_TO_01 = Float32Array.from({ length: 256 }, (_, v) => v / 255);
const CHUNK = 256;

/** Options of {@link loadImageSet}. */
export interface LoadImageSetOptions {
  /** Class folders in label order (default: every sub-folder, sorted). */
  classes?: string | readonly string[];
  /** Side S of the final CenterCrop. */
  size: number;
  /**
   * Side of the Resize before the crop (default S). RDED validates with Resize(S / 7 * 8) +
   * CenterCrop(S); loaded as Resize(R) + CenterCrop(R) then CenterCrop(S), the same pixels
   * when R - S is even.
   */
  resize?: number;
  /** Keep only the first `perClass` images of each class (sorted file order); null = all. */
  perClass?: number | null;
  onProgress?: (done: number, total: number) => void;
}

/** Loads an ImageFolder split into memory. */
export async function loadImageSet(root: string, o: LoadImageSetOptions): Promise<ImageSet> {
  let items = await listImageFolder(root, { classes: o.classes });
  const classNames: string[] = [];
  for (const it of items) classNames[it.classIndex] = it.className;
  if (o.perClass != null) {
    const seen = new Map<number, number>();
    items = items.filter((it) => {
      const n = seen.get(it.classIndex) ?? 0;
      seen.set(it.classIndex, n + 1);
      return n < o.perClass!;
    });
  }
  const r = o.resize ?? o.size;
  if (!(Number.isInteger(r) && r >= o.size)) {
    throw new RangeError(`Resize side ${r} must be an integer >= the crop side ${o.size}`);
  }
  const off = roundHalfEven((r - o.size) / 2); // torchvision center_crop offset
  const plane = 3 * o.size * o.size;
  const pixels = new Uint8Array(items.length * plane);
  for (let s = 0; s < items.length; s += CHUNK) {
    const chunk = items.slice(s, s + CHUNK);
    const { images } = await loadImages(chunk, {
      size: r,
      mode: "resize_center_crop",
      range: "[0,1]",
    });
    const d = images.data; // [n, 3, r, r]
    for (let i = 0; i < chunk.length; i++) {
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < o.size; y++) {
          const src = ((i * 3 + c) * r + y + off) * r + off;
          const dst = (s + i) * plane + (c * o.size + y) * o.size;
          for (let x = 0; x < o.size; x++) pixels[dst + x] = Math.round(d[src + x] * 255);
        }
      }
    }
    o.onProgress?.(Math.min(s + CHUNK, items.length), items.length);
  }
  const counts = new Map<number, number>();
  for (const it of items) counts.set(it.classIndex, (counts.get(it.classIndex) ?? 0) + 1);
  return {
    pixels,
    labels: Int32Array.from(items, (it) => it.classIndex),
    size: o.size,
    classNames,
    perClassMax: Math.max(...counts.values()),
  };
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
}

/** The images at `indices` as a float batch in [0, 1]. */
export function gatherBatch(set: ImageSet, indices: ArrayLike<number>, pad = 0): ImageBatch {
  const plane = 3 * set.size * set.size;
  const n = indices.length;
  const data = new Float32Array((n + pad) * plane); // padding rows stay 0
  for (let i = 0; i < n; i++) {
    const src = indices[i] * plane;
    for (let p = 0; p < plane; p++) data[i * plane + p] = U8_TO_01[set.pixels[src + p]];
  }
  return { data, shape: [n + pad, 3, set.size, set.size] };
}

/** A copy of the set whose labels are randomly permuted (the "shuffled labels" control). */
export function shuffleLabels(set: ImageSet, rng: Rng): ImageSet {
  const perm = rng.permutation(set.labels.length);
  return { ...set, labels: Int32Array.from(perm, (j) => set.labels[j]) };
}

/** Batches of an epoch: index lists of `batch` (the last one may be shorter, no drop_last). */
export function epochBatches(order: ArrayLike<number>, batch: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (let s = 0; s < order.length; s += batch) {
    out.push(Int32Array.from(Array.prototype.slice.call(order, s, s + batch) as number[]));
  }
  return out;
}
