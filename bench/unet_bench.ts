/**
 * One training step of the cpu-scale U-Net (v-prediction MSE, AdamW, EMA), ours vs PyTorch
 * 1.13 (tools/bench/unet_ref.py, same architecture and batch) on the same cores, in one run.
 * Prints `unet_train_b<B> ours_ms=<x> ref_ms=<y> ratio=<x/y>`.
 *
 * Usage: deno run -A bench/unet_bench.ts [BATCH] [STEPS]
 */
import { DiffusionTrainer } from "../models/train/diffusion_trainer.ts";
import { CPU_UNET } from "../models/nets/unet/unet.ts";

const B = Number(Deno.args[0] ?? 128);
const STEPS = Number(Deno.args[1] ?? 4);

async function ours(): Promise<number> {
  const tr = await DiffusionTrainer.create({
    config: CPU_UNET,
    batchSize: B,
    lr: 1e-3,
    weightDecay: 0,
    emaDecay: 0.999,
    cfgDropout: 0.1,
    predictionType: "v",
    trainSteps: 1000,
    seed: 0,
  });
  const x = new Float32Array(B * 2048).map((_, i) => Math.sin(i));
  const y = Array.from({ length: B }, (_, i) => i % 10);
  const times: number[] = [];
  for (let s = 0; s <= STEPS; s++) {
    const t0 = performance.now();
    await tr.step(x, y);
    times.push(performance.now() - t0);
  }
  await tr.release();
  return median(times.slice(1));
}

async function ref(): Promise<number | null> {
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [
        new URL("../tools/bench/unet_ref.py", import.meta.url).pathname,
        String(B),
        String(STEPS),
      ],
      stderr: "piped",
    }).output();
    const m = /ms=([\d.]+)/.exec(new TextDecoder().decode(out.stdout));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const a = await ours();
const r = await ref();
console.log(
  r === null
    ? `unet_train_b${B} ours_ms=${a.toFixed(0)} ref_ms=unavailable (python3-torch not installed)`
    : `unet_train_b${B} ours_ms=${a.toFixed(0)} ref_ms=${r.toFixed(0)} ratio=${(a / r).toFixed(2)}`,
);
