/**
 * Plans the store artifacts of a table: encode once per dataset; discover per modes method
 * and IPC; select (real-image rows) or sample + decode per seed; one evaluation per network
 * and seed; a teacher per dataset for the soft-label protocol; the metrics stage for Fig. 6.
 * Units are listed in dependency order and named by what they contain (not by table), so
 * tables that share a setting share its artifacts (Table 1's DiT + MGD3 at IPC 10 is Table
 * 5's last row, Table 6's DDPM cell, Table 7's k-means row and Fig. 7's t_stop 25 point).
 *
 * @module
 */
import { fnv1aHex } from "../../models/core/hash.ts";
import { CLASSIFIER_NAMES } from "../classifiers/zoo.ts";
import { cellRecipe, columnDataset, type ColumnDef, type RowDef, type TableDef } from "./spec.ts";
import { type DatasetId, DATASETS } from "./datasets.ts";
import type { CellPlan, Plan, PlanContext } from "./units.ts";
import {
  type CellInputs,
  encodeUnit,
  PlanBuilder,
  planMeasure,
  planReal,
  planSampled,
} from "./_plan_sets.ts";
import { planEvals } from "./_plan_evals.ts";

export { sampleVariant } from "./_plan_sets.ts";

/**
 * Plans a table.
 *
 * @example
 * ```ts
 * import { planTable } from "./plan.ts";
 * import { TABLES } from "./tables.ts";
 * const plan = planTable(TABLES.table7, ctx);
 * plan.units.filter((u) => u.kind === "encode").length; // 1
 * ```
 */
export function planTable(t: TableDef, ctx: PlanContext): Plan {
  const p = new PlanBuilder();
  const cells: CellPlan[] = [];
  for (const [ci, col] of t.columns.entries()) {
    for (const [ri, row] of t.rows.entries()) {
      const cell: CellPlan = { row: ri, col: ci, status: "run", evals: [] };
      cells.push(cell);
      // 1. Whether the cell runs: kept, a recipe, data, known classes, a teacher, zoo networks.
      const inputs = cellInputs(ctx, ci, col, row);
      if ("status" in inputs) {
        cell.status = inputs.status;
        if (inputs.reason !== undefined) cell.reason = inputs.reason;
        continue;
      }
      // 2. The dataset's latents, encoded once; 3. the distilled set of each seed.
      const ds = datasetTag(columnDataset(col, ctx.scale), inputs.data.classes);
      const latents = p.add(encodeUnit(ctx, ds, inputs.data));
      const C = inputs.data.classes.length;
      const sets = inputs.recipe.kind === "real"
        ? planReal(p, ctx, ds, latents, inputs.recipe, col.ipc, C)
        : planSampled(p, ctx, ds, latents, inputs.recipe, col.ipc, C, {
          measureAs: t.kind === "metrics" ? row.label : null,
        });
      if (t.kind === "metrics") continue;
      // 4. One evaluation per network and seed (with a teacher for the soft-label protocol).
      planEvals(p, ctx, cell, inputs, ds, sets, col.ipc);
    }
  }
  // 5. Fig. 6: one metrics unit over the first seed's samples of every row.
  const measure = t.kind === "metrics" ? planMeasure(p, t, ctx) : null;
  return { units: [...p.units.values()], cells, measure };
}

/** A runnable cell's inputs, or its status (and why) when it does not run. */
function cellInputs(
  ctx: PlanContext,
  ci: number,
  col: ColumnDef,
  row: RowDef,
): CellInputs | { status: CellPlan["status"]; reason?: string } {
  if (!ctx.keep(ci)) return { status: "dropped" };
  if (!row.recipe) return { status: "quoted" };
  const family = row.family ?? "dit";
  if (row.recipe.kind === "sample" && family !== (ctx.family ?? "dit")) {
    return {
      status: "unavailable",
      reason: family === "ldm"
        ? "LDM rows run at the paper scale with --ldm FILE (CompVis cin256-v2.ckpt)"
        : family === "sd"
        ? "Stable Diffusion rows run at the paper scale with --sd DIR (a diffusers SD 1.x/2.x folder)"
        : `DiT rows run with --dit FILE (or the cpu model); this run has --${ctx.family}`,
    };
  }
  if (row.recipe.kind === "sample" && row.recipe.denoiser === "minimax" && !ctx.minimax) {
    return {
      status: "unavailable",
      reason: "needs the MinMax Diffusion checkpoint: --minimax FILE (a DiT checkpoint " +
        "finetuned by MinMax, sampled like DiT)",
    };
  }
  const dataset = columnDataset(col, ctx.scale);
  const data = ctx.data[dataset];
  if (!data || "missing" in data) {
    const reason = data ? data.missing : `no data for ${DATASETS[dataset].label}`;
    return { status: "unavailable", reason };
  }
  const unknown = ctx.knows(data.classes); // encoding maps classes to the model's ids
  if (unknown) return { status: "unavailable", reason: unknown };
  const protocol = col.protocol ?? "hard";
  if (protocol === "soft" && ctx.teacher === null) {
    return {
      status: "unavailable",
      reason: "the soft-label protocol at the paper scale needs --teacher FILE " +
        "(a pretrained torchvision resnet18 checkpoint, RDED's teacher)",
    };
  }
  const networks = ctx.networks ??
    (ctx.scale === "cpu" ? col.cpuNetworks : undefined) ?? col.networks;
  const unsupported = networks.filter((n) => !isZooName(n));
  if (unsupported.length) {
    const reason = `${unsupported.join(", ")}: not in the classifier zoo (eval/classifiers/zoo.ts)`;
    return { status: "unavailable", reason };
  }
  return { data, recipe: cellRecipe(row.recipe, col.patch), protocol, networks };
}

/**
 * The dataset's name in the store: its id, plus a hash of the class list when `--classes`
 * narrowed it (a different class list is a different encode artifact).
 *
 * @example
 * ```ts
 * import { datasetTag } from "./plan.ts";
 * datasetTag("imagenette", ["n01440764", "n02102040"]); // "imagenette-c2-1a2b3c"
 * ```
 */
export function datasetTag(id: DatasetId, classes: readonly string[]): string {
  const full = DATASETS[id].classes;
  if (classes.length === full.length && classes.every((c, i) => c === full[i])) return id;
  // FNV-1a: enough to tell class lists apart in a name.
  return `${id}-c${classes.length}-${fnv1aHex(classes.join(",")).slice(0, 6)}`;
}

function isZooName(n: string): boolean {
  return CLASSIFIER_NAMES.includes(n) || /^convnet-\d+$/.test(n);
}
