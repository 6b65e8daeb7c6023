/**
 * A gallery result: several figures and tables shown as one notebook output.
 *
 * @module
 */
import { encodeBase64 } from "../models/core/base64.ts";
import {
  type Displayable,
  escapeHtml,
  Figure,
  JUPYTER_DISPLAY,
  type MediaBundle,
  type Table,
} from "./display.ts";

/**
 * Figures and tables shown together: HTML with the images inline (JPEG where the figure has
 * one; Debian's nbconvert keeps those in its HTML export), markdown of the tables, and a
 * plain-text summary.
 *
 * @example
 * ```ts
 * import { Gallery } from "./gallery.ts";
 * import { Table } from "./display.ts";
 * new Gallery([], [new Table(["a"], [[1]])]);
 * ```
 */
export class Gallery implements Displayable {
  /** The figures (e.g. contact sheets, plots) and tables. */
  constructor(readonly figures: Figure[], readonly tables: Table[] = []) {}

  /** Figures read from PNG files of a folder (missing files are left out). */
  static async read(dir: string, files: string[]): Promise<Gallery> {
    const figures: Figure[] = [];
    for (const f of files) {
      const png = await Deno.readFile(`${dir}/${f}`).catch(() => null);
      if (png) figures.push(new Figure(png, { title: f, path: `${dir}/${f}` }));
    }
    return new Gallery(figures);
  }

  /** The MIME bundle: HTML, markdown (tables only) and text. */
  [JUPYTER_DISPLAY](): MediaBundle {
    const html = [
      ...this.tables.map((t) => t.html()),
      ...this.figures.map((f) =>
        `<figure><img style="image-rendering:pixelated;max-width:100%" src="${
          f.o.jpeg
            ? `data:image/jpeg;base64,${encodeBase64(f.o.jpeg)}`
            : `data:image/png;base64,${encodeBase64(f.png)}`
        }"><figcaption>${escapeHtml(String(f))}</figcaption></figure>`
      ),
    ].join("\n");
    return {
      "text/html": html,
      "text/plain": [...this.tables.map(String), ...this.figures.map(String)].join("\n\n"),
    };
  }

  /** The tables and figure titles as text. */
  toString(): string {
    return this[JUPYTER_DISPLAY]()["text/plain"];
  }
}
