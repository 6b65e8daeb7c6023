import assert from "node:assert/strict";
import { sampleBatch, type SamplerOptions } from "../stages/diffusion/sampler.ts";
import { GaussianSchedule, linearBetas, spaceTimesteps } from "../models/diffusion/schedule.ts";
import { Rng } from "../models/core/random.ts";
import { type ClassMixture, gmmDenoiser } from "./_gmm_denoiser.ts";

// One class whose mass sits mostly in one of five modes: unguided sampling keeps landing
// there, while mode guidance (one sample per mode, the paper's lambda 0.1 and t_stop 25)
// should reach every mode. Latents of 256 dims (a 4x8x8 latent): in 2-D the same lambda
// barely moves samples; guidance works through the many coordinates of a real latent.
const K = 5;
const DIM = 256;
const meanRng = Rng.from(99);
const means = Array.from({ length: K }, () => Array.from(meanRng.randn(DIM)));
const mixture: ClassMixture = { weights: [0.8, 0.05, 0.05, 0.05, 0.05], means, std: 0.5 };
const base = GaussianSchedule.fromBetas(linearBetas(1000));
const schedule = base.respace(spaceTimesteps(1000, "50"));
const model = gmmDenoiser([mixture], base, DIM);

async function coverage(guided: boolean, method: "ddpm" | "ddim", seed: number): Promise<number> {
  const requests = means.map((m, i) => {
    const rng = Rng.from(seed, 0, i);
    return {
      classId: 0,
      mode: Float32Array.from(m),
      noise: { initial: () => rng.randn(DIM), step: () => rng.randn(DIM) },
    };
  });
  const opts: SamplerOptions = {
    schedule,
    method,
    cfgScale: 1,
    cfgChannels: "all",
    variance: "fixed_small",
    guidance: guided ? { lambda: 0.1, tStop: 25 } : null,
  };
  const x = await sampleBatch(model, requests, opts);
  const hit = new Set<number>();
  for (let b = 0; b < K; b++) {
    const d = means.map((m) => Math.sqrt(m.reduce((a, v, i) => a + (x[b * DIM + i] - v) ** 2, 0)));
    const k = d.indexOf(Math.min(...d));
    // Assigned to its nearest mode, and within the component's typical radius of it.
    if (d[k] < 1.5 * mixture.std * Math.sqrt(DIM)) hit.add(k);
  }
  return hit.size;
}

for (const method of ["ddpm", "ddim"] as const) {
  Deno.test(`mode guidance covers more modes than unguided sampling (${method}, exact mixture denoiser)`, async () => {
    let plain = 0;
    let guided = 0;
    const seeds = 10;
    for (let s = 0; s < seeds; s++) {
      plain += await coverage(false, method, s);
      guided += await coverage(true, method, s);
    }
    plain /= seeds;
    guided /= seeds;
    assert.ok(guided >= 4.5, `guided covers ${guided} of ${K} modes on average`);
    assert.ok(plain <= 3, `unguided covers ${plain} of ${K} modes on average`);
  });
}
