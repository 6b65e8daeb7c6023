// Text-to-image Stable Diffusion through the scale loader, every stage of the command line and
// reproduce:fig4, on a tiny SD 1.x folder laid out as a real one (tests/_sd_folder.ts); and the
// errors a broken or mismatched folder gets.
import assert from "node:assert/strict";
import { loadScale } from "../models/scales/mod.ts";
import { readSdFolder } from "../models/nets/sd/folder.ts";
import { listImageFolder } from "../stages/images/image_folder.ts";
import { capture, runOk as run } from "./_cli_capture.ts";
import { fastCpuArgs, reproduce } from "./_reproduce_setup.ts";
import { tinySdFolder } from "./_sd_folder.ts";
import { Distiller } from "../notebook/distiller.ts";

const DATA = new URL("../data/imagenette-64", import.meta.url).pathname;

Deno.test("loadScale({ scale: 'paper', sd }) reads the folder: VAE codec, prompts, DDIM settings", async () => {
  const sd = await tinySdFolder();
  const s = await loadScale({ scale: "paper", sd, promptTemplate: "a photo of a {}" });
  try {
    const f = await readSdFolder(sd);
    const unet = JSON.parse(await Deno.readTextFile(`${sd}/unet/config.json`));
    const side = unet.sample_size;
    assert.deepEqual(s.codec.latentShape, [4, side, side]);
    assert.equal(s.codec.imageSize, side * 2); // akl_small: two blocks, f = 2
    assert.equal(s.numClasses, 1000);
    assert.ok(Array.isArray(s.classIds) && s.classIds.includes("n01440764"));
    assert.deepEqual(s.sampling, {
      cfgChannels: "all",
      variance: "fixed_small",
      trainSteps: 1000,
      betas: { kind: "scaled_linear", start: 0.00085, end: 0.012 },
      timesteps: { spacing: "leading", offset: 1, setAlphaToOne: false },
      method: "ddim",
      cfgScale: 7.5,
      batchSize: 1,
    });
    assert.equal(f.scalingFactor, 0.18215);
    assert.match(s.modelId, /^sd:[0-9a-f]{12}$/);
    // one U-Net call on the doubled CFG batch: a class prompt and the empty prompt
    const D = 4 * side * side;
    const x = new Float32Array(2 * D).map((_, i) => Math.sin(i));
    const tench = (s.classIds as string[]).indexOf("n01440764");
    const out = await s.denoiser.forward(x, Float32Array.of(981, 981), Int32Array.of(tench, 1000));
    assert.equal(out.length, 2 * D);
    assert.ok(out.every(Number.isFinite));
    let diff = 0;
    for (let i = 0; i < D; i++) diff = Math.max(diff, Math.abs(out[i] - out[D + i]));
    assert.ok(diff > 1e-4, "the prompt must change the U-Net's output");
  } finally {
    await s.release();
  }
});

Deno.test("the command line runs encode -> discover -> sample -> decode with --sd", async () => {
  const sd = await tinySdFolder();
  const dir = await Deno.makeTempDir({ prefix: "mgd3-sd-cli-" });
  const store = `${dir}/store`;
  const common = ["--store", store, "--sd", sd];
  await run([
    "encode",
    ...common,
    "--data",
    `${DATA}/val`,
    "--classes",
    "n01440764,n02102040",
    "--limit",
    "6",
    "--out",
    "latents",
  ]);
  await run(["discover", "--store", store, "--latents", "latents", "--out", "modes", "--ipc", "2"]);
  await run([
    "sample",
    ...common,
    "--modes",
    "modes",
    "--out",
    "samples",
    "--steps",
    "4",
    "--t-stop",
    "1",
  ]);
  await run(["decode", ...common, "--samples", "samples", "--out", "distilled"]);
  assert.equal((await listImageFolder(`${store}/distilled/images`)).length, 4);
  const o = JSON.parse(await Deno.readTextFile(`${store}/samples/manifest.json`)).options;
  assert.deepEqual(
    [o.method, o.cfgScale, o.cfgChannels, o.timesteps.offset, o.betas.start],
    ["ddim", 7.5, "all", 1, 0.00085],
  );
});

