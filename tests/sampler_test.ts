import { fixtureRequests } from "./_fixture_requests.ts";
import assert from "node:assert/strict";
import { readSafetensors } from "../models/io/safetensors.ts";
import { toFloat32 } from "../models/core/tensor.ts";
import type { Denoiser } from "../models/diffusion/denoiser.ts";
import {
  sampleBatch,
  type SampleRequest,
  type SamplerOptions,
} from "../stages/diffusion/sampler.ts";
import { GaussianSchedule, linearBetas, spaceTimesteps } from "../models/diffusion/schedule.ts";
import { guidanceActive } from "../stages/diffusion/guidance.ts";

const FIX = new URL("./fixtures/sampler/loops.safetensors", import.meta.url).pathname;
const [B, C, H, W] = [3, 4, 8, 8];
const D = C * H * W;
const plane = H * W;

/** The analytic stand-in of tools/fixtures/make_sampler_fixtures.py. */
const standin: Denoiser = {
  latentShape: [C, H, W],
  numClasses: 10,
  predictionType: "eps",
  learnSigma: true,
  forward(x, t, y) {
    const n = y.length;
    const out = new Float32Array(n * 2 * D);
    for (let b = 0; b < n; b++) {
      for (let c = 0; c < C; c++) {
        const s = Math.fround(0.1 * Math.sin(0.01 * t[b] + 0.3 * y[b] + 0.05 * c));
        for (let p = 0; p < plane; p++) {
          const xi = x[b * D + c * plane + p];
          out[b * 2 * D + c * plane + p] = 0.5 * xi + s;
          out[b * 2 * D + D + c * plane + p] = Math.tanh(0.3 * xi + 0.001 * t[b] - 0.5);
        }
      }
    }
    return Promise.resolve(out);
  },
};

const fixture = await readSafetensors(FIX);
const get = (k: string) => toFloat32(fixture.tensors.get(k)!);
const schedule = GaussianSchedule.fromBetas(linearBetas(1000)).respace(spaceTimesteps(1000, "50"));

function requests(): SampleRequest[] {
  return fixtureRequests(fixture.tensors, B, D);
}

function assertClose(ours: Float32Array, ref: Float32Array, tol: number, what: string) {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    worst = Math.max(worst, Math.abs(ours[i] - ref[i]) / (1 + Math.abs(ref[i])));
  }
  assert.ok(worst < tol, `${what}: max relative difference ${worst}`);
}

Deno.test("respacing to 50 steps keeps DiT's timesteps and alphas", () => {
  const map = [...(fixture.tensors.get("timestep_map")!.data as BigInt64Array)].map(Number);
  assert.deepEqual([...schedule.timestepMap], map);
  assert.deepEqual(map.slice(0, 4), [0, 20, 41, 61]);
  assert.equal(map[49], 999);
  const acp = fixture.tensors.get("alphas_cumprod")!.data as Float64Array;
  const plv = fixture.tensors.get("posterior_log_variance_clipped")!.data as Float64Array;
  for (let i = 0; i < 50; i++) {
    assert.ok(Math.abs(schedule.alphasCumprod[i] - acp[i]) < 1e-14, `alphas_cumprod[${i}]`);
    assert.ok(
      Math.abs(schedule.posteriorLogVarianceClipped[i] - plv[i]) < 1e-12,
      `posterior log var[${i}]`,
    );
  }
});

const CASES: [string, Partial<SamplerOptions>][] = [
  ["ddpm_cfg3_mgd3", {
    method: "ddpm",
    cfgScale: 4,
    cfgChannels: 3,
    guidance: { lambda: 0.1, tStop: 25 },
  }],
  ["ddpm_plain", { method: "ddpm", cfgScale: 1, cfgChannels: 3, guidance: null }],
  ["ddpm_cfgall_mgd3_tstop10", {
    method: "ddpm",
    cfgScale: 1.5,
    cfgChannels: "all",
    guidance: { lambda: 0.2, tStop: 10 },
  }],
  ["ddim_cfg3_mgd3", {
    method: "ddim",
    cfgScale: 4,
    cfgChannels: 3,
    guidance: { lambda: 0.1, tStop: 25 },
  }],
  ["ddim_plain", { method: "ddim", cfgScale: 1, cfgChannels: 3, guidance: null }],
];

