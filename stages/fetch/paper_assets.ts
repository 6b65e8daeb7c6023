/**
 * The paper-scale flags of `reproduce` that an asset of the cache can fill: a flag the user
 * left out takes the cached asset's path; with `fetch: true` a missing asset is fetched first;
 * otherwise the missing ones are named with the command that gets them.
 *
 * @module
 */
import { join } from "node:path";
import {
  cachedAssetPath,
  cacheDir,
  fetchAsset,
  type FetchOptions,
  isFetched,
} from "./fetch_asset.ts";
import { ASSETS, findAsset } from "./registry.ts";

/** A `reproduce` flag and the asset (and the folder inside it) that fills it. */
export interface AssetFlag {
  flag: string;
  asset: string;
  /** A folder inside the asset (ImageNette's `train`, `val`). */
  sub?: string;
}

/**
 * The flags a paper-scale run fills from the cache: DiT-XL/2, SD-VAE ft-MSE, the ResNet-18
 * teacher and ImageNette's train/val folders.
 */
export const PAPER_ASSET_FLAGS: readonly AssetFlag[] = [
  { flag: "dit", asset: "dit-xl-2-256" },
  { flag: "vae", asset: "sd-vae-ft-mse" },
  { flag: "teacher", asset: "resnet18-teacher" },
  { flag: "data", asset: "imagenette2", sub: "train" },
  { flag: "val", asset: "imagenette2", sub: "val" },
];

/** What {@link fillFromCache} found. */
export interface FilledFlags {
  /** Flag -> path, for every flag the cache filled. */
  filled: Record<string, string>;
  /** Assets still missing (after fetching, when asked). */
  missing: string[];
  /** One line naming the missing assets and the command that fetches them ("" when none). */
  hint: string;
}

/**
 * Fills the flags among `wanted` that are not in `given` from the cache (fetching what is
 * missing when `fetch` is set).
 *
 * @example
 * ```ts
 * import { fillFromCache, PAPER_ASSET_FLAGS } from "./paper_assets.ts";
 * const r = await fillFromCache(PAPER_ASSET_FLAGS, { dit: "my/dit.pt" }, { fetch: false });
 * r.filled.vae; // "~/.cache/mgd3/sd-vae-ft-mse" when fetched before
 * ```
 */
export async function fillFromCache(
  wanted: readonly AssetFlag[],
  given: Record<string, unknown>,
  o: FetchOptions & { fetch: boolean },
): Promise<FilledFlags> {
  const cache = o.cache ?? cacheDir();
  const filled: Record<string, string> = {};
  const missing: string[] = [];
  for (const w of wanted) {
    if (given[w.flag] !== undefined) continue;
    const a = findAsset(w.asset, o.assets ?? ASSETS);
    let root: string | null = null;
    if (await isFetched(a, cache)) root = cachedAssetPath(a, cache);
    else if (o.fetch) root = await fetchAsset(a.id, { ...o, cache });
    if (root === null) {
      if (!missing.includes(a.id)) missing.push(a.id);
      continue;
    }
    filled[w.flag] = w.sub ? join(root, w.sub) : root;
  }
  const flags = (id: string) =>
    wanted.filter((w) => w.asset === id).map((w) => `--${w.flag}`).join(" ");
  const hint = missing.length
    ? `Not in the cache ${cache}: ${missing.map((id) => `${id} (${flags(id)})`).join(", ")}. ` +
      `Get them with 'deno task mgd3 fetch ${
        missing.join(" ")
      }' (or add --fetch), or pass the flags.`
    : "";
  return { filled, missing, hint };
}
