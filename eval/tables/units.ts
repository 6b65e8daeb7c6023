/**
 * The vocabulary of a table plan: units (one artifact each, in dependency order), cell plans
 * (which units give a cell its numbers, or why it is not run) and what the planner needs.
 *
 * @module
 */
import type { DiscoverModesOptions } from "../../stages/modes/discover_modes.ts";
import type { Scale } from "../protocols/hard_label_protocol.ts";
import type { SampleRecipe } from "./spec.ts";
import type { DataResolution, DatasetId } from "./datasets.ts";

/** The fields every {@link Unit} has. */
export interface UnitBase {
  /** The artifact the unit writes (unique in a plan). */
  id: string;
  /** Ids of the units whose artifacts this one reads. */
  deps: string[];
  /** Stages sharded by class (every worker runs its classes); else one worker runs it. */
  classLevel: boolean;
  /** Class shards the artifact has when complete. */
  classes: number;
}

/**
 * One step of a plan (an artifact to make).
 *
 * @example
 * ```ts
 * import type { Unit } from "./units.ts";
 * const u: Unit = { kind: "decode", id: "cpu/m1/distilled/x", deps: ["cpu/m1/samples/x"],
 *   classLevel: true, classes: 10, samples: "cpu/m1/samples/x" };
 * ```
 */
export type Unit =
  | UnitBase & { kind: "encode"; data: string; classList: string[] }
  | UnitBase & { kind: "discover"; latents: string; modes: DiscoverModesOptions }
  | UnitBase & { kind: "select"; latents: string; modes: string }
  | UnitBase & { kind: "sample"; modes: string; recipe: SampleRecipe; seed: number }
  | UnitBase & { kind: "decode"; samples: string }
  | UnitBase & {
    kind: "teacher";
    train: string;
    val: string;
    classList: string[];
    epochs?: number;
    imageSize: number;
  }
  | UnitBase & {
    kind: "eval";
    protocol: "hard" | "soft";
    /** Artifact whose `images/` folder is the distilled set. */
    images: string;
    val: string;
    classList: string[];
    network: string;
    seed: number;
    epochs: number;
    imageSize: number;
    /** Hard-label validation interval override (`--quick`: once, at the last epoch). */
    evalEvery?: number;
    teacher?: { artifact: string } | { checkpoint: string; classIndices?: number[] };
  }
  | UnitBase & {
    kind: "measure";
    latents: string;
    samples: Record<string, string>;
    modes: string;
    seed: number;
  };

/**
 * What a table cell becomes: evaluated runs, quoted only, or not runnable (with why).
 *
 * @example
 * ```ts
 * import type { CellPlan } from "./units.ts";
 * const c: CellPlan = { row: 0, col: 0, status: "quoted", evals: [] };
 * ```
 */
export interface CellPlan {
  /** Index of the cell's row in the table. */
  row: number;
  /** Index of the cell's column in the table. */
  col: number;
  /**
   * `run`: evaluated here; `quoted`: the paper's number only (the row has no recipe);
   * `unavailable`: cannot run (see `reason`); `dropped`: left out by `--quick`.
   */
  status: "run" | "quoted" | "unavailable" | "dropped";
  /** Why the cell is unavailable. */
  reason?: string;
  /** The evaluation runs behind the cell: network, seed and the evaluation unit's id. */
  evals: { network: string; seed: number; unit: string }[];
}

/**
 * Everything a plan needs besides the table.
 *
 * @example
 * ```ts
 * import type { PlanContext } from "./units.ts";
 * const ctx: PlanContext = {
 *   root: "cpu/m1", scale: "cpu", seeds: [0], keep: () => true,
 *   data: { imagenette: { train: "t", val: "v", classes: ["n01440764"] } },
 *   knows: () => null, epochs: () => 1, evalSize: 64, teacher: "train",
 * };
 * ```
 */
export interface PlanContext {
  /** Store namespace of the models (TableModels.root). */
  root: string;
  scale: Scale;
  seeds: number[];
  /** Columns kept (`--quick`). */
  keep: (col: number) => boolean;
  /** Resolved data per dataset (absent: not needed). */
  data: Partial<Record<DatasetId, DataResolution>>;
  /** Null when the denoiser knows the classes, else why not. */
  knows: (classes: readonly string[]) => string | null;
  /**
   * The run's denoiser family: "ldm" with `--ldm`, "sd" with `--sd`, else "dit" (the cpu model
   * stands in).
   */
  family?: "dit" | "ldm" | "sd";
  /**
   * `--minimax FILE` loaded: the store tag of its model (e.g. "m1a2b3c4d5e6"); absent: rows
   * sampled with the MinMax denoiser are unavailable.
   */
  minimax?: string;
  /** `--networks`: replaces every column's networks. */
  networks?: string[];
  epochs: (protocol: "hard" | "soft", ipc: number, classes: number) => number;
  evalSize: number;
  /** `--quick`: validate hard-label runs once, after the last epoch (not every E/5 epochs). */
  evalOnce?: boolean;
  /** Soft-label teacher: trained on the real images ("train"), a checkpoint file, or none. */
  teacher: "train" | { checkpoint: string } | null;
  teacherEpochs?: number;
}

/**
 * A plan: units in dependency order and one cell plan per (row, column).
 *
 * @example
 * ```ts
 * import type { Plan } from "./units.ts";
 * const empty: Plan = { units: [], cells: [], measure: null };
 * ```
 */
export interface Plan {
  /** Every unit, in dependency order. */
  units: Unit[];
  /** One cell plan per (row, column). */
  cells: CellPlan[];
  /** The metrics unit of a `metrics` table. */
  measure: string | null;
}
