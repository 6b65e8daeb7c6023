/**
 * Training-engine benchmark: our onnxruntime training step (forward, backward and SGD with
 * momentum 0.9 and weight decay 5e-4 fused in one graph, models/graph_sgd.ts) against
 * PyTorch's (zero_grad, forward, backward, torch.optim.SGD step) on the same machine and
 * threads, one line per case:
 *
 *   <case> ours_ms=<x> ref_ms=<y> ratio=<x/y> gflops=<achieved> peak_gflops=<GEMM peak>
 *
 * Cases: ConvNet-3 (width 128) at 32 and 64 px, batch 64, training; ResNet-18 at 64 px, batch
 * 64, training; ConvNet-3 at 64 px forward only (eval mode). The reference is
 * tools/bench/engine_ref.py --serve under Debian's /usr/bin/python3 when torch imports (else
 * ref_ms=na); our steps and its steps alternate, so both see the same load on a shared
 * machine; each number is a median over MGD3_BENCH_ITERS steps after 2 warm-up steps.
 * GFLOP/s counts the Conv/ConvTranspose/Gemm/MatMul work of our graphs; the peak is a
 * measured 2048^3 MatMul through the same onnxruntime.
 *
 * Run: deno run -A bench/engine_bench.ts [case...]   (MGD3_BENCH_ITERS, MGD3_BENCH_THREADS,
 * MGD3_CONV_GEMM_PIXELS to try another conv lowering threshold, MGD3_BENCH_PROFILE=<prefix> to
 * write onnxruntime profiles of our sessions for tools/profile_summary.ts). On a shared machine the
 * two engines degrade differently under load (PyTorch's OpenMP threads spin at barriers);
 * MGD3_BENCH_THREADS=1 gives a per-core comparison that load distorts less.
 */
import { grad } from "../models/graph/autodiff/autodiff.ts";
import { Graph } from "../models/graph/graph.ts";
import { graphFlops, matmulPeakGflops } from "../models/graph/flops.ts";
import { crossEntropy } from "../models/train/losses.ts";
import { Layers, ParamStore } from "../models/graph/nn.ts";
import { convLowering } from "../models/graph/ops/conv.ts";
import { GraphSGD } from "../models/train/graph_sgd.ts";
import { Trainer } from "../models/train/trainer.ts";
import { convNet, resnet18 } from "../tests/engine_nets.ts";
import { randn, rng } from "../tests/engine_fd.ts";
import {
  alternate,
  benchCase,
  caseLine,
  lazyReference,
  PYTHON,
  ReferenceServer,
} from "./_reference.ts";

const CASES = [
  "convnet3_32_train",
  "convnet3_64_train",
  "resnet18_64_train",
  "convnet3_64_forward",
];
const BATCH = 64;
const CLASSES = 10;
const ITERS = Number(Deno.env.get("MGD3_BENCH_ITERS") ?? 10);
const THREADS = Number(Deno.env.get("MGD3_BENCH_THREADS") ?? navigator.hardwareConcurrency);
/** MGD3_BENCH_PROFILE=<prefix>: profile our sessions (summarise with tools/profile_summary.ts). */
const PROFILE = Deno.env.get("MGD3_BENCH_PROFILE");
const GEMM_PIXELS = Deno.env.get("MGD3_CONV_GEMM_PIXELS"); // tuning knob: convLowering.gemmMaxPixels
if (GEMM_PIXELS !== undefined) convLowering.gemmMaxPixels = Number(GEMM_PIXELS);
const REF_SCRIPT = new URL("../tools/bench/engine_ref.py", import.meta.url).pathname;

/** Builds our side of a case: a function running one step, and the FLOPs of its graph. */
async function ours(
  name: string,
): Promise<{ run: () => Promise<unknown>; flop: number; done: () => Promise<void> }> {
  const [net, px, mode] = name.split("_");
  const size = Number(px);
  const model = net === "convnet3" ? convNet(CLASSES, 128, 3) : resnet18(CLASSES, 64);
  const r = rng(1);
  const t = new Trainer({
    model,
    inputShape: [3, size, size],
    classes: CLASSES,
    loss: { kind: "crossEntropy" },
    random: r,
    graphOptimizer: new GraphSGD({ lr: 0.01, momentum: 0.9, weightDecay: 5e-4 }),
    session: { intraOpThreads: THREADS, ...(PROFILE ? { profile: `${PROFILE}_${name}` } : {}) },
  });
  const x = randn(BATCH * 3 * size * size, r);
  const labels = Array.from({ length: BATCH }, (_, i) => i % CLASSES);
  const run = mode === "forward" ? () => t.forward(x) : () => t.step({ x, labels });
  for (let i = 0; i < 2; i++) await run();
  // FLOPs of the same graph the trainer runs.
  const g = new Graph();
  const nn = new Layers(g, new ParamStore(rng(2)), mode !== "forward");
  const logits = model(nn, g.input("x", [BATCH, 3, size, size]));
  if (mode !== "forward") {
    const loss = crossEntropy(logits, g.input("labels", [BATCH], "int64"));
    grad(loss, [...g.params.values()].filter((p) => p.trainable).map((p) => p.value));
  }
  return { run, flop: graphFlops(g.nodes), done: () => t.release() };
}

async function torchAvailable(): Promise<boolean> {
  try {
    const out = await new Deno.Command(PYTHON, { args: ["-c", "import torch"], stderr: "null" })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

if (import.meta.main) {
  const cases = Deno.args.length ? Deno.args : CASES;
  const peak = await matmulPeakGflops({ threads: THREADS });
  console.log(`gemm_2048 peak_gflops=${peak.toFixed(0)} threads=${THREADS}`);
  const ref = (await torchAvailable())
    ? new ReferenceServer(REF_SCRIPT, { MGD3_BENCH_THREADS: String(THREADS) })
    : null;
  if (!ref) console.log(`# ${PYTHON} cannot import torch: ref_ms=na (apt install python3-torch)`);
  for (const c of cases) {
    const o = await ours(c);
    await ref?.setup(c);
    const t = await alternate(o.run, ref, ITERS);
    await o.done();
    console.log(caseLine(c, t, 1, (ms) => {
      const gf = o.flop / (ms / 1000) / 1e9;
      return ` gflops=${gf.toFixed(0)} peak_gflops=${peak.toFixed(0)}`;
    }));
  }
  await ref?.close();
}

// Under `deno bench` (the project's `bench` task) the same cases run as Deno.bench groups
// with PyTorch as the baseline.
if (!import.meta.main) {
  const ignoreRef = !(await torchAvailable());
  const ref = lazyReference(async () =>
    (await torchAvailable())
      ? new ReferenceServer(REF_SCRIPT, { MGD3_BENCH_THREADS: String(THREADS) })
      : `${PYTHON} cannot import torch`
  );
  for (const c of CASES) {
    benchCase(c, { iters: ITERS, warmup: 1, ours: () => ours(c), ref, ignoreRef });
  }
}
