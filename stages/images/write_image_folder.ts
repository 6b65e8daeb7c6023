/**
 * Writes a batch of images as a PNG ImageFolder (`root/<class>/<name>.png`), the format of a
 * distilled dataset (SPEC.md section 1, step 4).
 *
 * @module
 */

import { join } from "node:path";
import { sharp } from "../../models/core/deps.ts";
import { writeAtomic } from "../store/temp_files.ts";
import type { ImageBatch } from "./image_batch.ts";

export type { ImageBatch } from "./image_batch.ts";

/**
 * Options of {@link writeImageFolder}.
 *
 * @example
 * ```ts
 * import type { WriteImageFolderOptions } from "./write_image_folder.ts";
 * const opts: WriteImageFolderOptions = { classNames: ["n01440764"], names: ["seed0_ipc0"] };
 * ```
 */
export interface WriteImageFolderOptions {
  /** Class folder of each image (length N), e.g. its wnid. */
  classNames: readonly string[];
  /**
   * File name of each image without ".png" (length N, unique within a class). Default: the
   * image's position within its class, zero-padded to 4 digits ("0000", "0001", ...).
   */
  names?: readonly string[];
  /** Value range of `images`: `"[-1,1]"` (default, the VAE decoder's output) or `"[0,1]"`. */
  range?: "[-1,1]" | "[0,1]";
  /** Called after each file with (files written, total files). */
  onProgress?: (done: number, total: number) => void;
}

const NAME_RE = /^[^/\\\0]+$/;
const PAD = 4;

/**
 * Converts a float to 8 bits as DiT's sampler saves images: clamp(127.5 x + 128, 0, 255)
 * truncated, i.e. round-half-up of (x + 1) * 127.5 (or of 255 x for [0, 1] data).
 */
function toByte(x: number, scale: number, offset: number): number {
  const v = Math.floor(x * scale + offset);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function checkName(kind: string, name: string): void {
  if (typeof name !== "string" || !NAME_RE.test(name) || name === "." || name === "..") {
    throw new Error(`Invalid ${kind} ${JSON.stringify(name)}: expected a plain file name`);
  }
}

/**
 * Writes images (float CHW, [N, 3, H, W]) as PNG files `root/<className>/<name>.png`,
 * creating folders as needed. Each file is written to a temporary name and renamed, so an
 * interrupted run never leaves a partial PNG; an existing file of the same name is replaced.
 * Returns the paths written, in batch order.
 *
 * @example
 * ```ts
 * import { writeImageFolder } from "./write_image_folder.ts";
 * const images = { shape: [2, 3, 8, 8], data: new Float32Array(2 * 3 * 8 * 8) }; // gray
 * await writeImageFolder("out/distilled", images, { classNames: ["n01440764", "n01440764"] });
 * // -> out/distilled/n01440764/0000.png, out/distilled/n01440764/0001.png
 * ```
 */
export async function writeImageFolder(
  root: string,
  images: ImageBatch,
  options: WriteImageFolderOptions,
): Promise<string[]> {
  const { classNames, range = "[-1,1]", onProgress } = options;
  const [n, c, h, w] = images.shape;
  if (images.shape.length !== 4 || c !== 3 || !(h >= 1 && w >= 1)) {
    throw new Error(
      `writeImageFolder: expected images of shape [N, 3, H, W], got [${images.shape.join(", ")}]`,
    );
  }
  if (images.data.length !== n * 3 * h * w) {
    throw new Error(
      `writeImageFolder: data has ${images.data.length} values, shape [${
        images.shape.join(", ")
      }] needs ${n * 3 * h * w}`,
    );
  }
  if (classNames.length !== n) {
    throw new Error(`writeImageFolder: ${classNames.length} class names for ${n} images`);
  }
  if (options.names !== undefined && options.names.length !== n) {
    throw new Error(`writeImageFolder: ${options.names.length} names for ${n} images`);
  }
  if (range !== "[-1,1]" && range !== "[0,1]") {
    throw new RangeError(`writeImageFolder: range must be "[-1,1]" or "[0,1]", got ${range}`);
  }
  const [scale, offset] = range === "[-1,1]" ? [127.5, 128] : [255, 0.5];

  // Names: given, or position within the class; both unique per class.
  const perClass = new Map<string, Set<string>>();
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const cls = classNames[i];
    checkName("class name", cls);
    const taken = perClass.get(cls) ?? new Set<string>();
    perClass.set(cls, taken);
    const name = options.names?.[i] ?? String(taken.size).padStart(PAD, "0");
    checkName("image name", name);
    if (taken.has(name)) throw new Error(`writeImageFolder: '${cls}/${name}.png' given twice`);
    taken.add(name);
    names.push(name);
  }
  for (const cls of perClass.keys()) await Deno.mkdir(join(root, cls), { recursive: true });

  const plane = h * w;
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const src = images.data.subarray(i * 3 * plane, (i + 1) * 3 * plane); // [3, H, W]
    const hwc = new Uint8Array(plane * 3); // [H, W, 3]
    for (let p = 0; p < plane; p++) {
      for (let ch = 0; ch < 3; ch++) {
        const x = src[ch * plane + p];
        if (!Number.isFinite(x)) {
          throw new Error(`writeImageFolder: image ${i} (${classNames[i]}) has a non-finite value`);
        }
        hwc[p * 3 + ch] = toByte(x, scale, offset);
      }
    }
    const png = await sharp(hwc, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
    const path = join(root, classNames[i], `${names[i]}.png`);
    await writeAtomic(path, new Uint8Array(png.buffer, png.byteOffset, png.byteLength));
    paths.push(path);
    onProgress?.(i + 1, n);
  }
  return paths;
}
