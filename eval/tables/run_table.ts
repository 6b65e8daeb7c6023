/**
 * The table runner: for a table and a scale it loads the models, finds the data, plans the
 * store artifacts (plan.ts), runs them in order with progress, skips the finished ones, and
 * writes the report (report.ts). `shard: {index: i, count: n}` splits the work over n
 * workers that share one store (Slurm array jobs, Kubernetes indexed Jobs): every worker runs
 * its classes (class j goes to worker j mod n, the stages' own `--shard`) of each
 * generative stage, and the evaluations are dealt round-robin in plan order. A worker whose
 * next unit needs another worker's output waits for it (polling the store); every worker
 * walks the units in the same order, so this never deadlocks. The last worker to finish (or
 * a rerun without a shard) writes the results.
 *
 * `claim: true` schedules dynamically instead (local worker processes, `--workers N`): each
 * worker takes the first unit in plan order whose inputs are finished and that no other worker
 * has claimed (an exclusive claim file, `<store>/claims/<unit hash>`), runs it whole, and
 * looks again; it stops when every unit is finished. Units never split across workers, so a
 * unit's numbers do not depend on how many workers ran the table.
 *
 * @module
 */
import type { Store } from "../../stages/store/store.ts";
import { canonicalJson, sha256Hex } from "../../models/core/hash.ts";
import { ALL, type Shard } from "../../stages/store/shard.ts";
import {
  cpuEpochs,
  IMAGE_SIZE,
  paperEpochs,
  type Scale,
} from "../protocols/hard_label_protocol.ts";
import { softLabelProtocol } from "../protocols/soft_label_protocol.ts";
import { TEACHER_RECIPE } from "../protocols/teacher.ts";
import { checkTable, columnDataset, RESNETAP_CPU_STAND_IN, type TableDef } from "./spec.ts";
import { type DataPaths, type DataResolution, type DatasetId, resolveData } from "./datasets.ts";
import { loadScaleModels, missingModelFlags, type TableModels } from "./setup.ts";
import type { ModelSource } from "../../models/scales/mod.ts";
import { planTable } from "./plan.ts";
import type { Plan, Unit } from "./units.ts";
import { executeUnit, isComplete, type UnitHooks } from "./execute.ts";
import { type TableResults, writeReport } from "./report.ts";

/**
 * `--quick`: the protocol's epochs divided by this (at least 1), and the first seed only.
 *
 * @example
 * ```ts
 * import { QUICK_EPOCH_DIVISOR } from "./run_table.ts";
 * Math.max(1, Math.round(40 / QUICK_EPOCH_DIVISOR)); // 5 epochs at IPC 10 (cpu scale)
 * ```
 */
export const QUICK_EPOCH_DIVISOR = 4;

/**
 * Options of {@link runTable}.
 *
 * @example
 * ```ts
 * import type { RunTableOptions } from "./run_table.ts";
 * const o: RunTableOptions = {
 *   scale: "cpu",
 *   models: { scale: "cpu", model: "weights/cpu_unet.safetensors" },
 *   data: { train: "imagenette2/train", val: "imagenette2/val" },
 *   shard: { index: 0, count: 4 },
 * };
 * ```
 */
export interface RunTableOptions {
  /** Scale of the run: the paper's or the cpu one. */
  scale: Scale;
  /** The diffusion model (and codec) files of the scale. */
  models: ModelSource;
  /** Where the datasets' images are. */
  data: DataPaths;
  /**
   * `--minimax FILE`: the MinMax Diffusion checkpoint (a finetuned DiT at the paper scale, a
   * model file of the cpu scale's kind there), sampled like the scale's own denoiser for the
   * MinMax rows (absent: those rows say they need it).
   */
  minimax?: string;
  /**
   * One seed, epochs / {@link QUICK_EPOCH_DIVISOR} validated once at the end, fewer columns
   * where the table says so.
   */
  quick?: boolean;
  /** Seeds of the distilled sets and their evaluations (default: the table's, paper 0, 1, 2). */
  seeds?: number[];
  /** Epochs of every evaluation (and of the cpu-scale teacher), overriding the protocol. */
  epochs?: number;
  /** Evaluate every cell with these networks instead of the table's. */
  networks?: string[];
  /** Keep only the columns of these IPCs (a slice of a table; default: every column). */
  ipcs?: number[];
  /** Keep only these classes of each dataset. */
  classes?: string[];
  /** Image side of the evaluations (default: 224 paper, 64 cpu). */
  evalSize?: number;
  /** Soft-label teacher checkpoint (torchvision resnet18); required at the paper scale. */
  teacher?: string;
  /**
   * This worker's share (`--shard i/n`): its classes of every class-level unit, and every
   * n-th other unit (default: all).
   */
  shard?: Shard;
  /** Seconds between checks while waiting for another worker (default 30; 2 with `claim`). */
  pollSeconds?: number;
  /**
   * Dynamic scheduling among workers on one machine (`--workers N`): claim whole units as they
   * become ready (see the module comment). Needs no `shard`; the report is left to the launcher.
   */
  claim?: boolean;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /**
   * Profiling observers: `onUnit` after every unit this worker runs (its wall-clock seconds),
   * `onEpoch` after every hard-label evaluation epoch (tools/profile_table.ts).
   */
  profile?: UnitHooks & { onUnit?: (u: Unit, seconds: number) => void };
}

