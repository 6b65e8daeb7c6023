/**
 * The store's atomic writes, and the clean-up of what killed writers leave behind.
 *
 * A file is written to a temporary sibling `<target>.<pid>.<id>.tmp`, synced and renamed over
 * the target, so a reader sees the old file or the new one, never half of one. The id is 8
 * random hex digits followed by `-<host>` when the host name may be read, so the next writer
 * can tell whose leftovers a temporary file is. {@link removeDeadTemps} deletes those of
 * writers that are gone:
 * - from this host (the `-<host>` tag is ours): when no process `<pid>` runs here;
 * - from another host: when older than {@link STALE_TEMP_MS};
 * - without a host tag (older code, `writeFileAtomic`): when no process `<pid>` runs here and
 *   the file is older than {@link STALE_TEMP_MS}.
 *
 * @module
 */
import { HOST, parseTempName, tempPath, writeSynced } from "../../models/core/fs.ts";

export { parseTempName, type TempName, tempPath, writeAtomic } from "../../models/core/fs.ts";

/**
 * Age after which a temporary file whose writer cannot be checked (another host, or no host
 * in the name) counts as abandoned: a temporary file lives for one file write (seconds, or
 * minutes for gigabytes over a network file system), so an hour-old one has no live writer.
 */
export const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * Creates `path` with the given bytes only if it does not exist yet, atomically (a hard link
 * of a synced temporary file, which fails when the name is taken): of several writers racing
 * to create one file, exactly one succeeds and readers never see it half written. Returns
 * false when the file already existed. On file systems without hard links it falls back to a
 * check and a rename, which is atomic for readers but not exclusive.
 *
 * @example
 * ```ts
 * import { createExclusive } from "./temp_files.ts";
 * const mine = await createExclusive("a/manifest.json", new TextEncoder().encode("{}"));
 * ```
 */
export async function createExclusive(path: string, bytes: Uint8Array): Promise<boolean> {
  const tmp = tempPath(path);
  try {
    await writeSynced(tmp, bytes);
    try {
      await Deno.link(tmp, path);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) return false;
      if (await exists(path)) return false; // no hard links here: check, then rename
      await Deno.rename(tmp, path);
      return true;
    }
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

/**
 * Removes, under `dir` (recursively), the temporary files of writers that are gone (see the
 * module table); a live writer's file is never touched. Returns the paths removed.
 *
 * @example
 * ```ts
 * import { removeDeadTemps } from "./temp_files.ts";
 * const removed = await removeDeadTemps(".store/latents/train");
 * ```
 */
export async function removeDeadTemps(dir: string, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  const alive = new Map<number, Promise<boolean>>();
  const walk = async (d: string): Promise<void> => {
    const entries: Deno.DirEntry[] = [];
    try {
      for await (const e of Deno.readDir(d)) entries.push(e);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    for (const e of entries) {
      const path = `${d}/${e.name}`;
      if (e.isDirectory) {
        await walk(path);
        continue;
      }
      const t = e.isFile ? parseTempName(e.name) : null;
      if (!t) continue;
      if (!alive.has(t.pid)) alive.set(t.pid, processRuns(t.pid));
      const local = HOST !== null && t.host === HOST;
      let dead: boolean;
      if (local) {
        dead = !(await alive.get(t.pid)!);
      } else {
        const mtime = (await Deno.stat(path).catch(() => null))?.mtime?.getTime();
        const stale = mtime !== undefined && now - mtime > STALE_TEMP_MS;
        dead = stale && (t.host !== null || !(await alive.get(t.pid)!));
      }
      if (dead && await Deno.remove(path).then(() => true, () => false)) removed.push(path);
    }
  };
  await walk(dir);
  return removed;
}

/**
 * Whether a process with this id runs on this host: `/proc/<pid>` on Linux, `kill -0`
 * elsewhere; true whenever it cannot be told (a live writer's file must never be removed).
 *
 * @example
 * ```ts
 * import { processRuns } from "./temp_files.ts";
 * await processRuns(Deno.pid); // true
 * ```
 */
export async function processRuns(pid: number): Promise<boolean> {
  if (pid === Deno.pid) return true;
  if (Deno.build.os === "linux") return await exists(`/proc/${pid}`, true);
  try {
    const out = await new Deno.Command("kill", {
      args: ["-0", String(pid)],
      stdout: "null",
      stderr: "piped",
    }).output();
    return out.success || !/no such process/i.test(new TextDecoder().decode(out.stderr));
  } catch {
    return true;
  }
}

/** Whether `path` exists; `onError` is the answer when that cannot be told. */
async function exists(path: string, onError = false): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    return e instanceof Deno.errors.NotFound ? false : onError;
  }
}
