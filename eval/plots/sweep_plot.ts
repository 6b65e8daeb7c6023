/**
 * Accuracy against a swept parameter (e.g. the stop step t_stop, App. A; the guidance
 * scale lambda, App. F): mean as a line with points, +- std as error bars, one line per
 * series.
 *
 * @module
 */
import { BASE_CONFIG, type PlotResult, render } from "./render.ts";

/** One measured point: mean and standard deviation of the accuracy at x. */
export interface SweepPoint {
  /** The swept parameter's value. */
  x: number;
  /** Mean accuracy at x. */
  mean: number;
  /** Standard deviation of the accuracy at x (error bar: mean +- std). */
  std: number;
  /** Series name (default "accuracy"). */
  series?: string;
}

/** Options of {@link sweepPlot}. */
export interface SweepPlotOptions {
  /** Title of the x axis (the swept parameter). */
  xTitle: string;
  /** Title of the y axis (default "accuracy (%)"). */
  yTitle?: string;
  /** Figure title (default: none). */
  title?: string;
  /** Plot area width in pixels (default 360). */
  width?: number;
  /** Plot area height in pixels (default 240). */
  height?: number;
  /** PNG pixel ratio (default 2). */
  pixelRatio?: number;
}

/** Names of the mark groups in the SVG (`<name>_marks`). */
export const SWEEP_LAYERS = {
  line: "mean_line",
  points: "mean_points",
  errorBars: "error_bars",
} as const;

/**
 * Draws accuracy (mean +- std) against a parameter.
 *
 * @example
 * ```ts
 * import { sweepPlot } from "./sweep_plot.ts";
 * const { svg } = await sweepPlot([
 *   { x: 10, mean: 64.1, std: 0.4 }, { x: 20, mean: 66.4, std: 0.3 }, { x: 30, mean: 65.0, std: 0.5 },
 * ], { xTitle: "t_stop", yTitle: "top-1 accuracy (%)" });
 * ```
 */
export async function sweepPlot(
  values: readonly SweepPoint[],
  options: SweepPlotOptions,
): Promise<PlotResult> {
  const rows = values.map((v) => ({
    x: v.x,
    mean: v.mean,
    lo: v.mean - v.std,
    hi: v.mean + v.std,
    series: v.series ?? "accuracy",
  }));
  const x = { field: "x", type: "quantitative", title: options.xTitle, scale: { zero: false } };
  const y = {
    field: "mean",
    type: "quantitative",
    title: options.yTitle ?? "accuracy (%)",
    scale: { zero: false },
  };
  const color = { field: "series", type: "nominal", title: null };
  return await render({
    ...BASE_CONFIG,
    ...(options.title ? { title: options.title } : {}),
    width: options.width ?? 360,
    height: options.height ?? 240,
    data: { values: rows },
    layer: [
      {
        name: SWEEP_LAYERS.errorBars,
        mark: { type: "rule", strokeWidth: 1.5 },
        encoding: { x, y: { ...y, field: "lo" }, y2: { field: "hi" }, color },
      },
      { name: SWEEP_LAYERS.line, mark: { type: "line" }, encoding: { x, y, color } },
      {
        name: SWEEP_LAYERS.points,
        mark: { type: "point", filled: true, size: 40 },
        encoding: { x, y, color },
      },
    ],
  }, options.pixelRatio);
}
