/**
 * `mgd3 discover`: modes per class from a latents artifact (a thin wrapper over
 * `discover()` in stages/discover.ts).
 *
 * @module
 */
import { discover } from "../stages/discover.ts";
import { MODE_METHODS } from "../stages/modes/mod.ts";
import type { DiscoverModesOptions } from "../stages/modes/mod.ts";
import { parseShard } from "../stages/store/shard.ts";
import { Store } from "../stages/store/store.ts";
import { type Command, UsageError } from "./command.ts";
import { intFlag, numberOrAuto, OUT_FLAG, OVERWRITE_FLAG, STORE_FLAG } from "./_flags.ts";

/** The `discover` command. */
export const discoverCommand: Command = {
  name: "discover",
  summary:
    "Find k = IPC modes per class in the VAE latents (k-means by default; Table 7 variants).",
  flags: {
    store: STORE_FLAG,
    latents: { type: "string", description: "latents artifact (from encode)" },
    out: OUT_FLAG,
    method: {
      type: "string",
      default: "kmeans",
      choices: MODE_METHODS,
      description: "mode-discovery method",
    },
    ipc: { type: "string", default: "10", description: "images per class = modes per class k" },
    seed: {
      type: "string",
      default: "0",
      description: "seed (sklearn random_state=0 in the paper)",
    },
    eps: { type: "string", description: "DBSCAN eps, or 'auto' (median k-distance)" },
    "min-samples": { type: "string", description: "DBSCAN min_samples" },
    gamma: { type: "string", description: "spectral RBF gamma, or 'auto'" },
    shard: { type: "string", default: "0/1", description: "this worker's classes, i/n" },
    overwrite: OVERWRITE_FLAG,
  },
  positionals: [],
  epilog:
    "Example: mgd3 discover --latents latents/imagenette-train --out modes/kmeans-ipc10 --ipc 10",
  async run(v) {
    if (!v.latents || !v.out) {
      throw new UsageError("mgd3 discover: --latents and --out are required");
    }
    const method = v.method as DiscoverModesOptions["method"];
    const k = intFlag("ipc", v.ipc as string, 1);
    const seed = intFlag("seed", v.seed as string, 0);
    const modes = { method, k, seed } as Record<string, unknown>;
    if (v.eps !== undefined) modes.eps = numberOrAuto("eps", v.eps as string);
    if (v["min-samples"] !== undefined) {
      modes.minSamples = intFlag("min-samples", v["min-samples"] as string, 1);
    }
    if (v.gamma !== undefined) modes.gamma = numberOrAuto("gamma", v.gamma as string);
    const store = await Store.open(v.store as string);
    const r = await discover(store, {
      latents: v.latents as string,
      out: v.out as string,
      modes: modes as unknown as DiscoverModesOptions,
      shard: parseShard(v.shard as string),
      overwrite: Boolean(v.overwrite),
    });
    for (const b of r.redone) console.error(`${r.artifact}: redid broken ${b.shard}: ${b.reason}`);
    console.log(
      `${r.artifact}: wrote ${r.written.length} classes, skipped ${r.skipped.length} finished, ${
        r.seconds.toFixed(1)
      } s`,
    );
  },
};