/**
 * What {@link runTable} did.
 *
 * @example
 * ```ts
 * import { runTable, type RunTableReport } from "./run_table.ts";
 * const r: RunTableReport = await runTable(store, TABLES.table5, options);
 * if (r.complete) console.log(r.markdown);
 * ```
 */
export interface RunTableReport {
  /** The table's plan: its units and cells. */
  plan: Plan;
  /** Units this worker ran, and units it found finished. */
  ran: number;
  /** Units of this worker that were already finished. */
  skipped: number;
  /** Whether every unit of the table is finished (then the report was written). */
  complete: boolean;
  /** The results, when the table is complete (null otherwise). */
  results: TableResults | null;
  /** The results as markdown (`results.md`), when the table is complete. */
  markdown: string | null;
  /** `<store>/tables/<table>` when written. */
  dir: string | null;
}

/**
 * Runs (or resumes, or only reports) a table.
 *
 * @example
 * ```ts
 * import { Store } from "../../stages/store/store.ts";
 * import { runTable } from "./run_table.ts";
 * import { TABLES } from "./tables.ts";
 * const r = await runTable(await Store.open(".store/reproduce-cpu"), TABLES.table7, {
 *   scale: "cpu",
 *   models: { scale: "cpu", model: "weights/cpu_unet.safetensors" },
 *   data: { train: "../shared/data/imagenette2-224/train", val: "../shared/data/imagenette2-224/val" },
 *   quick: true,
 * });
 * console.log(r.markdown);
 * ```
 */
export async function runTable(
  store: Store,
  t: TableDef,
  o: RunTableOptions,
): Promise<RunTableReport> {
  checkTable(t);
  const start = performance.now();
  const log = o.log ?? ((s: string) => console.error(s));
  const say = (s: string) =>
    log(`[${t.id} ${((performance.now() - start) / 1000).toFixed(0)}s] ${s}`);
  const shard = o.shard ?? ALL;
  const seeds = o.quick ? [(o.seeds ?? t.seeds)[0]] : (o.seeds ?? t.seeds);
  const keep = (ci: number) =>
    (!o.quick || !t.quick || t.quick.keep(t.columns[ci])) &&
    (!o.ipcs || o.ipcs.includes(t.columns[ci].ipc));
  const missing = await missingModelFlags(o.models);
  const models = missing.length ? null : await loadScaleModels(o.models);
  const minimax = models && o.minimax
    ? await loadScaleModels(minimaxSource(o.models, o.minimax))
    : null;
  try {
    const data: Partial<Record<DatasetId, DataResolution>> = {};
    for (const [ci, col] of t.columns.entries()) {
      const ds = columnDataset(col, o.scale);
      if (!keep(ci) || data[ds]) continue;
      const d = await resolveData(ds, o.data, o.classes);
      data[ds] = models ? d : {
        missing: `${"missing" in d ? `${d.missing}; also ` : ""}the ${o.scale} scale needs ${
          missing.join(", ")
        }`,
      };
    }
    const quickly = (e: number) => o.quick ? Math.max(1, Math.round(e / QUICK_EPOCH_DIVISOR)) : e;
    const evalSize = o.evalSize ?? IMAGE_SIZE[o.scale];
    const plan = planTable(t, {
      root: models?.root ?? `${o.scale}/none`,
      scale: o.scale,
      seeds,
      keep,
      data,
      knows: models ? models.knows : () => null,
      family: "ldm" in o.models ? "ldm" : "sd" in o.models ? "sd" : "dit",
      ...(minimax ? { minimax: `m${minimax.hash}` } : {}),
      networks: o.networks,
      epochs: (protocol, ipc, classes) =>
        o.epochs ?? quickly(
          protocol === "soft"
            ? softLabelProtocol(o.scale, ipc, classes).epochs
            : (o.scale === "paper" ? paperEpochs : cpuEpochs)(ipc, classes),
        ),
      evalSize,
      evalOnce: o.quick ?? false,
      teacher: o.teacher ? { checkpoint: o.teacher } : o.scale === "cpu" ? "train" : null,
      teacherEpochs: o.epochs ?? (o.quick ? quickly(TEACHER_RECIPE.epochs) : undefined),
    });
    if (o.claim && shard.count > 1) throw new RangeError("claim and shard do not go together");
    const run = o.claim ? executeClaimed : execute;
    const { ran, skipped } = models
      ? await run(store, { own: models, minimax }, plan, o, shard, say)
      : { ran: 0, skipped: 0 };
    let complete = true;
    for (const u of plan.units) if (!(await isComplete(store, u))) complete = false;
    const report: RunTableReport = {
      plan,
      ran,
      skipped,
      complete,
      results: null,
      markdown: null,
      dir: null,
    };
    if (o.claim) return report; // the --workers launcher writes the report
    if (!complete) {
      say(
        `shard ${shard.index}/${shard.count} finished its units; other workers are still running. ` +
          "The last one to finish (or a rerun without --shard) writes the results.",
      );
      return report;
    }
    const settings = {
      scale: o.scale,
      quick: o.quick ?? false,
      quickNote: o.quick ? (t.quick?.note ?? "--quick: one seed, fewer epochs") : null,
      seeds,
      epochs: o.epochs ??
        (o.quick ? `protocol / ${QUICK_EPOCH_DIVISOR}, validated once at the end` : "protocol"),
      evalSize,
      networks: o.networks ?? null,
      cpuNetworks: o.scale === "cpu" && !o.networks &&
          t.columns.some((c, ci) => keep(ci) && c.cpuNetworks)
        ? RESNETAP_CPU_STAND_IN.note
        : null,
      classes: o.classes ?? null,
      models: models?.describe ?? `not loaded (needs ${missing.join(", ")})`,
      root: models?.root ?? null,
      data: o.data,
      teacher: o.teacher ?? null,
      minimax: minimax ? `${o.minimax} (${minimax.describe})` : null,
    };
    const w = await writeReport(store, t, plan, settings, await reportName(t, o));
    say(`results: ${w.dir}/results.md (${ran} units run, ${skipped} already done)`);
    return { ...report, results: w.results, markdown: w.markdown, dir: w.dir };
  } finally {
    await minimax?.release();
    await models?.release();
  }
}

