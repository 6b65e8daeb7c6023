/**
 * The datasets of the paper's tables, their classes, and where their images come from:
 * `--data`/`--val` (any ImageFolder pair that holds the classes: ImageNette by default at
 * the cpu scale) or `--imagenet`/`--imagenet-val` (ImageNet-1K train/val ImageFolders, one
 * folder per wnid), tried in that order. A dataset whose class folders are in neither is
 * reported with the flags it needs; nothing is faked.
 *
 * @module
 */
import { CLASS_PRESETS } from "../../stages/images/classes.ts";
import IMAGENET1K_WNIDS from "../../stages/images/imagenet1k_wnids.json" with { type: "json" };
// HobbitLong/CMC@bc687a2 imagenet100.txt, the list IDC's class100.txt copies (SPEC section 6).
import IMAGENET100_WNIDS from "./imagenet100_wnids.json" with { type: "json" };

/**
 * Dataset names used by the table definitions.
 *
 * @example
 * ```ts
 * import type { DatasetId } from "./datasets.ts";
 * const d: DatasetId = "imagewoof";
 * ```
 */
export type DatasetId =
  | "imagenette"
  | "imageidc"
  | "imagewoof"
  | "imagenet-a"
  | "imagenet-b"
  | "imagenet-c"
  | "imagenet-d"
  | "imagenet-e"
  | "imagenet-100"
  | "imagenet-1k";

/**
 * A dataset: display label and classes in label order.
 *
 * @example
 * ```ts
 * import { DATASETS } from "./datasets.ts";
 * DATASETS.imagenette.classes.length; // 10
 * ```
 */
export interface DatasetDef {
  label: string;
  classes: readonly string[];
}

/**
 * Every dataset of the paper's tables (class lists: SPEC section 6, stages/classes.ts).
 *
 * @example
 * ```ts
 * import { DATASETS } from "./datasets.ts";
 * DATASETS["imagenet-100"].classes.length; // 100
 * ```
 */
export const DATASETS: Readonly<Record<DatasetId, DatasetDef>> = {
  imagenette: { label: "ImageNette", classes: CLASS_PRESETS.imagenette },
  imageidc: { label: "ImageIDC", classes: CLASS_PRESETS.imageidc },
  imagewoof: { label: "ImageWoof", classes: CLASS_PRESETS.imagewoof },
  "imagenet-a": { label: "ImageNet-A", classes: CLASS_PRESETS["imagenet-a"] },
  "imagenet-b": { label: "ImageNet-B", classes: CLASS_PRESETS["imagenet-b"] },
  "imagenet-c": { label: "ImageNet-C", classes: CLASS_PRESETS["imagenet-c"] },
  "imagenet-d": { label: "ImageNet-D", classes: CLASS_PRESETS["imagenet-d"] },
  "imagenet-e": { label: "ImageNet-E", classes: CLASS_PRESETS["imagenet-e"] },
  "imagenet-100": { label: "ImageNet-100", classes: IMAGENET100_WNIDS },
  "imagenet-1k": { label: "ImageNet-1K", classes: IMAGENET1K_WNIDS },
};

/**
 * Folders given on the command line.
 *
 * @example
 * ```ts
 * import type { DataPaths } from "./datasets.ts";
 * const p: DataPaths = { train: "imagenette2/train", val: "imagenette2/val" };
 * ```
 */
export interface DataPaths {
  /** `--data`: a train ImageFolder (ImageNette at the cpu scale by default). */
  train?: string;
  /** `--val`: its validation ImageFolder. */
  val?: string;
  /** `--imagenet`: the ImageNet-1K train ImageFolder (one folder per wnid). */
  imagenet?: string;
  /** `--imagenet-val`: the ImageNet-1K validation images in wnid folders. */
  imagenetVal?: string;
}

/**
 * Where a dataset's images are, or why it cannot run.
 *
 * @example
 * ```ts
 * import type { DataResolution } from "./datasets.ts";
 * const ok: DataResolution = { train: "a/train", val: "a/val", classes: ["n01440764"] };
 * ```
 */
export type DataResolution =
  | { train: string; val: string; classes: string[] }
  | { missing: string };

/**
 * Finds a dataset's train and val folders among the given ones; `only` restricts its
 * classes (`--classes`: the dataset keeps the listed classes it has, in its own order).
 *
 * @example
 * ```ts
 * import { resolveData } from "./datasets.ts";
 * const r = await resolveData("imageidc", { train: "imagenette2/train", val: "imagenette2/val" });
 * if ("missing" in r) console.log(r.missing); // "ImageIDC needs ... --imagenet DIR --imagenet-val DIR"
 * ```
 */
export async function resolveData(
  id: DatasetId,
  paths: DataPaths,
  only?: readonly string[],
): Promise<DataResolution> {
  const ds = DATASETS[id];
  const classes = only ? ds.classes.filter((c) => only.includes(c)) : [...ds.classes];
  if (classes.length === 0) {
    return { missing: `${ds.label}: --classes leaves none of its ${ds.classes.length} classes` };
  }
  const candidates: [string | undefined, string | undefined][] = [
    [paths.train, paths.val],
    [paths.imagenet, paths.imagenetVal],
  ];
  for (const [train, val] of candidates) {
    if (train && val && (await hasClasses(train, classes)) && (await hasClasses(val, classes))) {
      return { train, val, classes };
    }
  }
  const shown = classes.length > 12
    ? `${classes.slice(0, 10).join(", ")}, ... (${classes.length} classes)`
    : classes.join(", ");
  return {
    missing: `${ds.label} needs train and val ImageFolders with one folder per class (${shown}): ` +
      `pass --imagenet DIR --imagenet-val DIR (ImageNet-1K train and val, val sorted into wnid ` +
      `folders) or --data DIR --val DIR${
        paths.train || paths.imagenet ? " (the folders given lack some of these classes)" : ""
      }`,
  };
}

async function hasClasses(root: string, classes: readonly string[]): Promise<boolean> {
  for (const c of classes) {
    try {
      if (!(await Deno.stat(`${root}/${c}`)).isDirectory) return false;
    } catch {
      return false;
    }
  }
  return true;
}
