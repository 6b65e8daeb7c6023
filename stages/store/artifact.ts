/**
 * One artifact of the store: its manifest, its shards (written with a recorded SHA-256,
 * verified before a run skips them and whenever they are read) and its other files.
 *
 * @module
 */
import { decodeSafetensors, encodeSafetensors } from "../../models/io/safetensors.ts";
import { castFloat, type Tensor, toFloat32 } from "../../models/core/tensor.ts";
import { canonicalJson } from "../../models/core/hash.ts";
import { codeVersion, formatVersion } from "./version.ts";
import { writeAtomic } from "./temp_files.ts";
import { type Manifest, readManifest } from "./_manifest.ts";
import { CHECKSUM_SUFFIX, checksumText, parseChecksum, shardProblem } from "./_verify.ts";
import { checkName, encodeJson, NAME_RE, SHARD_RE } from "./_names.ts";
import { StoreError } from "./store_error.ts";

/** A shard found broken when a run resumed, and why; the run removed and redid it. */
export interface BrokenShard {
  /** The shard's name. */
  shard: string;
  /** What was wrong with it. */
  reason: string;
}

/** What {@link Artifact.verifyShard} found. */
export type ShardCheck =
  | { status: "ok" }
  | { status: "missing" }
  | { status: "broken"; reason: string };

/** One artifact: a manifest plus shards and files. Obtain it from {@link Store}. */
export class Artifact {
  /** Shards that {@link finished} found broken, removed and left to be redone. */
  readonly redone: BrokenShard[] = [];
  private readonly rewrite: boolean;

  /**
   * An artifact in directory `dir` described by `manifest`; with `rewrite`, no shard counts
   * as finished (the writer was asked to overwrite).
   */
  constructor(
    readonly dir: string,
    readonly manifest: Manifest,
    { rewrite = false }: { rewrite?: boolean } = {},
  ) {
    this.rewrite = rewrite;
  }

  /** Path of a shard's safetensors file. */
  shardPath(shard: string): string {
    checkName(shard, "shard name", SHARD_RE);
    return `${this.dir}/${shard}.safetensors`;
  }

  /** True when the shard's file exists (writes are atomic); {@link finished} also verifies it. */
  async hasShard(shard: string): Promise<boolean> {
    try {
      return (await Deno.stat(this.shardPath(shard))).isFile;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  }

  /**
   * Whether a run may skip this shard: true when it exists and verifies (see
   * {@link verifyShard}). False when it is missing, when the artifact was opened with
   * `overwrite`, or when it is broken: then the shard is removed and listed in
   * {@link redone}, so that the run writes it again and its report can say so.
   */
  async finished(shard: string): Promise<boolean> {
    if (this.rewrite) return false;
    const check = await this.verifyShard(shard);
    if (check.status === "ok") return true;
    if (check.status === "broken") {
      this.redone.push({ shard, reason: check.reason });
      await Deno.remove(this.shardPath(shard)).catch(() => {});
      await Deno.remove(this.shardPath(shard) + CHECKSUM_SUFFIX).catch(() => {});
    }
    return false;
  }

  /**
   * Verifies a shard file: it parses as safetensors, its tensors fill the file exactly, its
   * SHA-256 matches the one recorded when it was written (when recorded), and it carries the
   * artifact's key and its own name. Costs one read of the file and one SHA-256 of it.
   */
  async verifyShard(shard: string): Promise<ShardCheck> {
    const bytes = await this.readBytes(shard);
    if (!bytes) return { status: "missing" };
    const reason = await this.problem(shard, bytes);
    return reason === null ? { status: "ok" } : { status: "broken", reason };
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
   * Writes one shard atomically, its SHA-256 first (beside it, atomically too). Float tensors
   * are stored in the artifact's dtype; the file's safetensors metadata carries the
   * artifact's provenance and `extra` (strings). Throws when another writer replaced the
   * artifact (with other options) since it was opened.
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
    const bytes = encodeSafetensors(out, {
      ...extra,
      "mgd3.artifact": m.name,
      "mgd3.kind": m.kind,
      "mgd3.key": m.key,
      "mgd3.options": canonicalJson(m.options),
      "mgd3.seed": String(m.seed),
      "mgd3.code": formatVersion(code),
      "mgd3.shard": shard,
    });
    await this.checkStillOurs(`shard '${shard}'`);
    // Checksum first: a crash between the two leaves a shard missing, never one unrecorded.
    await writeAtomic(path + CHECKSUM_SUFFIX, checksumText(bytes, `${shard}.safetensors`));
    await writeAtomic(path, bytes);
  }

  /**
   * Reads a shard. Float tensors come back as F32. Throws when the shard is missing, does not
   * verify (see {@link verifyShard}), or was written for another artifact key.
   */
  async readShard(
    shard: string,
  ): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }> {
    const path = this.shardPath(shard);
    const bytes = await this.readBytes(shard);
    if (!bytes) {
      throw new StoreError(
        `Shard '${shard}' of ${this.dir} is missing (${path}); run the stage that writes it`,
      );
    }
    const reason = await this.problem(shard, bytes);
    if (reason !== null) {
      throw new StoreError(
        `${path} is broken: ${reason}. Re-run the stage that writes '${this.manifest.name}': ` +
          `it redoes shards that do not verify`,
      );
    }
    const { tensors, metadata } = decodeSafetensors(bytes, path);
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
    if (
      name === "manifest.json" || name.endsWith(".safetensors") ||
      name.endsWith(`.safetensors${CHECKSUM_SUFFIX}`)
    ) {
      throw new StoreError(`File name '${name}' is reserved; use writeShard for tensors`);
    }
    const path = `${this.dir}/${name}`;
    const slash = name.lastIndexOf("/");
    if (slash > 0) await Deno.mkdir(`${this.dir}/${name.slice(0, slash)}`, { recursive: true });
    await writeAtomic(path, typeof data === "string" ? new TextEncoder().encode(data) : data);
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

  private async readBytes(shard: string): Promise<Uint8Array | null> {
    try {
      return await Deno.readFile(this.shardPath(shard));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
  }

  private async problem(shard: string, bytes: Uint8Array): Promise<string | null> {
    const sumPath = this.shardPath(shard) + CHECKSUM_SUFFIX;
    let checksum: string | null = null;
    try {
      checksum = parseChecksum(await Deno.readTextFile(sumPath)) ?? "unreadable";
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return shardProblem(bytes, this.shardPath(shard), {
      shard,
      key: this.manifest.key,
      checksum,
    });
  }

  /** Throws when the manifest on disk is no longer this artifact's (another writer replaced it). */
  private async checkStillOurs(what: string): Promise<void> {
    const found = await readManifest(this.dir);
    if (found.status === "ok" && found.manifest.key === this.manifest.key) return;
    throw new StoreError(
      `Not writing ${what} of ${this.dir}: another writer ${
        found.status === "absent" ? "removed the artifact" : "replaced the artifact"
      } since this run opened it (its manifest ${
        found.status === "ok" ? `now has key ${found.manifest.key}` : "is gone or unreadable"
      }); this run's options no longer match it`,
    );
  }
}
