import assert from "node:assert/strict";
import {
  addPairedDiffs,
  baselineOf,
  pairedBootstrap,
  type PairedRun,
} from "../eval/tables/paired.ts";
import { formatMarkdown } from "../eval/tables/markdown.ts";
import type { CellResult } from "../eval/tables/results.ts";
import { packBits, unpackBits } from "../eval/protocols/correct_bits.ts";
import { TABLES } from "../eval/tables/tables.ts";

const N = 4000;
/** Correct on images [0, k). */
const firstK = (k: number, n = N) => Uint8Array.from({ length: n }, (_, i) => (i < k ? 1 : 0));
const runs = (net: string, byseed: Uint8Array[]): PairedRun[] =>
  byseed.map((correct, seed) => ({ network: net, seed, correct }));

Deno.test("pairedBootstrap() recovers a known 5-point gain and its image-sampling CI", () => {
  // Identical seeds: A is right on 200 more of 4000 images than B. diff = 5 points; the
  // per-image difference is 1 with p = 0.05, so the CI is 5 +- 1.96 * 100 * sqrt(p(1-p)/n).
  const a = runs("convnet", [firstK(2200), firstK(2200), firstK(2200)]);
  const b = runs("convnet", [firstK(2000), firstK(2000), firstK(2000)]);
  const r = pairedBootstrap(a, b)!;
  assert.equal(r.diff, 5);
  assert.equal(r.seeds, 3);
  assert.equal(r.images, N);
  const half = 1.96 * 100 * Math.sqrt(0.05 * 0.95 / N); // 0.675
  assert.ok(Math.abs(r.lo - (5 - half)) < 0.12, `lo ${r.lo}`);
  assert.ok(Math.abs(r.hi - (5 + half)) < 0.12, `hi ${r.hi}`);
  // Seeded: the same inputs give the same CI; another seed a slightly different one.
  assert.deepEqual(pairedBootstrap(a, b), r);
  assert.notDeepEqual(pairedBootstrap(a, b, { seed: 1 }), r);
});

Deno.test("pairedBootstrap() spans the seed-to-seed spread: gains 0 and 10 give the CI [0, 10]", () => {
  // Two seeds, no image noise within a seed's difference structure that could cancel: the
  // drawn seed means are 0, 5 or 10 (probabilities 1/4, 1/2, 1/4), so the 95% CI is [0, 10].
  const a = runs("convnet", [firstK(2000), firstK(2400)]);
  const b = runs("convnet", [firstK(2000), firstK(2000)]);
  const r = pairedBootstrap(a, b)!;
  assert.equal(r.diff, 5);
  assert.equal(r.lo, 0);
  assert.ok(r.hi > 9 && r.hi < 11, `hi ${r.hi}`);
});

Deno.test("pairedBootstrap() does not resolve equal methods, pairs only shared seeds, and refuses other val sets", () => {
  // A and B are each right on half, disagreeing on 400 images both ways: no difference.
  const sa = Uint8Array.from({ length: N }, (_, i) => (i < 2000 ? 1 : 0));
  const sb = Uint8Array.from(
    { length: N },
    (_, i) => ((i < 1800 || (i >= 2000 && i < 2200)) ? 1 : 0),
  );
  const r = pairedBootstrap(runs("convnet", [sa, sa]), runs("convnet", [sb, sb]))!;
  assert.equal(r.diff, 0);
  assert.ok(r.lo < 0 && r.hi > 0, `CI [${r.lo}, ${r.hi}] should contain 0`);
  // B ran seed 0 only: one shared seed.
  const one = pairedBootstrap(runs("convnet", [sa, sa]), runs("convnet", [sb]))!;
  assert.equal(one.seeds, 1);
  assert.equal(pairedBootstrap(runs("convnet", [sa]), runs("resnet", [sb])), null);
  assert.throws(
    () => pairedBootstrap(runs("convnet", [sa]), runs("convnet", [firstK(10, 10)])),
    /share their val images/,
  );
});

Deno.test("packBits() and unpackBits() round-trip a correctness bitmap in an eighth of the bytes", () => {
  const flags = Uint8Array.from({ length: 3925 }, (_, i) => (i * 7919) % 3 === 0 ? 1 : 0);
  const b64 = packBits(flags);
  assert.equal(b64.length, 4 * Math.ceil(Math.ceil(3925 / 8) / 3)); // 656 characters
  assert.deepEqual(unpackBits(b64, 3925), flags);
  assert.throws(() => unpackBits(b64, 100), /100 images has 13 bytes/);
});

