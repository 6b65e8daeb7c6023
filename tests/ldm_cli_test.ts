// The LDM family through every stage of the command line: a tiny LatentDiffusion laid out
// like cin256-v2.ckpt (U-Net, VQ-f4 first stage and ClassEmbedder in one Lightning .ckpt).
import assert from "node:assert/strict";
import { listImageFolder } from "../stages/images/image_folder.ts";
import { IMAGENETTE_224 } from "./shared.ts";
import { capture, runOk as run } from "./_cli_capture.ts";
import { TINY_CKPT } from "./ldm_fixture.ts";
import { loadScale } from "../models/scales/mod.ts";

const TINY_JSON = new URL("./fixtures/ldm/ldm_tiny.json", import.meta.url).pathname;
const HAVE_DATA = await Deno.stat(`${IMAGENETTE_224}/val`).then(() => true, () => false);
const LDM = ["--ldm", TINY_CKPT, "--ldm-config", TINY_JSON];

Deno.test("loadScale({ scale: 'paper', ldm }) hands out the VQ codec, the LDM denoiser and LDM's sampling settings", async () => {
  const s = await loadScale({ scale: "paper", ldm: TINY_CKPT, ldmConfig: TINY_JSON });
  try {
    assert.deepEqual(s.codec.latentShape, [3, 8, 8]);
    assert.equal(s.codec.imageSize, 32);
    assert.equal(s.numClasses, 1000);
    assert.equal(s.classIds, "imagenet");
    assert.deepEqual(s.sampling, {
      cfgChannels: "all",
      variance: "fixed_small",
      trainSteps: 1000,
      betas: { kind: "scaled_linear", start: 0.0015, end: 0.0195 },
      cfgScale: 3,
    });
    assert.match(s.modelId, /^ldm:ldm-tiny:[0-9a-f]{12}$/);
  } finally {
    await s.release();
  }
});

Deno.test({
  name: "the command line runs encode -> discover -> sample -> decode with --ldm",
  ignore: !HAVE_DATA,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "mgd3-ldm-" });
    const store = `${dir}/store`;
    const common = ["--store", store, ...LDM];
    await run([
      "encode",
      ...common,
      "--data",
      `${IMAGENETTE_224}/val`,
      "--classes",
      "n01440764,n02102040",
      "--limit",
      "6",
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
    const images = await listImageFolder(`${store}/distilled/images`);
    assert.equal(images.length, 4);
    const manifest = JSON.parse(await Deno.readTextFile(`${store}/samples/manifest.json`));
    const text = JSON.stringify(manifest);
    assert.match(text, /"cfgScale":3/);
    assert.match(text, /scaled_linear/);
  },
});

Deno.test("--ldm with a DiT file, or with --dit, is refused naming the problem", async () => {
  const dit = new URL("./fixtures/dit/dit_tiny.pt", import.meta.url).pathname;
  const bad = await capture(["sample", "--ldm", dit, "--modes", "m", "--out", "o"]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.err, /this looks like a DiT checkpoint/);
  const both = await capture([
    "sample",
    "--ldm",
    TINY_CKPT,
    "--dit",
    dit,
    "--modes",
    "m",
    "--out",
    "o",
  ]);
  assert.equal(both.status, 2);
  assert.match(both.err, /Give one of --unet, --dit, --ldm/);
});
