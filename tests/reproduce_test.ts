// The reproduce:* tables on tiny stand-ins: a random tiny cpu-scale model, the shipped
// ImageNette-64 images (2 classes), 1 epoch of ConvNet at 32 px; the paper scale with the
// committed tiny DiT and AutoencoderKL fixtures. The cpu tests share one store, as the
// tables share artifacts.
import assert from "node:assert/strict";
import { sharp } from "../models/core/deps.ts";
import { Store } from "../stages/store/store.ts";
import { setProgressMode } from "../stages/progress.ts";
import { TABLES } from "../eval/tables/tables.ts";
import { checkTable, parsePaperValue } from "../eval/tables/spec.ts";
import { planTable } from "../eval/tables/plan.ts";
import type { PlanContext, Unit } from "../eval/tables/units.ts";
import { reportName, runTable } from "../eval/tables/run_table.ts";
import { loadScaleModels } from "../eval/tables/setup.ts";
import { CLASS_PRESETS } from "../stages/images/classes.ts";
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
const storeDir = `${ws.dir}/store`;
const store = await Store.open(storeDir);
const readJson = async (p: string) => JSON.parse(await Deno.readTextFile(p));
// akl_small downsamples by 2 (two blocks): 16 px images give the 4x8x8 latents DiT-T/2 takes.
const TINY_PAPER_MODELS = {
  scale: "paper" as const,
  dit: DIT_TINY,
  ditConfig: "DiT-T/2",
  vae: AKL_SMALL,
  imageSize: 16,
  numClasses: 10,
};

Deno.test("every table definition has one paper value per column, as printed in the paper", () => {
  for (const t of Object.values(TABLES)) checkTable(t);
  const paper = (t: string, row: string) => TABLES[t].rows.find((r) => r.label === row)!.paper;
  assert.deepEqual(paper("table1", "DiT + MGD3"), [
    "66.4±2.4",
    "71.2±0.5",
    "79.5±1.3",
    "55.9±2.1",
    "61.9±0.9",
    "72.1±0.8",
  ]);
  assert.deepEqual(paper("table5", "+ stop guidance (t_stop 25)"), [
    "59.6±2.2",
    "66.4±2.4",
    "64.4±1.9",
  ]);
  assert.deepEqual(paper("table6", "DiT"), ["58.8±2.1", "61.4±2.4"]);
  assert.deepEqual(TABLES.table7.rows.map((r) => parsePaperValue(r.paper[0]!).mean), [
    59.6,
    61.3,
    64.5,
    66.9,
    64.6,
    66.4,
  ]);
  assert.equal(paper("table8", "MGD3")[0], "34.73±1.1");
  assert.equal(paper("table4", "MGD3")[0], "63.4±0.8");
  assert.deepEqual(parsePaperValue("66.4±2.4"), { mean: 66.4, std: 2.4, text: "66.4±2.4" });
});

const ctx = (o: Partial<PlanContext> = {}): PlanContext => ({
  root: "cpu/m0",
  scale: "cpu",
  seeds: [0, 1, 2],
  keep: () => true,
  data: {
    imagenette: { train: "t", val: "v", classes: CLASSES },
    imageidc: { missing: "ImageIDC needs --imagenet DIR --imagenet-val DIR" },
  },
  knows: () => null,
  epochs: () => 40,
  evalSize: 64,
  teacher: "train",
  ...o,
});

