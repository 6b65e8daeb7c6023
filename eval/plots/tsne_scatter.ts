/**
 * The t-SNE scatter of one class (paper Fig. 5): original points grey, synthetic points
 * coloured by method, mode centroids (when embedded) as black crosses.
 *
 * @module
 */
import type { ClassEmbedding } from "../metrics/embed_class.ts";
import { BASE_CONFIG, type PlotResult, render } from "./render.ts";

/** Options of {@link tsneScatter}. */
export interface TsneScatterOptions {
  /** Figure title (default: none). */
  title?: string;
  /** Plot area size in pixels (default 400 x 400). */
  width?: number;
  /** Plot area height in pixels (default 400). */
  height?: number;
  /** PNG pixel ratio (default 2). */
  pixelRatio?: number;
}

/** Names of the mark groups in the SVG (`class="mark-symbol role-mark <name>_marks"`). */
export const SCATTER_LAYERS = {
  original: "original",
  synthetic: "synthetic",
  modes: "modes",
} as const;

/** t-SNE axes carry no meaning: no titles, labels or ticks. */
const AXIS = { title: null, labels: false, ticks: false };

/**
 * Draws the embedding of one class.
 *
 * @example
 * ```ts
 * import { points } from "../metrics/points.ts";
 * import { tsneScatter } from "./tsne_scatter.ts";
 * const { svg, png } = await tsneScatter({
 *   original: points(new Float32Array([0, 0, 1, 1, 2, 0]), 2),
 *   synthetic: { MGD3: points(new Float32Array([1, 0]), 2) },
 * }, { title: "tench" });
 * ```
 */
export async function tsneScatter(
  embedding: ClassEmbedding,
  options: TsneScatterOptions = {},
): Promise<PlotResult> {
  const rows: { x: number; y: number; set: string; method: string }[] = [];
  const add = (data: Float32Array, set: string, method: string) => {
    for (let i = 0; i + 1 < data.length; i += 2) {
      rows.push({ x: data[i], y: data[i + 1], set, method });
    }
  };
  add(embedding.original.data, "original", "original");
  for (const [method, p] of Object.entries(embedding.synthetic)) add(p.data, "synthetic", method);
  if (embedding.modes) add(embedding.modes.data, "modes", "modes");
  const xy = {
    x: { field: "x", type: "quantitative", scale: { zero: false }, axis: AXIS },
    y: { field: "y", type: "quantitative", scale: { zero: false }, axis: AXIS },
  };
  const only = (set: string) => [{ filter: { field: "set", equal: set } }];
  const layer: Record<string, unknown>[] = [
    {
      name: SCATTER_LAYERS.original,
      transform: only("original"),
      mark: { type: "point", filled: true, color: "#b0b0b0", size: 14, opacity: 0.5 },
      encoding: xy,
    },
    {
      name: SCATTER_LAYERS.synthetic,
      transform: only("synthetic"),
      mark: {
        type: "point",
        filled: true,
        size: 70,
        opacity: 0.95,
        stroke: "white",
        strokeWidth: 0.6,
      },
      encoding: { ...xy, color: { field: "method", type: "nominal", title: "method" } },
    },
  ];
  if (embedding.modes) {
    layer.push({
      name: SCATTER_LAYERS.modes,
      transform: only("modes"),
      mark: { type: "point", shape: "cross", filled: true, color: "black", size: 90, opacity: 1 },
      encoding: xy,
    });
  }
  return await render({
    ...BASE_CONFIG,
    ...(options.title ? { title: options.title } : {}),
    width: options.width ?? 400,
    height: options.height ?? 400,
    data: { values: rows },
    layer,
  }, options.pixelRatio);
}
