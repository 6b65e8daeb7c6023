/**
 * The latent store: the only channel between pipeline stages.
 *
 * Layout on disk (every tensor file is plain safetensors, every manifest plain JSON):
 * ```
 * <root>/store.json                          {"format": "mgd3-store", "version": 1}
 * <root>/<artifact>/manifest.json            kind, options, seed, code version, key
 * <root>/<artifact>/<shard>.safetensors      one shard (e.g. one class), stamped the same way
 * <root>/<artifact>/<shard>.safetensors.sha256  its SHA-256, recorded when it was written
 * <root>/<artifact>/<file>                   other outputs (PNG, JSON, markdown)
 * ```
 * An artifact is identified by its kind, options and seed (the "key", a SHA-256 of their
 * canonical JSON; path options are normalised first). Re-running a stage with the same key
 * resumes: finished shards are skipped once they verify (they parse, fill their file exactly,
 * match their recorded SHA-256 and carry the artifact's key); a shard that does not is
 * removed and redone, and the stage's report lists it. A different key refuses to touch the
 * artifact unless `overwrite: true` is given; `overwrite` also rewrites the shards of the
 * run when the key is the same, and replaces an artifact whose manifest is unreadable.
 *
 * Writers: the first writer of an artifact creates its manifest exclusively before any shard,
 * so a second writer with other options is refused at once, naming the option that differs.
 * Every file goes to a temporary name and is renamed, so a crash never leaves half a file;
 * the temporary files of writers that died are removed by the next writer (see
 * `temp_files.ts`). The shard files themselves (not a shared list) record what is finished,
 * so several machines can write different shards of one artifact at the same time.
 *
 * @module
 */
import { codeVersion } from "./version.ts";
import { canonicalJson, sha256Hex } from "../../models/core/hash.ts";
import { createExclusive, removeDeadTemps, writeAtomic } from "./temp_files.ts";
import {
  describeDifference,
  type Manifest,
  type Provenance,
  readManifest,
  sameArtifact,
  type Wanted,
} from "./_manifest.ts";
import { normaliseOptionPaths } from "./_paths.ts";
import { checkName, encodeJson, NAME_RE } from "./_names.ts";
import { Artifact } from "./artifact.ts";
import { StoreError } from "./store_error.ts";

export { Artifact, type BrokenShard, type ShardCheck } from "./artifact.ts";
export { StoreError } from "./store_error.ts";
export type { Manifest, Provenance } from "./_manifest.ts";

/** Format tag and version written to `store.json`. */
export const STORE_FORMAT = { format: "mgd3-store", version: 1 } as const;

/** Attempts at joining or creating an artifact while other writers create or replace it. */
const CREATE_ATTEMPTS = 3;

/** Options for {@link Store.artifact}. */
export interface ArtifactOptions extends Provenance {
  /** Storage dtype of float tensors (default F32). F16 halves the size of latents. */
  dtype?: "F32" | "F16";
  /**
   * Replace an existing artifact that was made with other options or whose manifest is
   * unreadable, and rewrite (do not resume) the shards of this run (default false).
   */
  overwrite?: boolean;
  /**
   * Names of the options that are file-system paths (a string or a list of strings): they
   * are normalised lexically before they are keyed and compared, so `./data/x/` and `data/x`
   * make one artifact.
   */
  paths?: readonly string[];
}

/**
 * What a reader expects of an artifact it opens (see {@link Store.open}).
 *
 * @example
 * ```ts
 * import type { OpenExpect } from "./store.ts";
 * const e: OpenExpect = { kind: "modes", reader: "sample option modes (--modes)" };
 * ```
 */
export interface OpenExpect {
  /** The kinds the reader takes (a manifest's `kind`: "latents", "modes", "samples", ...). */
  kind: string | readonly string[];
  /** Who reads the artifact, named in the error: e.g. "decode option samples (--samples)". */
  reader: string;
}

/**
 * A store rooted at a directory.
 *
 * @example
 * ```ts
 * import { Store } from "./store.ts";
 * const store = await Store.open(".store");
 * const latents = await store.artifact("latents/imagenette", {
 *   kind: "latents", options: { codec: "taef2", size: 64 }, seed: null,
 * });
 * if (!(await latents.finished("class-000"))) {
 *   await latents.writeShard("class-000", { latents: { dtype: "F32", shape: [1], data: new Float32Array(1) } });
 * }
 * ```
 */
export class Store {
  private constructor(readonly root: string) {}

