/**
 * Results that display themselves in a Jupyter notebook (Deno kernel): figures (PNG and SVG:
 * Debian's nbconvert 6.5 strips inline SVG from its HTML export, so PNG always comes along),
 * tables (markdown and HTML) and labelled contact sheets; and {@link show}, which waits until
 * the notebook has the output (a headless run otherwise loses outputs that arrive after the
 * kernel reports the cell done). Outside a notebook, `show` prints the plain-text form.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { sharp } from "../models/core/deps.ts";
import { encodeBase64 } from "../models/core/base64.ts";
import { flushProgress, jupyter } from "../stages/progress.ts";

/** The symbol the Deno kernel calls to get an object's MIME bundle. */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/** A MIME bundle: MIME type -> content (base64 for images). */
export type MediaBundle = Record<string, string>;

/** Anything with a MIME bundle. */
export interface Displayable {
  [JUPYTER_DISPLAY](): MediaBundle;
}

/**
 * An image result: PNG bytes, optionally the SVG it was rasterised from, and a title.
 *
 * @example
 * ```ts
 * import { Figure } from "./display.ts";
 * const fig = new Figure(await Deno.readFile("docs/fig6_cpu.png"), { title: "Fig. 6" });
 * fig; // as a cell's last expression: the image
 * ```
 */
export class Figure implements Displayable {
  /** PNG bytes, an optional SVG and a title (the plain-text form). */
  constructor(
    readonly png: Uint8Array,
    readonly o: { svg?: string; title?: string; path?: string; jpeg?: Uint8Array } = {},
  ) {}

  /**
   * A figure from a plot function's result (`sweepPlot`, `tsneScatter`, ...).
   *
   * @example
   * ```ts
   * import { Figure } from "./display.ts";
   * import { sweepPlot } from "../eval/plots/sweep_plot.ts";
   * const fig = Figure.fromPlot(await sweepPlot([{ x: 0.1, mean: 60, std: 1 }],
   *   { xTitle: "lambda", yTitle: "top-1 (%)" }), "lambda sweep");
   * ```
   */
  static fromPlot(plot: { svg: string; png: Uint8Array }, title?: string): Figure {
    return new Figure(plot.png, { svg: plot.svg, title });
  }

  /** The file the figure was read from or written to, if any. */
  get path(): string | undefined {
    return this.o.path;
  }

  /** Writes the PNG to `path`. */
  async save(path: string): Promise<void> {
    await Deno.writeFile(path, this.png);
  }

  /** The MIME bundle: PNG, SVG when there is one, and the title as text. */
  [JUPYTER_DISPLAY](): MediaBundle {
    const b: MediaBundle = {
      "image/png": encodeBase64(this.png),
      "text/plain": this.o.title ?? `Figure (${this.png.length} bytes of PNG)`,
    };
    if (this.o.svg) b["image/svg+xml"] = this.o.svg;
    return b;
  }

  /** The title, for logs. */
  toString(): string {
    return this[JUPYTER_DISPLAY]()["text/plain"];
  }
}

/**
 * A table result: a header row and rows of cells, shown as markdown, HTML and aligned text.
 *
 * @example
 * ```ts
 * import { Table } from "./display.ts";
 * new Table(["method", "top-1"], [["MGD3", "34.8"], ["DiT", "31.6"]], "Accuracy");
 * ```
 */
export class Table implements Displayable {
  /** Column names, rows (cells as text or numbers) and an optional caption. */
  constructor(
    readonly columns: readonly string[],
    readonly rows: readonly (readonly (string | number)[])[],
    readonly caption = "",
  ) {
    for (const [i, r] of rows.entries()) {
      if (r.length !== columns.length) {
        throw new RangeError(`Table row ${i} has ${r.length} cells; expected ${columns.length}`);
      }
    }
  }

  /** GitHub-flavoured markdown. */
  markdown(): string {
    const line = (cells: readonly (string | number)[]) => `| ${cells.join(" | ")} |`;
    return [
      ...(this.caption ? [`**${this.caption}**`, ""] : []),
      line(this.columns),
      line(this.columns.map(() => "---")),
      ...this.rows.map(line),
    ].join("\n");
  }

  /** An HTML table. */
  html(): string {
    const row = (tag: string, cells: readonly (string | number)[]) =>
      `<tr>${cells.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join("")}</tr>`;
    return `<table>${this.caption ? `<caption>${escapeHtml(this.caption)}</caption>` : ""}${
      row("th", this.columns)
    }${this.rows.map((r) => row("td", r)).join("")}</table>`;
  }

  /** Columns padded to equal width. */
  text(): string {
    const all = [this.columns, ...this.rows].map((r) => r.map(String));
    const w = this.columns.map((_, j) => Math.max(...all.map((r) => r[j].length)));
    const fmt = (r: string[]) => r.map((c, j) => c.padEnd(w[j])).join("  ").trimEnd();
    return [...(this.caption ? [this.caption] : []), ...all.map(fmt)].join("\n");
  }

