/**
 * Stage `encode`: every training image of each class -> its latent (SPEC section 1 step 1).
 * Images are read with ADM's `center_crop_arr` at the codec's size, scaled to [-1, 1], and
 * encoded in batches. One shard per class holds `latents` [n, C, h, w]; its metadata names
 * the class, its model class id and the image files in order.
 *
 * Given a scale (models/scales `loadScale`), its codec encodes and its class-id mapping is
 * the default of `classIds`; every class id is checked before any image is read, against
 * the scale's class count too, so a mapping that does not fit the model fails here, not in
 * sampling. Given a bare codec, every option is the caller's.
 *
 * @module
 */
import type { BrokenShard, Store } from "./store/store.ts";
import type { Codec } from "../models/codecs/codec.ts";
import type { ClassIds } from "../models/diffusion/class_ids.ts";
import { listImageFolder } from "./images/image_folder.ts";
import { loadImages, type ResizeMode } from "./images/load_images.ts";
import { imagenetIndex, resolveClasses } from "./images/classes.ts";
import { ALL, type Shard } from "./store/shard.ts";
import { createProgress } from "./progress.ts";
import { withDefaults } from "./_defaults.ts";
import { OptionError } from "./option_error.ts";

/** Options of {@link encode}. */
export interface EncodeOptions {
  /** ImageFolder root (one folder per class). */
  data: string;
  /** Class preset or list (label order); e.g. "imagenette" (SPEC section 6). */
  classes: string | readonly string[];
  /** Artifact to write. */
  out: string;
  /**
   * "imagenet": DiT's ImageNet-1K index of each wnid; "label": the class's position; a list:
   * the position in the model's class list (a scale's default).
   */
  classIds: ClassIds;
  /** ADM's center_crop_arr (SPEC section 1). */
  resize: ResizeMode;
  /** Keep at most this many images per class (first in file order); null = all. */
  limit: number | null;
  /** Storage dtype of the latents. */
  dtype: "F32" | "F16";
  /** Mirror every image horizontally before encoding (flip augmentation for model training). */
  flip: boolean;
  /** Corrupt files: stop with an error naming the file, or skip and report them. */
  onError: "throw" | "skip";
  /** Images per codec call (does not change results). */
  batchSize: number;
  /** Classes handled by this worker. */
  shard: Shard;
  /** Replace an artifact made with other options. */
  overwrite: boolean;
  /**
   * Stops the stage between two shards (or batches) when aborted; what is written stays valid
   * and a rerun resumes. Not part of the artifact's options.
   */
  signal?: AbortSignal;
}

/**
 * Defaults (SPEC section 1); `classIds` "imagenet" is DiT-XL/2's, for a bare codec (a scale
 * brings the mapping of its model).
 */
export const ENCODE_DEFAULTS = {
  classIds: "imagenet",
  resize: "center_crop_arr",
  limit: null,
  dtype: "F32",
  flip: false,
  onError: "throw",
  batchSize: 32,
  shard: ALL,
  overwrite: false,
} as const satisfies Partial<EncodeOptions>;

/**
 * A codec with how its denoiser numbers classes: a scale from models/scales `loadScale`.
 *
 * @example
 * ```ts
 * import type { EncodeScale } from "./encode.ts";
 * const ids = (s: EncodeScale) => s.classIds; // the cpu model's class list
 * ```
 */
export interface EncodeScale {
  /** The codec to encode with. */
  codec: Codec;
  /** How class names become the denoiser's class ids (the default of `classIds`). */
  classIds: ClassIds;
  /** Classes the denoiser knows: every class id must be below this. */
  numClasses: number;
}

/**
 * Options of {@link encode} with a scale: what to encode and where, and any option to
 * change; an option left out (or undefined) is the scale's or {@link ENCODE_DEFAULTS}'.
 *
 * @example
 * ```ts
 * import type { ScaleEncodeOptions } from "./encode.ts";
 * const o: ScaleEncodeOptions = { data: "imagenette/train", classes: "imagenette", out: "latents/train" };
 * ```
 */
export type ScaleEncodeOptions =
  & Pick<EncodeOptions, "data" | "classes" | "out">
  & Partial<EncodeOptions>;

/** What {@link encode} did. */
export interface EncodeReport {
  /** Name of the artifact written. */
  artifact: string;
  /** Class shards written by this call. */
  written: string[];
  /** Class shards skipped because the artifact already had them. */
  skipped: string[];
  /** Class shards found broken (truncated, corrupt, from another key) and written again. */
  redone: BrokenShard[];
  /** Files skipped as unreadable (onError "skip"). */
  badFiles: { path: string; error: string }[];
  /** Wall-clock seconds the call took. */
  seconds: number;
}

/**
 * Encodes an ImageFolder into per-class latent shards; finished classes are skipped. Takes
 * a scale (its codec and class-id mapping) and the options to change, or a bare codec and
 * every option.
 *
 * @example
 * ```ts
 * import { ENCODE_DEFAULTS, encode } from "./encode.ts";
 * import { loadScale, SHIPPED_CPU_MODEL } from "../models/scales/mod.ts";
 * const scale = await loadScale({ scale: "cpu", model: SHIPPED_CPU_MODEL }, { only: "codec" });
 * await encode(store, scale, { data: "imagenette/train", classes: "imagenette", out: "latents/train" });
 * // a bare codec takes every option:
 * await encode(store, taef2, { ...ENCODE_DEFAULTS, data: "imagenette/train", classes: "imagenette",
 *   out: "latents/imagenette-train", classIds: "label" });
 * ```
 */