/** The model source of `--minimax FILE`: the scale's own with its denoiser file replaced. */
function minimaxSource(src: ModelSource, file: string): ModelSource {
  return src.scale === "cpu" ? { ...src, model: file } : { ...src, dit: file };
}

/**
 * Where a run's report goes in the store: `tables/<table>` for the protocol's own settings,
 * `tables/<table>-quick` for `--quick`, and a suffix of 8 hex digits (a hash of the
 * overridden seeds, epochs, networks, classes and evaluation size) for other settings, so
 * that a quick or custom run never replaces the full run's report.
 *
 * @example
 * ```ts
 * import { reportName } from "./run_table.ts";
 * import { TABLES } from "./tables.ts";
 * const o = { scale: "cpu", models: { scale: "cpu", model: "m.safetensors" }, data: {} } as const;
 * await reportName(TABLES.table6, o); // "tables/table6"
 * await reportName(TABLES.table6, { ...o, quick: true }); // "tables/table6-quick"
 * ```
 */
export async function reportName(t: TableDef, o: RunTableOptions): Promise<string> {
  const { seeds, epochs, networks, classes, evalSize, ipcs } = o;
  const overrides = canonicalJson({ seeds, epochs, networks, classes, evalSize, ipcs });
  // an LDM or SD run fills other rows than a DiT run
  const family = "ldm" in o.models ? "-ldm" : "sd" in o.models ? "-sd" : "";
  const name = `tables/${t.id}${family}${o.quick ? "-quick" : ""}`;
  return overrides === "{}" ? name : `${name}-${(await sha256Hex(overrides)).slice(0, 8)}`;
}

async function execute(
  store: Store,
  models: { own: TableModels; minimax: TableModels | null },
  plan: Plan,
  o: RunTableOptions,
  shard: Shard,
  say: (s: string) => void,
): Promise<{ ran: number; skipped: number }> {
  let ran = 0, skipped = 0, dealt = 0;
  for (const [k, u] of plan.units.entries()) {
    const mine = u.classLevel || dealt++ % shard.count === shard.index;
    if (!mine) continue;
    const what = `${k + 1}/${plan.units.length} ${u.kind} ${u.id}`;
    if (await isComplete(store, u)) {
      skipped++;
      continue;
    }
    await waitFor(store, plan, u.deps, shard, o.pollSeconds ?? 30, say);
    say(
      `${what}${
        u.classLevel && shard.count > 1 ? ` (classes of shard ${shard.index}/${shard.count})` : ""
      }`,
    );
    await runUnit(store, models, u, shard, o);
    ran++;
  }
  return { ran, skipped };
}

