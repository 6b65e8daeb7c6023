/**
 * Runs one planned unit with the toolkit's stages (encode, discover, select, sample, decode,
 * trainTeacher, hardLabelEval, softLabelEval, measure), and tells whether a unit is already
 * complete in the store (so a rerun skips it without loading images or models, and a worker
 * of a sharded run knows when another worker's output is ready).
 *
 * @module
 */
import type { Artifact, Store } from "../../stages/store/store.ts";
import { artifactKey } from "../../stages/store/store.ts";
import { encode } from "../../stages/encode.ts";
import { discover } from "../../stages/discover.ts";
import { sample } from "../../stages/sample.ts";
import { decode, DECODE_DEFAULTS } from "../../stages/decode.ts";
import type { Shard } from "../../stages/store/shard.ts";
import { type EpochInfo, hardLabelEval } from "../protocols/hard_label.ts";
import { softLabelEval } from "../protocols/soft_label.ts";
import { trainTeacher } from "../protocols/teacher.ts";
import { measure } from "../measure.ts";
import type { Scale } from "../protocols/hard_label_protocol.ts";
import { selectReal } from "./select_real.ts";
import type { TableModels } from "./setup.ts";
import type { Unit } from "./units.ts";

/**
 * The distilled ImageFolder an eval unit trains on.
 *
 * @example
 * ```ts
 * import { imagesOf } from "./execute.ts";
 * imagesOf(store, "cpu/m1/distilled/imagenette/x-s0"); // "<store>/cpu/m1/distilled/imagenette/x-s0/images"
 * ```
 */
export function imagesOf(store: Store, artifact: string): string {
  return `${store.root}/${artifact}/images`;
}

/**
 * Observers of a unit's run (profiling): they see progress, they change nothing.
 *
 * @example
 * ```ts
 * import type { UnitHooks } from "./execute.ts";
 * const hooks: UnitHooks = { onEpoch: (e) => console.log(e.epoch, e.top1) };
 * ```
 */
export interface UnitHooks {
  /** Called after every epoch of a hard-label evaluation unit (validated or not). */
  onEpoch?: (e: EpochInfo) => void;
}

/**
 * Runs a unit; class-level stages run the classes of `shard` (finished classes skipped).
 *
 * @example
 * ```ts
 * import { executeUnit } from "./execute.ts";
 * for (const u of plan.units) await executeUnit(store, models, u, { index: 0, count: 1 }, "cpu");
 * ```
 */
export async function executeUnit(
  store: Store,
  models: TableModels,
  u: Unit,
  shard: Shard,
  scale: Scale,
  hooks: UnitHooks = {},
): Promise<void> {
  switch (u.kind) {
    case "encode":
      await encode(store, models, { data: u.data, classes: u.classList, out: u.id, shard });
      return;
    case "discover":
      await discover(store, {
        latents: u.latents,
        out: u.id,
        modes: u.modes,
        shard,
        overwrite: false,
      });
      return;
    case "select":
      await selectReal(store, {
        latents: u.latents,
        modes: u.modes,
        out: u.id,
        imageSize: models.codec.imageSize,
        shard,
      });
      return;
    case "sample":
      await sample(store, models, {
        modes: u.modes,
        out: u.id,
        method: u.recipe.sampler,
        guidance: u.recipe.guidance,
        strength: u.recipe.strength,
        seed: u.seed,
        shard,
      });
      return;
    case "decode":
      await decode(store, models.codec, {
        ...DECODE_DEFAULTS,
        samples: u.samples,
        out: u.id,
        shard,
      });
      return;
    case "teacher":
      await trainTeacher(store, {
        name: u.id,
        scale,
        train: u.train,
        val: u.val,
        classes: u.classList,
        seed: 0,
        epochs: u.epochs,
        imageSize: u.imageSize,
      });
      return;
    case "eval": {
      const common = {
        name: u.id,
        scale,
        train: imagesOf(store, u.images),
        val: u.val,
        classes: u.classList,
        seeds: [u.seed],
        epochs: u.epochs,
        imageSize: u.imageSize,
      };
      if (u.protocol === "hard") {
        await hardLabelEval(store, {
          ...common,
          model: u.network,
          evalEvery: u.evalEvery,
          ...(hooks.onEpoch ? { onEpoch: hooks.onEpoch } : {}),
        });
      } else await softLabelEval(store, { ...common, student: u.network, teacher: u.teacher! });
      return;
    }
    case "measure":
      await measure(store, {
        latents: u.latents,
        samples: u.samples,
        modes: u.modes,
        out: u.id,
        embedding: "tsne",
        seed: u.seed,
      });
      return;
  }
}

