import assert from "node:assert/strict";
import { Store } from "../stages/store/store.ts";
import { TRAIN_MODEL_DEFAULTS, trainModel } from "../stages/train_model.ts";
import { taef2Codec } from "../models/codecs/taesd.ts";
import { loadCpuModel } from "../models/nets/unet/cpu_model.ts";
import type { UNetConfig } from "../models/nets/unet/unet.ts";
import { IMAGENETTE_224, TAEF2_DIR } from "./shared.ts";

const HAVE_DATA = await Deno.stat(`${IMAGENETTE_224}/val`).then(() => true, () => false);
const CFG: UNetConfig = {
  inChannels: 32,
  size: 8,
  channels: 8,
  mult: [1, 2],
  blocksPerLevel: 1,
  midBlocks: 0,
  numClasses: 2,
  groups: 4,
};

Deno.test({
  name:
    "trainModel() trains on real latents, checkpoints, resumes where it stopped and exports a model file",
  ignore: !HAVE_DATA,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "mgd3-train-" });
    const classes = ["n01440764", "n02102040"];
    for (const c of classes) {
      await Deno.mkdir(`${dir}/data/${c}`, { recursive: true });
      const files = [...Deno.readDirSync(`${IMAGENETTE_224}/val/${c}`)].map((e) => e.name).sort()
        .slice(0, 4);
      for (const f of files) {
        await Deno.copyFile(`${IMAGENETTE_224}/val/${c}/${f}`, `${dir}/data/${c}/${f}`);
      }
    }
    const store = await Store.open(`${dir}/store`);
    const codec = await taef2Codec({ imageSize: 64, weightsDir: TAEF2_DIR });
    const opts = {
      ...TRAIN_MODEL_DEFAULTS,
      data: `${dir}/data`,
      classes: classes.join(","),
      config: CFG,
      batchSize: 4,
      steps: 3,
      checkpointMinutes: 0,
      exportPath: `${dir}/model.safetensors`,
    };
    const first = await trainModel(store, codec, opts);
    assert.equal(first.steps, 3);
    assert.equal(first.resumedFrom, 0);
    assert.ok(Number.isFinite(first.lastLoss));
    const second = await trainModel(store, codec, { ...opts, steps: 5 });
    assert.equal(second.resumedFrom, 3);
    assert.equal(second.steps, 5);
    const { weights, info } = await loadCpuModel(opts.exportPath);
    assert.equal(info.training.steps, 5);
    assert.equal(info.normalisation.mean.length, 32);
    assert.ok(info.normalisation.std.every((s) => s > 0));
    assert.deepEqual(info.classes, classes);
    assert.equal(weights.get("conv_in.weight")!.dtype, "F16");
    const log = (await Deno.readTextFile(`${dir}/store/cpu-model/run/loss.jsonl`)).trim().split(
      "\n",
    );
    assert.equal(log.length, 5);
    // Other training options are refused for the same run.
    await assert.rejects(
      () => trainModel(store, codec, { ...opts, lr: 5e-4 }),
      /Refusing to overwrite/,
    );
    await codec.release();
  },
});