export function encode(
  store: Store,
  scale: EncodeScale,
  options: ScaleEncodeOptions,
): Promise<EncodeReport>;
export function encode(store: Store, codec: Codec, options: EncodeOptions): Promise<EncodeReport>;
export async function encode(
  store: Store,
  target: Codec | EncodeScale,
  options: EncodeOptions | ScaleEncodeOptions,
): Promise<EncodeReport> {
  const start = performance.now();
  const scale = "codec" in target ? target : null;
  const codec = scale ? scale.codec : target as Codec;
  const o = scale
    ? withDefaults<EncodeOptions>({ ...ENCODE_DEFAULTS, classIds: scale.classIds }, options)
    : options as EncodeOptions;
  const { shard, batchSize, overwrite, onError: _onError, signal: _signal, ...identity } = o;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new OptionError(`--batch-size must be >= 1, got ${batchSize}`);
  }
  if (o.limit !== null && !(Number.isInteger(o.limit) && o.limit >= 1)) {
    throw new OptionError(`--limit must be a positive integer, got ${o.limit}`);
  }
  const classes = resolveClasses(o.classes);
  const ids = classIdsOf(o.classIds, classes, scale?.numClasses ?? null);
  const items = await listImageFolder(o.data, { classes });
  const out = await store.artifact(o.out, {
    kind: "latents",
    options: { ...identity, classes, codec: codec.id, imageSize: codec.imageSize },
    seed: null,
    dtype: o.dtype,
    overwrite,
    paths: ["data"],
  });
  const report: EncodeReport = {
    artifact: o.out,
    written: [],
    skipped: [],
    redone: out.redone,
    badFiles: [],
    seconds: 0,
  };
  const D = codec.latentShape.reduce((a, b) => a * b, 1);
  for (let c = shard.index; c < classes.length; c += shard.count) {
    o.signal?.throwIfAborted();
    const name = shardName(c);
    if (await out.finished(name)) {
      report.skipped.push(name);
      continue;
    }
    let mine = items.filter((it) => it.classIndex === c);
    if (o.limit !== null) mine = mine.slice(0, o.limit);
    const progress = createProgress(`encode ${classes[c]}`, mine.length);
    const latents: Float32Array[] = [];
    const files: string[] = [];
    for (let i = 0; i < mine.length; i += batchSize) {
      o.signal?.throwIfAborted();
      const chunk = mine.slice(i, i + batchSize);
      const { images, items: ok, skipped } = await loadImages(chunk, {
        size: codec.imageSize,
        mode: o.resize,
        range: "[-1,1]",
        onError: o.onError,
      });
      report.badFiles.push(...skipped);
      if (o.flip) flipHorizontal(images.data, ok.length, codec.imageSize);
      if (ok.length > 0) latents.push(await codec.encode(images.data, ok.length));
      files.push(...ok.map((it) => it.path.slice(o.data.length).replace(/^\/+/, "")));
      progress.tick(chunk.length);
    }
    progress.done();
    if (files.length === 0) {
      throw new Error(`No readable images for class ${classes[c]} in ${o.data}`);
    }
    const data = new Float32Array(files.length * D);
    let at = 0;
    for (const l of latents) {
      data.set(l, at);
      at += l.length;
    }
    await out.writeShard(name, {
      latents: { dtype: "F32", shape: [files.length, ...codec.latentShape], data },
    }, {
      name: classes[c],
      label: String(c),
      class: String(ids[c]),
      files: JSON.stringify(files),
      skipped: JSON.stringify(report.badFiles.filter((b) => mine.some((it) => it.path === b.path))),
    });
    report.written.push(name);
  }
  report.seconds = (performance.now() - start) / 1000;
  return report;
}

/** The model class id of every class, checked up front (and against the model's count). */
function classIdsOf(ids: ClassIds, classes: string[], numClasses: number | null): number[] {
  const what = typeof ids === "string" ? `"${ids}"` : "(the model's class list)";
  const option = `encode option classIds ${what}`;
  return classes.map((name, position) => {
    let id: number;
    if (ids === "imagenet") {
      try {
        id = imagenetIndex(name);
      } catch (e) {
        throw new RangeError(`${option}: ${(e as Error).message}`);
      }
    } else if (ids === "label") {
      id = position;
    } else {
      id = ids.indexOf(name);
      if (id < 0) {
        throw new RangeError(
          `${option}: class ${name} is not one the model knows (${ids.join(", ")})`,
        );
      }
    }
    if (numClasses !== null && id >= numClasses) {
      throw new RangeError(
        `${option} gives class ${name} the id ${id}, but the model has ${numClasses} classes ` +
          `(ids 0..${numClasses - 1}): leave classIds to the scale (its model's mapping)`,
      );
    }
    return id;
  });
}

/**
 * The shard name of class position `c` ("class-000").
 *
 * @example
 * ```ts
 * import { shardName } from "./encode.ts";
 * shardName(7); // "class-007"
 * ```
 */
export function shardName(c: number): string {
  return `class-${String(c).padStart(3, "0")}`;
}

/** Mirrors a batch [N, 3, S, S] left-right in place. */
function flipHorizontal(x: Float32Array, n: number, s: number): void {
  for (let row = 0; row < n * 3 * s; row++) x.subarray(row * s, (row + 1) * s).reverse();
}
