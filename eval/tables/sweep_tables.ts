/**
 * Fig. 7 (App. A: when to stop guidance), the App. F sweep of the guidance scale lambda and
 * Fig. 6 with Table 9 (App. G: diversity and representativeness, DiT against MGD3), all on
 * ImageNette at IPC 10. The figures are plots: only the points that also appear in a table
 * have a printed number, and only those are put beside ours.
 *
 * @module
 */
import type { ColumnDef, TableDef } from "./spec.ts";
import {
  guidanceUntil,
  MGD3_GUIDANCE,
  MGD3_RECIPE,
  RESNETAP_CPU_STAND_IN,
  T_STOP_SWEEP,
} from "./spec.ts";

const NETWORK = "resnetap-10"; // App. A and F evaluate with ResNetAP-10
const CPU_NETWORKS = [...RESNETAP_CPU_STAND_IN.networks];
const mgd3 = MGD3_RECIPE;

const T_STOPS = T_STOP_SWEEP; // App. A: 50 to 0 in steps of 5

/**
 * Fig. 7(a): accuracy against the stop step t_stop. t_stop 50 guides no step (index > 50
 * never holds for indices 49..0), so that point is the unguided sampler; t_stop 0 guides 49
 * of the 50 steps.
 *
 * @example
 * ```ts
 * import { FIG7 } from "./sweep_tables.ts";
 * FIG7.columns.map((c) => c.x); // [50, 45, ..., 0]
 * ```
 */
export const FIG7: TableDef = {
  id: "fig7",
  title: "Fig. 7(a): accuracy against t_stop, ImageNette IPC 10, ResNetAP-10",
  kind: "sweep",
  source: "paper App. A and Fig. 7(a); the t_stop 25 point is the paper's setting (Table 1)",
  xTitle: "t_stop (stop guidance step)",
  columns: T_STOPS.map((t): ColumnDef => ({
    label: `t_stop ${t}`,
    dataset: "imagenette",
    ipc: 10,
    networks: [NETWORK],
    cpuNetworks: CPU_NETWORKS,
    patch: { guidance: guidanceUntil(t) },
    x: t,
  })),
  rows: [{
    label: "DiT + MGD3",
    recipe: mgd3,
    paper: T_STOPS.map((t) => t === 25 ? "66.4±2.4" : null), // Table 1, IPC 10
  }],
  seeds: [0, 1, 2],
  quick: {
    keep: (c) => [50, 25, 20, 10, 0].includes(c.x!),
    note: "--quick: t_stop 50, 25, 20, 10, 0",
  },
  notes: [
    "Fig. 7(a) is a plot; the text gives its shape only: best between t_stop 10 and 30, peak at 20 (App. A).",
  ],
};

const LAMBDAS = [0, 0.01, 0.05, 0.1, 0.2, 0.5, 1]; // App. F: 0.1 is best, large values catastrophic

/**
 * App. F: accuracy against the mode-guidance scale lambda (t_stop 25). lambda 0 is the
 * unguided sampler (the DiT row of Table 1).
 *
 * @example
 * ```ts
 * import { LAMBDA_SWEEP } from "./sweep_tables.ts";
 * LAMBDA_SWEEP.columns.find((c) => c.x === 0)?.patch?.guidance; // null
 * ```
 */
