/**
 * Timings behind two choices of the cpu-scale sampling (README "Whole experiments"):
 * - the conv lowering of the U-Net's sampling graph: one forward of the cpu U-Net through
 *   onnxruntime's Conv (`Graph.convGemmMaxPixels = 0`, what the denoiser builds) and through
 *   the patch-matrix Gemm lowering (`convLowering`), per batch size, with the largest
 *   difference between the two outputs;
 * - the sampling batch size: milliseconds per sample and step of `sampleBatch` (CFG 4, MGD3)
 *   per batch size, after a warm-up call at that size.
 * The PyTorch forward of the same U-Net is `tools/bench/unet_forward_ref.py`.
 *
 * Usage: deno run -A tools/unet_timing.ts [--batches 16,100] [--sample-batches 8,25,50,100]
 *        [--runs 5] [--threads 2]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Session } from "../models/graph/session.ts";
import { Graph } from "../models/graph/graph.ts";
import { Layers, ParamStore } from "../models/graph/nn.ts";
import { convLowering } from "../models/graph/ops/conv.ts";
import { CPU_UNET, timestepDim, unet } from "../models/nets/unet/unet.ts";
import { loadScale, SHIPPED_CPU_MODEL } from "../models/scales/mod.ts";
import { sampleBatch, type SampleRequest } from "../stages/diffusion/sampler.ts";
import { GaussianSchedule, makeBetas, spaceTimesteps } from "../models/diffusion/schedule.ts";
import { Rng } from "../models/core/random.ts";

const { values: v } = parseArgs({
  options: {
    batches: { type: "string", default: "16,100" },
    "sample-batches": { type: "string", default: "8,25,50,100" },
    runs: { type: "string", default: "5" },
    threads: { type: "string", default: "2" },
  },
});
const list = (s: string) => s.split(",").map(Number);
const RUNS = Number(v.runs), THREADS = Number(v.threads);
const SAMPLE_STEPS = 5; // short loops: the per-step cost does not depend on the step count
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// 1. Conv lowering: the U-Net's architecture with random weights (the cost does not depend on
// them), one session per (lowering, batch).
const rng = Rng.from(1);
const store = new ParamStore(() => rng.random() * 0.1 - 0.05);
for (const B of list(v.batches!)) {
  const feeds = {
    x: { dtype: "F32", shape: [B, CPU_UNET.inChannels, 8, 8], data: rng.randn(B * 2048) },
    t_feat: { dtype: "F32", shape: [B, timestepDim(CPU_UNET)], data: rng.randn(B * 128) },
    y: {
      dtype: "I64",
      shape: [B],
      data: BigInt64Array.from({ length: B }, (_, i) => BigInt(i % 10)),
    },
  } as const;
  const outs: Float32Array[] = [];
  for (const native of [true, false]) {
    const g = new Graph();
    g.convGemmMaxPixels = native ? 0 : convLowering.gemmMaxPixels;
    const out = unet(
      new Layers(g, store, false),
      CPU_UNET,
      g.input("x", [B, CPU_UNET.inChannels, 8, 8]),
      g.input("t_feat", [B, timestepDim(CPU_UNET)]),
      g.input("y", [B], "int64"),
    );
    g.output(out, "out");
    const s = await Session.create(g.toModel({ paramsAs: "initializers" }), {
      intraOpThreads: THREADS,
    });
    const ms: number[] = [];
    let last: Float32Array | null = null;
    for (let i = 0; i < RUNS + 2; i++) {
      const t0 = performance.now();
      const r = await s.run(feeds as never);
      if (i >= 2) ms.push(performance.now() - t0);
      last = r.out.data as Float32Array;
    }
    outs.push(last!);
    await s.release();
    console.log(`forward B=${B} ${native ? "Conv" : "Gemm lowering"}: ${median(ms).toFixed(1)} ms`);
  }
  let d = 0;
  for (let i = 0; i < outs[0].length; i++) d = Math.max(d, Math.abs(outs[0][i] - outs[1][i]));
  console.log(`forward B=${B}: max |Conv - Gemm lowering| ${d}`);
}

// 2. Sampling batch size: the product's denoiser (Conv), ms per sample and step.
const scale = await loadScale(
  { scale: "cpu", model: SHIPPED_CPU_MODEL, threads: THREADS },
  { only: "denoiser" },
);
const D = scale.denoiser.latentShape.reduce((a, b) => a * b, 1);
const schedule = GaussianSchedule.fromBetas(makeBetas(1000)).respace(
  spaceTimesteps(1000, String(SAMPLE_STEPS)),
);
const requests = (n: number): SampleRequest[] =>
  Array.from({ length: n }, (_, i) => {
    const r = Rng.from(0, i % 10, i);
    return {
      classId: i % 10,
      mode: r.randn(D),
      noise: { initial: () => r.randn(D), step: () => r.randn(D) },
    };
  });
const opts = {
  schedule,
  method: "ddpm",
  cfgScale: 4,
  cfgChannels: "all",
  variance: "fixed_small",
  guidance: { lambda: 0.1, tStop: 2 },
} as const;
for (const n of list(v["sample-batches"]!)) {
  await sampleBatch(scale.denoiser, requests(n), opts); // warm-up: builds the session
  const t0 = performance.now();
  await sampleBatch(scale.denoiser, requests(n), opts);
  const per = (performance.now() - t0) / n / SAMPLE_STEPS;
  console.log(`sampleBatch B=${n}: ${per.toFixed(1)} ms per sample-step`);
}
await scale.release();
