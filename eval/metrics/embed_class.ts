/**
 * Embeds one class for the metrics and plots of SPEC section 5: t-SNE (or UMAP) is fitted
 * on the class's original latents together with the synthetic latents of every method
 * compared (and, when given, the mode centroids, so that plots can mark them), then the
 * coordinates are split back per set.
 *
 * @module
 */
import { type Points, points } from "./points.ts";
import { tsne, type TsneOptions } from "./tsne.ts";
import { umap, type UmapOptions } from "./umap.ts";

/** Flattened latents of one class. */
export interface ClassLatents {
  /** Original samples [n, d]. */
  original: Points;
  /** Synthetic samples per method (e.g. "DiT", "MGD3") [m, d]. */
  synthetic: Record<string, Points>;
  /** Mode centroids [k, d] (optional). */
  modes?: Points;
}

/** The 2-D coordinates of one class, split as in {@link ClassLatents}. */
export interface ClassEmbedding {
  /** Original samples [n, 2]. */
  original: Points;
  /** Synthetic samples per method [m, 2]. */
  synthetic: Record<string, Points>;
  /** Mode centroids [k, 2] (when given). */
  modes?: Points;
}

/** Options of {@link embedClass}. */
export interface EmbedClassOptions {
  /** "tsne" (default, SPEC section 5) or "umap". */
  method?: "tsne" | "umap";
  /** t-SNE options (method "tsne"). */
  tsne?: TsneOptions;
  /** UMAP options (method "umap"). */
  umap?: UmapOptions;
}

/**
 * Fits one embedding on all the sets of a class and returns each set's coordinates.
 *
 * @example
 * ```ts
 * import { embedClass } from "./embed_class.ts";
 * import { points } from "./points.ts";
 * const f = (n: number, s: number) => points(new Float32Array(n * 4).map((_, i) => Math.sin(i * s)), 4);
 * const e = embedClass({ original: f(60, 0.3), synthetic: { MGD3: f(5, 0.7) } }, { tsne: { perplexity: 10 } });
 * // e.original.shape = [60, 2], e.synthetic.MGD3.shape = [5, 2]
 * ```
 */
export function embedClass(latents: ClassLatents, options: EmbedClassOptions = {}): ClassEmbedding {
  const sets: [string, Points][] = [["original", latents.original]];
  for (const [name, p] of Object.entries(latents.synthetic)) sets.push([`synthetic:${name}`, p]);
  if (latents.modes) sets.push(["modes", latents.modes]);
  const d = latents.original.shape[1];
  for (const [name, p] of sets) {
    if (p.shape[1] !== d) {
      throw new RangeError(`Set "${name}" has dimension ${p.shape[1]}, the originals ${d}`);
    }
  }
  const total = sets.reduce((s, [, p]) => s + p.shape[0], 0);
  const all = new Float32Array(total * d);
  let offset = 0;
  for (const [, p] of sets) {
    all.set(p.data, offset * d);
    offset += p.shape[0];
  }
  const x = points(all, d);
  const y = (options.method ?? "tsne") === "umap"
    ? umap(x, options.umap)
    : tsne(x, options.tsne).embedding;
  const out: ClassEmbedding = { original: points(new Float32Array(0), 2), synthetic: {} };
  offset = 0;
  for (const [name, p] of sets) {
    const part = points(y.slice(2 * offset, 2 * (offset + p.shape[0])), 2);
    offset += p.shape[0];
    if (name === "original") out.original = part;
    else if (name === "modes") out.modes = part;
    else out.synthetic[name.slice("synthetic:".length)] = part;
  }
  return out;
}
