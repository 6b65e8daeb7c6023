/**
 * `mgd3 fetch ASSET...`: downloads paper-scale assets (checkpoints, datasets, benchmark
 * references) into the cache, verified against the publisher's hash or the lock file;
 * `--list` shows the registry and what the cache holds.
 *
 * @module
 */
import {
  cachedAssetPath,
  cacheDir,
  fetchAsset,
  isFetched,
  LOCK_FILE,
} from "../stages/fetch/fetch_asset.ts";
import { ASSETS } from "../stages/fetch/registry.ts";
import { type Command, UsageError } from "./command.ts";
import { intFlag } from "./_flags.ts";

/**
 * The `--list` text: one block per asset (id, kind, verification, what uses it, URLs, and the
 * cache path with whether it is there).
 *
 * @example
 * ```ts
 * import { listAssets } from "./fetch.ts";
 * console.log(await listAssets("/home/me/.cache/mgd3"));
 * ```
 */
export async function listAssets(cache: string): Promise<string> {
  const lines = [`Cache: ${cache} (MGD3_CACHE; lock file ${LOCK_FILE})`, ""];
  for (const a of ASSETS) {
    const have = await isFetched(a, cache);
    const check = a.verify === "publisher"
      ? "publisher hash"
      : "trust on first download (lock file)";
    lines.push(`${a.id.padEnd(18)} ${a.kind.padEnd(7)} ${check}`);
    lines.push(`  ${a.description}`);
    lines.push(`  used by: ${a.usedBy}`);
    for (const f of a.files) {
      const hash = f.sha256
        ? ` sha256 ${f.sha256}`
        : f.sha256Prefix
        ? ` sha256 ${f.sha256Prefix}...`
        : "";
      lines.push(`  ${f.url}${f.size ? ` (${f.size} bytes)` : ""}${hash}`);
    }
    lines.push(`  ${have ? "fetched:" : "not fetched:"} ${cachedAssetPath(a, cache)}`);
  }
  return lines.join("\n");
}

/** The `fetch` command. */
export const fetchCommand: Command = {
  name: "fetch",
  summary: "Download paper-scale assets into the cache, verified (--list shows them).",
  flags: {
    list: { type: "boolean", description: "list the known assets and what the cache holds" },
    cache: {
      type: "string",
      description: "cache folder (default: MGD3_CACHE, else ~/.cache/mgd3)",
    },
    mirror: {
      type: "string",
      description: "folder or URL holding <asset>/<file> to fetch from instead of the publisher",
    },
    verify: {
      type: "boolean",
      description: "re-hash assets already fetched against the lock file",
    },
    retries: { type: "string", default: "4", description: "retries per file after a failure" },
    timeout: { type: "string", default: "60", description: "seconds without data before a retry" },
  },
  positionals: [{
    name: "ASSET",
    description: "asset names (see --list)",
    optional: true,
    variadic: true,
  }],
  epilog: "Example: mgd3 fetch dit-xl-2-256 sd-vae-ft-mse imagenette2 resnet18-teacher",
  async run(values, ids) {
    const cache = (values.cache as string | undefined) ?? cacheDir();
    if (values.list) {
      console.log(await listAssets(cache));
      return;
    }
    if (!ids.length) throw new UsageError("mgd3 fetch: name one or more assets (or --list)");
    const known = new Set(ASSETS.map((a) => a.id));
    const bad = ids.filter((id) => !known.has(id));
    if (bad.length) {
      throw new UsageError(
        `mgd3 fetch: unknown asset ${bad.join(", ")}; known: ${[...known].join(", ")}`,
      );
    }
    const retries = intFlag("retries", values.retries as string, 0);
    const timeoutMs = intFlag("timeout", values.timeout as string, 1) * 1000;
    for (const id of ids) {
      const path = await fetchAsset(id, {
        cache,
        mirror: values.mirror as string | undefined,
        verify: values.verify as boolean | undefined,
        retries,
        timeoutMs,
      });
      console.log(`${id}\t${path}`);
    }
  },
};
