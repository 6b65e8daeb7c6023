/**
 * Stage `metrics` (SPEC section 5): per class, one t-SNE (or UMAP) embedding of the VAE
 * latents of the original images, of each method's synthetic latents and of the modes; the
 * diversity and representativeness of every synthetic sample; the class-wise table of paper
 * Table 9; and plots (t-SNE scatter per class, diversity against representativeness, Fig. 6),
 * written with provenance into a store artifact.
 *
 * @module
 */
import type { Store } from "../stages/store/store.ts";
import { embedClass } from "./metrics/embed_class.ts";
import { type ClassMetrics, classMetrics } from "./metrics/class_metrics.ts";
import {
  type DiversityTable,
  diversityTable,
  formatDiversityTable,
} from "./metrics/diversity_table.ts";
import { points } from "./metrics/points.ts";
import { type ClassCoverage, classCoverage } from "./metrics/coverage.ts";
import {
  type ClassCoverageInput,
  COVERAGE_LEGEND,
  type CoverageTable,
  coverageTable,
  formatCoverageTable,
} from "./metrics/coverage_table.ts";
import { tsneScatter } from "./plots/tsne_scatter.ts";
import { diversityPlot } from "./plots/diversity_plot.ts";
import { createProgress } from "../stages/progress.ts";

/** Options of {@link measure}. */
export interface MeasureOptions {
  /** Latents of the original images (from `encode`). */
  latents: string;
  /** Synthetic latents per method name, e.g. {MGD3: "samples/mgd3-s0", DiT: "samples/dit-s0"}. */
  samples: Record<string, string>;
  /** Modes artifact to mark in the plots (optional). */
  modes?: string;
  /** Artifact to write. */
  out: string;
  /** t-SNE as the paper (sklearn TSNE, perplexity 30, seed 42) or UMAP. */
  embedding: "tsne" | "umap";
  /** Embedding seed (42, SPEC section 5). */
  seed: number;
  /** Replace an artifact made with other options. */
  overwrite?: boolean;
}

/** What {@link measure} wrote. */
export interface MeasureReport {
  /** Directory of the artifact written. */
  artifact: string;
  /** The class-wise diversity table (paper Table 9), also written as `table9.json`. */
  table: DiversityTable;
  /** The table as markdown (written as `table9.md`), then the coverage table when measured. */
  markdown: string;
  /** Each class's name and metrics, in shard order. */
  classes: { className: string; metrics: ClassMetrics }[];
  /**
   * Mode coverage in the latent and t-SNE spaces beside diversity and representativeness
   * (eval/metrics/coverage_table.ts), also written as `coverage.json` and `coverage.md`; null
   * without `modes`. Methods sampled from other modes than `modes` are left out.
   */
  coverage: CoverageTable | null;
}

/**
 * Embeds every class and writes metrics, tables and plots.
 *
 * @example
 * ```ts
 * import { measure } from "./measure.ts";
 * const r = await measure(store, { latents: "latents/train", samples: { MGD3: "samples/mgd3-s0" },
 *   out: "metrics/mgd3-s0", embedding: "tsne", seed: 42 });
 * console.log(r.markdown);
 * ```
 */
