/**
 * The asset cache: `MGD3_CACHE`, else `$XDG_CACHE_HOME/mgd3`, else `~/.cache/mgd3`. An asset
 * lives at `<cache>/<id>/` (a file asset at `<cache>/<id>/<name>`, an archive unpacked at
 * `<cache>/<id>/<root>`), and exists there only once verified: downloads go to `.part` names and
 * are renamed after their check, archives unpack into a temporary folder renamed when complete.
 * `<cache>/mgd3.lock.json` records the size and SHA-256 of every file fetched; for a
 * trust-on-first-use asset the first download's record is the check for every later one.
 *
 * A mirror (`--mirror DIR|URL`, for clusters without internet) holds `<mirror>/<id>/<name>`,
 * the same names as the cache's downloads, and is used instead of the publisher.
 *
 * @module
 */
import { join } from "node:path";
import { hostname } from "node:os";
import { sha256File } from "../../models/core/hash.ts";
import { processRuns } from "../store/temp_files.ts";
import { type Asset, type AssetFile, ASSETS, findAsset } from "./registry.ts";
import { download, DownloadError, type DownloadOptions } from "./download.ts";
import { unpackArchive } from "./unpack.ts";

/** Name of the lock file in the cache. */
export const LOCK_FILE = "mgd3.lock.json";

/** A lock entry: what a file was when first fetched. */
export interface LockEntry {
  url: string;
  size: number;
  sha256: string;
  /** ISO time of the first download. */
  fetched: string;
}

