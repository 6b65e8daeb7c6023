/**
 * Stage `select`: the real images a selection method picked (the `indices` of a `discover`
 * artifact: random, closest, herding) as an ImageFolder, the distilled set of the Random
 * baseline and of Table 5's "mode discovery only" row. Each picked file (listed in the
 * latents shard's `files`, relative to the encoded data root) is read with the encoding's
 * preprocessing (ADM `center_crop_arr` at the codec's image size, as the images the
 * generative rows produce) and written as PNG `<artifact>/images/<class>/<i>.png`. One
 * shard per class records the indices and files; finished classes are skipped.
 *
 * @module
 */
import type { BrokenShard, Store } from "../../stages/store/store.ts";
import { loadImages } from "../../stages/images/load_images.ts";
import { writeImageFolder } from "../../stages/images/write_image_folder.ts";
import { ALL, type Shard } from "../../stages/store/shard.ts";

/**
 * Options of {@link selectReal}.
 *
 * @example
 * ```ts
 * import type { SelectRealOptions } from "./select_real.ts";
 * const o: SelectRealOptions = { latents: "latents/nette", modes: "modes/closest-ipc10-s0",
 *   out: "real/closest-ipc10-s0", imageSize: 64 };
 * ```
 */
export interface SelectRealOptions {
  /** Latents artifact (from `encode`): its shards list the encoded files. */
  latents: string;
  /** Modes artifact (from `discover` with a selection method): its shards hold `indices`. */
  modes: string;
  /** Artifact to write. */
  out: string;
  /** Side of the written images (the codec's image size: the generated images' size). */
  imageSize: number;
  shard?: Shard;
  overwrite?: boolean;
}

/**
 * What {@link selectReal} did.
 *
 * @example
 * ```ts
 * import { selectReal, type SelectRealReport } from "./select_real.ts";
 * const r: SelectRealReport = await selectReal(store, options);
 * console.log(r.imageFolder, r.written.length);
 * ```
 */
export interface SelectRealReport {
  artifact: string;
  /** The ImageFolder root of the selected images. */
  imageFolder: string;
  written: string[];
  skipped: string[];
  /** Class shards found broken (truncated, corrupt, from another key) and written again. */
  redone: BrokenShard[];
}

/**
 * Writes the selected real images of every class shard of this worker.
 *
 * @example
 * ```ts
 * import { Store } from "../../stages/store/store.ts";
 * import { selectReal } from "./select_real.ts";
 * const store = await Store.open(".store");
 * const r = await selectReal(store, {
 *   latents: "latents/imagenette", modes: "modes/random-ipc10-s0", out: "real/random-ipc10-s0",
 *   imageSize: 64,
 * });
 * console.log(r.imageFolder); // .store/real/random-ipc10-s0/images
 * ```
 */
export async function selectReal(store: Store, o: SelectRealOptions): Promise<SelectRealReport> {
  const shard = o.shard ?? ALL;
  const latents = await store.open(o.latents, {
    kind: "latents",
    reader: "selectReal option latents",
  });
  const modes = await store.open(o.modes, { kind: "modes", reader: "selectReal option modes" });
  const root = latents.manifest.options.data;
  if (typeof root !== "string") {
    throw new Error(`${latents.dir}/manifest.json has no 'data' option: not an encode artifact`);
  }
  const out = await store.artifact(o.out, {
    kind: "real-images",
    options: {
      latentsKey: latents.manifest.key,
      modesKey: modes.manifest.key,
      imageSize: o.imageSize,
      resize: "center_crop_arr",
    },
    seed: modes.manifest.seed,
    overwrite: o.overwrite,
  });
  const report: SelectRealReport = {
    artifact: o.out,
    imageFolder: `${out.dir}/images`,
    written: [],
    skipped: [],
    redone: out.redone,
  };
  const names = await modes.shards();
  for (const [j, name] of names.entries()) {
    if (j % shard.count !== shard.index) continue;
    if (await out.finished(name)) {
      report.skipped.push(name);
      continue;
    }
    const picked = (await modes.readShard(name)).tensors.get("indices");
    if (!picked) {
      throw new Error(
        `${
          modes.shardPath(name)
        } has no 'indices': discover with a selection method (random, closest, herding)`,
      );
    }
    const { metadata } = await latents.readShard(name);
    const files = JSON.parse(metadata.files ?? "[]") as string[];
    const indices = Array.from(picked.data as BigInt64Array, Number);
    const chosen = indices.map((i) => {
      if (!(i >= 0 && i < files.length)) {
        throw new RangeError(
          `Index ${i} in ${modes.shardPath(name)} is outside ${files.length} files`,
        );
      }
      return files[i];
    });
    const { images } = await loadImages(chosen.map((f) => ({ path: `${root}/${f}` })), {
      size: o.imageSize,
      mode: "center_crop_arr",
      range: "[0,1]",
    });
    const className = metadata.name ?? name;
    await writeImageFolder(report.imageFolder, images, {
      classNames: chosen.map(() => className),
      range: "[0,1]",
    });
    await out.writeShard(
      name,
      {
        indices: {
          dtype: "I64",
          shape: [indices.length],
          data: BigInt64Array.from(indices, BigInt),
        },
      },
      { name: className, class: metadata.class ?? "", files: JSON.stringify(chosen) },
    );
    report.written.push(name);
  }
  return report;
}
