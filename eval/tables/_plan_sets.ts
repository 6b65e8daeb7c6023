/**
 * The distilled sets of a table cell, by step: the dataset's encode unit, then the sets of a
 * real-image row (selected per seed) or of a sampled row (modes, then samples and their
 * decoded images per seed), and Fig. 6's metrics unit over the samples; {@link PlanBuilder}
 * collects the units in dependency order. `plan.ts` decides which cells run and calls these.
 *
 * @module
 */
import type { RealRecipe, Recipe, SampleRecipe, TableDef } from "./spec.ts";
import type { PlanContext, Unit } from "./units.ts";

/**
 * A runnable cell's inputs: its data, recipe, evaluation protocol and networks.
 *
 * @example
 * ```ts
 * import type { CellInputs } from "./_plan_sets.ts";
 * const c: CellInputs = { data: { train: "t", val: "v", classes: ["n01440764"] },
 *   recipe: { kind: "real", select: "random" }, protocol: "hard", networks: ["convnet"] };
 * ```
 */
export interface CellInputs {
  data: { train: string; val: string; classes: string[] };
  recipe: Recipe;
  protocol: "hard" | "soft";
  networks: string[];
}

/**
 * A cell's distilled sets: the set's artifact-name part and one artifact per seed.
 *
 * @example
 * ```ts
 * import type { DistilledSets } from "./_plan_sets.ts";
 * const d: DistilledSets = { setName: "random-ipc10", images: [{ seed: 0, artifact: "a" }] };
 * ```
 */
export interface DistilledSets {
  setName: string;
  images: { seed: number; artifact: string }[];
}

/**
 * A plan being built: units by id in the order first added (dependency order), and what
 * Fig. 6's metrics unit measures.
 *
 * @example
 * ```ts
 * import { PlanBuilder } from "./_plan_sets.ts";
 * const p = new PlanBuilder();
 * p.add({ kind: "decode", id: "d", deps: [], classLevel: true, classes: 10, samples: "s" }); // "d"
 * ```
 */
export class PlanBuilder {
  readonly units = new Map<string, Unit>();
  /** Fig. 6: the first seed's samples per row label, with the modes and latents they share. */
  readonly measured: Record<string, string> = {};
  measureModes: string | null = null;
  measureLatents: string | null = null;

  /** Adds `u` unless a unit with its id is already planned; returns the id. */
  add(u: Unit): string {
    if (!this.units.has(u.id)) this.units.set(u.id, u);
    return u.id;
  }
}

/**
 * The encode unit of a dataset (its class list narrowed by `--classes`).
 *
 * @example
 * ```ts
 * import { encodeUnit } from "./_plan_sets.ts";
 * const u = encodeUnit(ctx, "imagenette", { train: "t", val: "v", classes: ["n01440764"] });
 * u.id; // "cpu/m1/latents/imagenette"
 * ```
 */
export function encodeUnit(ctx: PlanContext, ds: string, data: CellInputs["data"]): Unit {
  return {
    kind: "encode",
    id: `${ctx.root}/latents/${ds}`,
    deps: [],
    classLevel: true,
    classes: data.classes.length,
    data: data.train,
    classList: data.classes,
  };
}

/**
 * Real-image rows: modes (the selection) per seed where random, then the selected images.
 *
 * @example
 * ```ts
 * import { PlanBuilder, planReal } from "./_plan_sets.ts";
 * const sets = planReal(new PlanBuilder(), ctx, "imagenette", latents,
 *   { kind: "real", select: "herding" }, 10, 10); // sets.setName === "herding-ipc10"
 * ```
 */
export function planReal(
  p: PlanBuilder,
  ctx: PlanContext,
  ds: string,
  latents: string,
  recipe: RealRecipe,
  k: number,
  C: number,
): DistilledSets {
  const setName = `${recipe.select}-ipc${k}`;
  const images: DistilledSets["images"] = [];
  for (const seed of ctx.seeds) {
    const s = recipe.select === "random" ? seed : 0; // closest and herding are deterministic
    const modes = p.add({
      kind: "discover",
      id: `${ctx.root}/modes/${ds}/${recipe.select}-ipc${k}-s${s}`,
      deps: [latents],
      classLevel: true,
      classes: C,
      latents,
      modes: { method: recipe.select, k, seed: s },
    });
    const sel = p.add({
      kind: "select",
      id: `${ctx.root}/real/${ds}/${recipe.select}-ipc${k}-s${s}`,
      deps: [latents, modes],
      classLevel: true,
      classes: C,
      latents,
      modes,
    });
    images.push({ seed, artifact: sel });
  }
  return { setName, images };
}

