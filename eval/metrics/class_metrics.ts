/**
 * Diversity and representativeness of every synthetic sample of one class, for every
 * method compared (paper section 5.2, Fig. 6; SPEC section 5), raw and normalised.
 *
 * Normalisation (the paper does not publish its own): both distances are divided by the
 * class's embedding scale s = mean pairwise distance between the class's original points
 * in the same embedding. So `diversityNorm` = diversity / s (0 = a duplicate sample, about
 * 1 = as far apart as two random originals) and `representativenessScore` = 1 -
 * representativeness / s, the "1 - normalised value" the paper plots (higher = more
 * representative; negative when a sample lies further from its 50 nearest originals than
 * two random originals lie from each other). The scale depends only on the originals, so
 * values stay comparable whichever methods are compared. Raw values are kept.
 *
 * @module
 */
import {
  diversity,
  embeddingScale,
  representativeness,
  REPRESENTATIVENESS_K,
} from "./diversity.ts";
import type { ClassEmbedding } from "./embed_class.ts";

/** Per-sample metrics of one method in one class. */
export interface SampleMetrics {
  /** Min distance to another synthetic sample of the class (raw, embedding units). */
  diversity: Float64Array;
  /** Mean distance to the k nearest originals (raw, embedding units). */
  representativeness: Float64Array;
  /** diversity / scale. */
  diversityNorm: Float64Array;
  /** 1 - representativeness / scale (higher = more representative). */
  representativenessScore: Float64Array;
}

/** Metrics of one class. */
export interface ClassMetrics {
  /** Mean pairwise distance between the class's original points in the embedding. */
  scale: number;
  /** Per method (same keys as the embedding's synthetic sets). */
  methods: Record<string, SampleMetrics>;
}

/**
 * Computes the per-sample metrics of every method of an embedded class.
 *
 * @example
 * ```ts
 * import { classMetrics } from "./class_metrics.ts";
 * import { points } from "./points.ts";
 * const m = classMetrics({
 *   original: points(new Float32Array([0, 0, 2, 0, 0, 2, 2, 2]), 2),
 *   synthetic: { MGD3: points(new Float32Array([0, 0, 2, 2]), 2) },
 * }, { k: 1 });
 * // m.methods.MGD3.diversity = [2.83, 2.83], representativeness = [0, 0]
 * ```
 */
export function classMetrics(
  embedding: ClassEmbedding,
  options: { k?: number } = {},
): ClassMetrics {
  const k = options.k ?? REPRESENTATIVENESS_K;
  const scale = embeddingScale(embedding.original);
  const methods: Record<string, SampleMetrics> = {};
  for (const [name, synth] of Object.entries(embedding.synthetic)) {
    const div = diversity(synth);
    const rep = representativeness(synth, embedding.original, k);
    methods[name] = {
      diversity: div,
      representativeness: rep,
      diversityNorm: div.map((v) => v / scale),
      representativenessScore: rep.map((v) => 1 - v / scale),
    };
  }
  return { scale, methods };
}
