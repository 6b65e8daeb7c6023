/**
 * The mode-coverage table of a distilled set (issue 19): per space (the VAE latents and the
 * t-SNE embedding) and per method, the pooled mode coverage (coverage.ts) beside the paper's
 * diversity and representativeness (class_metrics.ts, class-scale normalised, averaged over
 * samples), so that one line says how near the samples end to their modes, whether each mode
 * got the sample guided to it, how many modes are covered, and how diverse and representative
 * the set is.
 *
 * @module
 */
import type { ClassMetrics } from "./class_metrics.ts";
import { type ClassCoverage, poolCoverage, type SetCoverage } from "./coverage.ts";

/** The spaces the table measures in. */
export type CoverageSpace = "latent" | "tsne";

/** One line: a method in a space. */
export interface CoverageRow extends SetCoverage {
  /** "latent" (distances as RMS per coordinate) or "tsne" (embedding units). */
  space: CoverageSpace;
  /** Method (the samples' name, e.g. "MGD3", "DiT"). */
  method: string;
  /** Mean diversity / class scale over every sample (higher = more diverse). */
  diversity: number;
  /** Mean 1 - representativeness / class scale (higher = more representative). */
  representativeness: number;
}

/** The table's rows, space by space, methods in order. */
export interface CoverageTable {
  /** Every (space, method) line. */
  rows: CoverageRow[];
}

/** One class's coverage and metrics in one space, per method. */
export interface ClassCoverageInput {
  /** Per method: the class's coverage. */
  coverage: Record<string, ClassCoverage>;
  /** The class's diversity and representativeness in the same space. */
  metrics: ClassMetrics;
}

function meanOf(arrays: ArrayLike<number>[]): number {
  let s = 0, n = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      if (Number.isFinite(a[i])) [s, n] = [s + a[i], n + 1];
    }
  }
  return n ? s / n : NaN;
}

/**
 * Pools the classes of each space into one row per method.
 *
 * @example
 * ```ts
 * import { coverageTable, formatCoverageTable } from "./coverage_table.ts";
 * const t = coverageTable({ latent: classesInLatentSpace, tsne: classesInTsneSpace });
 * console.log(formatCoverageTable(t));
 * ```
 */
export function coverageTable(
  spaces: Partial<Record<CoverageSpace, readonly ClassCoverageInput[]>>,
): CoverageTable {
  const rows: CoverageRow[] = [];
  for (
    const [space, classes] of Object.entries(spaces) as [CoverageSpace, ClassCoverageInput[]][]
  ) {
    if (!classes.length) continue;
    for (const method of Object.keys(classes[0].coverage)) {
      const per = classes.map((c, i) => {
        const v = c.coverage[method];
        if (!v) {
          throw new RangeError(`Class ${i} (${space}) has no coverage for method "${method}"`);
        }
        return v;
      });
      const m = classes.map((c) => c.metrics.methods[method]);
      rows.push({
        space,
        method,
        ...poolCoverage(per),
        diversity: meanOf(m.map((x) => x?.diversityNorm ?? [])),
        representativeness: meanOf(m.map((x) => x?.representativenessScore ?? [])),
      });
    }
  }
  return { rows };
}

/** Digits of distances and scores in the markdown table. */
const DIGITS = 3;
/** Percent digits. */
const PCT_DIGITS = 0;

/**
 * The table as markdown: one line per (space, method).
 *
 * @example
 * ```ts
 * import { formatCoverageTable } from "./coverage_table.ts";
 * formatCoverageTable({ rows: [] }); // the header only
 * ```
 */
export function formatCoverageTable(t: CoverageTable): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(DIGITS) : "—");
  const pct = (x: number) => `${(100 * x).toFixed(PCT_DIGITS)}%`;
  return [
    "| space | method | to mode mean | to mode median | mode spacing | mode's nearest is its own " +
    "(chance) | modes covered | diversity | representativeness |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...t.rows.map((r) =>
      `| ${r.space} | ${r.method} | ${f(r.meanToMode)} | ${f(r.medianToMode)} | ${
        f(r.modeSpacing)
      } | ${pct(r.guidedNearestShare)} (${pct(r.chance)}) | ${r.covered}/${r.modes} | ${
        f(r.diversity)
      } | ${f(r.representativeness)} |`
    ),
  ].join("\n");
}

/** What the columns mean, for reports (one paragraph). */
export const COVERAGE_LEGEND = "to mode: distance of each sample to the mode it was paired " +
  "with (sample i of a class <-> mode i; latent space: RMS per coordinate of the normalised " +
  "latents; t-SNE: embedding units); mode spacing: mean distance from a mode to its nearest " +
  "other mode; mode's nearest is its own: share of modes whose nearest sample is the one " +
  "paired with it (chance 1/k); modes covered: distinct modes that are the nearest mode of at " +
  "least one sample; diversity and representativeness: the paper's (section 5.2), divided by " +
  "the class's mean pairwise distance between originals (representativeness as 1 - that).";
