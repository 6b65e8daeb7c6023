/**
 * The declarative description of a paper table: columns (dataset, IPC, networks, protocol,
 * and for Table 6 and the sweeps an override of the sampler settings), rows (a recipe that
 * makes the distilled set, or null for rows quoted from the paper only) and the paper's
 * numbers, written as printed ("66.4±2.4") with their source in a comment.
 *
 * A cell's recipe is the row's recipe with the column's `patch` applied, so Table 6's DDIM
 * column or Fig. 7's t_stop values are one line each.
 *
 * @module
 */
import type { ModeMethod } from "../../stages/modes/discover_modes.ts";
import type { ModeGuidance } from "../../stages/diffusion/guidance.ts";
import type { DatasetId } from "./datasets.ts";

/**
 * MGD3's sampling settings: lambda 0.1 (App. F), t_stop 25 (App. A; SPEC section 2).
 *
 * @example
 * ```ts
 * import { MGD3_GUIDANCE } from "./spec.ts";
 * MGD3_GUIDANCE.tStop; // 25
 * ```
 */
export const MGD3_GUIDANCE: Readonly<ModeGuidance> = { lambda: 0.1, tStop: 25 };

/**
 * The respaced sampling steps of every table (DiT's `space_timesteps(1000, "50")`, SPEC
 * section 2): guidance acts at respaced indices above t_stop, so t_stop 49 or more guides none.
 */
export const SAMPLE_STEPS = 50;

/**
 * The t_stop sweep of Fig. 7 (App. A) and Fig. 9 (App. C): 50 to 0 in steps of 5.
 *
 * @example
 * ```ts
 * import { T_STOP_SWEEP } from "./spec.ts";
 * T_STOP_SWEEP.length; // 11
 * ```
 */
export const T_STOP_SWEEP: readonly number[] = [50, 45, 40, 35, 30, 25, 20, 15, 10, 5, 0];

/**
 * MGD3's guidance stopped at `tStop`, or null (the unguided sampler) where a stop that late
 * would guide no step of the {@link SAMPLE_STEPS} respaced steps (the sample stage refuses such
 * guidance rather than record a lambda that never acts).
 *
 * @example
 * ```ts
 * import { guidanceUntil } from "./spec.ts";
 * guidanceUntil(25); // { lambda: 0.1, tStop: 25 }
 * guidanceUntil(50); // null
 * ```
 */
export function guidanceUntil(tStop: number): ModeGuidance | null {
  return tStop >= SAMPLE_STEPS - 1 ? null : { lambda: MGD3_GUIDANCE.lambda, tStop };
}

/**
 * The paper's DiT sampling recipe (k-means modes, DDPM, no mode guidance, no D4M start), and
 * MGD3's: the same with {@link MGD3_GUIDANCE}.
 *
 * @example
 * ```ts
 * import { DIT_RECIPE, MGD3_RECIPE } from "./spec.ts";
 * MGD3_RECIPE.kind === DIT_RECIPE.kind; // true
 * ```
 */
export const DIT_RECIPE: SampleRecipe = {
  kind: "sample",
  modes: "kmeans",
  guidance: null,
  strength: null,
  sampler: "ddpm",
};
/** See {@link DIT_RECIPE}. */
export const MGD3_RECIPE: SampleRecipe = { ...DIT_RECIPE, guidance: MGD3_GUIDANCE };

/**
 * D4M-style prototype initialisation strength 0.7 (SPEC section 3).
 *
 * @example
 * ```ts
 * import { D4M_STRENGTH } from "./spec.ts";
 * D4M_STRENGTH; // 0.7
 * ```
 */
export const D4M_STRENGTH = 0.7;

/**
 * Real images picked from the training set by a selection method (discover's `indices`):
 * "random" (the Random baseline), "closest" (the real images closest to the k-means
 * centroids: Table 5 "mode discovery only"), "herding" (Tables 2 and 8).
 *
 * @example
 * ```ts
 * import type { RealRecipe } from "./spec.ts";
 * const random: RealRecipe = { kind: "real", select: "random" };
 * ```
 */
export interface RealRecipe {
  /** Discriminates the recipe kinds. */
  kind: "real";
  /** How the real images are chosen. */
  select: "random" | "closest" | "herding";
}

/**
 * Images sampled from the diffusion model, one per mode: modes from `modes` (k = IPC),
 * mode guidance (null: the unguided DiT baseline), D4M-style initialisation `strength`
 * (null: from pure noise), and the sampler.
 *
 * @example
 * ```ts
 * import { MGD3_GUIDANCE, type SampleRecipe } from "./spec.ts";
 * const mgd3: SampleRecipe = {
 *   kind: "sample", modes: "kmeans", guidance: MGD3_GUIDANCE, strength: null, sampler: "ddpm",
 * };
 * ```
 */
