/**
 * Sampling benchmark: ONE full MGD3 sample (50 DDPM steps, CFG 4.0 on a doubled batch, mode
 * guidance lambda 0.1 and t_stop 25; SPEC section 2) with DiT-S/2 at 256 px (latent
 * 4x32x32, 1000 classes, random weights), ours (ditDenoiser + sampleBatch, the `sample`
 * stage's path, noise from a seeded Rng as there) against facebookresearch/DiT's own loop in
 * PyTorch (models.py forward_with_cfg + diffusion/ p_mean_variance + the MGD3 term,
 * tools/bench/sample_ref.py --serve under Debian's /usr/bin/python3), one line per case:
 *
 *   <case> ours_ms=<x> ref_ms=<y> ratio=<x/y>
 *
 * Our samples and the reference's alternate, so both see the same load on a shared machine;
 * each number is the median over MGD3_BENCH_ITERS samples (default 3) after one warm-up
 * forward on each side (which builds our onnxruntime session). ref_ms=na when torch or the
 * DiT checkout (MGD3_DIT_REF, default /work/.refs/DiT) is missing.
 *
 * The reference runs with OMP_WAIT_POLICY=PASSIVE unless the environment sets it: with
 * libgomp's default (active spinning) a DiT-S/2 forward took 2.7 s instead of 0.36 s on a
 * machine whose 2 cores were shared with another job, which would flatter us 7-fold.
 *
 * Run: deno run -A bench/sample_bench.ts   (env MGD3_BENCH_ITERS, MGD3_BENCH_THREADS: default
 * 2, both sides; OMP_WAIT_POLICY for the reference)
 */
import {
  alternate,
  benchCase,
  caseLine,
  lazyReference,
  type ReferenceServer,
  startReference,
} from "./_reference.ts";
import { DiT, ditConfig, ditDenoiser } from "../models/nets/dit/mod.ts";
import { sampleBatch, type SamplerOptions } from "../stages/diffusion/sampler.ts";
import { GaussianSchedule, linearBetas, spaceTimesteps } from "../models/diffusion/schedule.ts";
import { MGD3_DEFAULTS } from "../stages/diffusion/guidance.ts";
import { Rng } from "../models/core/random.ts";

const CASE = "DiT-S/2_ddpm_cfg4_mgd3";
const ITERS = Number(Deno.env.get("MGD3_BENCH_ITERS") ?? 3);
const THREADS = Number(Deno.env.get("MGD3_BENCH_THREADS") ?? 2);
const REF_SCRIPT = new URL("../tools/bench/sample_ref.py", import.meta.url).pathname;
const LATENT = 32; // 256 px through SD-VAE (8x)
const NUM_CLASSES = 1000; // ImageNet-1K
const CFG_SCALE = 4.0; // SPEC section 2
const CLASS_ID = 207;
const OMP_WAIT_POLICY = Deno.env.get("OMP_WAIT_POLICY") ?? "PASSIVE";

/** Our side: a function drawing one sample, and a cleanup. */
async function ours(): Promise<{ run: () => Promise<unknown>; done: () => Promise<void> }> {
  const rng = Rng.from(1);
  const dit = DiT.init(
    ditConfig("DiT-S/2", { inputSize: LATENT, numClasses: NUM_CLASSES }),
    () => rng.random(),
  );
  for (const p of dit.store.entries.values()) { // re-draw DiT's zero-initialised layers
    if (p.data.every((v) => v === 0)) {
      for (let i = 0; i < p.data.length; i++) p.data[i] = (rng.random() - 0.5) * 0.07;
    }
  }
  const den = ditDenoiser(dit, { session: { intraOpThreads: THREADS } });
  const D = 4 * LATENT * LATENT;
  const mode = rng.randn(D);
  const options: SamplerOptions = {
    schedule: GaussianSchedule.fromBetas(linearBetas(1000)).respace(spaceTimesteps(1000, "50")),
    method: "ddpm",
    cfgScale: CFG_SCALE,
    cfgChannels: 3,
    variance: "learned_range",
    guidance: { ...MGD3_DEFAULTS }, // lambda 0.1 (App. F), t_stop 25 (App. A)
  };
  let n = 0;
  const run = () => {
    const noise = Rng.from(0, CLASS_ID, n++);
    return sampleBatch(den, [{
      classId: CLASS_ID,
      mode,
      noise: { initial: () => noise.randn(D), step: () => noise.randn(D) },
    }], options);
  };
  const x = new Float32Array(2 * D);
  await den.forward(x, new Float32Array([999, 999]), new Int32Array([CLASS_ID, NUM_CLASSES]));
  return { run, done: () => den.release() };
}

/** Starts the PyTorch side, or says why it is unavailable. */
function startRef(): Promise<ReferenceServer | string> {
  return startReference(REF_SCRIPT, ["--check"], (said) => said.startsWith("ref available"), {
    MGD3_BENCH_THREADS: String(THREADS),
    OMP_WAIT_POLICY,
  });
}

if (import.meta.main) {
  const ref = await startRef();
  console.log(
    `# threads=${THREADS} iters=${ITERS} ref OMP_WAIT_POLICY=${OMP_WAIT_POLICY} ` +
      "(one sample = 50 forwards at batch 2)",
  );
  if (typeof ref === "string") console.log(`# ${ref}: ref_ms=na`);
  const server = typeof ref === "string" ? null : ref;
  const o = await ours();
  await server?.setup(CASE);
  const t = await alternate(o.run, server, ITERS, ({ mine, theirs }) => {
    console.log(
      `# run ${mine.length}: ours ${mine.at(-1)!.toFixed(0)} ms, ref ${theirs.at(-1) ?? "na"}`,
    );
  });
  await o.done();
  await server?.close();
  console.log(caseLine(CASE, t, 0));
}

// Under `deno bench` (the project's `bench` task) the case runs as a Deno.bench group with
// PyTorch as the baseline (one sample per measurement: each takes seconds).
if (!import.meta.main) {
  benchCase(CASE, { iters: ITERS, warmup: 0, ours, ref: lazyReference(startRef) });
}
