// examples/slurm on a real one-node Slurm started here (munged, slurmctld, slurmd; localhost
// only, config in a temporary folder): reproduce:table1 --quick on a tiny slice (2 classes,
// 1 epoch, a random tiny model) as a 2-task array sharing one store, then the gather job; the
// gathered table must equal a single-process run's. Skipped, saying why, where Slurm or munge is
// not installed (.ci/run installs slurm-wlm and munge when apt is available) or not root.
import assert from "node:assert/strict";
import { Store } from "../stages/store/store.ts";
import { setProgressMode } from "../stages/progress.ts";
import { runTable } from "../eval/tables/run_table.ts";
import { TABLES } from "../eval/tables/tables.ts";
import { fastCpu, fastCpuArgs, ROOT, tinyWorkspace } from "./_reproduce_setup.ts";
import { slurmMissing, startSlurm } from "./_slurm_cluster.ts";

const missing = await slurmMissing();
if (missing) console.error(`slurm_test: skipped: ${missing}`);

/** The cells of a results.json that a run computes: row, column, our value. */
async function cells(dir: string): Promise<unknown[]> {
  const r = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
  return r.cells.map((c: { row: string; column: string; ours: unknown; status: unknown }) => [
    c.row,
    c.column,
    c.ours,
    c.status,
  ]);
}

Deno.test({
  name:
    `examples/slurm runs table1 --quick as a 2-task array and a gather job whose table equals a single-process run's${
      missing ? ` (skipped: ${missing})` : ""
    }`,
  ignore: missing !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    setProgressMode("silent");
    const ws = await tinyWorkspace();
    const cluster = await startSlurm(4);
    try {
      const sharded = `${ws.dir}/sharded-store`;
      const args = fastCpuArgs(ws.model, sharded).filter((_, i, a) =>
        a[i] !== "--store" && a[i - 1] !== "--store"
      );
      const submit = await new Deno.Command(`${ROOT}examples/slurm/submit.sh`, {
        args: ["2", "table1", sharded, "--quick", "--poll", "1", ...args],
        env: {
          ...cluster.env,
          MGD3_DENO: Deno.execPath(),
          MGD3_SBATCH: `--chdir=${cluster.dir}`,
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const said = new TextDecoder().decode(submit.stdout).trim();
      assert.ok(submit.success, new TextDecoder().decode(submit.stderr));
      const [array, gather] = said.split(" ");
      assert.match(array, /^\d+$/);
      assert.match(gather, /^\d+$/);
      // Meanwhile, the same slice in this process on a store of its own.
      const single = await runTable(
        await Store.open(`${ws.dir}/single-store`),
        TABLES.table1,
        fastCpu(ws.model, { quick: true }),
      );
      assert.ok(single.complete);
      await cluster.waitIdle([array, gather], 150_000);
      const out = async (name: string) =>
        await Deno.readTextFile(`${cluster.dir}/${name}`).catch(() => `(no ${name})`);
      const shards = [
        await out(`mgd3-shard-${array}_0.out`),
        await out(`mgd3-shard-${array}_1.out`),
      ];
      const gathered = await out(`mgd3-gather-${gather}.out`);
      for (const [i, s] of shards.entries()) {
        assert.match(s, /units run/, `shard ${i}:\n${s}\n${await cluster.logs()}`);
      }
      assert.match(gathered, /Written to .*tables\/table1-quick/, gathered);
      assert.match(gathered, /\(0 units run, \d+ already done\)/, gathered);
      const dir = /Written to (\S+)/.exec(gathered)![1];
      assert.deepEqual(await cells(dir), await cells(single.dir!));
      assert.ok(
        gathered.includes(single.markdown!.split("\n").find((l) => l.startsWith("| DiT + MGD3"))!),
      );
    } finally {
      await cluster.stop();
      await Deno.remove(ws.dir, { recursive: true }).catch(() => {});
    }
  },
});