export const LAMBDA_SWEEP: TableDef = {
  id: "lambda",
  title: "App. F: accuracy against the guidance scale lambda, ImageNette IPC 10, ResNetAP-10",
  kind: "sweep",
  source:
    "paper App. F; lambda 0 = DiT and lambda 0.1 = DiT + MGD3 of Table 1 (the only printed points)",
  xTitle: "lambda (mode guidance scale)",
  columns: LAMBDAS.map((l): ColumnDef => ({
    label: `lambda ${l}`,
    dataset: "imagenette",
    ipc: 10,
    networks: [NETWORK],
    cpuNetworks: CPU_NETWORKS,
    patch: { guidance: l === 0 ? null : { lambda: l, tStop: MGD3_GUIDANCE.tStop } },
    x: l,
  })),
  rows: [{
    label: "DiT + MGD3",
    recipe: mgd3,
    paper: LAMBDAS.map((l) => l === 0 ? "59.1±0.7" : l === 0.1 ? "66.4±2.4" : null),
  }],
  seeds: [0, 1, 2],
  quick: {
    keep: (c) => [0, 0.05, 0.1, 0.5].includes(c.x!),
    note: "--quick: lambda 0, 0.05, 0.1, 0.5",
  },
  notes: [
    "The paper does not list the lambda values it tried; these are ours. App. F: lambda = 0.1 is best, larger values are catastrophic.",
  ],
};

/**
 * Paper Table 9 (App. G): class-wise average diversity on ImageNette, per wnid, as printed
 * (DiT, MinMax, Ours).
 *
 * @example
 * ```ts
 * import { PAPER_TABLE9 } from "./sweep_tables.ts";
 * PAPER_TABLE9.n01440764.Ours; // "0.82" (tench)
 * ```
 */
export const PAPER_TABLE9: Readonly<Record<string, Record<"DiT" | "MinMax" | "Ours", string>>> = {
  n01440764: { DiT: "0.35", MinMax: "0.18", Ours: "0.82" }, // tench
  n02102040: { DiT: "0.65", MinMax: "0.33", Ours: "0.62" }, // English springer
  n02979186: { DiT: "0.55", MinMax: "0.52", Ours: "1.00" }, // cassette player
  n03000684: { DiT: "0.00", MinMax: "0.37", Ours: "0.55" }, // chain saw
  n03028079: { DiT: "0.54", MinMax: "0.41", Ours: "0.77" }, // church
  n03394916: { DiT: "0.21", MinMax: "0.13", Ours: "0.54" }, // French horn
  n03417042: { DiT: "0.44", MinMax: "0.38", Ours: "0.76" }, // garbage truck
  n03425413: { DiT: "0.50", MinMax: "0.24", Ours: "0.67" }, // gas pump
  n03445777: { DiT: "0.20", MinMax: "0.33", Ours: "0.78" }, // golf ball
  n03888257: { DiT: "0.08", MinMax: "0.48", Ours: "0.79" }, // parachute
  Average: { DiT: "0.35", MinMax: "0.34", Ours: "0.73" },
};

/**
 * Fig. 6 and Table 9: diversity and representativeness of DiT and MGD3 samples (t-SNE of the
 * VAE latents per class, SPEC section 5), from the first seed's distilled sets.
 *
 * @example
 * ```ts
 * import { FIG6 } from "./sweep_tables.ts";
 * FIG6.kind; // "metrics"
 * ```
 */
export const FIG6: TableDef = {
  id: "fig6",
  title: "Fig. 6 and Table 9: class-wise average diversity, ImageNette IPC 10 (t-SNE space)",
  kind: "metrics",
  source: "paper Fig. 6, App. G Table 9 (SPEC section 5)",
  columns: [{ label: "average diversity", dataset: "imagenette", ipc: 10, networks: [] }],
  rows: [
    { label: "DiT", recipe: { ...mgd3, guidance: null }, paper: [PAPER_TABLE9.Average.DiT] },
    { label: "MinMax (quoted)", recipe: null, paper: [PAPER_TABLE9.Average.MinMax] },
    { label: "DiT + MGD3", recipe: mgd3, paper: [PAPER_TABLE9.Average.Ours] },
  ],
  seeds: [0],
  classwise: Object.fromEntries(
    Object.entries(PAPER_TABLE9).map(([c, v]) => [c, { DiT: v.DiT, "DiT + MGD3": v.Ours }]),
  ),
  notes: [
    "Diversity is min-max normalised over the whole table (eval/metrics/diversity_table.ts); the paper's normalisation is not published and its table also has MinMax, so values compare in ranking, not exactly.",
  ],
};