Deno.test("planTable() encodes once per dataset, discovers per method and IPC, samples and evaluates per seed", () => {
  const plan = planTable(TABLES.table1, ctx());
  const count = (k: Unit["kind"]) => plan.units.filter((u) => u.kind === k).length;
  // 3 IPCs: k-means modes once each, Random's selection per seed; 3 sampled rows x 3 seeds.
  assert.deepEqual(
    ["encode", "discover", "select", "sample", "decode", "eval"].map((k) =>
      count(k as Unit["kind"])
    ),
    [1, 3 + 9, 9, 27, 27, 4 * 3 * 3],
  );
  const at = new Map(plan.units.map((u, i) => [u.id, i]));
  for (const [i, u] of plan.units.entries()) {
    for (const d of u.deps) assert.ok(at.get(d)! < i, `${u.id} before ${d}`);
  }
  const idc = plan.cells.filter((c) => TABLES.table1.columns[c.col].dataset === "imageidc");
  assert.ok(
    idc.every((c) => c.status === (TABLES.table1.rows[c.row].recipe ? "unavailable" : "quoted")),
  );
  assert.match(idc.find((c) => c.status === "unavailable")!.reason!, /--imagenet DIR/);
  // Tables share artifacts: Table 5's last row = Table 7's k-means row = Fig. 7 at t_stop 25.
  const one = { seeds: [0] };
  const sampleOf = (t: string, row: number, col: number) => {
    const p = planTable(TABLES[t], ctx(one));
    const e = p.cells.find((c) => c.row === row && c.col === col)!.evals[0].unit;
    return p.units.find((u) => u.id === e)!.deps[0];
  };
  assert.equal(sampleOf("table5", 2, 1), sampleOf("table7", 5, 0));
  assert.equal(sampleOf("fig7", 0, 5), sampleOf("table7", 5, 0));
  assert.equal(sampleOf("fig7", 0, 0), sampleOf("table6", 2, 0)); // t_stop 50 = unguided
  // Networks outside the zoo and a missing paper-scale teacher are reported, not faked.
  const inet = { "imagenet-1k": { train: "t", val: "v", classes: CLASSES } };
  const t3 = planTable(TABLES.table3, ctx({ data: inet }));
  assert.match(t3.cells[2].reason!, /resnet-50: not in the classifier zoo/);
  const t3p = planTable(TABLES.table3, ctx({ teacher: null, data: inet }));
  assert.match(t3p.cells[0].reason!, /--teacher FILE/);
  const t4 = planTable(
    TABLES.table4,
    ctx({
      seeds: [0, 1, 2, 3, 4],
      data: { "imagenet-a": { train: "t", val: "v", classes: CLASSES } },
    }),
  );
  assert.equal(t4.cells.find((c) => c.status === "run")!.evals.length, 4 * 5);
});

Deno.test("at the cpu scale ConvNet-4 stands in for ResNetAP-10 except in Table 5; --networks and the paper scale keep theirs", () => {
  const nets = (t: string, o: Partial<PlanContext> = {}) =>
    new Set(
      planTable(TABLES[t], ctx({ seeds: [0], ...o })).units.flatMap((u) =>
        u.kind === "eval" ? [u.network] : []
      ),
    );
  for (const t of ["table1", "table6", "table7", "fig7", "lambda"]) {
    assert.deepEqual([...nets(t)], ["convnet"], t);
    assert.deepEqual([...nets(t, { scale: "paper" })], ["resnetap-10"], t);
    assert.deepEqual([...nets(t, { networks: ["resnetap-10"] })], ["resnetap-10"], t);
  }
  assert.deepEqual([...nets("table5")].sort(), ["convnet", "resnet-18", "resnetap-10"]);
});

Deno.test("reproduce.ts table5 prints the paper's numbers beside ours, writes results and plots, and a rerun is a no-op", async () => {
  const args = ["table5", ...fastCpuArgs(ws.model, storeDir)];
  // Two worker processes claim whole units; this process then writes the report.
  const first = await reproduce([...args, "--workers", "2"]);
  assert.equal(first.code, 0, first.err);
  assert.match(first.err, /2 workers, 1 thread\(s\) each/);
  assert.match(first.err, /^\[w0\] \[table5 \d+s\] \d+\/\d+ /m);
  assert.match(first.err, /^\[w1\] \[table5 \d+s\] \d+\/\d+ /m);
  assert.match(first.out, /Written to \S+ \(2 workers ran the units\)/);
  await assert.rejects(Deno.stat(`${storeDir}/claims`), Deno.errors.NotFound);
  assert.match(
    first.out,
    /\| Mode discovery only \| 53\.2 ± 1\.4 \| \d+\.\d ± \d+\.\d \| 57\.1 ± 1\.3 \|/,
  );
  assert.match(
    first.out,
    /\| \+ stop guidance \(t_stop 25\) \| 59\.6 ± 2\.2 \| \d+\.\d ± \d+\.\d \|/,
  );
  // --seeds/--epochs/... override the protocol: the report gets its own hashed name.
  const written = first.out.match(/Written to (\S+)/)![1];
  assert.match(written, /\/tables\/table5-[0-9a-f]{8}$/);
  const dir = written;
  const results = await readJson(`${dir}/results.json`);
  assert.equal(results.cells.length, 9);
  assert.ok(results.cells.every((c: { ours: { mean: number } }) => c.ours.mean >= 0));
  assert.equal(results.provenance.kind, "table");
  assert.match(await Deno.readTextFile(`${dir}/results.md`), /# Table 5/);
  await Deno.stat(`${dir}/plots/comparison.png`);
  // The "mode discovery only" set is real training images, at the codec's 64 px.
  const real = `${storeDir}/${results.settings.root}/real`;
  const [ds] = [...Deno.readDirSync(real)].map((e) => e.name);
  const png = `${real}/${ds}/closest-ipc10-s0/images/${CLASSES[0]}/0000.png`;
  assert.equal((await sharp(png).metadata()).width, 64);
  const before = (await Deno.stat(png)).mtime!.getTime();
  const again = await reproduce([...args, "--workers", "1"]);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /\(0 units run, \d+ already done\)/);
  assert.equal((await Deno.stat(png)).mtime!.getTime(), before);
  const help = await reproduce(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /--shard i\/n/);
  assert.equal((await reproduce(["table5", "--bogus"])).code, 2);
  assert.equal((await reproduce(["table99"])).code, 2);
});