/**
 * Sampled rows: modes once per method (seed 0 = sklearn random_state=0), then a fresh sample
 * and its decoded images per seed. `measureAs`: the row label under which Fig. 6 measures the
 * first seed's samples (null: not measured).
 *
 * @example
 * ```ts
 * import { PlanBuilder, planSampled } from "./_plan_sets.ts";
 * const sets = planSampled(new PlanBuilder(), ctx, "imagenette", latents, recipe, 10, 10, {
 *   measureAs: null,
 * }); // sets.setName === "kmeans-ddpm-l0.1-t25-ipc10"
 * ```
 */
export function planSampled(
  p: PlanBuilder,
  ctx: PlanContext,
  ds: string,
  latents: string,
  recipe: SampleRecipe,
  k: number,
  C: number,
  o: { measureAs: string | null },
): DistilledSets {
  const modes = p.add({
    kind: "discover",
    id: `${ctx.root}/modes/${ds}/${recipe.modes}-ipc${k}-s0`,
    deps: [latents],
    classLevel: true,
    classes: C,
    latents,
    modes: { method: recipe.modes, k, seed: 0 },
  } as Unit);
  // The MinMax denoiser's sets are named by its checkpoint, so another file never collides.
  const who = recipe.denoiser === "minimax" ? `-minimax${ctx.minimax}` : "";
  const setName = `${sampleVariant(recipe)}${who}-ipc${k}`;
  const images: DistilledSets["images"] = [];
  for (const seed of ctx.seeds) {
    const samples = p.add({
      kind: "sample",
      id: `${ctx.root}/samples/${ds}/${setName}-s${seed}`,
      deps: [modes],
      classLevel: true,
      classes: C,
      modes,
      recipe,
      seed,
    });
    if (o.measureAs !== null && seed === ctx.seeds[0]) {
      p.measured[o.measureAs] = samples;
      p.measureModes = modes;
      p.measureLatents = latents;
    }
    const decoded = p.add({
      kind: "decode",
      id: `${ctx.root}/distilled/${ds}/${setName}-s${seed}`,
      deps: [samples],
      classLevel: true,
      classes: C,
      samples,
    });
    images.push({ seed, artifact: decoded });
  }
  return { setName, images };
}

/**
 * Fig. 6's metrics unit over the measured samples (null when no cell sampled).
 *
 * @example
 * ```ts
 * import { planMeasure } from "./_plan_sets.ts";
 * const measure = planMeasure(p, TABLES.fig6, ctx); // "cpu/m1/metrics/fig6-s0"
 * ```
 */
export function planMeasure(p: PlanBuilder, t: TableDef, ctx: PlanContext): string | null {
  const { measured, measureModes, measureLatents } = p;
  if (!measureLatents || !measureModes || !Object.keys(measured).length) return null;
  return p.add({
    kind: "measure",
    // Measured with the MinMax row: named by its checkpoint, beside the run without it.
    id: `${ctx.root}/metrics/${t.id}${
      Object.values(measured).some((a) => a.includes("-minimax")) ? `-minimax${ctx.minimax}` : ""
    }-s${ctx.seeds[0]}`,
    deps: [measureLatents, measureModes, ...Object.values(measured)],
    classLevel: false,
    classes: 0,
    latents: measureLatents,
    samples: measured,
    modes: measureModes,
    seed: 42, // sklearn TSNE random_state=42 (SPEC section 5)
  });
}

/**
 * The artifact-name part of a sampling recipe, e.g. "kmeans-ddpm-l0.1-t25" or
 * "kmeans-ddpm-noguide-d4m0.7".
 *
 * @example
 * ```ts
 * import { sampleVariant } from "./_plan_sets.ts";
 * sampleVariant({ kind: "sample", modes: "gmm", guidance: { lambda: 0.1, tStop: -1 },
 *   strength: null, sampler: "ddim" }); // "gmm-ddim-l0.1-t-1"
 * ```
 */
export function sampleVariant(r: SampleRecipe): string {
  const g = r.guidance ? `l${r.guidance.lambda}-t${r.guidance.tStop}` : "noguide";
  return `${r.modes}-${r.sampler}-${g}${r.strength !== null ? `-d4m${r.strength}` : ""}`;
}
