/**
 * Stage `decode`: sampled latents -> images (SPEC section 1 step 4). For each class shard of
 * a samples artifact it writes the decoded images as a `images` U8 tensor [k, 3, S, S] shard
 * and as PNG files `<artifact>/images/<class>/<i>.png`, an ImageFolder that is the distilled
 * dataset; then one contact sheet (a row per class) `<artifact>/contact_sheet.png`.
 *
 * @module
 */
import { sharp } from "../models/core/deps.ts";
import type { BrokenShard, Store } from "./store/store.ts";
import type { Codec } from "../models/codecs/codec.ts";
import { writeImageFolder } from "./images/write_image_folder.ts";
import { createProgress } from "./progress.ts";
import { ALL, type Shard } from "./store/shard.ts";
import { withDefaults } from "./_defaults.ts";
import { OptionError } from "./option_error.ts";

/** Options of {@link decode}. */
export interface DecodeOptions {
  /** Samples artifact to read (latents per class). */
  samples: string;
  /** Artifact to write. */
  out: string;
  /** Latents per codec call (does not change results). */
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

/** Defaults. */
export const DECODE_DEFAULTS = {
  batchSize: 16,
  shard: ALL,
  overwrite: false,
} as const satisfies Partial<
  DecodeOptions
>;

/** What {@link decode} did. */
export interface DecodeReport {
  /** Name of the artifact written. */
  artifact: string;
  /** Class shards written by this call. */
  written: string[];
  /** Class shards skipped because the artifact already had them. */
  skipped: string[];
  /** Class shards found broken (truncated, corrupt, from another key) and written again. */
  redone: BrokenShard[];
  /** The ImageFolder root of the distilled dataset. */
  imageFolder: string;
  /** The contact sheet, or null when some classes are not decoded yet (other shards). */
  contactSheet: string | null;
  /** Wall-clock seconds the call took. */
  seconds: number;
}

/**
 * Decodes every class shard of a samples artifact that belongs to this worker.
 *
 * @example
 * ```ts
 * import { DECODE_DEFAULTS, decode } from "./decode.ts";
 * const r = await decode(store, taef2, { ...DECODE_DEFAULTS, samples: "samples/mgd3", out: "distilled/mgd3" });
 * console.log(r.imageFolder);
 * ```
 */
export async function decode(
  store: Store,
  codec: Codec,
  options: Pick<DecodeOptions, "samples" | "out"> & Partial<DecodeOptions>,
): Promise<DecodeReport> {
  const o = withDefaults<DecodeOptions>(DECODE_DEFAULTS, options);
  const start = performance.now();
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) {
    throw new OptionError(`--batch-size must be >= 1, got ${o.batchSize}`);
  }
  // Sampled latents, or the latents of real images (a reconstruction).
  const samples = await store.open(o.samples, {
    kind: ["samples", "latents"],
    reader: "decode option samples (--samples)",
  });
  const out = await store.artifact(o.out, {
    kind: "images",
    options: { samplesKey: samples.manifest.key, codec: codec.id },
    seed: samples.manifest.seed,
    overwrite: o.overwrite,
  });
  const names = await samples.shards();
  const report: DecodeReport = {
    artifact: o.out,
    written: [],
    skipped: [],
    redone: out.redone,
    imageFolder: `${out.dir}/images`,
    contactSheet: null,
    seconds: 0,
  };
  const S = codec.imageSize;
  const D = codec.latentShape.reduce((a, b) => a * b, 1);
  for (const [j, name] of names.entries()) {
    if (j % o.shard.count !== o.shard.index) continue;
    o.signal?.throwIfAborted();
    if (await out.finished(name)) {
      report.skipped.push(name);
      continue;
    }
    const { tensors, metadata } = await samples.readShard(name);
    const z = tensors.get("latents")!;
    const k = z.shape[0];
    if (z.shape.slice(1).join() !== codec.latentShape.join()) {
      throw new RangeError(
        `Latents in ${samples.shardPath(name)} are [${
          z.shape.slice(1)
        }]; the codec decodes [${codec.latentShape}]`,
      );
    }
    const images = new Float32Array(k * 3 * S * S);
    const progress = createProgress(`decode ${metadata.name ?? name}`, k);
    for (let i = 0; i < k; i += o.batchSize) {
      const n = Math.min(o.batchSize, k - i);
      images.set(
        await codec.decode((z.data as Float32Array).subarray(i * D, (i + n) * D), n),
        i * 3 * S * S,
      );
      progress.tick(n);
    }
    progress.done();
    const className = metadata.name ?? name;
    await writeImageFolder(report.imageFolder, { shape: [k, 3, S, S], data: images }, {
      classNames: new Array(k).fill(className),
    });
    await out.writeShard(
      name,
      { images: { dtype: "U8", shape: [k, 3, S, S], data: toU8(images) } },
      {
        class: metadata.class ?? "",
        name: className,
      },
    );
    report.written.push(name);
  }
  const done = await out.shards();
  if (names.every((n) => done.includes(n))) {
    report.contactSheet = await out.writeFile(
      "contact_sheet.png",
      await contactSheet(store, o.out, names, S),
    );
  }
  report.seconds = (performance.now() - start) / 1000;
  return report;
}

/** [-1, 1] floats to bytes as DiT's sample.py does: clamp(127.5 x + 128, 0, 255), truncated. */
function toU8(x: Float32Array): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    out[i] = Math.min(255, Math.max(0, Math.floor(127.5 * x[i] + 128)));
  }
  return out;
}

/** A grid PNG: one row per class shard, one column per image, 2 px white gaps. */
async function contactSheet(
  store: Store,
  artifact: string,
  names: string[],
  S: number,
): Promise<Uint8Array> {
  const a = await store.open(artifact);
  const rows = await Promise.all(
    names.map(async (n) => (await a.readShard(n)).tensors.get("images")!),
  );
  const cols = Math.max(...rows.map((t) => t.shape[0]));
  const gap = 2;
  const W = cols * (S + gap) + gap;
  const H = rows.length * (S + gap) + gap;
  const rgb = new Uint8Array(W * H * 3).fill(255);
  rows.forEach((t, r) => {
    const px = t.data as Uint8Array;
    for (let i = 0; i < t.shape[0]; i++) {
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const at = ((gap + r * (S + gap) + y) * W + gap + i * (S + gap) + x) * 3;
          for (let c = 0; c < 3; c++) rgb[at + c] = px[((i * 3 + c) * S + y) * S + x];
        }
      }
    }
  });
  return new Uint8Array(
    await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer(),
  );
}
