/**
 * The shape of a table's results: one cell per row and column with the paper's number and
 * ours (`results.json` of a table report, what `writeReport` in report.ts returns).
 *
 * @module
 */
import type { TableDef } from "./spec.ts";
import type { CoverageRow } from "../metrics/coverage_table.ts";

/**
 * A mean with its std (null: not reported) and the number of runs behind it.
 *
 * @example
 * ```ts
 * import type { TableValue } from "./results.ts";
 * const v: TableValue = { mean: 66.4, std: 2.4, runs: 3 };
 * ```
 */
export interface TableValue {
  /** The mean. */
  mean: number;
  /** The standard deviation (null: not reported). */
  std: number | null;
  /** Number of runs behind the values (our results only). */
  runs?: number;
}

/**
 * A paired difference to a baseline cell with its CI (eval/tables/paired.ts).
 *
 * @example
 * ```ts
 * import type { PairedDiff } from "./results.ts";
 * const d: PairedDiff = { diff: 2.2, lo: 0.4, hi: 4.0, resolved: true, seeds: 3, images: 3925 };
 * ```
 */
export interface PairedDiff {
  /** Mean over networks and shared seeds of top-1(cell) - top-1(baseline), in points. */
  diff: number;
  /** Lower end of the CI. */
  lo: number;
  /** Upper end of the CI. */
  hi: number;
  /** The CI excludes 0. */
  resolved: boolean;
  /** Shared seeds used. */
  seeds: number;
  /** Val images per run. */
  images: number;
}

/**
 * One cell of the results.
 *
 * @example
 * ```ts
 * import type { CellResult } from "./results.ts";
 * const c: CellResult = { row: "DiT", column: "IPC 10", status: "quoted",
 *   paper: { mean: 59.1, std: 0.7 }, ours: null, perNetwork: {}, artifacts: [] };
 * ```
 */
export interface CellResult {
  /** Row label. */
  row: string;
  /** Column label. */
  column: string;
  /** The column's swept value (sweeps only). */
  x?: number;
  /**
   * `run`: evaluated here; `quoted`: the paper's number only (the row has no recipe);
   * `unavailable`: cannot run (see `reason`); `dropped`: left out by `--quick`.
   */
  status: "run" | "quoted" | "unavailable" | "dropped";
  /** Why the cell is unavailable. */
  reason?: string;
  /** The paper's number (null where the paper has none). */
  paper: TableValue | null;
  /**
   * Ours: mean ± std of top-1 over the seeds (several networks: the average of their means and of
   * their stds); null when nothing was measured.
   */
  ours: TableValue | null;
  /** Per evaluation network: top-1 of each seed. */
  perNetwork: Record<string, { seed: number; top1: number }[]>;
  /** The evaluation artifacts behind `ours`. */
  artifacts: string[];
  /** The cell this one is compared with (eval/tables/paired.ts `baselineOf`). */
  baseline?: { row: string; column: string };
  /**
   * The paired difference to the baseline cell with its 95% bootstrap CI over seeds and val
   * images (eval/tables/paired.ts); absent when the cell has no baseline or either side lacks
   * per-image results (results made before issue 19).
   */
  paired?: PairedDiff;
}

/**
 * What `writeReport` (report.ts) writes and returns.
 *
 * @example
 * ```ts
 * import type { TableResults } from "./results.ts";
 * const r: TableResults = JSON.parse(await Deno.readTextFile(".store/reproduce-cpu/tables/table7/results.json"));
 * r.cells.map((c) => c.ours?.mean);
 * ```
 */
export interface TableResults {
  /** Table id, e.g. `table7`. */
  table: string;
  /** Title of the table. */
  title: string;
  /** What the cells hold. */
  kind: TableDef["kind"];
  /** Where the paper's numbers come from. */
  source: string;
  /** Run settings (scale, seeds, epochs rule, models, data), also the artifact's options. */
  settings: Record<string, unknown>;
  /** Every cell, column by column. */
  cells: CellResult[];
  /** Metrics tables: per class, paper and ours per row label. */
  classwise?: { className: string; paper: Record<string, string>; ours: Record<string, number> }[];
  /**
   * Metrics tables: mode coverage per space and method beside diversity and representativeness
   * (the measure's `coverage.json`; absent for measures made before it existed).
   */
  coverage?: CoverageRow[];
  /** The paper's statements about the figure (TableDef.claims). */
  claims?: string[];
  /** What our run shows on the same points (figure tables, eval/tables/figure_plots.ts). */
  findings?: string[];
  /** The table's notes. */
  notes: string[];
}