  /** The MIME bundle: markdown, HTML and text. */
  [JUPYTER_DISPLAY](): MediaBundle {
    return {
      "text/markdown": this.markdown(),
      "text/html": this.html(),
      "text/plain": this.text(),
    };
  }

  /** The aligned text. */
  toString(): string {
    return this.text();
  }
}

/**
 * Text made safe inside HTML or SVG markup (`&`, `<`, `>`).
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./display.ts";
 * escapeHtml("a < b"); // "a &lt; b"
 * ```
 */
export function escapeHtml(s: string | number): string {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** One labelled row of a contact sheet: its label and its images as [n, 3, S, S] bytes. */
export interface SheetRow {
  label: string;
  /** RGB bytes, [n, 3, S, S] (channel-first, as the store's `images` shards). */
  images: Uint8Array;
  /** Image side S in pixels. */
  size: number;
}

/**
 * A contact sheet with one labelled row per class, each image drawn `scale` times its size
 * (nearest neighbour, so 64 px samples stay sharp).
 *
 * @example
 * ```ts
 * import { contactSheet } from "./display.ts";
 * const rgb = new Uint8Array(2 * 3 * 8 * 8).fill(128);
 * const fig = await contactSheet([{ label: "tench", images: rgb, size: 8 }], { scale: 4 });
 * ```
 */
export async function contactSheet(
  rows: readonly SheetRow[],
  o: { scale?: number; title?: string } = {},
): Promise<Figure> {
  const scale = o.scale ?? 2;
  if (!(Number.isInteger(scale) && scale >= 1 && scale <= 16)) {
    throw new RangeError(`contactSheet: scale must be an integer in [1, 16], got ${scale}`);
  }
  if (rows.length === 0) throw new RangeError("contactSheet: no rows");
  const gap = 2;
  const labelW = 8 * Math.max(...rows.map((r) => r.label.length)) + 12;
  const cells = rows.map((r) => {
    const per = 3 * r.size * r.size;
    if (r.images.length % per !== 0) {
      throw new RangeError(
        `contactSheet: row '${r.label}' has ${r.images.length} bytes, not a multiple of 3x${r.size}x${r.size}`,
      );
    }
    return { ...r, n: r.images.length / per, side: r.size * scale };
  });
  const rowH = Math.max(...cells.map((c) => c.side)) + gap;
  const width = labelW + Math.max(...cells.map((c) => c.n * (c.side + gap))) + gap;
  const height = rows.length * rowH + gap;
  const layers: sharp.OverlayOptions[] = [];
  for (const [r, c] of cells.entries()) {
    for (let i = 0; i < c.n; i++) {
      const hwc = chwToHwc(c.images.subarray(i * 3 * c.size * c.size), c.size);
      const tile = await sharp(hwc, { raw: { width: c.size, height: c.size, channels: 3 } })
        .resize(c.side, c.side, { kernel: "nearest" }).png().toBuffer();
      layers.push({ input: tile, left: labelW + gap + i * (c.side + gap), top: gap + r * rowH });
    }
  }
  const labels = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${
    cells.map((c, r) =>
      `<text x="4" y="${
        gap + r * rowH + rowH / 2 + 4
      }" font-family="DejaVu Sans Mono, monospace" font-size="12">${escapeHtml(c.label)}</text>`
    ).join("")
  }</svg>`;
  layers.unshift({ input: Buffer.from(labels), left: 0, top: 0 });
  const sheet = await sharp({
    create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } },
  }).composite(layers).png().toBuffer();
  // A JPEG beside the PNG keeps galleries of photos small in a committed notebook.
  const jpeg = await sharp(sheet).jpeg({ quality: 85 }).toBuffer();
  return new Figure(new Uint8Array(sheet), {
    title: o.title ?? `Contact sheet: ${rows.length} classes`,
    jpeg: new Uint8Array(jpeg),
  });
}

function chwToHwc(chw: Uint8Array, S: number): Uint8Array {
  const out = new Uint8Array(3 * S * S);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < S * S; p++) out[p * 3 + c] = chw[c * S * S + p];
  }
  return out;
}

/**
 * Shows results and waits until the notebook has them (then 50 ms more, see the module
 * notes); outside a notebook prints their plain-text form with `console.log`. Plain strings
 * are shown as text.
 *
 * @example
 * ```ts
 * import { show, Table } from "./display.ts";
 * await show(new Table(["a"], [[1]]), "done");
 * ```
 */
export async function show(...items: (Displayable | string)[]): Promise<void> {
  const broadcast = jupyter();
  for (const item of items) {
    const bundle = typeof item === "string" ? { "text/plain": item } : item[JUPYTER_DISPLAY]();
    if (broadcast) {
      await broadcast("display_data", { data: bundle, metadata: {}, transient: {} });
    } else console.log(bundle["text/plain"] ?? "");
  }
  await flushProgress();
}