export interface SampleRecipe {
  /** Discriminates the recipe kinds. */
  kind: "sample";
  /** Mode discovery method (k = IPC modes per class). */
  modes: ModeMethod;
  /** Mode guidance (null: the unguided DiT baseline). */
  guidance: ModeGuidance | null;
  /** D4M-style initialisation strength (null: from pure noise). */
  strength: number | null;
  /** The sampler. */
  sampler: "ddpm" | "ddim";
  /**
   * Whose denoiser samples: the scale's own (absent) or the MinMax-finetuned DiT given with
   * `--minimax FILE`, sampled exactly like DiT (without it the row says it needs the file).
   */
  denoiser?: "minimax";
}

/**
 * How a row's distilled set is made.
 *
 * @example
 * ```ts
 * import type { Recipe } from "./spec.ts";
 * const r: Recipe = { kind: "real", select: "herding" };
 * ```
 */
export type Recipe = RealRecipe | SampleRecipe;

/**
 * One row: its label, its recipe (null = quoted from the paper, not run) and the paper's
 * number in each column ("mean±std" as printed; null where the paper has none).
 *
 * @example
 * ```ts
 * import type { RowDef } from "./spec.ts";
 * const row: RowDef = { label: "Random", recipe: { kind: "real", select: "random" }, paper: ["54.2±1.6"] };
 * ```
 */
export interface RowDef {
  /** Row label, as in the paper. */
  label: string;
  /** How the row's distilled set is made (null: quoted from the paper, not run). */
  recipe: Recipe | null;
  /** The paper's number in each column ("mean±std" as printed; null where the paper has none). */
  paper: (string | null)[];
  /**
   * "ldm": a row of CompVis's class-conditional LDM (cin256-v2), whose sampled cells run only
   * in a run with an LDM (`--ldm FILE`); "sd": a row of text-to-image Stable Diffusion, run
   * only with `--sd DIR`; other sampled rows are DiT's (the cpu model stands in for DiT) and do
   * not run with an LDM or SD. Real-image rows run with any.
   */
  family?: "ldm" | "sd";
  /** The swept value of the row (Fig. 9: t_stop per row of a metrics table). */
  x?: number;
}

/**
 * The cpu scale evaluates with ConvNet-4 where the paper evaluates with ResNetAP-10 (Tables 1,
 * 6, 7, Fig. 7, App. F): at 64 px with the cpu epoch budget (a distilled set of 100 images
 * gives 2 SGD steps per epoch, 80 steps at IPC 10), ResNetAP-10 learns far less than ConvNet-4
 * and each of its runs takes about 7 times as long. Table 5 still trains all three of its
 * networks. Measured by `deno task reproduce:table5 --scale cpu` (40 epochs, 3 seeds): ResNetAP-10
 * 25.5 / 28.7 / 28.6%, ResNet-18 17.8 / 19.6 / 20.1%, ConvNet-4 37.5 / 38.3 / 37.3% (chance 10%);
 * with `--quick` (10 epochs) ResNetAP-10 13.2 / 13.6 / 14.0%, ConvNet-4 25.8 / 29.6 / 29.2%.
 */
export const RESNETAP_CPU_STAND_IN = {
  networks: ["convnet"],
  note: "At the cpu scale the columns whose paper network is ResNetAP-10 are evaluated with " +
    "ConvNet-4: with 2 SGD steps per epoch on an IPC-10 set at 64 px and the cpu epoch budget, " +
    "ResNetAP-10 reaches 25-29% in `reproduce:table5` (13-14% with --quick) against ConvNet-4's " +
    "37-38%, at about 7 times the time per run. `--networks resnetap-10` runs the paper's network.",
} as const;

/**
 * One column: the dataset, IPC and evaluation networks of its cells (more than one network:
 * the cell is their average, Table 4), the protocol (default hard-label), an override of
 * the rows' sampling recipe (`patch`) and, for sweeps, the swept value `x`.
 *
 * @example
 * ```ts
 * import type { ColumnDef } from "./spec.ts";
 * const col: ColumnDef = {
 *   label: "t_stop 20", dataset: "imagenette", ipc: 10, networks: ["resnetap-10"],
 *   patch: { guidance: { lambda: 0.1, tStop: 20 } }, x: 20,
 * };
 * ```
 */
export interface ColumnDef {
  /** Column label, as in the paper. */
  label: string;
  /** Dataset of the column's cells. */
  dataset: DatasetId;
  /**
   * Dataset that stands in at the cpu scale (Fig. 4(d): ImageNette for ImageNet-1K); absent:
   * the same as `dataset`.
   */
  cpuDataset?: DatasetId;
  /** Images per class of the distilled sets. */
  ipc: number;
  /** Evaluation networks (zoo names); with several, a cell is their average. */
  networks: string[];
  /**
   * Networks evaluated instead at the cpu scale ({@link RESNETAP_CPU_STAND_IN}); absent: the
   * same as `networks`. `--networks` overrides both.
   */
  cpuNetworks?: string[];
  /** Evaluation protocol: hard-label (default) or soft-label. */
  protocol?: "hard" | "soft";
  /** Override of the rows' sampling recipe in this column. */
  patch?: Partial<Omit<SampleRecipe, "kind">>;
  /** The swept value of the column (sweeps only). */
  x?: number;
}