Deno.test("two shards of table7 run side by side on one store; a run without a shard then only reports", async () => {
  const [a, b] = await Promise.all(
    [0, 1].map((index) =>
      runTable(store, TABLES.table7, fastCpu(ws.model, { shard: { index, count: 2 } }))
    ),
  );
  assert.ok(a.ran > 0 && b.ran > 0, "both workers did work");
  assert.ok(a.complete || b.complete);
  const r = await runTable(store, TABLES.table7, fastCpu(ws.model));
  assert.equal(r.ran, 0);
  assert.ok(r.complete);
  assert.equal(r.results!.cells.filter((c) => c.ours !== null).length, 6);
  assert.match(r.markdown!, /\| GMM \| 66\.9 ± 0\.4 \| \d+\.\d ± \d+\.\d \|/);
});

Deno.test("claiming workers split table6 by whole units and give the numbers of a single run", async () => {
  const single = await Store.open(`${ws.dir}/store-single`);
  const alone = await runTable(single, TABLES.table6, fastCpu(ws.model));
  assert.ok(alone.complete);
  const shared = await Store.open(`${ws.dir}/store-claim`);
  const [a, b] = await Promise.all(
    [0, 1].map(() => runTable(shared, TABLES.table6, fastCpu(ws.model, { claim: true }))),
  );
  assert.ok(a.ran > 0 && b.ran > 0, `both workers ran units (${a.ran}, ${b.ran})`);
  assert.equal(a.ran + b.ran, alone.ran, "every unit ran exactly once");
  assert.equal(a.markdown, null, "a claiming worker leaves the report to its launcher");
  const r = await runTable(shared, TABLES.table6, fastCpu(ws.model));
  assert.equal(r.ran, 0);
  const means = (t: typeof r) => t.results!.cells.map((c) => c.ours?.mean ?? null);
  assert.deepEqual(means(r), means(alone));
  await assert.rejects(
    runTable(
      shared,
      TABLES.table6,
      fastCpu(ws.model, { claim: true, shard: { index: 0, count: 2 } }),
    ),
    /claim and shard do not go together/,
  );
});