/** Options of {@link fetchAsset}. */
export interface FetchOptions extends Partial<Omit<DownloadOptions, "label">> {
  /** Cache folder (default {@link cacheDir}). */
  cache?: string;
  /** A folder or URL holding `<id>/<name>` for every file, used instead of the publisher. */
  mirror?: string;
  /** The registry to look the asset up in (tests). */
  assets?: readonly Asset[];
  /** Re-hash files already in the cache against the lock file. */
  verify?: boolean;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

/**
 * The cache folder: `MGD3_CACHE`, `$XDG_CACHE_HOME/mgd3` or `~/.cache/mgd3`.
 *
 * @example
 * ```ts
 * import { cacheDir } from "./fetch_asset.ts";
 * cacheDir(); // "/home/me/.cache/mgd3"
 * ```
 */
export function cacheDir(): string {
  const env = (k: string) => Deno.env.get(k) || undefined;
  const own = env("MGD3_CACHE");
  if (own) return own;
  const xdg = env("XDG_CACHE_HOME");
  if (xdg) return join(xdg, "mgd3");
  return join(env("HOME") ?? ".", ".cache", "mgd3");
}

/**
 * Where an asset is (or will be) in the cache: the file, the folder, or the unpacked root.
 *
 * @example
 * ```ts
 * import { cachedAssetPath } from "./fetch_asset.ts";
 * cachedAssetPath(findAsset("dit-xl-2-256"), "/c"); // "/c/dit-xl-2-256/DiT-XL-2-256x256.pt"
 * ```
 */
export function cachedAssetPath(a: Asset, cache: string = cacheDir()): string {
  const dir = join(cache, a.id);
  if (a.kind === "file") return join(dir, a.files[0].name);
  if (a.kind === "archive") return join(dir, a.root ?? a.id);
  return dir;
}

/**
 * Where a mirror holds one file of an asset: `<mirror>/<id>/<name>` (a path or a URL).
 *
 * @example
 * ```ts
 * import { mirrorSource } from "./fetch_asset.ts";
 * mirrorSource("/shared/mgd3-mirror", asset, asset.files[0]); // "/shared/mgd3-mirror/dit-xl-2-256/DiT-XL-2-256x256.pt"
 * ```
 */
export function mirrorSource(mirror: string, a: Asset, f: AssetFile): string {
  return /^[a-z]+:\/\//.test(mirror)
    ? `${mirror.replace(/\/+$/, "")}/${encodeURIComponent(a.id)}/${encodeURIComponent(f.name)}`
    : join(mirror, a.id, f.name);
}

async function exists(p: string): Promise<boolean> {
  return await Deno.lstat(p).then(() => true, () => false);
}

/** Whether the asset is complete in the cache (every file, or the unpacked folder). */
export async function isFetched(a: Asset, cache: string = cacheDir()): Promise<boolean> {
  if (a.kind === "folder") {
    for (const f of a.files) if (!(await exists(join(cache, a.id, f.name)))) return false;
    return true;
  }
  return await exists(cachedAssetPath(a, cache));
}

/** Reads the lock file (empty when there is none). */
export async function readLock(cache: string = cacheDir()): Promise<Record<string, LockEntry>> {
  try {
    return JSON.parse(await Deno.readTextFile(join(cache, LOCK_FILE)));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return {};
    throw new Error(`Cannot read ${join(cache, LOCK_FILE)}: ${(e as Error).message}`);
  }
}

async function recordLock(cache: string, key: string, entry: LockEntry): Promise<void> {
  // One writer at a time: workers fetching different assets into one cache add to one file.
  const release = await takeLock(join(cache, `.${LOCK_FILE}.busy`), LOCK_FILE, () => {});
  try {
    const lock = await readLock(cache);
    lock[key] = entry;
    const path = join(cache, LOCK_FILE);
    const tmp = `${path}.${Deno.pid}.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify(lock, null, 2) + "\n");
    await Deno.rename(tmp, path);
  } finally {
    await release();
  }
}

/**
 * Fetches an asset into the cache unless it is there; returns its path. Throws naming the asset
 * and URL when a download fails or does not match its publisher's hash or the lock file.
 *
 * @example
 * ```ts
 * import { fetchAsset } from "./fetch_asset.ts";
 * const dit = await fetchAsset("dit-xl-2-256"); // ~/.cache/mgd3/dit-xl-2-256/DiT-XL-2-256x256.pt
 * ```
 */
export async function fetchAsset(id: string, o: FetchOptions = {}): Promise<string> {
  const a = findAsset(id, o.assets ?? ASSETS);
  const cache = o.cache ?? cacheDir();
  const log = o.log ?? ((s: string) => console.error(s));
  const dir = join(cache, a.id);
  const path = cachedAssetPath(a, cache);
  if (await isFetched(a, cache)) {
    if (o.verify) await verifyAsset(a, cache);
    return path;
  }
  await Deno.mkdir(dir, { recursive: true });
  const release = await takeLock(join(dir, ".fetching"), a.id, log);
  try {
    if (await isFetched(a, cache)) return path; // another process fetched it meanwhile
    await fetchFiles(a, cache, o, log);
  } finally {
    await release();
  }
  log(`fetch ${a.id}: ${path}`);
  return path;
}

/**
 * Takes `<cache>/<id>/.fetching` (a folder: mkdir is atomic, also on network file systems), so
 * workers sharing a cache (Slurm tasks with --fetch) fetch an asset once; the others wait. A lock
 * left by a dead process on this host is taken over.
 */
async function takeLock(
  lock: string,
  id: string,
  log: (s: string) => void,
): Promise<() => Promise<void>> {
  const me = { host: hostname(), pid: Deno.pid };
  let said = false;
  for (;;) {
    try {
      await Deno.mkdir(lock);
      await Deno.writeTextFile(join(lock, "owner.json"), JSON.stringify(me));
      return () => Deno.remove(lock, { recursive: true }).catch(() => {});
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    const owner = await Deno.readTextFile(join(lock, "owner.json")).then(JSON.parse, () => null);
    if (owner && owner.host === me.host && !(await processRuns(owner.pid))) {
      await Deno.remove(lock, { recursive: true }).catch(() => {});
      continue;
    }
    if (!said) {
      log(
        `fetch ${id}: waiting for ${owner ? `${owner.host}:${owner.pid}` : "another process"} ` +
          `(remove ${lock} if it is gone)`,
      );
      said = true;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function fetchFiles(
  a: Asset,
  cache: string,
  o: FetchOptions,
  log: (s: string) => void,
): Promise<void> {
  const dir = join(cache, a.id);
  const path = cachedAssetPath(a, cache);
  for (const f of a.files) {
    const dest = join(dir, f.name);
    const key = `${a.id}/${f.name}`;
    const url = o.mirror ? mirrorSource(o.mirror, a, f) : f.url;
    const locked = (await readLock(cache))[key];
    let got = null; // a file at `dest` was verified before it got its name
    if (!(await exists(dest))) {
      log(`fetch ${a.id}: ${url}${locked ? " (checked against the lock file)" : ""}`);
      got = await download(url, dest, {
        size: f.size ?? locked?.size,
        sha256: f.sha256 ?? locked?.sha256,
        sha256Prefix: f.sha256Prefix,
      }, { ...o, label: a.id });
    }
    if (a.kind === "archive") {
      const tmp = join(dir, `.unpack-${Deno.pid}-${Date.now()}`);
      try {
        await unpackArchive(dest, tmp);
        const root = a.root ?? a.id;
        if (!(await exists(join(tmp, root)))) {
          throw new DownloadError(a.id, url, `the archive holds no '${root}/' folder`);
        }
        await Deno.rename(join(tmp, root), path);
      } catch (e) {
        await Deno.remove(dest).catch(() => {});
        if (e instanceof DownloadError) throw e;
        throw new DownloadError(a.id, url, `${(e as Error).message}; the archive was deleted`);
      } finally {
        await Deno.remove(tmp, { recursive: true }).catch(() => {});
      }
    }
    if (got && !locked) {
      await recordLock(cache, key, { url: f.url, ...got, fetched: new Date().toISOString() });
    }
  }
}

/** Re-hashes an asset's downloaded files against the lock file; throws naming the first mismatch. */
export async function verifyAsset(a: Asset, cache: string = cacheDir()): Promise<void> {
  const lock = await readLock(cache);
  for (const f of a.files) {
    const p = join(cache, a.id, f.name);
    const want = lock[`${a.id}/${f.name}`];
    if (!want || !(await exists(p))) continue; // an unpacked archive keeps no copy to re-hash
    const sha = await sha256File(p);
    if (sha !== want.sha256) {
      throw new Error(
        `${a.id}: ${p} has SHA-256 ${sha}, the lock file records ${want.sha256}; delete it and fetch again`,
      );
    }
  }
}
