import assert from "node:assert/strict";
import { classMetrics } from "../eval/metrics/class_metrics.ts";
import { points } from "../eval/metrics/points.ts";
import { DIVERSITY_LAYER, diversityPlot } from "../eval/plots/diversity_plot.ts";
import { SWEEP_LAYERS, sweepPlot } from "../eval/plots/sweep_plot.ts";
import { SCATTER_LAYERS, tsneScatter } from "../eval/plots/tsne_scatter.ts";
import { Rng } from "../models/core/random.ts";

const PNG_MAGIC = [137, 80, 78, 71, 13, 10, 26, 10];

/** Number of marks (SVG paths/lines) drawn in each group named `<name>_marks`. */
function countMarks(svg: string, name: string): number {
  const groups = [
    ...svg.matchAll(
      new RegExp(`<g class="mark-[a-z]+ role-mark ${name}_marks"[^>]*>(.*?)</g>`, "g"),
    ),
  ];
  assert.ok(groups.length > 0, `no mark group named ${name}_marks`);
  return groups.reduce((s, g) => s + (g[1].match(/<(path|line)\b/g) ?? []).length, 0);
}

function assertFigure({ svg, png }: { svg: string; png: Uint8Array }): void {
  assert.ok(svg.startsWith("<svg"), svg.slice(0, 40));
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  assert.deepEqual([...png.subarray(0, 8)], PNG_MAGIC);
  assert.ok(png.length > 1000);
}

const random2d = (n: number, seed: number) => points(Rng.from(seed).randn(2 * n), 2);

Deno.test("tsneScatter() draws every original, synthetic and mode point as SVG and PNG", async () => {
  const figure = await tsneScatter({
    original: random2d(120, 0),
    synthetic: { DiT: random2d(10, 1), MGD3: random2d(10, 2) },
    modes: random2d(10, 3),
  }, { title: "tench", pixelRatio: 1 });
  assertFigure(figure);
  assert.equal(countMarks(figure.svg, SCATTER_LAYERS.original), 120);
  assert.equal(countMarks(figure.svg, SCATTER_LAYERS.synthetic), 20);
  assert.equal(countMarks(figure.svg, SCATTER_LAYERS.modes), 10);
  assert.ok(figure.svg.includes("MGD3") && figure.svg.includes("tench"));
});

Deno.test("diversityPlot() draws one point per synthetic sample in one panel per class", async () => {
  const classes = ["tench", "church", "golf ball"].map((className, c) => ({
    className,
    metrics: classMetrics({
      original: random2d(60, 10 + c),
      synthetic: { DiT: random2d(10, 20 + c), MGD3: random2d(10, 30 + c) },
    }),
  }));
  const figure = await diversityPlot(classes, { pixelRatio: 1 });
  assertFigure(figure);
  assert.equal(countMarks(figure.svg, DIVERSITY_LAYER), 3 * 20);
  for (const c of ["tench", "church", "golf ball"]) assert.ok(figure.svg.includes(c));
});

Deno.test("sweepPlot() draws a line, its points and one error bar per measurement", async () => {
  const values = [10, 15, 20, 25, 30].flatMap((x, i) => [
    { x, mean: 60 + i, std: 0.5, series: "MGD3" },
    { x, mean: 58 + i / 2, std: 0.8, series: "DiT" },
  ]);
  const figure = await sweepPlot(values, {
    xTitle: "t_stop",
    title: "Stop guidance",
    pixelRatio: 1,
  });
  assertFigure(figure);
  assert.equal(countMarks(figure.svg, SWEEP_LAYERS.errorBars), 10);
  assert.equal(countMarks(figure.svg, SWEEP_LAYERS.points), 10);
  assert.equal(countMarks(figure.svg, SWEEP_LAYERS.line), 2);
  assert.ok(figure.svg.includes("t_stop"));
});