export async function measure(store: Store, o: MeasureOptions): Promise<MeasureReport> {
  // Each input is checked for its kind: latents (encode), samples (sample), modes (discover).
  const open = (name: string, kind: string, option: string) =>
    store.open(name, { kind, reader: `metrics option ${option}` });
  const lat = await open(o.latents, "latents", "latents (--latents)");
  const samples = await Promise.all(
    Object.entries(o.samples).map(async ([m, a]) =>
      [m, await open(a, "samples", `samples (--samples ${m}=${a})`)] as const
    ),
  );
  const modes = o.modes ? await open(o.modes, "modes", "modes (--modes)") : null;
  const out = await store.artifact(o.out, {
    kind: "metrics",
    options: {
      latentsKey: lat.manifest.key,
      samples: Object.fromEntries(samples.map(([m, a]) => [m, a.manifest.key])),
      modesKey: modes?.manifest.key ?? null,
      embedding: o.embedding,
    },
    seed: o.seed,
    overwrite: o.overwrite,
  });
  // Coverage pairs sample i with mode i: only samples drawn from these very modes qualify.
  const paired = modes
    ? samples.filter(([, a]) => a.manifest.options.modesKey === modes.manifest.key).map(([m]) => m)
    : [];
  const inLatent: ClassCoverageInput[] = [], inTsne: ClassCoverageInput[] = [];
  const shards = await lat.shards();
  const classes: { className: string; metrics: ClassMetrics }[] = [];
  const progress = createProgress(`metrics (${o.embedding})`, shards.length);
  for (const shard of shards) {
    const orig = await lat.readShard(shard);
    const z = orig.tensors.get("latents")!;
    const d = z.shape.slice(1).reduce((a, b) => a * b, 1);
    const synthetic: Record<string, ReturnType<typeof points>> = {};
    for (const [m, a] of samples) {
      synthetic[m] = points(
        (await a.readShard(shard)).tensors.get("latents")!.data as Float32Array,
        d,
      );
    }
    const emb = embedClass(
      {
        original: points(z.data as Float32Array, d),
        synthetic,
        ...(modes
          ? {
            modes: points(
              (await modes.readShard(shard)).tensors.get("modes")!.data as Float32Array,
              d,
            ),
          }
          : {}),
      },
      o.embedding === "tsne"
        ? { method: "tsne", tsne: { seed: o.seed } }
        : { method: "umap", umap: { seed: o.seed } },
    );
    const className = orig.metadata.name ?? shard;
    const metrics = classMetrics(emb);
    classes.push({ className, metrics });
    const toMode: Record<string, Record<string, number[]>> = { latent: {}, tsne: {} };
    if (modes && paired.length) {
      const modePts = points(
        (await modes.readShard(shard)).tensors.get("modes")!.data as Float32Array,
        d,
      );
      const cover = (space: "latent" | "tsne", f: (m: string) => ClassCoverage) => {
        const coverage = Object.fromEntries(paired.map((m) => [m, f(m)]));
        for (const [m, c] of Object.entries(coverage)) toMode[space][m] = [...c.toMode];
        return coverage;
      };
      inLatent.push({
        coverage: cover("latent", (m) => classCoverage(synthetic[m], modePts, { rms: true })),
        metrics: classMetrics({ original: points(z.data as Float32Array, d), synthetic }),
      });
      inTsne.push({
        coverage: cover("tsne", (m) => classCoverage(emb.synthetic[m], emb.modes!)),
        metrics,
      });
    }
    const plot = await tsneScatter(emb, { title: `${className} (${o.embedding})` });
    await out.writeFile(`plots/${shard}_${o.embedding}.svg`, plot.svg);
    await out.writeFile(`plots/${shard}_${o.embedding}.png`, plot.png);
    await out.writeJson(`classes/${shard}.json`, {
      className,
      scale: metrics.scale,
      // The 2-D coordinates [x0, y0, x1, y1, ...] (Fig. 5's panels are drawn from them).
      embedding: {
        original: [...emb.original.data],
        synthetic: Object.fromEntries(
          Object.entries(emb.synthetic).map(([m, p]) => [m, [...p.data]]),
        ),
        ...(emb.modes ? { modes: [...emb.modes.data] } : {}),
      },
      methods: Object.fromEntries(
        Object.entries(metrics.methods).map(([m, s]) => [m, {
          ...(toMode.latent[m]
            ? { toModeLatent: toMode.latent[m], toModeTsne: toMode.tsne[m] }
            : {}),
          diversity: [...s.diversity],
          representativeness: [...s.representativeness],
          diversityNorm: [...s.diversityNorm],
          representativenessScore: [...s.representativenessScore],
        }]),
      ),
    });
    progress.tick();
  }
  progress.done();
  const table = diversityTable(classes);
  const markdown =
    `# Class-wise average diversity (${o.embedding}, min-max normalised as paper Table 9)\n\n${
      formatDiversityTable(table)
    }\n`;
  await out.writeFile("table9.md", markdown);
  await out.writeJson("table9.json", table as unknown as Record<string, unknown>);
  const coverage = inLatent.length ? coverageTable({ latent: inLatent, tsne: inTsne }) : null;
  if (coverage) {
    await out.writeJson("coverage.json", coverage as unknown as Record<string, unknown>);
    await out.writeFile(
      "coverage.md",
      `# Mode coverage\n\n${formatCoverageTable(coverage)}\n\n${COVERAGE_LEGEND}\n`,
    );
  }
  const fig6 = await diversityPlot(classes);
  await out.writeFile("fig6_diversity_representativeness.svg", fig6.svg);
  await out.writeFile("fig6_diversity_representativeness.png", fig6.png);
  const full = coverage
    ? `${markdown}\n## Mode coverage\n\n${formatCoverageTable(coverage)}\n\n${COVERAGE_LEGEND}\n`
    : markdown;
  return { artifact: out.dir, table, markdown: full, classes, coverage };
}