Deno.test("reproduce:fig4 --scale paper --sd fills the Stable Diffusion and SD + MGD3 rows", async () => {
  const sd = await tinySdFolder();
  const dir = await Deno.makeTempDir({ prefix: "mgd3-sd-fig4-" });
  const args = fastCpuArgs("unused", `${dir}/store`).filter((a, i, all) =>
    a !== "--model" && all[i - 1] !== "--model"
  );
  const r = await reproduce(["fig4", "--scale", "paper", "--quick", "--sd", sd, ...args]);
  assert.equal(r.code, 0, r.err);
  const name = [...Deno.readDirSync(`${dir}/store/tables`)].map((e) => e.name)
    .find((n) => n.startsWith("fig4-sd-quick"));
  assert.ok(name, "no tables/fig4-sd-quick* report");
  const results = JSON.parse(await Deno.readTextFile(`${dir}/store/tables/${name}/results.json`));
  const ours = results.cells
    .filter((c: { ours: unknown }) => c.ours !== null)
    .map((c: { row: string; column: string }) => `${c.row}/${c.column}`)
    .sort();
  assert.deepEqual(ours, [
    "Stable Diffusion + MGD3/(a) ImageNette IPC 10",
    "Stable Diffusion/(a) ImageNette IPC 10",
  ]);
  assert.match(r.out, /Stable Diffusion \+ MGD3/);
});

Deno.test("a Stable Diffusion folder with a missing file or a mismatched config gets an error naming it", async () => {
  const sd = await tinySdFolder();
  const index = JSON.parse(await Deno.readTextFile(`${sd}/model_index.json`));
  await Deno.writeTextFile(
    `${sd}/model_index.json`,
    JSON.stringify({ ...index, text_encoder: ["transformers", "T5EncoderModel"] }),
  );
  await assert.rejects(
    () => loadScale({ scale: "paper", sd }, { only: "codec" }),
    /model_index\.json: 'text_encoder' must be \[library, class\] with class one of CLIPTextModel/,
  );
  await Deno.writeTextFile(`${sd}/model_index.json`, JSON.stringify(index));
  await Deno.remove(`${sd}/scheduler/scheduler_config.json`);
  await assert.rejects(
    () => loadScale({ scale: "paper", sd }, { only: "codec" }),
    /scheduler_config\.json/,
  );
  const other = await tinySdFolder();
  const cfg = JSON.parse(await Deno.readTextFile(`${other}/text_encoder/config.json`));
  await Deno.writeTextFile(
    `${other}/text_encoder/config.json`,
    JSON.stringify({ ...cfg, hidden_size: 48, intermediate_size: 96 }),
  );
  const s = await loadScale({ scale: "paper", sd: other }, { only: "denoiser" });
  try {
    await assert.rejects(
      () =>
        s.denoiser.forward(
          new Float32Array(s.denoiser.latentShape.reduce((a, b) => a * b)),
          Float32Array.of(1),
          Int32Array.of(0),
        ),
      /text_encoder\/model\.safetensors: key 'text_model\.embeddings\.token_embedding\.weight' has shape \[814,32\], expected \[814,48\]/,
    );
  } finally {
    await s.release();
  }
  const bad = await capture([
    "sample",
    "--unet",
    "x",
    "--prompts",
    "p.json",
    "--modes",
    "m",
    "--out",
    "o",
  ]);
  assert.equal(bad.status, 2);
  assert.match(bad.err, /--prompts goes with --sd/);
});

Deno.test("Distiller.open({ scale: 'paper', sd }) distils with Stable Diffusion in a notebook", async () => {
  const sd = await tinySdFolder();
  const dir = await Deno.makeTempDir({ prefix: "mgd3-sd-nb-" });
  await assert.rejects(
    () => Distiller.open({ scale: "cpu", promptTemplate: "a {}" }),
    /option 'promptTemplate' goes with 'sd'/,
  );
  const run = await Distiller.open({
    scale: "paper",
    sd,
    promptTemplate: "a photo of a {}",
    classes: ["n01440764", "n02102040"],
    ipc: 2,
    store: `${dir}/store`,
    data: new URL("../data/imagenette-64", import.meta.url).pathname,
  });
  try {
    await run.encode();
    await run.discover();
    const mgd3 = await run.sample({ lambda: 0.1 });
    assert.match(mgd3.caption, /^MGD3 samples/);
    assert.equal((await run.decode()).figures.length, 1);
  } finally {
    await run.release();
  }
});
