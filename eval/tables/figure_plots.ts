/**
 * The figure-specific plots and findings of a metrics table, drawn from its metrics
 * artifact's per-class files (`classes/<shard>.json`: per-sample metrics and the t-SNE
 * coordinates):
 * - `tsne-panels` (Fig. 5): one panel per method for every class; finding: how far each
 *   original image is from its nearest distilled sample (lower: the set covers more);
 * - `per-sample` (Fig. 8): per-sample diversity against representativeness, one panel per
 *   class; findings: in how many classes each method is the most representative, and its
 *   lowest per-sample diversity;
 * - `tstop` (Fig. 9): the class-mean diversity and representativeness against the rows'
 *   t_stop; findings: whether guidance raised diversity at every t_stop and where the
 *   representativeness peaks.
 *
 * @module
 */
import type { TableDef } from "./spec.ts";
import { tsnePanels } from "../plots/tsne_panels.ts";
import { diversityPlot } from "../plots/diversity_plot.ts";
import { sweepPlot, type SweepPoint } from "../plots/sweep_plot.ts";
import type { ClassMetrics } from "../metrics/class_metrics.ts";

/** One class file of a metrics artifact, as `eval/measure.ts` writes it. */
export interface ClassFile {
  className: string;
  scale: number;
  embedding?: { original: number[]; synthetic: Record<string, number[]> };
  methods: Record<string, {
    diversity: number[];
    representativeness: number[];
    diversityNorm: number[];
    representativenessScore: number[];
  }>;
}

/** Where plots go: an artifact that writes files. */
interface Writer {
  writeFile(name: string, data: string | Uint8Array): Promise<unknown>;
}

/**
 * Reads the class files of a metrics artifact directory, in shard order.
 *
 * @example
 * ```ts
 * import { readClassFiles } from "./figure_plots.ts";
 * const classes = await readClassFiles(".store/reproduce-cpu/cpu/m1/metrics/fig8-s0");
 * ```
 */
export async function readClassFiles(dir: string): Promise<ClassFile[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(`${dir}/classes`)) {
      if (e.isFile && e.name.endsWith(".json")) names.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  names.sort();
  return await Promise.all(
    names.map(async (n) => JSON.parse(await Deno.readTextFile(`${dir}/classes/${n}`))),
  );
}

const mean = (xs: number[]) => {
  const f = xs.filter(Number.isFinite);
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN;
};
const std = (xs: number[]) => {
  const m = mean(xs), f = xs.filter(Number.isFinite);
  return f.length > 1 ? Math.sqrt(f.reduce((a, b) => a + (b - m) ** 2, 0) / (f.length - 1)) : 0;
};
const f2 = (x: number) => x.toFixed(2);
const f3 = (x: number) => x.toFixed(3);

/**
 * Writes the table's figure plots (SVG + PNG) into `art` and returns its findings, one
 * sentence each (empty when the table has no figure or the class files are missing).
 *
 * @example
 * ```ts
 * import { figurePlots } from "./figure_plots.ts";
 * const findings = await figurePlots(TABLES.fig9, `${store.root}/${plan.measure}`, art);
 * ```
 */
export async function figurePlots(t: TableDef, measureDir: string, art: Writer): Promise<string[]> {
  if (!t.figure) return [];
  const classes = await readClassFiles(measureDir);
  if (classes.length === 0) return [];
  const order = t.rows.map((r) => r.label).filter((l) => l in classes[0].methods);
  const write = async (name: string, p: { svg: string; png: Uint8Array }) => {
    await art.writeFile(`plots/${name}.svg`, p.svg);
    await art.writeFile(`plots/${name}.png`, p.png);
  };
  if (t.figure === "tsne-panels") return await panels(t, classes, order, write);
  if (t.figure === "per-sample") return await perSample(t, classes, order, write);
  return await tStop(t, classes, order, write);
}

type Write = (name: string, p: { svg: string; png: Uint8Array }) => Promise<void>;

async function panels(t: TableDef, classes: ClassFile[], order: string[], write: Write) {
  const gap: Record<string, number[]> = Object.fromEntries(order.map((m) => [m, []]));
  for (const [i, c] of classes.entries()) {
    if (!c.embedding) continue;
    const synthetic = Object.fromEntries(order.map((m) => [m, c.embedding!.synthetic[m]]));
    await write(
      `${t.id}_${String(i).padStart(3, "0")}`,
      await tsnePanels({ original: c.embedding.original, synthetic }, { title: c.className }),
    );
    for (const m of order) gap[m].push(nearestGap(c.embedding.original, synthetic[m]) / c.scale);
  }
  if (gap[order[0]].length === 0) return [];
  return [
    `Coverage (mean distance from an original image to its nearest distilled sample in the t-SNE space, / the class scale, mean over ${
      gap[order[0]].length
    } classes; lower covers more): ${order.map((m) => `${m} ${f2(mean(gap[m]))}`).join(", ")}.`,
  ];
}

