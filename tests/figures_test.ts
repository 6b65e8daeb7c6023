// The figure tasks (reproduce:fig4d, fig5, fig8, fig9, cost) on tiny stand-ins: a random
// tiny cpu-scale model (a second one as the --minimax checkpoint), the shipped ImageNette-64
// images (2 classes), 1 epoch of ConvNet at 32 px; the paper scale with the committed tiny
// DiT and AutoencoderKL fixtures. The cpu tests share one store, as the tasks share artifacts.
import assert from "node:assert/strict";
import { Store } from "../stages/store/store.ts";
import { setProgressMode } from "../stages/progress.ts";
import { TABLES } from "../eval/tables/tables.ts";
import { checkTable, columnDataset } from "../eval/tables/spec.ts";
import { planTable } from "../eval/tables/plan.ts";
import type { PlanContext, Unit } from "../eval/tables/units.ts";
import { runTable, type RunTableOptions } from "../eval/tables/run_table.ts";
import { measureCost } from "../eval/tables/cost.ts";
import { randomModel } from "./_tiny_model.ts";
import {
  AKL_SMALL,
  CLASSES,
  DATA,
  DIT_TINY,
  fastCpu,
  fastCpuArgs,
  reproduce,
  tinyWorkspace,
} from "./_reproduce_setup.ts";

setProgressMode("silent");
const ws = await tinyWorkspace();
globalThis.addEventListener("unload", () => Deno.removeSync(ws.dir, { recursive: true }));
const minimaxModel = `${ws.dir}/minimax.safetensors`;
await randomModel(minimaxModel);
const storeDir = `${ws.dir}/store`;
const store = await Store.open(storeDir);
const readJson = async (p: string) => JSON.parse(await Deno.readTextFile(p));

const ctx: PlanContext = {
  root: "cpu/m1",
  scale: "cpu",
  seeds: [0],
  keep: () => true,
  data: {
    imagenette: { train: "t", val: "v", classes: CLASSES },
    "imagenet-1k": { missing: "needs --imagenet" },
  },
  knows: () => null,
  epochs: () => 1,
  evalSize: 32,
  teacher: "train",
};
const samples = (t: string, c: PlanContext = ctx) =>
  planTable(TABLES[t], c).units.filter((u): u is Extract<Unit, { kind: "sample" }> =>
    u.kind === "sample"
  );

Deno.test("the figure tables check, and fig9's t_stop 50 and 25 are the DiT and MGD3 sets of fig5, fig8 and fig7", () => {
  for (const id of ["fig4d", "fig5", "fig8", "fig9"]) checkTable(TABLES[id]);
  const fig9 = samples("fig9");
  assert.equal(fig9.length, 11);
  assert.equal(fig9[0].recipe.guidance, null); // t_stop 50 can never act: no guidance
  const ids = (t: string) => new Set(samples(t).map((u) => u.id));
  for (const id of ids("fig5")) assert.ok(ids("fig9").has(id), id);
  assert.deepEqual(ids("fig5"), ids("fig8"));
  for (const id of ids("fig7")) assert.ok(ids("fig9").has(id), id);
});

Deno.test("fig4d stands ImageNette in for ImageNet-1K at the cpu scale only; MinMax rows need --minimax", () => {
  const col = TABLES.fig4d.columns[0];
  assert.equal(columnDataset(col, "cpu"), "imagenette");
  assert.equal(columnDataset(col, "paper"), "imagenet-1k");
  const cpu = planTable(TABLES.fig4d, ctx);
  const minimaxCell = cpu.cells.find((c) => c.row === 1)!;
  assert.equal(minimaxCell.status, "unavailable");
  assert.match(minimaxCell.reason!, /--minimax FILE/);
  assert.equal(cpu.cells.find((c) => c.row === 2)!.status, "run");
  const paper = planTable(TABLES.fig4d, { ...ctx, scale: "paper" });
  assert.ok(paper.cells.every((c) => c.status === "unavailable"));
  const withMinimax = samples("fig5", { ...ctx, minimax: "mabc" });
  assert.ok(withMinimax.some((u) => u.recipe.denoiser === "minimax" && /minimaxmabc/.test(u.id)));
});

Deno.test("fig9 at the cpu scale plots diversity and representativeness against t_stop and states what it found", async () => {
  const r = await runTable(store, TABLES.fig9, fastCpu(ws.model));
  assert.ok(r.complete);
  assert.equal(Object.keys(r.results!.classwise![0].ours).length, 11);
  await Deno.stat(`${r.dir}/plots/fig9.svg`);
  await Deno.stat(`${r.dir}/plots/fig9.png`);
  assert.match(r.markdown!, /The paper says:/);
  assert.match(r.markdown!, /higher than unguided at \d+ of 10 t_stop values/);
  assert.match(r.markdown!, /highest at t_stop \d+/);
});

