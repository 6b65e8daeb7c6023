/**
 * Stage `discover`: the modes of each class (SPEC section 1 step 2): k = IPC modes per class
 * on the flattened latents, by k-means (default: the raw centroids) or a paper Table 7
 * variant. One shard per class holds `modes` [k, C, h, w], plus `indices` [k] (I64) for
 * methods that pick real samples (closest, random, herding), and `assignment` [n] (I32, -1 =
 * no cluster) where the method clusters.
 *
 * @module
 */
import type { BrokenShard, Store } from "./store/store.ts";
import { discoverModes, type DiscoverModesOptions } from "./modes/mod.ts";
import { ALL, type Shard } from "./store/shard.ts";
import { withDefaults } from "./_defaults.ts";
import { createProgress } from "./progress.ts";

/** Options of {@link discover}. */
export interface DiscoverOptions {
  /** Latents artifact to read (from `encode`). */
  latents: string;
  /** Artifact to write. */
  out: string;
  /** Method and its options; k = IPC (SPEC section 1); seed 0 as sklearn's random_state=0. */
  modes: DiscoverModesOptions;
  /** Classes handled by this worker. */
  shard: Shard;
  /** Replace an artifact made with other options. */
  overwrite: boolean;
  /**
   * Stops the stage between two shards (or batches) when aborted; what is written stays valid
   * and a rerun resumes. Not part of the artifact's options.
   */
  signal?: AbortSignal;
}

/** What {@link discover} did. */
export interface DiscoverReport {
  /** Name of the artifact written. */
  artifact: string;
  /** Class shards written by this call. */
  written: string[];
  /** Class shards skipped because the artifact already had them. */
  skipped: string[];
  /** Class shards found broken (truncated, corrupt, from another key) and written again. */
  redone: BrokenShard[];
  /** Per written class: method details (iterations, inertia, cluster-count rule). */
  details: Record<string, unknown>;
  /** Wall-clock seconds the call took. */
  seconds: number;
}

/**
 * Finds k modes per class shard of a latents artifact.
 *
 * @example
 * ```ts
 * import { discover } from "./discover.ts";
 * import { ALL } from "./store/shard.ts";
 * await discover(store, { latents: "latents/imagenette-train", out: "modes/kmeans-ipc10",
 *   modes: { method: "kmeans", k: 10, seed: 0 }, shard: ALL, overwrite: false });
 * ```
 */
export async function discover(
  store: Store,
  options: Pick<DiscoverOptions, "latents" | "out" | "modes"> & Partial<DiscoverOptions>,
): Promise<DiscoverReport> {
  const o = withDefaults<DiscoverOptions>({ shard: ALL, overwrite: false }, options);
  const start = performance.now();
  const latents = await store.open(o.latents, {
    kind: "latents",
    reader: "discover option latents (--latents)",
  });
  const out = await store.artifact(o.out, {
    kind: "modes",
    options: {
      modes: o.modes as unknown as Record<string, unknown>,
      latentsKey: latents.manifest.key,
    },
    seed: o.modes.seed ?? 0,
    overwrite: o.overwrite,
  });
  const names = await latents.shards();
  const report: DiscoverReport = {
    artifact: o.out,
    written: [],
    skipped: [],
    redone: out.redone,
    details: {},
    seconds: 0,
  };
  const progress = createProgress(`discover ${o.modes.method} k=${o.modes.k}`, names.length);
  for (const [j, name] of names.entries()) {
    if (j % o.shard.count !== o.shard.index) continue;
    o.signal?.throwIfAborted();
    if (await out.finished(name)) {
      report.skipped.push(name);
      progress.tick();
      continue;
    }
    const { tensors, metadata } = await latents.readShard(name);
    const z = tensors.get("latents");
    if (!z) throw new Error(`${latents.shardPath(name)} has no 'latents' tensor`);
    const [n, ...shape] = z.shape;
    const d = shape.reduce((a, b) => a * b, 1);
    let r;
    try {
      r = discoverModes(z.data as Float32Array, n, d, o.modes);
    } catch (e) {
      throw new Error(
        `Class ${metadata.name ?? name} (${latents.shardPath(name)}): ${(e as Error).message}`,
      );
    }
    const k = o.modes.k;
    const outTensors: Record<
      string,
      {
        dtype: "F32" | "I64" | "I32";
        shape: number[];
        data: Float32Array | BigInt64Array | Int32Array;
      }
    > = {
      modes: { dtype: "F32", shape: [k, ...shape], data: r.modes },
    };
    if (r.indices) {
      outTensors.indices = {
        dtype: "I64",
        shape: [k],
        data: BigInt64Array.from(r.indices, BigInt),
      };
    }
    if (r.assignment) outTensors.assignment = { dtype: "I32", shape: [n], data: r.assignment };
    await out.writeShard(name, outTensors, {
      class: metadata.class ?? "",
      name: metadata.name ?? name,
      details: JSON.stringify({ ...r.details, inertia: r.inertia ?? null }),
    });
    report.details[name] = { ...r.details, inertia: r.inertia ?? null };
    report.written.push(name);
    progress.tick();
  }
  progress.done();
  report.seconds = (performance.now() - start) / 1000;
  return report;
}
