/**
 * The latent store: the only channel between pipeline stages.
 *
 * Layout on disk (every tensor file is plain safetensors, every manifest plain JSON):
 * ```
 * <root>/store.json                          {"format": "mgd3-store", "version": 1}
 * <root>/<artifact>/manifest.json            kind, options, seed, code version, key
 * <root>/<artifact>/<shard>.safetensors      one shard (e.g. one class), stamped the same way
 * <root>/<artifact>/<file>                   other outputs (PNG, JSON, markdown)
 * ```
 * An artifact is identified by its kind, options and seed (the "key", a SHA-256 of their
 * canonical JSON). Re-running a stage with the same key resumes: finished shards are skipped.
 * A different key refuses to touch the artifact unless `overwrite: true` is given. Shards
 * are written to a temporary name and renamed, so a crash never leaves half a file, and the
 * shard files themselves (not a shared list) record what is finished, so several machines
 * can write different shards of one artifact at the same time.
 *
 * @module
 */
import { readSafetensors, writeFileAtomic, writeSafetensors } from "../../models/io/safetensors.ts";
import { castFloat, type Tensor, toFloat32 } from "../../models/core/tensor.ts";
import { type CodeVersion, codeVersion, formatVersion } from "./version.ts";
import { canonicalJson, sha256Hex } from "../../models/core/hash.ts";

/** Format tag and version written to `store.json`. */
export const STORE_FORMAT = { format: "mgd3-store", version: 1 } as const;

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;
const SHARD_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** What an artifact was made by: stamped in its manifest and in every shard file. */
export interface Provenance {
  /** What kind of artifact this is, e.g. "latents", "modes", "samples". */
  kind: string;
  /** The stage options that determine the content (JSON-serialisable). */
  options: Record<string, unknown>;
  /** The seed of the run (null when the stage is deterministic without one). */
  seed: number | null;
}

/** Contents of `<artifact>/manifest.json`. */
export interface Manifest extends Provenance {
  /** Format tag of a manifest. */
  format: "mgd3-artifact";
  /** The artifact's name (its path under the store root). */
  name: string;
  /** SHA-256 of the canonical JSON of {kind, options, seed}. */
  key: string;
  /** Storage dtype of float tensors in the shards. */
  dtype: "F32" | "F16";
  /** Version of the code that created the artifact. */
  code: CodeVersion;
  /** When the artifact was created (ISO 8601). */
  created: string;
}

/** Options for {@link Store.artifact}. */
export interface ArtifactOptions extends Provenance {
  /** Storage dtype of float tensors (default F32). F16 halves the size of latents. */
  dtype?: "F32" | "F16";
  /** Replace an existing artifact that was made with other options (default false). */
  overwrite?: boolean;
}

/** Error for a store that cannot be used as asked; the message names the path. */
export class StoreError extends Error {
  /** A store error with the given message. */
  constructor(message: string) {
    super(message);
    this.name = "StoreError";
  }
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
 * if (!(await latents.hasShard("class-000"))) {
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
      await writeFileAtomic(marker, encodeJson(STORE_FORMAT));
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
   * manifest: the artifact is returned as is and finished shards can be skipped. Otherwise
   * a {@link StoreError} explains the difference, unless `overwrite` is set, in which case
   * the old artifact is removed first.
   */
  async artifact(name: string, opts: ArtifactOptions): Promise<Artifact> {
    checkName(name, "artifact name", NAME_RE);
    const dir = `${this.root}/${name}`;
    const key = await artifactKey(opts);
    const existing = await readManifest(dir);
    if (existing) {
      if (existing.key === key && existing.dtype === (opts.dtype ?? "F32")) {
        return new Artifact(dir, existing);
      }
      if (!opts.overwrite) {
        throw new StoreError(
          `Refusing to overwrite ${dir}: it was made with ${describeDifference(existing, opts)}. ` +
            `Use another name, or pass overwrite (--overwrite) to replace it.`,
        );
      }
      const trash = `${dir}.replaced-${Date.now()}`;
      await Deno.rename(dir, trash); // atomic: readers see the old artifact or none
      await Deno.remove(trash, { recursive: true });
    }
    await Deno.mkdir(dir, { recursive: true });
    const manifest: Manifest = {
      format: "mgd3-artifact",
      name,
      kind: opts.kind,
      options: JSON.parse(canonicalJson(opts.options)),
      seed: opts.seed,
      key,
      dtype: opts.dtype ?? "F32",
      code: await codeVersion(),
      created: new Date().toISOString(),
    };
    await writeFileAtomic(`${dir}/manifest.json`, encodeJson(manifest));
    return new Artifact(dir, manifest);
  }

  /** Opens an existing artifact for reading; throws naming the path when absent. */
  async open(name: string): Promise<Artifact> {
    checkName(name, "artifact name", NAME_RE);
    const dir = `${this.root}/${name}`;
    const manifest = await readManifest(dir);
    if (!manifest) {
      throw new StoreError(
        `No artifact '${name}' in store ${this.root} (${dir}/manifest.json missing)`,
      );
    }
    return new Artifact(dir, manifest);
  }

  /** Whether an artifact exists (has a manifest). */
  async has(name: string): Promise<boolean> {
    checkName(name, "artifact name", NAME_RE);
    return (await readManifest(`${this.root}/${name}`)) !== null;
  }
}

/** One artifact: a manifest plus shards and files. Obtain it from {@link Store}. */
export class Artifact {
  /** An artifact in directory `dir` described by `manifest`. */
  constructor(readonly dir: string, readonly manifest: Manifest) {}

  /** Path of a shard's safetensors file. */
  shardPath(shard: string): string {
    checkName(shard, "shard name", SHARD_RE);
    return `${this.dir}/${shard}.safetensors`;
  }