Deno.test("fig5 and fig8 reuse fig9's sets; with --minimax the MinMax row is sampled and drawn", async () => {
  const before = await runTable(store, TABLES.fig8, fastCpu(ws.model));
  assert.ok(before.complete);
  assert.equal(before.plan.units.filter((u) => u.kind === "sample").length, 2);
  assert.match(before.markdown!, /needs the MinMax Diffusion checkpoint/);
  const args = ["fig5", ...fastCpuArgs(ws.model, storeDir), "--minimax", minimaxModel];
  const cli = await reproduce(args);
  assert.equal(cli.code, 0, cli.err);
  assert.match(cli.out, /Coverage .*DiT \d\.\d\d, MinMax \d\.\d\d, DiT \+ MGD3 \d\.\d\d/);
  const dir = cli.out.match(/Written to (\S+)/)![1];
  await Deno.stat(`${dir}/plots/fig5_000.png`);
  await Deno.stat(`${dir}/plots/fig5_001.svg`);
  const fig8 = await runTable(store, TABLES.fig8, fastCpu(ws.model, { minimax: minimaxModel }));
  assert.match(fig8.markdown!, /Most representative method per class .* out of 2 classes/);
  await Deno.stat(`${fig8.dir}/plots/fig8.png`);
});

Deno.test("fig4d --quick runs the soft-label protocol on ImageNette at the cpu scale", async () => {
  const r = await runTable(store, TABLES.fig4d, fastCpu(ws.model, { quick: true }));
  assert.ok(r.complete);
  const ran = r.results!.cells.filter((c) => c.ours !== null).map((c) => c.row);
  assert.deepEqual(ran, ["DiT", "DiT + MGD3"]);
  assert.match(r.markdown!, /outperforming previous SOTA/);
});

Deno.test("reproduce.ts cost times and counts each stage and extrapolates to ImageNet-100 IPC 10", async () => {
  const cli = await reproduce([
    "cost",
    "--quick",
    "--model",
    ws.model,
    "--data",
    `${DATA}/train`,
    "--val",
    `${DATA}/val`,
    "--store",
    storeDir,
    "--progress",
    "silent",
  ]);
  assert.equal(cli.code, 0, cli.err);
  const dir = cli.out.match(/Written to (\S+)/)![1];
  const r = await readJson(`${dir}/results.json`);
  assert.deepEqual(r.stages.map((s: { stage: string }) => s.stage), [
    "encode",
    "discover",
    "sample",
    "decode",
  ]);
  const [enc, , smp, dec] = r.stages;
  assert.equal(enc.ops.count, 200); // 2 classes x 100 shipped images
  assert.equal(dec.ops.count, 20); // 2 classes x IPC 10
  assert.ok(smp.ops.count >= 20 * 50); // at least one evaluation per image and step
  assert.ok(r.discoverShare.measured > 0 && r.discoverShare.measured < 1);
  assert.equal(r.paper.mgd3, 0.42);
  assert.match(cli.out, /0\.42 GPU-hours/);
});

Deno.test("the paper scale runs fig8 (MinMax from --minimax), fig9, fig4d and cost with a tiny DiT and AutoencoderKL", async () => {
  const models = {
    scale: "paper" as const,
    dit: DIT_TINY,
    ditConfig: "DiT-T/2",
    vae: AKL_SMALL,
    imageSize: 16,
    numClasses: 10,
  };
  const paperStore = await Store.open(`${ws.dir}/paper-store`);
  const paper = (extra: Partial<RunTableOptions> = {}) =>
    fastCpu(ws.model, { scale: "paper", models, ...extra });
  // The tiny DiT doubles as the MinMax checkpoint: sampled like DiT, into its own sets.
  const r = await runTable(paperStore, TABLES.fig8, paper({ minimax: DIT_TINY }));
  assert.ok(r.complete);
  assert.ok(r.results!.cells.every((c) => c.status === "run"));
  await Deno.stat(`${r.dir}/plots/fig8.png`);
  const fig9 = await runTable(paperStore, TABLES.fig9, paper());
  assert.match(fig9.markdown!, /higher than unguided at \d+ of 10 t_stop values/);
  const fig4d = await runTable(paperStore, TABLES.fig4d, paper({ quick: true }));
  assert.ok(
    fig4d.results!.cells.filter((c) => c.status !== "dropped").every((c) =>
      c.status === "unavailable"
    ),
  );
  assert.match(fig4d.markdown!, /ImageNet-1K/);
  const cost = await measureCost(paperStore, {
    models,
    data: { train: `${DATA}/train`, val: `${DATA}/val` },
    classes: CLASSES,
    ipc: 2,
    seed: 0,
    machine: "test",
    log: () => {},
  });
  assert.equal(cost.stages[0].ops.count, 200);
  assert.equal(cost.stages[3].ops.count, 4);
  assert.match(cost.markdown, /DiT-T\/2/);
});
