// The notebook facade: run-time option checks, the Distiller's stages on a tiny random model,
// results that display themselves, a stage stopped by its signal, and the notebook checker.
import assert from "node:assert/strict";
import { checkOptions } from "../notebook/options.ts";
import { Distiller } from "../notebook/distiller.ts";
import { contactSheet, JUPYTER_DISPLAY, Table } from "../notebook/display.ts";
import { type Cell, compareNotebooks, type Output } from "../tools/run_notebooks.ts";
import { createProgress } from "../stages/progress.ts";
import { sample } from "../stages/sample.ts";
import { discover } from "../stages/discover.ts";
import { randomModel } from "./_tiny_model.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const CLASSES = ["n01440764", "n02102040"];

Deno.test("checkOptions() names an unknown key with the near one, and a value of the wrong type", () => {
  const spec = { lambda: "number", tStop: "integer", names: "strings" } as const;
  assert.deepEqual(checkOptions("sample", { lambda: 0.2 }, spec, { tStop: 25 }), {
    lambda: 0.2,
    tStop: 25,
  });
  assert.throws(
    () => checkOptions("sample", { lamda: 0.2 }, spec),
    /sample: unknown option 'lamda' \(did you mean 'lambda'\?\); options are lambda, tStop, names/,
  );
  assert.throws(
    () => checkOptions("sample", { tStop: 2.5 }, spec),
    /option 'tStop' must be an integer, got number 2.5/,
  );
  assert.throws(() => checkOptions("sample", { names: [1] }, spec), /option 'names' must be/);
  assert.throws(() => checkOptions("sample", 3, spec), /options must be an object/);
});

Deno.test("Distiller runs every stage with no model-specific option, resumes, and its results display themselves", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mgd3-notebook-" });
  try {
    await randomModel(`${dir}/model.safetensors`);
    const open = () =>
      Distiller.open({
        model: `${dir}/model.safetensors`,
        classes: CLASSES,
        ipc: 2,
        store: `${dir}/store`,
        data: `${ROOT}data/imagenette-64`,
      });
    const run = await open();
    const latents = await run.encode();
    assert.deepEqual(latents.rows.map((r) => r[0]), CLASSES);
    assert.equal((await run.discover()).rows[0][1], 2);
    const mgd3 = await run.sample({ lambda: 0.1 });
    assert.match(mgd3.caption, /^MGD3 samples/);
    await run.sample({ guidance: false });
    assert.deepEqual([...run.samples.keys()], ["MGD3", "DiT"]);
    await assert.rejects(() => run.sample({ lamda: 0.1 } as never), /unknown option 'lamda'/);
    await assert.rejects(
      () => run.sample({ guidance: false, lambda: 0.1 }),
      /'lambda' and 'tStop' need guidance/,
    );
    const sheets = await run.decode();
    assert.equal(sheets.figures.length, 2);
    const bundle = sheets[JUPYTER_DISPLAY]();
    assert.match(bundle["text/html"], /<img [^>]*src="data:image\/jpeg;base64,/);
    const table = latents[JUPYTER_DISPLAY]();
    assert.match(
      table["text/markdown"],
      /\| class \| latents \|\n\| --- \| --- \|\n\| n01440764 \| 100 \|/,
    );
    await run.release();
    // A second run over the same store resumes: the samples are read, not drawn again.
    const again = await open();
    const resumed = await again.sample({ lambda: 0.1 });
    assert.deepEqual(resumed.rows, mgd3.rows);
    await again.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a stage stopped by its signal writes nothing half-done, and the same call then completes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mgd3-notebook-abort-" });
  try {
    await randomModel(`${dir}/model.safetensors`);
    const run = await Distiller.open({
      model: `${dir}/model.safetensors`,
      classes: CLASSES,
      ipc: 2,
      store: `${dir}/store`,
      data: `${ROOT}data/imagenette-64`,
    });
    await run.encode();
    await run.discover();
    // A plain stage call without shard/overwrite takes their defaults (a notebook is not type-checked).
    const plain = await discover(run.store, {
      latents: "latents/train",
      out: "modes/plain",
      modes: { method: "kmeans", k: 2, seed: 0 },
    });
    assert.equal(plain.written.length, 2);
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    const o = { modes: "modes/ipc2", out: "samples/x", seed: 0, signal: controller.signal };
    await assert.rejects(() => sample(run.store, run.scale, o), /stop/);
    const art = await run.store.open("samples/x");
    assert.deepEqual(await art.shards(), []);
    const r = await sample(run.store, run.scale, { ...o, signal: undefined });
    assert.equal(r.written.length, 2);
    await run.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("contactSheet() draws one labelled row per class at the asked scale; Table checks its rows", async () => {
  const rgb = new Uint8Array(2 * 3 * 8 * 8).fill(200);
  const fig = await contactSheet([{ label: "tench", images: rgb, size: 8 }], { scale: 3 });
  const png = fig[JUPYTER_DISPLAY]()["image/png"];
  assert.ok(png.length > 100);
  const { sharp } = await import("../models/core/deps.ts");
  const meta = await sharp(fig.png).metadata();
  assert.equal(meta.height, 3 * 8 + 2 * 2);
  await assert.rejects(
    () => contactSheet([{ label: "x", images: rgb, size: 8 }], { scale: 0 }),
    /scale must be an integer in \[1, 16\]/,
  );
  assert.throws(() => new Table(["a", "b"], [[1]]), /row 0 has 1 cells; expected 2/);
});

Deno.test("progress in notebook mode needs the kernel; the notebook checker reports errors and lost outputs", () => {
  assert.throws(
    () => createProgress("x", 1, { mode: "notebook" }),
    /needs the Deno Jupyter kernel/,
  );
  const cell = (outputs: Output[]): Cell => ({
    cell_type: "code",
    source: "await run.decode()",
    outputs,
  });
  const png = { output_type: "display_data", data: { "image/png": "", "text/plain": "" } };
  const text = { output_type: "display_data", data: { "text/plain": "" } };
  const err = { output_type: "error", ename: "TypeError", evalue: "boom" };
  assert.deepEqual(compareNotebooks({ cells: [cell([png])] }, { cells: [cell([png, text])] }), []);
  assert.deepEqual(compareNotebooks({ cells: [cell([png])] }, { cells: [cell([text])] }), [
    "cell 1 (await run.decode()): lost output image/png",
  ]);
  assert.deepEqual(compareNotebooks({ cells: [cell([])] }, { cells: [cell([err])] }), [
    "cell 1 (await run.decode()): TypeError: boom",
  ]);
});