/**
 * Whether a unit's artifact is complete: every class shard written (class-level stages), the
 * results written with the options the plan asks for (evaluations, teacher), the metrics
 * written from exactly these samples (measure).
 *
 * @example
 * ```ts
 * import { isComplete } from "./execute.ts";
 * if (await isComplete(store, unit)) console.log(`${unit.id}: done`);
 * ```
 */
/** Artifacts (dir and key) whose shards all verified once in this process. */
const VERIFIED = new Set<string>();

/**
 * Whether a class-level artifact has `classes` shards that all verify (parse, sizes, SHA-256,
 * key), so a unit with a broken shard is run again (its stage redoes that shard). Each artifact
 * is verified once per process; later checks (the runner polls) are free.
 */
async function shardsVerify(art: Artifact, classes: number): Promise<boolean> {
  const id = `${art.dir}#${art.manifest.key}`;
  if (VERIFIED.has(id)) return true;
  const shards = await art.shards();
  if (shards.length < classes) return false;
  for (const s of shards) if ((await art.verifyShard(s)).status !== "ok") return false;
  VERIFIED.add(id);
  return true;
}

export async function isComplete(store: Store, u: Unit): Promise<boolean> {
  if (!(await store.has(u.id))) return false;
  const art = await store.open(u.id);
  if (u.classLevel) return await shardsVerify(art, u.classes);
  const results = await readJson(`${art.dir}/${u.kind === "measure" ? "table9" : "results"}.json`);
  if (!results) return false;
  if (u.kind === "teacher") return await art.hasShard("teacher");
  if (u.kind === "measure") {
    const key = async (name: string) => (await store.open(name)).manifest.key;
    const samples: Record<string, string> = {};
    for (const [m, a] of Object.entries(u.samples)) samples[m] = await key(a);
    const options = {
      latentsKey: await key(u.latents),
      samples,
      modesKey: await key(u.modes),
      embedding: "tsne",
    };
    return art.manifest.key === await artifactKey({ kind: "metrics", options, seed: u.seed });
  }
  if (u.kind !== "eval") return false;
  const o = (results.provenance as { options?: Record<string, unknown> } | undefined)?.options;
  const p = o?.protocol as { epochs?: number; imageSize?: number; evalEvery?: number } | undefined;
  return !!o && !!p &&
    (u.protocol === "hard" ? o.model : o.student) === u.network &&
    JSON.stringify(o.train) === JSON.stringify([imagesOf(store, u.images)]) &&
    o.val === u.val &&
    JSON.stringify(o.seeds) === JSON.stringify([u.seed]) &&
    p.epochs === u.epochs &&
    p.imageSize === u.imageSize &&
    (u.evalEvery === undefined || p.evalEvery === u.evalEvery);
}

/**
 * The best top-1 of a finished eval unit (its single run).
 *
 * @example
 * ```ts
 * import { evalTop1 } from "./execute.ts";
 * const top1 = await evalTop1(store, "cpu/m1/eval/imagenette/x/resnetap-10-e40-px64-s0"); // 61.2
 * ```
 */
export async function evalTop1(store: Store, unit: string): Promise<number | null> {
  const r = await readJson(`${store.root}/${unit}/results.json`);
  return typeof r?.mean === "number" ? r.mean : null;
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}
