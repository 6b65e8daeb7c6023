/**
 * Paper Fig. 5's layout: one t-SNE panel per method, side by side, each with the class's
 * original points in grey and that method's distilled samples in colour (the same
 * coordinates in every panel, so the areas they cover compare at a glance).
 *
 * @module
 */
import { BASE_CONFIG, type PlotResult, render } from "./render.ts";

/** One class's 2-D coordinates ([x0, y0, x1, y1, ...]), original and per method. */
export interface TsnePanelsData {
  /** Original images of the class. */
  original: ArrayLike<number>;
  /** Distilled samples per method, in panel order. */
  synthetic: Record<string, ArrayLike<number>>;
}

/** Names of the mark groups in the SVG (`<name>_marks`, one group per panel). */
export const PANEL_LAYERS = { original: "original", synthetic: "synthetic" } as const;

const AXIS = { title: null, labels: false, ticks: false }; // t-SNE axes carry no meaning

/**
 * Draws one panel per method.
 *
 * @example
 * ```ts
 * import { tsnePanels } from "./tsne_panels.ts";
 * const { svg, png } = await tsnePanels({
 *   original: [0, 0, 1, 1, 2, 0],
 *   synthetic: { DiT: [1, 0], "DiT + MGD3": [0, 1, 2, 1] },
 * }, { title: "tench" });
 * ```
 */
export async function tsnePanels(
  d: TsnePanelsData,
  options: { title?: string; panelSize?: number; pixelRatio?: number } = {},
): Promise<PlotResult> {
  const methods = Object.keys(d.synthetic);
  const rows: { x: number; y: number; set: string; method: string; panel: string }[] = [];
  for (const panel of methods) {
    for (let i = 0; i + 1 < d.original.length; i += 2) {
      rows.push({ x: d.original[i], y: d.original[i + 1], set: "original", method: "", panel });
    }
    const s = d.synthetic[panel];
    for (let i = 0; i + 1 < s.length; i += 2) {
      rows.push({ x: s[i], y: s[i + 1], set: "synthetic", method: panel, panel });
    }
  }
  const xy = {
    x: { field: "x", type: "quantitative", scale: { zero: false }, axis: AXIS },
    y: { field: "y", type: "quantitative", scale: { zero: false }, axis: AXIS },
  };
  const only = (set: string) => [{ filter: { field: "set", equal: set } }];
  const size = options.panelSize ?? 240;
  return await render({
    ...BASE_CONFIG,
    ...(options.title ? { title: options.title } : {}),
    data: { values: rows },
    facet: { column: { field: "panel", type: "nominal", title: null, sort: methods } },
    spec: {
      width: size,
      height: size,
      layer: [
        {
          name: PANEL_LAYERS.original,
          transform: only("original"),
          mark: { type: "point", filled: true, color: "#b0b0b0", size: 12, opacity: 0.5 },
          encoding: xy,
        },
        {
          name: PANEL_LAYERS.synthetic,
          transform: only("synthetic"),
          mark: { type: "point", filled: true, size: 60, stroke: "white", strokeWidth: 0.6 },
          encoding: {
            ...xy,
            color: { field: "method", type: "nominal", title: "method", sort: methods },
          },
        },
      ],
    },
  }, options.pixelRatio);
}
