// The LDM rows of paper Tables 1 and 6 at the paper scale, filled by a run with --ldm on the
// tiny cin256-v2-shaped checkpoint (tests/fixtures/ldm), ImageNette-64 (2 classes), 1 epoch.
import assert from "node:assert/strict";
import { Store } from "../stages/store/store.ts";
import { setProgressMode } from "../stages/progress.ts";
import { TABLES } from "../eval/tables/tables.ts";
import { runTable } from "../eval/tables/run_table.ts";
import { fastCpu, fastCpuArgs, reproduce } from "./_reproduce_setup.ts";
import { TINY_CKPT } from "./ldm_fixture.ts";

setProgressMode("silent");
const TINY_JSON = new URL("./fixtures/ldm/ldm_tiny.json", import.meta.url).pathname;
const LDM_MODELS = { scale: "paper" as const, ldm: TINY_CKPT, ldmConfig: TINY_JSON };

Deno.test("reproduce:table1 --scale paper --ldm fills the LDM, LDM + D4M and LDM + MGD3 rows", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mgd3-ldm-t1-" });
  const args = fastCpuArgs("unused", `${dir}/store`).filter((a, i, all) =>
    a !== "--model" && all[i - 1] !== "--model"
  );
  const r = await reproduce([
    "table1",
    "--scale",
    "paper",
    "--quick",
    "--ldm",
    TINY_CKPT,
    "--ldm-config",
    TINY_JSON,
    ...args,
  ]);
  assert.equal(r.code, 0, r.err);
  // tables/table1-ldm-quick-<hash of the overridden seeds, epochs, ...>
  const name = [...Deno.readDirSync(`${dir}/store/tables`)].map((e) => e.name)
    .find((n) => n.startsWith("table1-ldm-quick"));
  assert.ok(name, "no tables/table1-ldm-quick* report");
  const results = JSON.parse(await Deno.readTextFile(`${dir}/store/tables/${name}/results.json`));
  const ours = results.cells
    .filter((c: { ours: unknown }) => c.ours !== null)
    .map((c: { row: string; column: string }) => `${c.row}/${c.column}`)
    .sort();
  assert.ok(ours.includes("LDM/ImageNette IPC 10"), ours.join(", "));
  assert.ok(ours.includes("LDM + D4M/ImageNette IPC 10"), ours.join(", "));
  assert.ok(ours.includes("LDM + MGD3/ImageNette IPC 10"), ours.join(", "));
  assert.ok(!ours.some((k: string) => k.startsWith("DiT")), "DiT rows need --dit");
  assert.match(r.out, /LDM \+ MGD3/);
});

Deno.test("table6 at the paper scale with --ldm fills the LDM DDPM and DDIM cells with LDM's settings", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mgd3-ldm-t6-" });
  const store = await Store.open(`${dir}/store`);
  const r = await runTable(
    store,
    TABLES.table6,
    fastCpu("unused", { scale: "paper", models: LDM_MODELS }),
  );
  assert.ok(r.complete);
  const ours = r.results!.cells.filter((c) => c.ours !== null).map((c) => `${c.row}/${c.column}`);
  assert.deepEqual(ours.sort(), ["LDM + MGD3/DDIM", "LDM + MGD3/DDPM", "LDM/DDIM", "LDM/DDPM"]);
  const dit = r.plan.cells.find((c) => TABLES.table6.rows[c.row].label === "DiT")!;
  assert.match(dit.reason!, /--dit FILE/);
  const ddim = r.plan.units.find((u) => u.kind === "sample" && u.recipe.sampler === "ddim")!;
  const o = JSON.parse(await Deno.readTextFile(`${store.root}/${ddim.id}/manifest.json`)).options;
  assert.deepEqual(
    [o.cfgChannels, o.variance, o.method, o.cfgScale, o.betas.kind],
    ["all", "fixed_small", "ddim", 3, "scaled_linear"],
  );
  assert.equal(r.dir, `${store.root}/tables/table6-ldm-${r.dir!.split("-").pop()}`);
});
