/**
 * Renders a Vega-Lite spec to SVG (vega-lite compile -> vega View with renderer "none" ->
 * toSVG; no DOM needed) and rasterises the SVG to PNG with sharp (librsvg; text in the
 * system's fonts, DejaVu on Debian).
 *
 * @module
 */
import { sharp } from "../../models/core/deps.ts";
import { vega } from "../../models/core/deps.ts";
import { vl } from "../../models/core/deps.ts";

/** What every plot function returns. */
export interface PlotResult {
  /** The figure as an SVG document. */
  svg: string;
  /** The same figure as PNG bytes. */
  png: Uint8Array;
}

/** Vega-Lite spec (a plain object; see the Vega-Lite v6 schema). */
export type VegaLiteSpec = Record<string, unknown>;

/** Compiles and renders a Vega-Lite spec; `pixelRatio` scales the PNG (2 = retina). */
export async function render(spec: VegaLiteSpec, pixelRatio = 2): Promise<PlotResult> {
  const compiled = vl.compile(spec as unknown as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    const density = 72 * pixelRatio; // librsvg renders SVG user units at 72 dpi
    const png = await sharp(new TextEncoder().encode(svg), { density }).png().toBuffer();
    return { svg, png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength) };
  } finally {
    view.finalize();
  }
}

/** Base properties shared by the plots. */
export const BASE_CONFIG = {
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  background: "white",
  config: { font: "DejaVu Sans", view: { stroke: "#ccc" } },
} as const;
