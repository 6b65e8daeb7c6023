/**
 * Paired statistics of a table (issue 19): methods in a table share their seeds (seed s draws
 * the sampling noise of every method's set s, `Rng.from(s, class, i)` in stages/sample.ts, and
 * initialises and orders the training of its classifier, `Rng.from(s, ...)` in the protocols)
 * and are tested on the same val images, so each cell is compared with its baseline cell run
 * for run and image for image: the difference of top-1 (percentage points) with a 95%
 * percentile bootstrap CI that resamples seeds and val images (the same image draw for both
 * methods and every seed: paired), seeded and deterministic. A difference is resolved when its
 * CI excludes 0.
 *
 * Each run contributes its per-image correctness at its best epoch (the protocols' reported
 * top-1), so the point estimate is exactly mean(ours) - mean(baseline) over the shared seeds.
 *
 * @module
 */
import { Rng } from "../../models/core/random.ts";
import type { TableDef } from "./spec.ts";
import type { CellResult } from "./results.ts";
import { unpackBits } from "../protocols/correct_bits.ts";

/** Bootstrap replicates (2,000: percentile CIs stable to about 0.1 point at these sizes). */
export const BOOTSTRAP_REPLICATES = 2000;
/** Two-sided confidence level. */
export const CI_LEVEL = 0.95;
/** Seed of the bootstrap's random stream (results are deterministic). */
export const BOOTSTRAP_SEED = 0;

/** One evaluation run's per-image correctness. */
export interface PairedRun {
  /** Evaluation network. */
  network: string;
  /** Seed of the distilled set and of the run. */
  seed: number;
  /** 1 where the run's best-epoch prediction is right, per val image. */
  correct: Uint8Array;
}

/**
 * The paired bootstrap of `a - b` over shared (network, seed) runs: each replicate draws the
 * seeds (with replacement, among the shared ones) and the val images (with replacement), and
 * averages the accuracy difference over networks and drawn seeds. Null when no run is shared.
 *
 * @example
 * ```ts
 * import { pairedBootstrap } from "./paired.ts";
 * const r = pairedBootstrap(
 *   [{ network: "convnet", seed: 0, correct: new Uint8Array([1, 1, 1, 0]) }],
 *   [{ network: "convnet", seed: 0, correct: new Uint8Array([1, 0, 1, 0]) }],
 * ); // r.diff = 25 (points), r.lo <= 25 <= r.hi
 * ```
 */
export function pairedBootstrap(
  a: readonly PairedRun[],
  b: readonly PairedRun[],
  o: { replicates?: number; seed?: number; level?: number } = {},
): { diff: number; lo: number; hi: number; seeds: number; images: number } | null {
  const B = o.replicates ?? BOOTSTRAP_REPLICATES;
  const level = o.level ?? CI_LEVEL;
  const key = (r: PairedRun) => `${r.network}\u0000${r.seed}`;
  const other = new Map(b.map((r) => [key(r), r]));
  const networks = [...new Set(a.map((r) => r.network))];
  // Seeds run by every network in both cells.
  const seeds = [...new Set(a.map((r) => r.seed))].filter((s) =>
    networks.every((n) =>
      other.has(`${n}\u0000${s}`) && a.some((r) => r.network === n && r.seed === s)
    )
  ).sort((x, y) => x - y);
  if (seeds.length === 0) return null;
  const n = a[0].correct.length;
  // d[seed][i]: summed over networks, correct(a) - correct(b) in {-N..N}.
  const d = seeds.map((s) => {
    const v = new Int8Array(n);
    for (const net of networks) {
      const ra = a.find((r) => r.network === net && r.seed === s)!;
      const rb = other.get(`${net}\u0000${s}`)!;
      if (ra.correct.length !== n || rb.correct.length !== n) {
        throw new RangeError(
          `Paired runs must share their val images: ${net} seed ${s} has ${ra.correct.length} ` +
            `and ${rb.correct.length} images, expected ${n}`,
        );
      }
      for (let i = 0; i < n; i++) v[i] += ra.correct[i] - rb.correct[i];
    }
    return v;
  });
  const scale = 100 / (n * networks.length); // points per unit of summed difference
  const full = d.map((v) => v.reduce((s, x) => s + x, 0) * scale);
  const diff = full.reduce((s, x) => s + x, 0) / seeds.length;
  const rng = Rng.from(o.seed ?? BOOTSTRAP_SEED);
  const w = new Int32Array(n); // image draw counts of a replicate
  const perSeed = new Float64Array(seeds.length);
  const reps = new Float64Array(B);
  for (let r = 0; r < B; r++) {
    w.fill(0);
    for (let i = 0; i < n; i++) w[rng.randint(n)]++;
    for (let s = 0; s < seeds.length; s++) {
      let t = 0;
      const v = d[s];
      for (let i = 0; i < n; i++) t += v[i] * w[i];
      perSeed[s] = t * scale;
    }
    let m = 0;
    for (let s = 0; s < seeds.length; s++) m += perSeed[rng.randint(seeds.length)];
    reps[r] = m / seeds.length;
  }
  reps.sort();
  const q = (p: number) => reps[Math.min(B - 1, Math.max(0, Math.round(p * (B - 1))))];
  return {
    diff,
    lo: q((1 - level) / 2),
    hi: q(1 - (1 - level) / 2),
    seeds: seeds.length,
    images: n,
  };
}