Deno.test("baselineOf(): MGD3 rows against their model, ablation rows against the row above, sweeps against no guidance", () => {
  const col = "ImageNette IPC 10";
  assert.deepEqual(baselineOf(TABLES.table1, "DiT + MGD3", col), { row: "DiT", column: col });
  assert.deepEqual(baselineOf(TABLES.table1, "LDM + D4M", col), { row: "LDM", column: col });
  assert.deepEqual(baselineOf(TABLES.table1, "DiT", col), { row: "Random", column: col });
  assert.equal(baselineOf(TABLES.table1, "Random", col), null);
  const t5 = TABLES.table5;
  assert.deepEqual(baselineOf(t5, t5.rows[2].label, "ResNet-18")?.row, t5.rows[1].label);
  assert.equal(baselineOf(t5, t5.rows[0].label, "ResNet-18"), null);
  assert.deepEqual(baselineOf(TABLES.table8, "MGD3", "IPC 10 ResNet-18")?.row, "DiT");
  assert.deepEqual(baselineOf(TABLES.lambda, "DiT + MGD3", "lambda 0.1")?.column, "lambda 0");
  assert.equal(baselineOf(TABLES.fig6, "DiT + MGD3", "average diversity"), null);
});

Deno.test("a table's markdown lists each paired difference with its CI, and old results without bitmaps show none", () => {
  const col = "ImageNette IPC 10";
  const cell = (row: string): CellResult => ({
    row,
    column: col,
    status: "run",
    paper: null,
    ours: { mean: 50, std: 1, runs: 2 },
    perNetwork: {},
    artifacts: [],
  });
  const cells = ["Random", "DiT", "DiT + MGD3"].map(cell);
  const perImage = new Map<string, PairedRun[]>([
    [`DiT\u0000${col}`, runs("convnet", [firstK(2000), firstK(2000)])],
    [`DiT + MGD3\u0000${col}`, runs("convnet", [firstK(2200), firstK(2200)])],
    // Random's results predate the bitmaps: no runs.
  ]);
  addPairedDiffs(TABLES.table1, cells, perImage);
  assert.equal(cells[0].baseline, undefined);
  assert.deepEqual(cells[1].baseline, { row: "Random", column: col });
  assert.equal(cells[1].paired, undefined);
  assert.equal(cells[2].paired!.diff, 5);
  assert.equal(cells[2].paired!.resolved, true);
  const md = formatMarkdown({
    table: "table1",
    title: "t",
    kind: "accuracy",
    source: "s",
    settings: { scale: "cpu", models: "m", seeds: [0, 1] },
    cells,
    notes: [],
  }, { package: "0.1.0", commit: null, dirty: false });
  assert.match(
    md,
    /\| ImageNette IPC 10 \| DiT \+ MGD3 - DiT \| \+5\.0 \| \[\+4\.\d, \+5\.\d\] \| \*\*yes\*\* \| 2 x 4000 \|/,
  );
  assert.match(md, /\| ImageNette IPC 10 \| DiT - Random \| — \| no per-image results/);
});

Deno.test("tools/paired_diff.ts prints the paired difference of two eval artifacts and refuses old ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mgd3-paired-" });
  const write = async (name: string, k: number | null) => {
    await Deno.mkdir(`${dir}/${name}`);
    const runs = [0, 1].map((seed) => ({
      seed,
      ...(k === null ? {} : { correct: packBits(firstK(k)), valImages: N }),
    }));
    const provenance = { options: { model: "convnet" } };
    await Deno.writeTextFile(`${dir}/${name}/results.json`, JSON.stringify({ runs, provenance }));
  };
  await write("a", 2200);
  await write("b", 2000);
  await write("old", null);
  const tool = new URL("../tools/paired_diff.ts", import.meta.url).pathname;
  const run = (x: string, y: string) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", tool, x, y],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
  const ok = await run(`${dir}/a`, `${dir}/b`);
  assert.equal(ok.code, 0);
  assert.match(
    new TextDecoder().decode(ok.stdout),
    /: \+5\.00 points, 95% CI \[\+4\.\d\d, \+5\.\d\d\] \(2 seed\(s\) x 4000 val images\), resolved/,
  );
  const old = await run(`${dir}/a`, `${dir}/old`);
  assert.notEqual(old.code, 0);
  assert.match(new TextDecoder().decode(old.stderr), /no run has per-image results/);
  await Deno.remove(dir, { recursive: true });
});