/**
 * A paper table, figure or sweep.
 *
 * - `accuracy`: every cell is a classifier's top-1 (mean ± std over seeds);
 * - `sweep`: the same, plotted against the columns' `x` (Fig. 7, App. F);
 * - `metrics`: t-SNE diversity and representativeness (Fig. 6, Table 9), no training.
 *
 * @example
 * ```ts
 * import { TABLES } from "./tables.ts";
 * const t7 = TABLES.table7;
 * t7.rows.map((r) => r.label); // ["Random", "DBSCAN", ...]
 * ```
 */
export interface TableDef {
  /** Table id, e.g. `table7` (also its store name `tables/<id>`). */
  id: string;
  /** Title of the table. */
  title: string;
  /** What the cells hold: `accuracy`, `sweep` or `metrics` (see {@link TableDef}). */
  kind: "accuracy" | "sweep" | "metrics";
  /** Where the paper's numbers come from. */
  source: string;
  /** The columns, in order. */
  columns: ColumnDef[];
  /** The rows, in order. */
  rows: RowDef[];
  /** Seeds of the distilled datasets and of their evaluation runs (paper: 0, 1, 2). */
  seeds: number[];
  /** `--quick`: the columns kept (default all), with a sentence saying what is dropped. */
  quick?: { keep: (c: ColumnDef) => boolean; note: string };
  /** Sweep axis title (sweeps only). */
  xTitle?: string;
  /** Metrics tables: the paper's per-class values, class (wnid or "Average") -> row label -> value. */
  classwise?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * Figure-specific plots of a metrics table, drawn from its metrics artifact
   * (eval/tables/figure_plots.ts): `tsne-panels` (Fig. 5: one t-SNE panel per method),
   * `per-sample` (Fig. 8: per-sample diversity and representativeness per class), `tstop`
   * (Fig. 9: mean diversity and representativeness against the columns' or rows' t_stop).
   */
  figure?: "tsne-panels" | "per-sample" | "tstop";
  /** Statements of the paper about the figure, printed beside ours. */
  claims?: string[];
  /** Notes written under the results table. */
  notes: string[];
}

/**
 * The dataset of a column at a scale: its cpu stand-in at the cpu scale, if it has one.
 *
 * @example
 * ```ts
 * import { columnDataset } from "./spec.ts";
 * columnDataset({ label: "IPC 10", dataset: "imagenet-1k", cpuDataset: "imagenette", ipc: 10,
 *   networks: [] }, "cpu"); // "imagenette"
 * ```
 */
export function columnDataset(c: ColumnDef, scale: "cpu" | "paper"): DatasetId {
  return scale === "cpu" && c.cpuDataset ? c.cpuDataset : c.dataset;
}

/**
 * A paper number "66.4±2.4" as mean and std (std null when the paper prints none).
 *
 * @example
 * ```ts
 * import { parsePaperValue } from "./spec.ts";
 * parsePaperValue("66.4±2.4"); // { mean: 66.4, std: 2.4, text: "66.4±2.4" }
 * parsePaperValue("0.73"); // { mean: 0.73, std: null, text: "0.73" }
 * ```
 */
export function parsePaperValue(
  text: string,
): { mean: number; std: number | null; text: string } {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(?:±\s*(\d+(?:\.\d+)?))?\s*$/.exec(text);
  if (!m) throw new RangeError(`Paper value '${text}' is not "mean" or "mean±std"`);
  return { mean: Number(m[1]), std: m[2] === undefined ? null : Number(m[2]), text: text.trim() };
}

/**
 * The recipe of a cell: the row's recipe with the column's patch applied (real-image rows
 * ignore sampling patches).
 *
 * @example
 * ```ts
 * import { cellRecipe, MGD3_GUIDANCE } from "./spec.ts";
 * const r = cellRecipe(
 *   { kind: "sample", modes: "kmeans", guidance: MGD3_GUIDANCE, strength: null, sampler: "ddpm" },
 *   { sampler: "ddim" },
 * ); // { ..., sampler: "ddim" }
 * ```
 */
export function cellRecipe(recipe: Recipe, patch?: ColumnDef["patch"]): Recipe {
  if (recipe.kind === "real" || !patch) return recipe;
  return { ...recipe, ...patch };
}

/**
 * Checks a table definition: one paper value per column in every row, values parseable,
 * seeds given.
 *
 * @example
 * ```ts
 * import { checkTable } from "./spec.ts";
 * import { TABLES } from "./tables.ts";
 * for (const t of Object.values(TABLES)) checkTable(t);
 * ```
 */
export function checkTable(t: TableDef): void {
  if (t.seeds.length === 0) throw new RangeError(`${t.id}: no seeds`);
  for (const r of t.rows) {
    if (r.paper.length !== t.columns.length) {
      throw new RangeError(
        `${t.id}: row '${r.label}' has ${r.paper.length} paper values for ${t.columns.length} columns`,
      );
    }
    for (const v of r.paper) if (v !== null) parsePaperValue(v);
  }
  if (t.kind === "sweep" && t.columns.some((c) => c.x === undefined)) {
    throw new RangeError(`${t.id}: every column of a sweep needs x`);
  }
}
