// LDM sampling: LDM's betas in the sampler (DiT-style respacing), fixed-small variance, CFG
// with the null class on every channel and MGD3 mode guidance, against a 50-step DDPM loop
// written on the reference U-Net (tools/fixtures/make_ldm_fixtures.py `sampler_loop`).
import assert from "node:assert/strict";
import { LatentDiffusion, ldmDenoiser } from "../models/nets/ldm/mod.ts";
import { readLdmState } from "../models/nets/ldm/mod.ts";
import { GaussianSchedule, makeBetas, spaceTimesteps } from "../models/diffusion/schedule.ts";
import { readSafetensors } from "../models/io/safetensors.ts";
import { toFloat32 } from "../models/core/tensor.ts";
import { sampleBatch, type SampleRequest } from "../stages/diffusion/sampler.ts";
import { TINY_CKPT, TINY_LDM } from "./ldm_fixture.ts";

const FX = (await readSafetensors(
  new URL("./fixtures/ldm/ldm_sampler.safetensors", import.meta.url).pathname,
)).tensors;
const LDM_BETAS = { kind: "scaled_linear", start: 0.0015, end: 0.0195 } as const;

Deno.test("makeBetas() gives LDM's linear schedule as stored in the checkpoint's betas buffer", async () => {
  const { tensors } = await readLdmState(TINY_CKPT);
  const stored = toFloat32(tensors.get("betas")!); // float16 in the tiny file
  const ours = makeBetas(1000, LDM_BETAS);
  assert.equal(ours[0], 0.0015);
  assert.ok(Math.abs(ours[999] - 0.0195) < 1e-15);
  for (let i = 0; i < 1000; i++) assert.ok(Math.abs(ours[i] - stored[i]) <= 1e-3 * ours[i]);
});

Deno.test("a 50-step LDM DDPM loop with CFG and MGD3 matches the reference loop on shared noise", async () => {
  const den = ldmDenoiser(await LatentDiffusion.load(TINY_CKPT, TINY_LDM));
  const schedule = GaussianSchedule.fromBetas(makeBetas(1000, LDM_BETAS)).respace(
    spaceTimesteps(1000, "50"),
  );
  const noise = toFloat32(FX.get("noise")!); // [51, 2, 192]
  const modes = toFloat32(FX.get("modes")!);
  const y = FX.get("y")!.data as Int32Array;
  const D = 3 * 8 * 8;
  const requests = (b: number): SampleRequest => ({
    classId: y[b],
    mode: modes.slice(b * D, (b + 1) * D),
    noise: {
      initial: () => noise.slice(b * D, (b + 1) * D),
      step: (i) => noise.slice(((1 + i) * 2 + b) * D, ((1 + i) * 2 + b + 1) * D),
    },
  });
  try {
    for (const [lambda, key] of [[0.1, "mgd3"], [0, "plain"]] as const) {
      const out = await sampleBatch(den, [requests(0), requests(1)], {
        schedule,
        method: "ddpm",
        cfgScale: 3,
        cfgChannels: "all",
        variance: "fixed_small",
        guidance: lambda ? { lambda, tStop: 25 } : null,
      });
      const want = toFloat32(FX.get(key)!);
      let d = 0, m = 0;
      for (let i = 0; i < want.length; i++) {
        d = Math.max(d, Math.abs(out[i] - want[i]));
        m = Math.max(m, Math.abs(want[i]));
      }
      console.log(
        `LDM DDPM loop (${key}): max abs err ${d.toExponential(2)} on values up to ${m.toFixed(2)}`,
      );
      assert.ok(d / m < 1e-4, `${key}: rel err ${d / m}`);
    }
  } finally {
    await den.release();
  }
});
