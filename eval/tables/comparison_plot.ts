/**
 * The paper's number beside ours for every cell of a table: grouped bars (paper, ours) per
 * method, one panel per column, ± std as error bars.
 *
 * @module
 */
import { BASE_CONFIG, type PlotResult, render } from "../plots/render.ts";

/**
 * One bar: a cell's value from the paper or from our runs.
 *
 * @example
 * ```ts
 * import type { ComparisonBar } from "./comparison_plot.ts";
 * const bar: ComparisonBar = { column: "IPC 10", method: "DiT + MGD3", source: "paper", mean: 66.4, std: 2.4 };
 * ```
 */
export interface ComparisonBar {
  column: string;
  method: string;
  source: "paper" | "ours";
  mean: number;
  std: number;
}

/**
 * Draws the comparison (panels wrap after `columns`, default 3).
 *
 * @example
 * ```ts
 * import { comparisonPlot } from "./comparison_plot.ts";
 * const { svg, png } = await comparisonPlot([
 *   { column: "IPC 10", method: "DiT", source: "paper", mean: 59.1, std: 0.7 },
 *   { column: "IPC 10", method: "DiT", source: "ours", mean: 41.0, std: 1.2 },
 * ], { title: "Table 1" });
 * ```
 */
export async function comparisonPlot(
  bars: readonly ComparisonBar[],
  o: { title?: string; columns?: number; yTitle?: string } = {},
): Promise<PlotResult> {
  const values = bars.map((b) => ({ ...b, lo: b.mean - b.std, hi: b.mean + b.std }));
  const x = { field: "method", type: "nominal", title: null, sort: null };
  const y = { field: "mean", type: "quantitative", title: o.yTitle ?? "top-1 accuracy (%)" };
  const color = { field: "source", type: "nominal", title: null, sort: ["paper", "ours"] };
  const xOffset = { field: "source", sort: ["paper", "ours"] };
  return await render({
    ...BASE_CONFIG,
    ...(o.title ? { title: o.title } : {}),
    data: { values },
    facet: { field: "column", type: "nominal", title: null, sort: null },
    columns: o.columns ?? 3,
    spec: {
      width: 220,
      height: 160,
      layer: [
        { mark: "bar", encoding: { x, xOffset, y, color } },
        {
          mark: { type: "rule", color: "black" },
          encoding: { x, xOffset, y: { ...y, field: "lo" }, y2: { field: "hi" } },
        },
      ],
    },
  });
}