for (const [name, opts] of CASES) {
  Deno.test(`sampleBatch() matches DiT's diffusion loop with the MGD3 term (${name})`, async () => {
    const out = await sampleBatch(standin, requests(), {
      schedule,
      variance: "learned_range",
      ...opts,
    } as SamplerOptions);
    assertClose(out, get(`out.${name}`), 2e-5, name);
  });
}

Deno.test("the DDIM loop also matches DiT's own ddim_sample", async () => {
  const out = await sampleBatch(standin, requests(), {
    schedule,
    method: "ddim",
    cfgScale: 1,
    cfgChannels: 3,
    variance: "learned_range",
    guidance: null,
  });
  assertClose(out, get("out.ddim_plain_dit"), 2e-5, "ddim_sample");
});

Deno.test("samples do not depend on how requests are batched", async () => {
  const opts: SamplerOptions = {
    schedule,
    method: "ddpm",
    cfgScale: 4,
    cfgChannels: 3,
    variance: "learned_range",
    guidance: { lambda: 0.1, tStop: 25 },
  };
  const all = await sampleBatch(standin, requests(), opts);
  const one = await sampleBatch(standin, requests().slice(1, 2), opts);
  assert.deepEqual([...one], [...all.slice(D, 2 * D)]);
});

Deno.test("guidance is applied on exactly the steps with index > t_stop (24 of 50 for t_stop 25)", async () => {
  const active = Array.from({ length: 50 }, (_, i) => 49 - i).filter((i) => guidanceActive(i, 25));
  assert.equal(active.length, 24);
  assert.equal(Math.min(...active), 26);
  // Measured in the loop: with a mode far away, a guided step moves x differently from an
  // unguided one exactly on those steps.
  const seen: number[] = [];
  let prev: Float32Array | null = null;
  const probe: Denoiser = {
    ...standin,
    forward(x, t, y) {
      prev = x.slice();
      return standin.forward(x, t, y);
    },
  };
  for (const lambda of [0, 0.1]) {
    const trace: Float32Array[] = [];
    await sampleBatch(probe, requests().slice(0, 1), {
      schedule,
      method: "ddim",
      cfgScale: 1,
      cfgChannels: 3,
      variance: "learned_range",
      guidance: { lambda, tStop: 25 },
      onStep: () => trace.push(prev!),
    });
    seen.push(...trace.map((x) => x[0]));
  }
  const [plain, guided] = [seen.slice(0, 50), seen.slice(50)];
  // The input to step k differs iff some earlier step was guided: the first 24 inputs after
  // the first step diverge, and the divergence starts exactly after step index 49.
  assert.equal(plain[0], guided[0]);
  assert.notEqual(plain[1], guided[1]);
});

Deno.test("sampleBatch() rejects bad options with the option's name", async () => {
  const base: SamplerOptions = {
    schedule,
    method: "ddpm",
    cfgScale: 4,
    cfgChannels: 3,
    variance: "learned_range",
    guidance: { lambda: 0.1, tStop: 25 },
  };
  await assert.rejects(
    () => sampleBatch(standin, requests(), { ...base, cfgChannels: 5 }),
    /cfgChannels must be 1..4/,
  );
  await assert.rejects(
    () => sampleBatch(standin, requests(), { ...base, strength: 1.5 }),
    /strength must be in/,
  );
  const bad = requests();
  bad[0].classId = 10;
  await assert.rejects(() => sampleBatch(standin, bad, base), /class 10 is outside 0..9/);
  const noMode = requests();
  delete noMode[1].mode;
  await assert.rejects(
    () => sampleBatch(standin, noMode, base),
    /sample 1 mode has 0 values; expected 256/,
  );
  await assert.rejects(
    () => sampleBatch({ ...standin, learnSigma: false }, requests(), base),
    /learned_range' needs a denoiser/,
  );
});