function nearestGap(orig: number[], syn: number[]): number {
  let total = 0, n = 0;
  for (let i = 0; i + 1 < orig.length; i += 2, n++) {
    let best = Infinity;
    for (let j = 0; j + 1 < syn.length; j += 2) {
      best = Math.min(best, Math.hypot(orig[i] - syn[j], orig[i + 1] - syn[j + 1]));
    }
    total += best;
  }
  return n ? total / n : NaN;
}

async function perSample(t: TableDef, classes: ClassFile[], order: string[], write: Write) {
  const asMetrics = classes.map((c) => ({
    className: c.className,
    metrics: {
      scale: c.scale,
      methods: Object.fromEntries(order.map((m) => {
        const s = c.methods[m];
        return [m, {
          diversity: Float64Array.from(s.diversity),
          representativeness: Float64Array.from(s.representativeness),
          diversityNorm: Float64Array.from(s.diversityNorm),
          representativenessScore: Float64Array.from(s.representativenessScore),
        }];
      })),
    } as ClassMetrics,
  }));
  await write(t.id, await diversityPlot(asMetrics, { title: t.title.split(":")[0] }));
  const best: Record<string, number> = Object.fromEntries(order.map((m) => [m, 0]));
  for (const c of classes) {
    const rep = order.map((m) => mean(c.methods[m].representativenessScore));
    best[order[rep.indexOf(Math.max(...rep))]]++;
  }
  const lowest = (m: string) => mean(classes.map((c) => Math.min(...c.methods[m].diversityNorm)));
  return [
    `Most representative method per class (mean per-sample representativeness), out of ${classes.length} classes: ${
      order.map((m) => `${m} ${best[m]}`).join(", ")
    }.`,
    `Lowest per-sample diversity in a class, mean over classes: ${
      order.map((m) => `${m} ${f2(lowest(m))}`).join(", ")
    }; mean per-sample diversity: ${
      order.map((m) => `${m} ${f2(mean(classes.map((c) => mean(c.methods[m].diversityNorm))))}`)
        .join(", ")
    }.`,
  ];
}

async function tStop(t: TableDef, classes: ClassFile[], order: string[], write: Write) {
  const at = (m: string, key: "diversityNorm" | "representativenessScore") =>
    classes.map((c) => mean(c.methods[m][key]));
  const rows = t.rows.filter((r) => r.x !== undefined && order.includes(r.label));
  const points: SweepPoint[] = rows.flatMap((r) => [
    {
      x: r.x!,
      mean: mean(at(r.label, "diversityNorm")),
      std: std(at(r.label, "diversityNorm")),
      series: "diversity",
    },
    {
      x: r.x!,
      mean: mean(at(r.label, "representativenessScore")),
      std: std(at(r.label, "representativenessScore")),
      series: "representativeness",
    },
  ]);
  await write(
    t.id,
    await sweepPlot(points, {
      xTitle: t.xTitle ?? "t_stop",
      yTitle: "class mean (± std over classes)",
      title: t.title.split(":")[0],
    }),
  );
  const div = (x: number) => points.find((p) => p.x === x && p.series === "diversity")!.mean;
  const rep = (x: number) =>
    points.find((p) => p.x === x && p.series === "representativeness")!.mean;
  const xs = rows.map((r) => r.x!);
  const none = Math.max(...xs); // the unguided point (t_stop 50)
  const guided = xs.filter((x) => x !== none);
  const raised = guided.filter((x) => div(x) > div(none));
  const peak = xs.reduce((a, b) => (rep(b) > rep(a) ? b : a));
  const last = Math.min(...xs); // the latest stop (guidance on the most steps)
  const mid = guided.includes(25) ? 25 : guided[0]; // MGD3's own t_stop (App. A)
  return [
    `Diversity: unguided (t_stop ${none}) ${f3(div(none))}; guided ${
      guided.map((x) => `${x}: ${f3(div(x))}`).join(", ")
    }; higher than unguided at ${raised.length} of ${guided.length} t_stop values.`,
    `Representativeness: ${
      xs.map((x) => `${x}: ${f3(rep(x))}`).join(", ")
    }; highest at t_stop ${peak}.`,
    `Delaying the stop from t_stop ${mid} to ${last}: diversity ${f3(div(mid))} -> ${
      f3(div(last))
    }, representativeness ${f3(rep(mid))} -> ${f3(rep(last))}.`,
  ];
}