/** Runs one unit with the denoiser its recipe asks for, and reports its seconds to the profile. */
async function runUnit(
  store: Store,
  models: { own: TableModels; minimax: TableModels | null },
  u: Unit,
  shard: Shard,
  o: RunTableOptions,
): Promise<void> {
  const minimax = u.kind === "sample" && u.recipe.denoiser === "minimax";
  const t0 = performance.now();
  await executeUnit(
    store,
    minimax ? models.minimax! : models.own,
    u,
    shard,
    o.scale,
    o.profile ?? {},
  );
  o.profile?.onUnit?.(u, (performance.now() - t0) / 1000);
}

/** The claims folder of a store: one empty file per unit a local worker is running. */
export function claimsDir(store: Store): string {
  return `${store.root}/claims`;
}

/** Removes every claim (the `--workers` launcher, before it starts its workers). */
export async function clearClaims(store: Store): Promise<void> {
  await Deno.remove(claimsDir(store), { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}

/** Claims a unit for this process: its claim file, or null when another worker holds it. */
async function claimUnit(store: Store, u: Unit): Promise<string | null> {
  await Deno.mkdir(claimsDir(store), { recursive: true });
  const path = `${claimsDir(store)}/${(await sha256Hex(u.id)).slice(0, 32)}`;
  try {
    const f = await Deno.open(path, { write: true, createNew: true });
    await f.write(new TextEncoder().encode(`${Deno.pid} ${u.id}\n`));
    f.close();
    return path;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return null;
    throw e;
  }
}

/** Dynamic scheduling (`claim`): see the module comment. */
async function executeClaimed(
  store: Store,
  models: { own: TableModels; minimax: TableModels | null },
  plan: Plan,
  o: RunTableOptions,
  _shard: Shard,
  say: (s: string) => void,
): Promise<{ ran: number; skipped: number }> {
  const done = new Set<string>();
  const finished = async (u: Unit) => {
    if (done.has(u.id)) return true;
    if (!(await isComplete(store, u))) return false;
    done.add(u.id);
    return true;
  };
  const byId = new Map(plan.units.map((u) => [u.id, u]));
  let ran = 0, announced = -Infinity;
  for (const u of plan.units) await finished(u);
  const skipped = done.size;
  for (;;) {
    let next: { k: number; u: Unit; claim: string } | null = null;
    const pending: string[] = [];
    for (const [k, u] of plan.units.entries()) {
      if (await finished(u)) continue;
      pending.push(u.id);
      let ready = true;
      for (const d of u.deps) if (!(await finished(byId.get(d)!))) ready = false;
      if (!ready) continue;
      const claim = await claimUnit(store, u);
      if (claim) {
        next = { k, u, claim };
        break;
      }
    }
    if (!next) {
      if (pending.length === 0) return { ran, skipped };
      if (performance.now() - announced > 300_000) {
        say(`waiting for other workers (${pending.length} units left)`);
        announced = performance.now();
      }
      await new Promise((r) => setTimeout(r, (o.pollSeconds ?? 2) * 1000));
      continue;
    }
    const { k, u, claim } = next;
    try {
      // Another worker may have finished it between our check and the claim.
      if (await isComplete(store, u)) continue;
      say(`${k + 1}/${plan.units.length} ${u.kind} ${u.id}`);
      await runUnit(store, models, u, ALL, o);
      ran++;
    } finally {
      await Deno.remove(claim).catch(() => {});
    }
  }
}

async function waitFor(
  store: Store,
  plan: Plan,
  deps: string[],
  shard: Shard,
  pollSeconds: number,
  say: (s: string) => void,
): Promise<void> {
  const units = new Map(plan.units.map((u) => [u.id, u]));
  let announced = -Infinity;
  for (;;) {
    const pending: string[] = [];
    for (const d of deps) if (!(await isComplete(store, units.get(d)!))) pending.push(d);
    if (pending.length === 0) return;
    if (shard.count === 1) {
      throw new Error(
        `Internal error: ${pending.join(", ")} not finished before the units that need them`,
      );
    }
    if (performance.now() - announced > 60_000) {
      say(`waiting for other workers: ${pending.join(", ")}`);
      announced = performance.now();
    }
    await new Promise((r) => setTimeout(r, pollSeconds * 1000));
  }
}
