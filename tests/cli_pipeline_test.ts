import assert from "node:assert/strict";
import { main } from "../cli.ts";
import { runOk as run } from "./_cli_capture.ts";
import { loadCpuModel } from "../models/nets/unet/cpu_model.ts";
import { randomModel } from "./_tiny_model.ts";
import { listImageFolder } from "../stages/images/image_folder.ts";
import { IMAGENETTE_224 } from "./shared.ts";

const HAVE_DATA = await Deno.stat(`${IMAGENETTE_224}/val`).then(() => true, () => false);

Deno.test({
  name:
    "the command line runs encode -> discover -> sample -> decode at the cpu scale with a model file",
  ignore: !HAVE_DATA,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "mgd3-cli-" });
    const model = `${dir}/unet.safetensors`;
    await randomModel(model);
    const { info } = await loadCpuModel(model);
    assert.equal(info.config.channels, 8);
    const store = `${dir}/store`;
    const classes = "n01440764,n02102040";
    await run([
      "encode",
      "--store",
      store,
      "--unet",
      model,
      "--data",
      `${IMAGENETTE_224}/val`,
      "--classes",
      classes,
      "--limit",
      "30",
      "--out",
      "latents",
    ]);
    await run([
      "discover",
      "--store",
      store,
      "--latents",
      "latents",
      "--out",
      "modes",
      "--ipc",
      "2",
    ]);
    await run([
      "sample",
      "--store",
      store,
      "--unet",
      model,
      "--modes",
      "modes",
      "--out",
      "samples",
      "--steps",
      "4",
      "--t-stop", // guide steps 3 and 2 of 4 (the default t-stop 25 would guide none)
      "1",
      "--batch-size",
      "2",
    ]);
    await run([
      "decode",
      "--store",
      store,
      "--unet",
      model,
      "--samples",
      "samples",
      "--out",
      "distilled",
    ]);
    const images = await listImageFolder(`${store}/distilled/images`);
    assert.equal(images.length, 4); // IPC 2 x 2 classes
    assert.deepEqual([...new Set(images.map((i) => i.className))], ["n01440764", "n02102040"]);
    await Deno.stat(`${store}/distilled/contact_sheet.png`);
    // Metrics and a one-epoch hard-label evaluation of the distilled images.
    await run([
      "metrics",
      "--store",
      store,
      "--latents",
      "latents",
      "--samples",
      "MGD3=samples",
      "--modes",
      "modes",
      "--out",
      "metrics",
    ]);
    const table = await Deno.readTextFile(`${store}/metrics/table9.md`);
    assert.match(table, /\| n01440764 \| \d\.\d\d \|/);
    await Deno.stat(`${store}/metrics/fig6_diversity_representativeness.png`);
    const coverage = JSON.parse(await Deno.readTextFile(`${store}/metrics/coverage.json`));
    assert.deepEqual(coverage.rows.map((r: { space: string }) => r.space), ["latent", "tsne"]);
    assert.equal(coverage.rows[0].modes, 4); // IPC 2 x 2 classes
    await run([
      "eval",
      "--store",
      store,
      "--name",
      "eval/x",
      "--scale",
      "cpu",
      "--model",
      "convnet",
      "--train",
      `${store}/distilled/images`,
      "--val",
      `${IMAGENETTE_224}/val`,
      "--classes",
      classes,
      "--seeds",
      "0",
      "--epochs",
      "1",
    ]);
    const results = JSON.parse(await Deno.readTextFile(`${store}/eval/x/results.json`));
    assert.equal(results.runs.length, 1);
    assert.equal(typeof results.provenance.code.package, "string");
    // Re-running a stage with the same options skips it; with other options it is refused.
    await run([
      "discover",
      "--store",
      store,
      "--latents",
      "latents",
      "--out",
      "modes",
      "--ipc",
      "2",
    ]);
    assert.equal(
      await main([
        "discover",
        "--store",
        store,
        "--latents",
        "latents",
        "--out",
        "modes",
        "--ipc",
        "3",
        "--progress",
        "silent",
      ]),
      1,
    );
    // A model file that is not one is named in the error.
    assert.equal(
      await main([
        "sample",
        "--store",
        store,
        "--unet",
        `${store}/store.json`,
        "--modes",
        "modes",
        "--out",
        "x",
        "--progress",
        "silent",
      ]),
      1,
    );
  },
});
