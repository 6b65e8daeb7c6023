// Stable Diffusion sampling: diffusers' DDIM timesteps and final alpha-bar, text CFG with the
// empty prompt as the null class, and Algorithm 1 mode guidance (plain, v-prediction and a
// D4M-style img2img start), against diffusers' DDIMScheduler driving the reference SD U-Net
// (tools/fixtures/make_sd_sampler_fixtures.py).
import assert from "node:assert/strict";
import { readSafetensors } from "../models/io/safetensors.ts";
import { toFloat32 } from "../models/core/tensor.ts";
import { makeBetas } from "../models/diffusion/schedule.ts";
import { diffusersSchedule, diffusersTimesteps } from "../models/diffusion/diffusers_timesteps.ts";
import { readScheduler } from "../models/nets/sd/folder.ts";
import { readSdUNetConfig } from "../models/nets/sd/unet_config.ts";
import { SdUNet } from "../models/nets/sd/unet.ts";
import { type PromptEncoder, sdDenoiser } from "../models/nets/sd/denoiser.ts";
import { sampleBatch, type SampleRequest } from "../stages/diffusion/sampler.ts";

const DIR = new URL("./fixtures/sd/sampler/", import.meta.url).pathname;
const FX = (await readSafetensors(`${DIR}loops.safetensors`)).tensors;
const SCHED = readScheduler(
  JSON.parse(await Deno.readTextFile(`${DIR}scheduler_config.json`)),
  "scheduler_config.json",
);
const T = 77, D = 32, LAT = 4 * 8 * 8;

/** The fixture's text embeddings behind a PromptEncoder: prompt "c<i>" is sample i's. */
function fixtureText(): PromptEncoder {
  const cond = toFloat32(FX.get("cond")!), uncond = toFloat32(FX.get("uncond")!);
  return {
    tokens: T,
    dim: D,
    embed: (prompts) =>
      Promise.resolve(prompts.map((p) => {
        if (p === "") return uncond.slice();
        const i = Number(p.slice(1));
        return cond.slice(i * T * D, (i + 1) * T * D);
      })),
    release: () => Promise.resolve(),
  };
}

Deno.test("diffusersTimesteps() gives DDIMScheduler.set_timesteps(50) of SD's scheduler config", () => {
  const want = Array.from(FX.get("timesteps")!.data as Int32Array);
  assert.deepEqual(diffusersTimesteps(1000, 50, SCHED.timesteps), want);
  const s = diffusersSchedule(makeBetas(1000, SCHED.betas), 50, SCHED.timesteps);
  assert.equal(s.timestepMap[0], 1);
  // set_alpha_to_one false: the last step goes to alpha-bar_0, not 1
  assert.ok(Math.abs(s.alphasCumprodPrev[0] - (1 - 0.00085)) < 1e-12);
  assert.equal(s.alphasCumprodPrev[49], s.alphasCumprod[48]);
});

Deno.test("readScheduler() refuses clip_sample (DDIM's default when missing) and unknown schedules by key", () => {
  assert.throws(() => readScheduler({}, "s.json"), /s\.json: clip_sample is true/);
  assert.throws(
    () => readScheduler({ clip_sample: false, beta_schedule: "squaredcos_cap_v2" }, "s.json"),
    /s\.json: beta_schedule 'squaredcos_cap_v2' is not supported/,
  );
  assert.throws(
    () => readScheduler({ clip_sample: false, prediction_type: "sample" }, "s.json"),
    /prediction_type 'sample'/,
  );
  assert.equal(readScheduler({ clip_sample: false }, "s.json").timesteps.setAlphaToOne, true);
});

Deno.test("SD DDIM loops with text CFG and Algorithm 1 match diffusers' DDIMScheduler on the reference U-Net", async () => {
  const config = await readSdUNetConfig(`${DIR}unet_config.json`);
  const unet = await SdUNet.load(`${DIR}unet.safetensors`, {
    config,
    prefix: "model.diffusion_model.",
  });
  const x0 = toFloat32(FX.get("x_T")!), modes = toFloat32(FX.get("modes")!);
  const requests = (prototype: boolean): SampleRequest[] =>
    [0, 1].map((b) => ({
      classId: b,
      mode: modes.slice(b * LAT, (b + 1) * LAT),
      prototype: prototype ? modes.slice(b * LAT, (b + 1) * LAT) : undefined,
      noise: {
        initial: () => x0.slice(b * LAT, (b + 1) * LAT),
        step: () => {
          throw new Error("DDIM eta 0 draws no step noise");
        },
      },
    }));
  const schedule = diffusersSchedule(makeBetas(1000, SCHED.betas), 50, SCHED.timesteps);
  const cases = [
    { key: "plain", pred: "eps", lambda: 0, strength: undefined },
    { key: "mgd3", pred: "eps", lambda: 0.1, strength: undefined },
    { key: "v_mgd3", pred: "v", lambda: 0.1, strength: undefined },
    { key: "img2img_mgd3", pred: "eps", lambda: 0.1, strength: 0.7 },
  ] as const;
  for (const c of cases) {
    const den = sdDenoiser(unet, fixtureText(), { prompts: ["c0", "c1"], predictionType: c.pred });
    try {
      const out = await sampleBatch(den, requests(c.strength !== undefined), {
        schedule,
        method: "ddim",
        cfgScale: 7.5,
        cfgChannels: "all",
        variance: "fixed_small",
        guidance: c.lambda ? { lambda: c.lambda, tStop: 25 } : null,
        strength: c.strength,
      });
      const want = toFloat32(FX.get(c.key)!);
      let d = 0, m = 0;
      for (let i = 0; i < want.length; i++) {
        d = Math.max(d, Math.abs(out[i] - want[i]));
        m = Math.max(m, Math.abs(want[i]));
      }
      console.log(
        `${c.key}: max |ours - diffusers| ${d.toExponential(2)} (max |x| ${m.toFixed(2)})`,
      );
      assert.ok(d <= 2e-4 * Math.max(1, m), `${c.key}: ${d} vs max ${m}`);
    } finally {
      await den.release();
    }
  }
});