/**
 * The baseline a cell is compared with, in the same table: "X + Y" rows against row "X"
 * (DiT + MGD3 against DiT), "+ ..." rows (Table 5's ablation) against the row above, "MGD3"
 * against "DiT" (else "Random"), other method rows against "Random"; sweeps against their first
 * column (lambda 0, t_stop 50: no guidance). Null when the cell is its own baseline or the table
 * has none.
 *
 * @example
 * ```ts
 * import { baselineOf } from "./paired.ts";
 * import { TABLES } from "./tables.ts";
 * baselineOf(TABLES.table1, "DiT + MGD3", "ImageNette IPC 10"); // { row: "DiT", column: "ImageNette IPC 10" }
 * ```
 */
export function baselineOf(
  t: TableDef,
  row: string,
  column: string,
): { row: string; column: string } | null {
  if (t.kind === "metrics") return null;
  if (t.kind === "sweep") {
    const first = t.columns[0].label;
    return first === column ? null : { row, column: first };
  }
  const run = t.rows.filter((r) => r.recipe).map((r) => r.label);
  const at = (
    label: string,
  ) => (run.includes(label) && label !== row ? { row: label, column } : null);
  if (row.startsWith("+ ")) {
    const i = run.indexOf(row);
    return i > 0 ? { row: run[i - 1], column } : null;
  }
  const plus = row.indexOf(" + ");
  if (plus > 0) return at(row.slice(0, plus));
  if (row === "MGD3") return at("DiT") ?? at("Random");
  return at("Random");
}

/**
 * The per-image correctness of a finished eval unit's run (its single seed), or null when the
 * unit is not finished or its results predate the bitmap (issue 19).
 *
 * @example
 * ```ts
 * import { evalCorrect } from "./paired.ts";
 * const c = await evalCorrect(store.root, "cpu/m1/eval/imagenette/x/convnet-e40-px64-vall-s0");
 * ```
 */
export async function evalCorrect(root: string, unit: string): Promise<Uint8Array | null> {
  let r: { runs?: { correct?: string; valImages?: number }[] };
  try {
    r = JSON.parse(await Deno.readTextFile(`${root}/${unit}/results.json`));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const run = r.runs?.[0];
  return run?.correct && run.valImages ? unpackBits(run.correct, run.valImages) : null;
}

/**
 * Sets `baseline` on every cell that has one, and `paired` where both sides have per-image
 * results.
 *
 * @example
 * ```ts
 * import { addPairedDiffs } from "./paired.ts";
 * addPairedDiffs(TABLES.table1, cells, runsByCell); // runsByCell: "row\u0000column" -> runs
 * ```
 */
export function addPairedDiffs(
  t: TableDef,
  cells: CellResult[],
  runs: ReadonlyMap<string, PairedRun[]>,
): void {
  for (const c of cells) {
    const base = baselineOf(t, c.row, c.column);
    const a = runs.get(`${c.row}\u0000${c.column}`);
    const b = base && runs.get(`${base.row}\u0000${base.column}`);
    if (!base) continue;
    c.baseline = base;
    const r = a?.length && b?.length ? pairedBootstrap(a, b) : null;
    if (r) c.paired = { ...r, resolved: r.lo > 0 || r.hi < 0 };
  }
}
