/**
 * Atomic file writes: a file is written to a temporary sibling `<target>.<pid>.<id>.tmp`,
 * synced and renamed over the target, so a reader sees the old file or the new one, never half
 * of one. The id is 8 random hex digits followed by `-<host>` when the host name may be read,
 * so the store's clean-up (stages/store/temp_files.ts) can tell whose leftovers a temporary
 * file is.
 *
 * @module
 */

const TEMP_RE = /^(.+)\.(\d+)\.([0-9a-f]{8})(?:-([A-Za-z0-9-]+))?\.tmp$/;

/** This host's tag in temporary names, or null when the host name may not be read. */
export const HOST: string | null = (() => {
  try {
    if (Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state !== "granted") {
      return null;
    }
    return Deno.hostname().replace(/[^A-Za-z0-9-]/g, "-").slice(0, 63) || null;
  } catch {
    return null;
  }
})();

/** What a temporary file's name says about its writer. */
export interface TempName {
  /** The file the writer meant to write (the name without the suffix). */
  target: string;
  /** Process id of the writer. */
  pid: number;
  /** Host tag of the writer, or null when the name has none. */
  host: string | null;
}

/**
 * A fresh temporary name for writing `path`.
 *
 * @example
 * ```ts
 * import { tempPath } from "./fs.ts";
 * tempPath("a/class-000.safetensors"); // "a/class-000.safetensors.4242.1a2b3c4d-myhost.tmp"
 * ```
 */
export function tempPath(path: string): string {
  const id = crypto.randomUUID().slice(0, 8);
  return `${path}.${Deno.pid}.${id}${HOST ? `-${HOST}` : ""}.tmp`;
}

/**
 * Parses a temporary file name (as {@link tempPath} and `writeFileAtomic` write them), or
 * returns null for any other name.
 *
 * @example
 * ```ts
 * import { parseTempName } from "./fs.ts";
 * parseTempName("x.safetensors.4242.1a2b3c4d-myhost.tmp"); // { target: "x.safetensors", pid: 4242, host: "myhost" }
 * ```
 */
export function parseTempName(name: string): TempName | null {
  const m = TEMP_RE.exec(name);
  return m ? { target: m[1], pid: Number(m[2]), host: m[4] ?? null } : null;
}

/**
 * Writes bytes to `path` atomically: temporary sibling, sync, rename.
 *
 * @example
 * ```ts
 * import { writeAtomic } from "./fs.ts";
 * await writeAtomic("out.json", new TextEncoder().encode("{}"));
 * ```
 */
export async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = tempPath(path);
  try {
    await writeSynced(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Writes `bytes` to a new file at `path` (failing when it exists) and syncs it to disk.
 *
 * @example
 * ```ts
 * import { tempPath, writeSynced } from "./fs.ts";
 * await writeSynced(tempPath("out.json"), new TextEncoder().encode("{}"));
 * ```
 */
export async function writeSynced(path: string, bytes: Uint8Array): Promise<void> {
  const f = await Deno.open(path, { write: true, createNew: true });
  try {
    let done = 0;
    while (done < bytes.length) done += await f.write(bytes.subarray(done));
    await f.sync();
  } finally {
    f.close();
  }
}
