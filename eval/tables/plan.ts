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
import { imagenetIndex } from "../../stages/images/classes.ts";
import { CLASSIFIER_NAMES } from "../classifiers/zoo.ts";
import { cellRecipe, type SampleRecipe, type TableDef } from "./spec.ts";
import { type DatasetId, DATASETS } from "./datasets.ts";
import type { CellPlan, Plan, PlanContext, Unit } from "./units.ts";

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
  const units = new Map<string, Unit>();
  const add = (u: Unit) => {
    if (!units.has(u.id)) units.set(u.id, u);
    return u.id;
  };
  const cells: CellPlan[] = [];
  const measured: Record<string, string> = {};
  let measureModes: string | null = null;
  let measureLatents: string | null = null;
  for (const [ci, col] of t.columns.entries()) {
    const data = ctx.data[col.dataset];
    for (const [ri, row] of t.rows.entries()) {
      const cell: CellPlan = { row: ri, col: ci, status: "run", evals: [] };
      cells.push(cell);
      if (!ctx.keep(ci)) {
        cell.status = "dropped";
        continue;
      }
      if (!row.recipe) {
        cell.status = "quoted";
        continue;
      }
      if (!data || "missing" in data) {
        cell.status = "unavailable";
        cell.reason = data ? data.missing : `no data for ${DATASETS[col.dataset].label}`;
        continue;
      }
      const unknown = ctx.knows(data.classes); // encoding maps classes to the model's ids
      if (unknown) {
        cell.status = "unavailable";
        cell.reason = unknown;
        continue;
      }
      const protocol = col.protocol ?? "hard";
      if (protocol === "soft" && ctx.teacher === null) {
        cell.status = "unavailable";
        cell.reason = "the soft-label protocol at the paper scale needs --teacher FILE " +
          "(a pretrained torchvision resnet18 checkpoint, RDED's teacher)";
        continue;
      }
      const networks = ctx.networks ??
        (ctx.scale === "cpu" ? col.cpuNetworks : undefined) ?? col.networks;
      const unsupported = networks.filter((n) => !isZooName(n));
      if (unsupported.length) {
        cell.status = "unavailable";
        cell.reason = `${unsupported.join(", ")}: not in the classifier zoo (eval/models/zoo.ts)`;
        continue;
      }
      const ds = datasetTag(col.dataset, data.classes);
      const C = data.classes.length;
      const latents = add({
        kind: "encode",
        id: `${ctx.root}/latents/${ds}`,
        deps: [],
        classLevel: true,
        classes: C,
        data: data.train,
        classList: data.classes,
      });
      const recipe = cellRecipe(row.recipe, col.patch);
      const k = col.ipc;
      const images: { seed: number; artifact: string }[] = [];
      let setName: string;
      if (recipe.kind === "real") {
        setName = `${recipe.select}-ipc${k}`;
        for (const seed of ctx.seeds) {
          const s = recipe.select === "random" ? seed : 0; // closest and herding are deterministic
          const modes = add({
            kind: "discover",
            id: `${ctx.root}/modes/${ds}/${recipe.select}-ipc${k}-s${s}`,
            deps: [latents],
            classLevel: true,
            classes: C,
            latents,
            modes: { method: recipe.select, k, seed: s },
          });
          const sel = add({
            kind: "select",
            id: `${ctx.root}/real/${ds}/${recipe.select}-ipc${k}-s${s}`,
            deps: [latents, modes],
            classLevel: true,
            classes: C,
            latents,
            modes,
          });
          images.push({ seed, artifact: sel });
        }
      } else {
        // Modes once per method (seed 0 = sklearn random_state=0); a fresh sample per seed.
        const modes = add({
          kind: "discover",
          id: `${ctx.root}/modes/${ds}/${recipe.modes}-ipc${k}-s0`,
          deps: [latents],
          classLevel: true,
          classes: C,
          latents,
          modes: { method: recipe.modes, k, seed: 0 },
        } as Unit);
        setName = `${sampleVariant(recipe)}-ipc${k}`;
        for (const seed of ctx.seeds) {
          const samples = add({
            kind: "sample",
            id: `${ctx.root}/samples/${ds}/${setName}-s${seed}`,
            deps: [modes],
            classLevel: true,
            classes: C,
            modes,
            recipe,
            seed,
          });
          if (t.kind === "metrics" && seed === ctx.seeds[0]) {
            measured[row.label] = samples;
            measureModes = modes;
            measureLatents = latents;
          }
          const decoded = add({
            kind: "decode",
            id: `${ctx.root}/distilled/${ds}/${setName}-s${seed}`,
            deps: [samples],
            classLevel: true,
            classes: C,
            samples,
          });
          images.push({ seed, artifact: decoded });
        }
      }
      if (t.kind === "metrics") continue;
      const epochs = ctx.epochs(protocol, k, C);
      let teacher: Extract<Unit, { kind: "eval" }>["teacher"];
      const deps: string[] = [];
      if (protocol === "soft") {
        if (ctx.teacher === "train") {
          const te = ctx.teacherEpochs;
          const id = add({
            kind: "teacher",
            id: `${ctx.root}/teachers/${ds}-resnet-18-bn${te ? `-e${te}` : ""}-px${ctx.evalSize}`,
            deps: [],
            classLevel: false,
            classes: C,
            train: data.train,
            val: data.val,
            classList: data.classes,
            epochs: te,
            imageSize: ctx.evalSize,
          });
          teacher = { artifact: id };
          deps.push(id);
        } else if (ctx.teacher) {
          const all = data.classes.length === DATASETS["imagenet-1k"].classes.length;
          teacher = all
            ? { checkpoint: ctx.teacher.checkpoint }
            : { checkpoint: ctx.teacher.checkpoint, classIndices: data.classes.map(imagenetIndex) };
        }
      }
      for (const { seed, artifact } of images) {
        for (const network of networks) {
          const once = ctx.evalOnce && protocol === "hard";
          const tag = `${protocol === "soft" ? "soft-" : ""}${network}-e${epochs}` +
            `${once ? "-last" : ""}-px${ctx.evalSize}-s${seed}`;
          const id = add({
            kind: "eval",
            id: `${ctx.root}/eval/${ds}/${setName}/${tag}`,
            deps: [artifact, ...deps],
            classLevel: false,
            classes: C,
            protocol,
            images: artifact,
            val: data.val,
            classList: data.classes,
            network,
            seed,
            epochs,
            imageSize: ctx.evalSize,
            ...(once ? { evalEvery: epochs } : {}),
            teacher,
          });
          cell.evals.push({ network, seed, unit: id });
        }
      }
    }
  }
  let measure: string | null = null;
  if (t.kind === "metrics" && measureLatents && measureModes && Object.keys(measured).length) {
    const samples = Object.values(measured);
    measure = add({
      kind: "measure",
      id: `${ctx.root}/metrics/${t.id}-s${ctx.seeds[0]}`,
      deps: [measureLatents, measureModes, ...samples],
      classLevel: false,
      classes: 0,
      latents: measureLatents,
      samples: measured,
      modes: measureModes,
      seed: 42, // sklearn TSNE random_state=42 (SPEC section 5)
    });
  }
  return { units: [...units.values()], cells, measure };
}

/**
 * The artifact-name part of a sampling recipe, e.g. "kmeans-ddpm-l0.1-t25" or
 * "kmeans-ddpm-noguide-d4m0.7".
 *
 * @example
 * ```ts
 * import { sampleVariant } from "./plan.ts";
 * sampleVariant({ kind: "sample", modes: "gmm", guidance: { lambda: 0.1, tStop: -1 },
 *   strength: null, sampler: "ddim" }); // "gmm-ddim-l0.1-t-1"
 * ```
 */
export function sampleVariant(r: SampleRecipe): string {
  const g = r.guidance ? `l${r.guidance.lambda}-t${r.guidance.tStop}` : "noguide";
  return `${r.modes}-${r.sampler}-${g}${r.strength !== null ? `-d4m${r.strength}` : ""}`;
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
