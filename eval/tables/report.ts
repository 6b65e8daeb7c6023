/**
 * The results of a table: every cell with the paper's number and ours (mean ± std over the
 * seeds; a cell with several networks, Table 4, averages their means and their stds),
 * written as `<store>/tables/<table>[-quick][-<hash>]/results.json` (with provenance),
 * `results.md` (the markdown table "paper | ours") and `plots/` (paper against ours; the sweep
 * curve; Fig. 6).
 *
 * @module
 */
import type { Store } from "../../stages/store/store.ts";
import { meanStd } from "../protocols/results.ts";
import { sweepPlot, type SweepPoint } from "../plots/sweep_plot.ts";
import { comparisonPlot } from "./comparison_plot.ts";
import { evalTop1 } from "./execute.ts";
import type { Plan } from "./units.ts";
import { parsePaperValue, type TableDef } from "./spec.ts";
import { formatMarkdown } from "./markdown.ts";
import { figurePlots } from "./figure_plots.ts";
import type { CellResult, TableResults, TableValue } from "./results.ts";
import { addPairedDiffs, evalCorrect, type PairedRun } from "./paired.ts";

export type { CellResult, TableResults, TableValue } from "./results.ts";

/**
 * Collects the cells' results from the store and writes results.json, results.md and plots
 * into the artifact `name` (default `tables/<table>`; {@link reportName} in run_table.ts
 * gives each run's settings their own name), replacing an earlier report of that name.
 *
 * @example
 * ```ts
 * import { writeReport } from "./report.ts";
 * const { markdown, dir } = await writeReport(store, TABLES.table7, plan, { scale: "cpu" });
 * console.log(markdown);
 * ```
 */
export async function writeReport(
  store: Store,
  t: TableDef,
  plan: Plan,
  settings: Record<string, unknown>,
  name = `tables/${t.id}`,
): Promise<{ results: TableResults; markdown: string; dir: string }> {
  const cells: CellResult[] = [];
  const perImage = new Map<string, PairedRun[]>(); // "row\0column" -> runs with their bitmaps
  for (const c of plan.cells) {
    const row = t.rows[c.row], col = t.columns[c.col];
    const p = row.paper[c.col];
    const perNetwork: CellResult["perNetwork"] = {};
    const runs: PairedRun[] = [];
    for (const e of c.evals) {
      const top1 = await evalTop1(store, e.unit);
      if (top1 !== null) (perNetwork[e.network] ??= []).push({ seed: e.seed, top1 });
      const correct = await evalCorrect(store.root, e.unit);
      if (correct) runs.push({ network: e.network, seed: e.seed, correct });
    }
    perImage.set(`${row.label}\u0000${col.label}`, runs);
    cells.push({
      row: row.label,
      column: col.label,
      ...(col.x !== undefined ? { x: col.x } : {}),
      status: c.status,
      ...(c.reason ? { reason: c.reason } : {}),
      paper: p === null ? null : (({ mean, std }) => ({ mean, std }))(parsePaperValue(p)),
      ours: c.evals.length ? combine(perNetwork) : null,
      perNetwork,
      artifacts: c.evals.map((e) => e.unit),
    });
  }
  addPairedDiffs(t, cells, perImage);
  const results: TableResults = {
    table: t.id,
    title: t.title,
    kind: t.kind,
    source: t.source,
    settings,
    cells,
    notes: t.notes,
  };
  if (plan.measure) await addMetrics(store, t, plan.measure, results);
  const art = await store.artifact(name, {
    kind: "table",
    options: settings,
    seed: null,
    overwrite: true,
  });
  if (t.claims) results.claims = t.claims;
  if (plan.measure && t.figure) {
    results.findings = await figurePlots(t, `${store.root}/${plan.measure}`, art);
  }
  const markdown = formatMarkdown(results, art.manifest.code);
  await art.writeJson("results.json", results as unknown as Record<string, unknown>);
  await art.writeFile("results.md", markdown);
  await writePlots(store, t, plan, results, art);
  return { results, markdown, dir: art.dir };
}

/** Per-network mean over seeds, then the mean of the networks' means and of their stds. */
function combine(perNetwork: CellResult["perNetwork"]): TableValue | null {
  const nets = Object.values(perNetwork);
  if (nets.length === 0) return null;
  const each = nets.map((runs) => meanStd(runs.map((r) => r.top1)));
  return {
    mean: each.reduce((a, b) => a + b.mean, 0) / each.length,
    std: each.reduce((a, b) => a + b.std, 0) / each.length,
    runs: nets.reduce((a, r) => a + r.length, 0),
  };
}

async function addMetrics(store: Store, t: TableDef, measure: string, r: TableResults) {
  const dir = `${store.root}/${measure}`;
  let table: {
    rows: { className: string; values: Record<string, number> }[];
    average: { values: Record<string, number> };
  };
  try {
    table = JSON.parse(await Deno.readTextFile(`${dir}/table9.json`));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  for (const c of r.cells) {
    const v = table.average.values[c.row];
    if (c.status === "run" && v !== undefined) c.ours = { mean: v, std: null };
  }
  try {
    r.coverage = JSON.parse(await Deno.readTextFile(`${dir}/coverage.json`)).rows;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  r.classwise = [...table.rows, { className: "Average", values: table.average.values }].map((
    row,
  ) => ({
    className: row.className,
    paper: { ...(t.classwise?.[row.className] ?? {}) },
    ours: row.values,
  }));
}

async function writePlots(
  store: Store,
  t: TableDef,
  plan: Plan,
  r: TableResults,
  art: Awaited<ReturnType<Store["artifact"]>>,
): Promise<void> {
  if (t.kind === "sweep") {
    const points: SweepPoint[] = [];
    for (const c of r.cells) {
      if (c.x === undefined) continue;
      if (c.ours) points.push({ x: c.x, mean: c.ours.mean, std: c.ours.std ?? 0, series: "ours" });
      if (c.paper) {
        points.push({ x: c.x, mean: c.paper.mean, std: c.paper.std ?? 0, series: "paper" });
      }
    }
    if (points.length) {
      const plot = await sweepPlot(points, {
        xTitle: t.xTitle ?? "x",
        title: t.title.split(":")[0],
      });
      await art.writeFile("plots/sweep.svg", plot.svg);
      await art.writeFile("plots/sweep.png", plot.png);
    }
    return;
  }
  if (t.kind === "metrics") {
    if (!plan.measure) return;
    for (const ext of ["svg", "png"]) {
      const from = `${store.root}/${plan.measure}/fig6_diversity_representativeness.${ext}`;
      try {
        await art.writeFile(`plots/fig6.${ext}`, await Deno.readFile(from));
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    return;
  }
  const bars = r.cells.flatMap((c) => [
    ...(c.paper && c.ours
      ? [{
        column: c.column,
        method: c.row,
        source: "paper" as const,
        mean: c.paper.mean,
        std: c.paper.std ?? 0,
      }]
      : []),
    ...(c.ours
      ? [{
        column: c.column,
        method: c.row,
        source: "ours" as const,
        mean: c.ours.mean,
        std: c.ours.std ?? 0,
      }]
      : []),
  ]);
  if (bars.length) {
    const plot = await comparisonPlot(bars, { title: t.title.split(":")[0] });
    await art.writeFile("plots/comparison.svg", plot.svg);
    await art.writeFile("plots/comparison.png", plot.png);
  }
}
