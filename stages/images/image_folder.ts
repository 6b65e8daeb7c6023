/**
 * Lists an ImageFolder dataset (`root/<class>/<image>`, as torchvision's `ImageFolder` reads
 * it) in a deterministic order.
 *
 * @module
 */

import { join } from "node:path";
import { resolveClasses } from "./classes.ts";

/**
 * One image of an ImageFolder dataset.
 *
 * @example
 * ```ts
 * import type { ImageItem } from "./image_folder.ts";
 * const item: ImageItem = { path: "val/n01440764/a.JPEG", classIndex: 0, className: "n01440764" };
 * ```
 */
export interface ImageItem {
  /** Path of the image file (`root` joined with the class folder and file name). */
  path: string;
  /** Label: position of the class in the class list. */
  classIndex: number;
  /** The class folder name (an ImageNet wnid for ImageNet data). */
  className: string;
}

/**
 * Options of {@link listImageFolder}.
 *
 * @example
 * ```ts
 * import type { ListImageFolderOptions } from "./image_folder.ts";
 * const opts: ListImageFolderOptions = { classes: "imagewoof" };
 * ```
 */
export interface ListImageFolderOptions {
  /**
   * Classes to list, in label order: a preset name (`"imagenette"`), a comma-separated list
   * or an array of folder names (see `resolveClasses`). Default: every sub-folder of `root`,
   * in sorted order (torchvision `ImageFolder`'s labels).
   */
  classes?: string | readonly string[];
}

/**
 * File extensions read as images (case-insensitive).
 *
 * @example
 * ```ts
 * import { IMAGE_EXTENSIONS } from "./image_folder.ts";
 * IMAGE_EXTENSIONS.includes(".jpeg"); // true
 * ```
 */
export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze([
  ".jpg",
  ".jpeg",
  ".png",
  ".webp",
]);

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function isImageFile(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path); // follows symlinks
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * Image files under `dir`, recursively, as paths relative to `dir`, in torchvision's order:
 * directories sorted by path (`sorted(os.walk(dir))`), files sorted by name within each.
 */
async function listImagesUnder(dir: string): Promise<string[]> {
  const groups: [string, string[]][] = [];
  const walk = async (rel: string, seen: Set<string>): Promise<void> => {
    const abs = rel === "" ? dir : join(dir, rel);
    const real = await Deno.realPath(abs);
    if (seen.has(real)) return; // symlink cycle
    seen.add(real);
    const files: string[] = [];
    const subdirs: string[] = [];
    for await (const entry of Deno.readDir(abs)) {
      const info = entry.isSymlink ? await statOrNull(join(abs, entry.name)) : entry;
      if (info === null) continue; // dangling symlink
      if (info.isDirectory) subdirs.push(entry.name);
      else if (info.isFile && isImageFile(entry.name)) files.push(entry.name);
    }
    groups.push([rel, files.sort(byName)]);
    for (const sub of subdirs) await walk(rel === "" ? sub : `${rel}/${sub}`, new Set(seen));
  };
  await walk("", new Set());
  groups.sort((a, b) => byName(a[0], b[0]));
  return groups.flatMap(([rel, files]) => files.map((f) => (rel === "" ? f : `${rel}/${f}`)));
}

/**
 * Lists the images of an ImageFolder dataset: classes in the given order (or sorted folder
 * names), files sorted by name, extensions .jpg .jpeg .png .webp in any case. Throws naming
 * the folder when `root` or a requested class folder is missing, or a class has no images.
 *
 * @example
 * ```ts
 * import { listImageFolder } from "./image_folder.ts";
 * const items = await listImageFolder("data/imagenette2-224/val", { classes: "imagenette" });
 * items[0]; // { path: ".../n01440764/ILSVRC2012_val_00009111.JPEG", classIndex: 0, className: "n01440764" }
 * ```
 */
export async function listImageFolder(
  root: string,
  options: ListImageFolderOptions = {},
): Promise<ImageItem[]> {
  const rootInfo = await statOrNull(root);
  if (rootInfo === null || !rootInfo.isDirectory) {
    throw new Error(`Image folder '${root}' not found: expected a directory of class folders`);
  }
  let classes: string[];
  if (options.classes !== undefined) {
    classes = resolveClasses(options.classes);
  } else {
    classes = [];
    for await (const entry of Deno.readDir(root)) {
      const info = entry.isSymlink ? await statOrNull(join(root, entry.name)) : entry;
      if (info?.isDirectory) classes.push(entry.name);
    }
    classes.sort(byName);
    if (classes.length === 0) {
      throw new Error(`Image folder '${root}' has no class folders: expected root/<class>/<image>`);
    }
  }
  const items: ImageItem[] = [];
  for (const [classIndex, className] of classes.entries()) {
    const dir = join(root, className);
    const info = await statOrNull(dir);
    if (info === null || !info.isDirectory) {
      throw new Error(`Class folder '${dir}' not found (class '${className}' in '${root}')`);
    }
    const files = await listImagesUnder(dir);
    if (files.length === 0) {
      throw new Error(
        `Class folder '${dir}' contains no images: expected ${IMAGE_EXTENSIONS.join(" ")} files`,
      );
    }
    for (const f of files) items.push({ path: join(dir, f), classIndex, className });
  }
  return items;
}