Deno.test("table1 --quick, the lambda sweep and fig6 run Random, D4M, sweeps and the metrics stage", async () => {
  const t1 = await runTable(store, TABLES.table1, fastCpu(ws.model, { quick: true }));
  const cell = (row: string, col: string) =>
    t1.results!.cells.find((c) => c.row === row && c.column === col)!;
  for (const row of ["Random", "DiT", "DiT + D4M-style init", "DiT + MGD3"]) {
    assert.ok(cell(row, "ImageNette IPC 10").ours !== null, row);
    assert.equal(cell(row, "ImageNette IPC 20").status, "dropped");
  }
  assert.equal(cell("Random", "ImageIDC IPC 10").status, "unavailable");
  assert.match(t1.markdown!, /--quick keeps IPC 10 only|not in --quick/);
  // MGD3 against DiT on the same seed and val images, with its bootstrap CI.
  assert.ok(cell("DiT + MGD3", "ImageNette IPC 10").paired, "DiT + MGD3 has a paired difference");
  assert.match(
    t1.markdown!,
    /\| ImageNette IPC 10 \| DiT \+ MGD3 - DiT \| [+-]\d+\.\d \| \[[+-]\d+\.\d, [+-]\d+\.\d\] \| /,
  );
  const d4m = t1.plan.units.find((u) => u.kind === "sample" && u.recipe.strength === 0.7)!;
  assert.equal((await readJson(`${storeDir}/${d4m.id}/manifest.json`)).options.strength, 0.7);
  const lambda = await runTable(store, TABLES.lambda, fastCpu(ws.model, { quick: true }));
  assert.equal(lambda.results!.cells.filter((c) => c.ours !== null).length, 4);
  // A quick run and a full run of the same table keep separate reports.
  const full = await runTable(store, TABLES.lambda, fastCpu(ws.model));
  assert.match(lambda.dir!, /\/tables\/lambda-quick-[0-9a-f]{8}$/);
  assert.match(full.dir!, /\/tables\/lambda-[0-9a-f]{8}$/);
  assert.equal((await readJson(`${lambda.dir}/results.json`)).settings.quick, true);
  assert.equal((await readJson(`${full.dir}/results.json`)).settings.quick, false);
  await Deno.stat(`${lambda.dir}/plots/sweep.png`);
  const fig6 = await runTable(store, TABLES.fig6, fastCpu(ws.model));
  const avg = fig6.results!.classwise!.find((r) => r.className === "Average")!;
  assert.equal(avg.paper["DiT + MGD3"], "0.73");
  assert.equal(typeof avg.ours["DiT + MGD3"], "number");
  assert.match(fig6.markdown!, /\| n01440764 \| 0\.35 \| \d\.\d\d \| 0\.82 \| \d\.\d\d \|/);
  await Deno.stat(`${fig6.dir}/plots/fig6.png`);
  // Mode coverage of each measured set, latent and t-SNE, in results.json and the markdown.
  const spaces = new Set(fig6.results!.coverage!.map((r) => r.space));
  assert.deepEqual([...spaces], ["latent", "tsne"]);
  assert.match(fig6.markdown!, /\| latent \| DiT \+ MGD3 \| \d+\.\d{3} \|/);
});

Deno.test("the paper scale runs table6 with a DiT checkpoint and an AutoencoderKL whose latents match its input", async () => {
  const models = TINY_PAPER_MODELS;
  const m = await loadScaleModels(models);
  assert.deepEqual(m.codec.latentShape, [4, 8, 8]);
  assert.deepEqual(m.denoiser.latentShape, [4, 8, 8]);
  assert.equal(m.classIds, "label"); // a 10-class DiT: class ids are label positions
  await m.release();
  const paperStore = await Store.open(`${ws.dir}/paper-store`);
  const r = await runTable(
    paperStore,
    TABLES.table6,
    fastCpu(ws.model, { scale: "paper", models }),
  );
  assert.ok(r.complete);
  const ours = r.results!.cells.filter((c) => c.ours !== null).map((c) => `${c.row}/${c.column}`);
  assert.deepEqual(ours.sort(), ["DiT + MGD3/DDIM", "DiT + MGD3/DDPM", "DiT/DDIM", "DiT/DDPM"]);
  const ddim = r.plan.units.find((u) => u.kind === "sample" && u.recipe.sampler === "ddim")!;
  const o = (await readJson(`${paperStore.root}/${ddim.id}/manifest.json`)).options;
  assert.deepEqual([o.cfgChannels, o.variance, o.method], [3, "learned_range", "ddim"]);
  const dec = r.plan.units.find((u) => u.kind === "decode")!;
  assert.equal(
    (await sharp(`${paperStore.root}/${dec.id}/images/${CLASSES[0]}/0000.png`).metadata()).width,
    16,
  );
  // 32 px would give 16x16 latents: the DiT checkpoint says what it expected.
  await assert.rejects(
    () =>
      runTable(
        paperStore,
        TABLES.table6,
        fastCpu(ws.model, { scale: "paper", models: { ...models, imageSize: 32 } }),
      ),
    /pos_embed|input|16/,
  );
});

