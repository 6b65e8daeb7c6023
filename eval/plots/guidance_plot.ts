/**
 * The guidance-response figure (issue 19): one panel per measurement (distance to the mode,
 * share of modes whose nearest sample is their own, modes covered, judge accuracy, ...)
 * against the mode-guidance scale lambda, one line per sampling setting (t_stop, CFG,
 * variance).
 *
 * @module
 */
import { BASE_CONFIG, type PlotResult, render } from "./render.ts";

/** One value of one panel. */
export interface GuidancePoint {
  /** Panel (the measurement's name). */
  panel: string;
  /** The guidance scale lambda (0 = unguided). */
  lambda: number;
  /** The line (e.g. "CFG 4 fixed_small t_stop 25"). */
  series: string;
  /** The measured value. */
  value: number;
}

/** Panels per row of the figure. */
const COLUMNS = 3;
/** Panel size in pixels. */
const PANEL = { width: 220, height: 150 };

/**
 * Draws every panel with its own y scale; lambda on a symmetric-log x axis (0 included).
 *
 * @example
 * ```ts
 * import { guidancePlot } from "./guidance_plot.ts";
 * const { png } = await guidancePlot([
 *   { panel: "to mode (latent RMS)", lambda: 0, series: "t_stop 25", value: 1.16 },
 *   { panel: "to mode (latent RMS)", lambda: 0.1, series: "t_stop 25", value: 1.07 },
 * ], { title: "guidance response" });
 * ```
 */
export async function guidancePlot(
  points: readonly GuidancePoint[],
  options: { title?: string } = {},
): Promise<PlotResult> {
  const finite = points.filter((p) => Number.isFinite(p.value));
  if (finite.length === 0) throw new RangeError("guidancePlot needs at least one finite value");
  return await render({
    ...BASE_CONFIG,
    ...(options.title ? { title: options.title } : {}),
    data: { values: finite.map((p) => ({ ...p })) },
    // Panels in the order their points come.
    facet: {
      field: "panel",
      type: "nominal",
      title: null,
      sort: [...new Set(finite.map((p) => p.panel))],
    },
    columns: COLUMNS,
    resolve: { scale: { y: "independent" } },
    spec: {
      ...PANEL,
      mark: { type: "line", point: true },
      encoding: {
        x: {
          field: "lambda",
          type: "quantitative",
          title: "mode guidance lambda",
          scale: { type: "symlog", constant: 0.1 },
        },
        y: { field: "value", type: "quantitative", title: null, scale: { zero: false } },
        color: { field: "series", type: "nominal", title: null, legend: { labelLimit: 0 } },
      },
    },
  });
}
