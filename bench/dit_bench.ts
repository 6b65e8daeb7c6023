/**
 * DiT forward benchmark: our onnxruntime graph (through ditDenoiser, the product's path)
 * against facebookresearch/DiT's models.py in PyTorch on the same machine and threads, one line
 * per case:
 *
 *   <case> ours_ms=<x> ref_ms=<y> ratio=<x/y> gflops=<achieved>
 *
 * Cases: DiT-S/2 and DiT-B/2 at 256 px (latent 4x32x32, 1000 classes), batch 2, random
 * weights (DiT's initialisation with the zero-initialised layers re-drawn). The reference is
 * tools/bench/dit_ref.py --serve under Debian's /usr/bin/python3 (ref_ms=na when torch or the
 * DiT checkout, MGD3_DIT_REF, is missing); our runs and its runs alternate, so both see the
 * same load on a shared machine; each number is a median over MGD3_BENCH_ITERS runs after 2
 * warm-up runs.
 *
 * Run: deno run -A bench/dit_bench.ts [case...]   (cases like DiT-S/2_b2; env
 * MGD3_BENCH_ITERS, MGD3_BENCH_THREADS, MGD3_DIT_KERNELS=onnx|contrib to override the default)
 */
import {
  alternate,
  benchCase,
  caseLine,
  lazyReference,
  type ReferenceServer,
  startReference,
} from "./_reference.ts";
import { DiT, ditConfig, ditDenoiser, type DiTKernels } from "../models/nets/dit/mod.ts";

const CASES = ["DiT-S/2_b2", "DiT-B/2_b2"];
const ITERS = Number(Deno.env.get("MGD3_BENCH_ITERS") ?? 10);
const THREADS = Number(Deno.env.get("MGD3_BENCH_THREADS") ?? navigator.hardwareConcurrency);
const KERNELS = Deno.env.get("MGD3_DIT_KERNELS") as DiTKernels | undefined;
/** The reference runs with OMP_WAIT_POLICY=PASSIVE unless the environment sets it (spinning OpenMP threads distort PyTorch on shared cores). */
const OMP_WAIT_POLICY = Deno.env.get("OMP_WAIT_POLICY") ?? "PASSIVE";
const REF_SCRIPT = new URL("../tools/bench/dit_ref.py", import.meta.url).pathname;
const LATENT = 32; // 256 px through SD-VAE (8x)

/** Small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Matrix-product FLOPs of one DiT forward (2 per multiply-add). */
function ditFlops(name: string, batch: number): number {
  const c = ditConfig(name, { inputSize: LATENT });
  const T = (LATENT / c.patchSize) ** 2, D = c.hiddenSize;
  const perBlock = T * (4 * D * D + 2 * D * Math.trunc(D * c.mlpRatio)) + 2 * T * T * D;
  return 2 * batch * c.depth * perBlock;
}

/** Our side of a case: a function running one forward, and a cleanup. */
async function ours(
  name: string,
): Promise<{ run: () => Promise<unknown>; done: () => Promise<void> }> {
  const [arch, b] = name.split("_b");
  const batch = Number(b);
  const r = rng(1);
  const dit = DiT.init(ditConfig(arch, { inputSize: LATENT, numClasses: 1000 }), r);
  for (const p of dit.store.entries.values()) {
    if (p.data.every((v) => v === 0)) {
      for (let i = 0; i < p.data.length; i++) p.data[i] = (r() - 0.5) * 0.07;
    }
  }
  const den = ditDenoiser(dit, { session: { intraOpThreads: THREADS }, kernels: KERNELS });
  const x = Float32Array.from({ length: batch * 4 * LATENT * LATENT }, () => r() * 2 - 1);
  const t = Float32Array.from({ length: batch }, () => Math.floor(r() * 1000));
  const y = Int32Array.from({ length: batch }, () => Math.floor(r() * 1001));
  const run = () => den.forward(x, t, y);
  for (let i = 0; i < 2; i++) await run();
  return { run, done: () => den.release() };
}

/** Starts the PyTorch side, or says why it is unavailable. */
function startRef(): Promise<ReferenceServer | string> {
  return startReference(REF_SCRIPT, [], (said) => !said.startsWith("ref unavailable"), {
    MGD3_BENCH_THREADS: String(THREADS),
    OMP_WAIT_POLICY,
  });
}

if (import.meta.main) {
  const cases = Deno.args.length ? Deno.args : CASES;
  const ref = await startRef();
  console.log(`# threads=${THREADS} kernels=${KERNELS ?? "default"} iters=${ITERS}`);
  if (typeof ref === "string") console.log(`# ${ref}: ref_ms=na`);
  const server = typeof ref === "string" ? null : ref;
  for (const c of cases) {
    const o = await ours(c);
    await server?.setup(c);
    const t = await alternate(o.run, server, ITERS);
    await o.done();
    const [arch, b] = c.split("_b");
    console.log(caseLine(c, t, 1, (ms) => {
      const gf = ditFlops(arch, Number(b)) / (ms / 1000) / 1e9;
      return ` gflops=${gf.toFixed(0)}`;
    }));
  }
  await server?.close();
}

// Under `deno bench` (the project's `bench` task) the same cases run as Deno.bench groups with
// PyTorch as the baseline.
if (!import.meta.main) {
  const ref = lazyReference(startRef);
  for (const c of CASES) benchCase(c, { iters: ITERS, warmup: 1, ours: () => ours(c), ref });
}