  /** True when the shard has been written completely (writes are atomic). */
  async hasShard(shard: string): Promise<boolean> {
    try {
      return (await Deno.stat(this.shardPath(shard))).isFile;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  }

  /** Names of the finished shards, sorted. */
  async shards(): Promise<string[]> {
    const names: string[] = [];
    for await (const e of Deno.readDir(this.dir)) {
      if (e.isFile && e.name.endsWith(".safetensors")) names.push(e.name.slice(0, -12));
    }
    return names.sort();
  }

  /**
   * Writes one shard atomically. Float tensors are stored in the artifact's dtype; the file's
   * safetensors metadata carries the artifact's provenance and `extra` (strings).
   */
  async writeShard(
    shard: string,
    tensors: Record<string, Tensor> | Map<string, Tensor>,
    extra: Record<string, string> = {},
  ): Promise<void> {
    const path = this.shardPath(shard);
    const m = this.manifest;
    const out = new Map<string, Tensor>();
    for (const [k, t] of tensors instanceof Map ? tensors : Object.entries(tensors)) {
      const isFloat = t.dtype === "F32" || t.dtype === "F16" || t.dtype === "BF16";
      out.set(k, isFloat && t.dtype !== m.dtype ? castFloat(toFloat32(t), t.shape, m.dtype) : t);
    }
    const code = await codeVersion();
    await writeSafetensors(path, out, {
      ...extra,
      "mgd3.artifact": m.name,
      "mgd3.kind": m.kind,
      "mgd3.key": m.key,
      "mgd3.options": canonicalJson(m.options),
      "mgd3.seed": String(m.seed),
      "mgd3.code": formatVersion(code),
      "mgd3.shard": shard,
    });
  }

  /**
   * Reads a shard. Float tensors come back as F32. Throws when the shard is missing or was
   * written for another artifact key (a mismatched store).
   */
  async readShard(
    shard: string,
  ): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }> {
    const path = this.shardPath(shard);
    if (!(await this.hasShard(shard))) {
      throw new StoreError(
        `Shard '${shard}' of ${this.dir} is missing (${path}); run the stage that writes it`,
      );
    }
    const { tensors, metadata } = await readSafetensors(path);
    if (metadata["mgd3.key"] !== this.manifest.key) {
      throw new StoreError(
        `${path} was written with key ${
          metadata["mgd3.key"] ?? "(none)"
        }, but ${this.dir}/manifest.json ` +
          `has key ${this.manifest.key}: the store is mismatched; re-run the stage with --overwrite`,
      );
    }
    const out = new Map<string, Tensor>();
    for (const [k, t] of tensors) {
      const isFloat = t.dtype === "F16" || t.dtype === "BF16";
      out.set(k, isFloat ? { dtype: "F32", shape: t.shape, data: toFloat32(t) } : t);
    }
    return { tensors: out, metadata };
  }

  /** Writes another output file (JSON, markdown, PNG) atomically inside the artifact. */
  async writeFile(name: string, data: Uint8Array | string): Promise<string> {
    checkName(name, "file name", NAME_RE);
    if (name === "manifest.json" || name.endsWith(".safetensors")) {
      throw new StoreError(`File name '${name}' is reserved; use writeShard for tensors`);
    }
    const path = `${this.dir}/${name}`;
    const slash = name.lastIndexOf("/");
    if (slash > 0) await Deno.mkdir(`${this.dir}/${name.slice(0, slash)}`, { recursive: true });
    await writeFileAtomic(path, typeof data === "string" ? new TextEncoder().encode(data) : data);
    return path;
  }

  /** Writes a JSON file with the artifact's provenance added under `provenance`. */
  async writeJson(name: string, value: Record<string, unknown>): Promise<string> {
    const { kind, options, seed, key, code } = this.manifest;
    const stamped = {
      ...value,
      provenance: { artifact: this.manifest.name, kind, options, seed, key, code },
    };
    return await this.writeFile(name, new TextDecoder().decode(encodeJson(stamped)));
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

async function readManifest(dir: string): Promise<Manifest | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/manifest.json`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  try {
    const m = JSON.parse(text) as Manifest;
    if (m.format !== "mgd3-artifact" || typeof m.key !== "string") {
      throw new Error("not an mgd3 manifest");
    }
    return m;
  } catch (e) {
    throw new StoreError(
      `${dir}/manifest.json is not a valid artifact manifest (${(e as Error).message})`,
    );
  }
}

function describeDifference(m: Manifest, p: ArtifactOptions): string {
  const diffs: string[] = [];
  if (m.kind !== p.kind) diffs.push(`kind ${m.kind} (now ${p.kind})`);
  if (m.seed !== p.seed) diffs.push(`seed ${m.seed} (now ${p.seed})`);
  if (m.dtype !== (p.dtype ?? "F32")) diffs.push(`dtype ${m.dtype} (now ${p.dtype ?? "F32"})`);
  const now = JSON.parse(canonicalJson(p.options)) as Record<string, unknown>;
  for (const k of new Set([...Object.keys(m.options), ...Object.keys(now)])) {
    const a = JSON.stringify(m.options[k]);
    const b = JSON.stringify(now[k]);
    if (a !== b) diffs.push(`${k}=${a ?? "(unset)"} (now ${b ?? "(unset)"})`);
  }
  return diffs.length ? diffs.join(", ") : "other options";
}

function checkName(name: string, what: string, re: RegExp): void {
  if (!re.test(name) || name.split("/").some((p) => p === "." || p === "..")) {
    throw new StoreError(
      `Invalid ${what} '${name}': use letters, digits, '.', '_', '-'${
        re === NAME_RE ? " and '/'" : ""
      }`,
    );
  }
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

function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n");
}
