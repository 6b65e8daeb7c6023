/**
 * The class-wise average diversity table (paper App. G, Table 9): one row per class, one
 * column per method, each cell the mean diversity of the method's samples in that class,
 * and an Average row (the mean of the class rows, as the paper's).
 *
 * Normalisations (`normalization` option; raw and class-scale values are always kept):
 * - "minmax" (default): the class-scale cell values (mean diversity / the class's embedding
 *   scale, see class_metrics.ts) min-max normalised over the whole table, all classes and
 *   methods together. The paper's Table 9 has exactly one 0.00 and one 1.00 over its 30
 *   cells, which points to this kind of table-wide min-max; its Average row is the mean of
 *   the normalised class rows. Values therefore depend on the methods compared.
 * - "class-scale": mean diversity / class embedding scale (comparable across tables).
 * - "raw": mean diversity in embedding units.
 * Samples with NaN diversity (a class with one sample) are left out of the means.
 *
 * @module
 */
import type { ClassMetrics } from "./class_metrics.ts";

/** How cells are normalised (see the module documentation). */
export type DiversityNormalization = "minmax" | "class-scale" | "raw";

/** One row of the table. */
export interface DiversityRow {
  /** Class name ("Average" for the average row). */
  className: string;
  /** Cell values under the table's normalisation, per method. */
  values: Record<string, number>;
  /** Mean raw diversity, per method. */
  raw: Record<string, number>;
  /** Mean diversity / class embedding scale, per method. */
  scaled: Record<string, number>;
}

/** The table: class rows and their average. */
export interface DiversityTable {
  /** Method names (the columns), in order. */
  methods: string[];
  /** How `values` are normalised. */
  normalization: DiversityNormalization;
  /** One row per class. */
  rows: DiversityRow[];
  /** The average over the class rows. */
  average: DiversityRow;
}

function mean(values: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isNaN(values[i])) {
      s += values[i];
      n++;
    }
  }
  return n ? s / n : NaN;
}

/**
 * Builds the class-wise diversity table from per-class metrics.
 *
 * @example
 * ```ts
 * import { classMetrics } from "./class_metrics.ts";
 * import { diversityTable, formatDiversityTable } from "./diversity_table.ts";
 * import { points } from "./points.ts";
 * const orig = points(new Float32Array([0, 0, 4, 0, 0, 4, 4, 4]), 2);
 * const m = classMetrics({ original: orig, synthetic: {
 *   DiT: points(new Float32Array([1, 1, 1, 2]), 2), MGD3: points(new Float32Array([0, 0, 4, 4]), 2),
 * } });
 * const table = diversityTable([{ className: "tench", metrics: m }]);
 * console.log(formatDiversityTable(table)); // | tench | 0.00 | 1.00 | ...
 * ```
 */
export function diversityTable(
  classes: readonly { className: string; metrics: ClassMetrics }[],
  options: { normalization?: DiversityNormalization } = {},
): DiversityTable {
  const normalization = options.normalization ?? "minmax";
  if (classes.length === 0) throw new RangeError("The diversity table needs at least one class");
  const methods = Object.keys(classes[0].metrics.methods);
  const rows: DiversityRow[] = classes.map(({ className, metrics }) => {
    const raw: Record<string, number> = {};
    const scaled: Record<string, number> = {};
    for (const m of methods) {
      const s = metrics.methods[m];
      if (!s) throw new RangeError(`Class "${className}" has no metrics for method "${m}"`);
      raw[m] = mean(s.diversity);
      scaled[m] = raw[m] / metrics.scale;
    }
    return { className, values: {}, raw, scaled };
  });
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    for (const m of methods) {
      if (Number.isNaN(r.scaled[m])) continue;
      lo = Math.min(lo, r.scaled[m]);
      hi = Math.max(hi, r.scaled[m]);
    }
  }
  for (const r of rows) {
    for (const m of methods) {
      r.values[m] = normalization === "raw"
        ? r.raw[m]
        : normalization === "class-scale"
        ? r.scaled[m]
        : hi > lo
        ? (r.scaled[m] - lo) / (hi - lo)
        : 0;
    }
  }
  const avg = (key: "values" | "raw" | "scaled") =>
    Object.fromEntries(methods.map((m) => [m, mean(rows.map((r) => r[key][m]))]));
  const average = {
    className: "Average",
    values: avg("values"),
    raw: avg("raw"),
    scaled: avg("scaled"),
  };
  return { methods, normalization, rows, average };
}

/**
 * The table as Markdown, laid out like the paper's Table 9.
 *
 * @example
 * ```ts
 * import { formatDiversityTable } from "./diversity_table.ts";
 * const md = formatDiversityTable({
 *   methods: ["DiT"], normalization: "raw", rows: [],
 *   average: { className: "Average", values: { DiT: 0.35 }, raw: { DiT: 0.35 }, scaled: { DiT: 0.35 } },
 * }); // "| class | DiT |\n|---|---|\n| Average | 0.35 |"
 * ```
 */
export function formatDiversityTable(table: DiversityTable, digits = 2): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const row = (r: DiversityRow) =>
    line([r.className, ...table.methods.map((m) => r.values[m].toFixed(digits))]);
  return [
    line(["class", ...table.methods]),
    line(["---", ...table.methods.map(() => "---")]).replaceAll(" ", ""),
    ...table.rows.map(row),
    row(table.average),
  ].join("\n");
}
