/**
 * Diversity versus representativeness of every synthetic sample, one panel per class,
 * coloured by method (paper Fig. 6 / Fig. 8): x = diversity / class embedding scale,
 * y = 1 - representativeness / class embedding scale (higher = more representative), the
 * normalisation of class_metrics.ts.
 *
 * @module
 */
import type { ClassMetrics } from "../metrics/class_metrics.ts";
import { BASE_CONFIG, type PlotResult, render } from "./render.ts";

/** Options of {@link diversityPlot}. */
export interface DiversityPlotOptions {
  /** Figure title (default: none). */
  title?: string;
  /** Panels per row (default 5, as the paper's 2 x 5 grid). */
  columns?: number;
  /** Panel size in pixels (default 160). */
  panelSize?: number;
  /** PNG pixel ratio (default 2). */
  pixelRatio?: number;
}

/** Name of the points' mark group in the SVG (`<name>_marks`, one group per panel). */
export const DIVERSITY_LAYER = "samples";

/**
 * Draws the per-sample diversity/representativeness scatter of each class.
 *
 * @example
 * ```ts
 * import { classMetrics } from "../metrics/class_metrics.ts";
 * import { points } from "../metrics/points.ts";
 * import { diversityPlot } from "./diversity_plot.ts";
 * const metrics = classMetrics({
 *   original: points(new Float32Array([0, 0, 4, 0, 0, 4, 4, 4]), 2),
 *   synthetic: { MGD3: points(new Float32Array([0, 0, 4, 4]), 2) },
 * });
 * const { svg, png } = await diversityPlot([{ className: "tench", metrics }]);
 * ```
 */
export async function diversityPlot(
  classes: readonly { className: string; metrics: ClassMetrics }[],
  options: DiversityPlotOptions = {},
): Promise<PlotResult> {
  const rows: {
    className: string;
    method: string;
    diversity: number;
    representativeness: number;
  }[] = [];
  for (const { className, metrics } of classes) {
    for (const [method, m] of Object.entries(metrics.methods)) {
      m.diversityNorm.forEach((d, i) => {
        if (Number.isFinite(d)) {
          rows.push({
            className,
            method,
            diversity: d,
            representativeness: m.representativenessScore[i],
          });
        }
      });
    }
  }
  const size = options.panelSize ?? 160;
  return await render({
    ...BASE_CONFIG,
    ...(options.title ? { title: options.title } : {}),
    data: { values: rows },
    facet: {
      field: "className",
      type: "nominal",
      title: null,
      sort: classes.map((c) => c.className),
    },
    columns: options.columns ?? 5,
    spec: {
      name: DIVERSITY_LAYER,
      width: size,
      height: size,
      mark: { type: "point", filled: true, size: 40, opacity: 0.85 },
      encoding: {
        x: { field: "diversity", type: "quantitative", title: "diversity", scale: { zero: false } },
        y: {
          field: "representativeness",
          type: "quantitative",
          title: "representativeness",
          scale: { zero: false },
        },
        color: { field: "method", type: "nominal", title: "method" },
      },
    },
  }, options.pixelRatio);
}
