/**
 * The evaluation units of a table cell: one per distilled set (seed) and network, with the
 * soft-label teacher (a teacher unit, or a checkpoint) they need.
 *
 * @module
 */
import { imagenetIndex } from "../../stages/images/classes.ts";
import { DATASETS } from "./datasets.ts";
import type { CellPlan, PlanContext, Unit } from "./units.ts";
import type { CellInputs, DistilledSets, PlanBuilder } from "./_plan_sets.ts";

/** The soft-label teacher of an evaluation unit. */
type EvalTeacher = Extract<Unit, { kind: "eval" }>["teacher"];

/**
 * The cell's evaluation units: one per distilled set (seed) and network, each added to
 * `cell.evals`.
 *
 * @example
 * ```ts
 * import { planEvals } from "./_plan_evals.ts";
 * planEvals(p, ctx, cell, inputs, "imagenette", sets, 10); // cell.evals: networks x seeds
 * ```
 */
export function planEvals(
  p: PlanBuilder,
  ctx: PlanContext,
  cell: CellPlan,
  { data, protocol, networks }: CellInputs,
  ds: string,
  { setName, images }: DistilledSets,
  k: number,
): void {
  const C = data.classes.length;
  const epochs = ctx.epochs(protocol, k, C);
  const { teacher, deps } = protocol === "soft"
    ? planTeacher(p, ctx, ds, data)
    : { teacher: undefined, deps: [] };
  for (const { seed, artifact } of images) {
    for (const network of networks) {
      const once = ctx.evalOnce && protocol === "hard";
      // "-vall": the cpu protocol validates on every val image since issue 19 (was 50/class).
      const tag = `${protocol === "soft" ? "soft-" : ""}${network}-e${epochs}` +
        `${once ? "-last" : ""}-px${ctx.evalSize}${ctx.scale === "cpu" ? "-vall" : ""}-s${seed}`;
      const id = p.add({
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

/**
 * The soft-label teacher: trained on the dataset ("train": a teacher unit), or a checkpoint
 * (with the dataset's ImageNet class indices unless it has all 1000 classes).
 *
 * @example
 * ```ts
 * import { planTeacher } from "./_plan_evals.ts";
 * import { PlanBuilder } from "./_plan_sets.ts";
 * const { teacher, deps } = planTeacher(new PlanBuilder(), ctx, "imagenette", inputs.data);
 * ```
 */
export function planTeacher(
  p: PlanBuilder,
  ctx: PlanContext,
  ds: string,
  data: CellInputs["data"],
): { teacher: EvalTeacher; deps: string[] } {
  if (ctx.teacher === "train") {
    const te = ctx.teacherEpochs;
    const id = p.add({
      kind: "teacher",
      id: `${ctx.root}/teachers/${ds}-resnet-18-bn${te ? `-e${te}` : ""}-px${ctx.evalSize}`,
      deps: [],
      classLevel: false,
      classes: data.classes.length,
      train: data.train,
      val: data.val,
      classList: data.classes,
      epochs: te,
      imageSize: ctx.evalSize,
    });
    return { teacher: { artifact: id }, deps: [id] };
  }
  if (!ctx.teacher) return { teacher: undefined, deps: [] };
  const all = data.classes.length === DATASETS["imagenet-1k"].classes.length;
  const teacher = all
    ? { checkpoint: ctx.teacher.checkpoint }
    : { checkpoint: ctx.teacher.checkpoint, classIndices: data.classes.map(imagenetIndex) };
  return { teacher, deps: [] };
}