Deno.test("table4 at the paper scale finds ImageNet A..E in an ImageNet folder and averages its four networks", async () => {
  // A stand-in ImageNet: 2 classes of each subset, their folders linking to ImageNette images.
  const subsets = ["imagenet-a", "imagenet-b", "imagenet-c", "imagenet-d", "imagenet-e"] as const;
  const wnids = subsets.flatMap((d) => CLASS_PRESETS[d].slice(0, 2));
  const nette = [...Deno.readDirSync(`${DATA}/train`)].map((e) => e.name).sort();
  const inet = `${ws.dir}/imagenet`;
  for (const split of ["train", "val"]) {
    await Deno.mkdir(`${inet}/${split}`, { recursive: true });
    wnids.forEach((w, i) =>
      Deno.symlinkSync(`${DATA}/${split}/${nette[i % nette.length]}`, `${inet}/${split}/${w}`)
    );
  }
  const models = TINY_PAPER_MODELS;
  const r = await runTable(
    await Store.open(`${ws.dir}/paper-store-t4`),
    TABLES.table4,
    fastCpu(ws.model, {
      scale: "paper",
      models,
      quick: true,
      networks: undefined, // the table's AlexNet, VGG11, ResNet-18, ViT
      classes: wnids,
      data: { imagenet: `${inet}/train`, imagenetVal: `${inet}/val` },
    }),
  );
  assert.ok(r.complete);
  const mgd3 = r.results!.cells.filter((c) => c.row === "MGD3");
  assert.equal(mgd3.length, 5);
  for (const c of mgd3) {
    assert.deepEqual(Object.keys(c.perNetwork!).sort(), ["alexnet", "resnet-18", "vgg11", "vit"]);
    const means = Object.values(c.perNetwork!).map((runs) => runs[0].top1);
    const avg = means.reduce((a, b) => a + b, 0) / means.length;
    assert.ok(Math.abs(c.ours!.mean - avg) < 0.051, `${c.column}: ${c.ours!.mean} vs ${avg}`);
  }
  assert.match(r.markdown!, /IPC 10 is an assumption/);
});

Deno.test("table3 --quick runs the soft-label protocol with a teacher trained on the real images", async () => {
  const r = await runTable(
    store,
    TABLES.table3,
    fastCpu(ws.model, {
      quick: true,
      networks: undefined,
      data: { imagenet: `${DATA}/train`, imagenetVal: `${DATA}/val` },
    }),
  );
  assert.ok(r.complete);
  const teacher = r.plan.units.find((u) => u.kind === "teacher")!;
  assert.equal(typeof (await readJson(`${storeDir}/${teacher.id}/results.json`)).top1, "number");
  assert.ok(r.results!.cells[0].ours !== null);
  assert.equal(r.results!.cells[0].paper, null); // lost in the extracted paper text
});

Deno.test("tables whose data or models are missing say what they need instead of running", async () => {
  const woof = await runTable(
    store,
    TABLES.table8,
    fastCpu(ws.model, { quick: true, classes: undefined }),
  );
  assert.equal(woof.plan.units.length, 0);
  assert.match(
    woof.markdown!,
    /ImageWoof needs train and val ImageFolders .*--imagenet DIR --imagenet-val DIR/,
  );
  const paper = await runTable(
    store,
    TABLES.table7,
    fastCpu(ws.model, {
      scale: "paper",
      models: { scale: "paper", ditConfig: "DiT-XL/2", imageSize: 256, numClasses: 1000 },
    }),
  );
  assert.match(paper.markdown!, /needs --dit FILE .*--vae DIR/);
  const unknown = await runTable(
    store,
    TABLES.table7,
    fastCpu(ws.model, { classes: ["n01440764", "n03000684"] }),
  );
  assert.equal(unknown.plan.units.length, 0);
  assert.match(unknown.markdown!, /knows 3 classes, not n03000684/);
});

Deno.test("reportName: the protocol's own settings, --quick and overrides each get their own report", async () => {
  const o = fastCpu("m.safetensors");
  const base = { scale: o.scale, models: o.models, data: o.data };
  assert.equal(await reportName(TABLES.table6, base), "tables/table6");
  assert.equal(await reportName(TABLES.table6, { ...base, quick: true }), "tables/table6-quick");
  const a = await reportName(TABLES.table6, { ...base, epochs: 1 });
  const b = await reportName(TABLES.table6, { ...base, epochs: 2 });
  assert.match(a, /^tables\/table6-[0-9a-f]{8}$/);
  assert.notEqual(a, b);
  assert.equal(a, await reportName(TABLES.table6, { ...base, epochs: 1 }));
});

Deno.test("reportName: a slice of a table's IPCs (--ipc) gets its own report", async () => {
  const base = {
    scale: "cpu",
    models: { scale: "cpu", model: "m.safetensors" },
    data: {},
  } as const;
  const slice = await reportName(TABLES.table1, { ...base, ipcs: [10] });
  assert.notEqual(slice, await reportName(TABLES.table1, base));
  assert.match(slice, /^tables\/table1-[0-9a-f]{8}$/);
});