  /** Opens a store, creating the directory and `store.json` when absent. */
  static async open(root: string, { create = true }: { create?: boolean } = {}): Promise<Store> {
    const marker = `${root}/store.json`;
    let text: string | null = null;
    try {
      text = await Deno.readTextFile(marker);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (text === null) {
      if (!create) throw new StoreError(`No store at ${root}: ${marker} does not exist`);
      await ensureNotFile(root);
      await Deno.mkdir(root, { recursive: true });
      await writeAtomic(marker, encodeJson(STORE_FORMAT));
    } else {
      let json: { format?: string; version?: number };
      try {
        json = JSON.parse(text);
      } catch {
        throw new StoreError(
          `${marker} is not valid JSON; expected ${JSON.stringify(STORE_FORMAT)}`,
        );
      }
      if (json.format !== STORE_FORMAT.format || json.version !== STORE_FORMAT.version) {
        throw new StoreError(
          `${marker} describes ${JSON.stringify(json)}; this code reads ${
            JSON.stringify(STORE_FORMAT)
          }`,
        );
      }
    }
    return new Store(root);
  }

  /**
   * Opens (or creates) an artifact for writing. Same kind, options and seed as the existing
   * manifest: the artifact is returned as is, finished shards can be skipped (see
   * {@link Artifact.finished}), and temporary files of writers that died are removed.
   * Otherwise a {@link StoreError} explains the difference (or names the unreadable
   * manifest), unless `overwrite` is set, in which case the old artifact is removed first.
   * A new artifact's manifest is created exclusively: when another writer creates it first
   * with other options, this call is refused the same way.
   */
  async artifact(name: string, opts: ArtifactOptions): Promise<Artifact> {
    checkName(name, "artifact name", NAME_RE);
    const dir = `${this.root}/${name}`;
    const paths = opts.paths ?? [];
    const wanted: Wanted = {
      kind: opts.kind,
      options: normaliseOptionPaths(JSON.parse(canonicalJson(opts.options)), paths),
      seed: opts.seed,
      dtype: opts.dtype ?? "F32",
      paths,
    };
    const key = await artifactKey(wanted);
    const overwrite = opts.overwrite === true;
    for (let attempt = 1;; attempt++) {
      const found = await readManifest(dir);
      if (found.status === "ok" && sameArtifact(found.manifest, key, wanted)) {
        await removeDeadTemps(dir);
        return new Artifact(dir, found.manifest, { rewrite: overwrite });
      }
      if (found.status !== "absent") {
        if (!overwrite) {
          throw new StoreError(
            found.status === "ok"
              ? `Refusing to overwrite ${dir}: it was made with ${
                describeDifference(found.manifest, wanted)
              }. Use another name, or pass overwrite (--overwrite) to replace it.`
              : `${dir}/manifest.json is not a valid artifact manifest (${found.reason}). ` +
                `Pass overwrite (--overwrite) to replace the artifact ${dir}.`,
          );
        }
        // Another worker of this overwrite may have replaced it already: join that one.
        const now = await readManifest(dir);
        if (now.status === "ok" && sameArtifact(now.manifest, key, wanted)) continue;
        await removeArtifactDir(dir);
      }
      await Deno.mkdir(dir, { recursive: true });
      const manifest: Manifest = {
        format: "mgd3-artifact",
        name,
        kind: wanted.kind,
        options: wanted.options,
        seed: wanted.seed,
        key,
        dtype: wanted.dtype,
        code: await codeVersion(),
        created: new Date().toISOString(),
      };
      if (await createExclusive(`${dir}/manifest.json`, encodeJson(manifest))) {
        await removeDeadTemps(dir); // e.g. the manifest of a writer killed before it got here
        return new Artifact(dir, manifest);
      }
      // Another writer created the manifest since we looked: compare with theirs.
      if (attempt >= CREATE_ATTEMPTS) {
        throw new StoreError(
          `Cannot create ${dir}: other writers keep replacing it (${attempt} attempts)`,
        );
      }
    }
  }

  /**
   * Opens an existing artifact for reading; throws naming the path when absent or corrupt,
   * or, given `expect`, when its kind is not one the reader takes (naming the artifact, the
   * kind found and the kinds expected).
   */
  async open(name: string, expect?: OpenExpect): Promise<Artifact> {
    const manifest = await this.readManifest(name);
    const kinds = typeof expect?.kind === "string" ? [expect.kind] : expect?.kind;
    if (expect && kinds && !kinds.includes(manifest.kind)) {
      throw new StoreError(
        `Artifact '${name}' (${this.root}/${name}) is a '${manifest.kind}' artifact; ` +
          `${expect.reader} expects ${kinds.map((k) => `'${k}'`).join(" or ")}`,
      );
    }
    return new Artifact(`${this.root}/${name}`, manifest);
  }

  /** Whether an artifact exists (has a manifest); throws when the manifest is corrupt. */
  async has(name: string): Promise<boolean> {
    return (await this.readManifest(name, false)) !== null;
  }

  private async readManifest(name: string): Promise<Manifest>;
  private async readManifest(name: string, required: false): Promise<Manifest | null>;
  private async readManifest(name: string, required = true): Promise<Manifest | null> {
    checkName(name, "artifact name", NAME_RE);
    const dir = `${this.root}/${name}`;
    const found = await readManifest(dir);
    if (found.status === "ok") return found.manifest;
    if (found.status === "corrupt") {
      throw new StoreError(
        `${dir}/manifest.json is not a valid artifact manifest (${found.reason}); ` +
          `re-run the stage that writes '${name}' with --overwrite to replace it`,
      );
    }
    if (!required) return null;
    throw new StoreError(
      `No artifact '${name}' in store ${this.root} (${dir}/manifest.json missing)`,
    );
  }
}

/**
 * The identity of an artifact: SHA-256 (hex) of the canonical JSON of kind, options and seed.
 *
 * @example
 * ```ts
 * import { artifactKey } from "./store.ts";
 * await artifactKey({ kind: "modes", options: { k: 10 }, seed: 0 }); // "9c1f..."
 * ```
 */
export async function artifactKey(p: Provenance): Promise<string> {
  return await sha256Hex(canonicalJson({ kind: p.kind, options: p.options, seed: p.seed }));
}

/** Removes an artifact directory: renamed away first, so readers see the old one or none. */
async function removeArtifactDir(dir: string): Promise<void> {
  const trash = `${dir}.replaced-${Date.now()}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.rename(dir, trash);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return; // another writer replaced it already
    throw e;
  }
  await Deno.remove(trash, { recursive: true });
}

async function ensureNotFile(root: string): Promise<void> {
  try {
    if (!(await Deno.stat(root)).isDirectory) {
      throw new StoreError(`Store root ${root} exists and is not a directory`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
