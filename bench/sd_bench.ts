/**
 * Stable Diffusion U-Net forward benchmark: our onnxruntime graph (SdUNet with the sessions the
 * SD denoiser uses, SD_UNET_SESSION_OPTIONS) against the original SD 1.x `UNetModel`
 * (CompVis latent-diffusion's openaimodel) in PyTorch on the same machine and threads, one line
 * per case:
 *
 *   <case> ours_ms=<x> ref_ms=<y> ratio=<x/y>
 *
 * Cases "sd-w<width>_s<latent side>_b<batch>": SD 1.5's layout (channel_mult 1,2,4,4, 2 res
 * blocks, attention at 4,2,1, 8 heads, context 768, 77 tokens) at a reduced width, random
 * weights. The reference is tools/bench/sd_unet_ref.py --serve under /usr/bin/python3
 * (ref_ms=na without torch or the latent-diffusion source, MGD3_LDM_REF); runs alternate; each
 * number is a median over MGD3_BENCH_ITERS runs after 2 warm-up runs.
 *
 * Run: deno run -A bench/sd_bench.ts [case...]   (env MGD3_BENCH_ITERS, MGD3_BENCH_THREADS)
 */
import { alternate, caseLine, type ReferenceServer, startReference } from "./_reference.ts";
import { SD15_UNET_CONFIG, SD_UNET_SESSION_OPTIONS, SdUNet } from "../models/nets/sd/mod.ts";
import { ParamStore } from "../models/graph/nn.ts";
import { Session } from "../models/graph/session.ts";
import { Rng } from "../models/core/random.ts";

const CASES = ["sd-w64_s32_b2"];
const ITERS = Number(Deno.env.get("MGD3_BENCH_ITERS") ?? 5);
const THREADS = Number(Deno.env.get("MGD3_BENCH_THREADS") ?? navigator.hardwareConcurrency);
const OMP_WAIT_POLICY = Deno.env.get("OMP_WAIT_POLICY") ?? "PASSIVE";
const REF_SCRIPT = new URL("../tools/bench/sd_unet_ref.py", import.meta.url).pathname;
const TOKENS = 77;

function parse(name: string): { width: number; side: number; batch: number } {
  const m = /^sd-w(\d+)_s(\d+)_b(\d+)$/.exec(name);
  if (!m) throw new RangeError(`Bad case '${name}': expected sd-w<width>_s<side>_b<batch>`);
  return { width: Number(m[1]), side: Number(m[2]), batch: Number(m[3]) };
}

/** Our side of a case: one forward through a session, and a cleanup. */
async function ours(
  name: string,
): Promise<{ run: () => Promise<unknown>; done: () => Promise<void> }> {
  const { width, side, batch } = parse(name);
  const rng = Rng.from(0);
  const config = {
    ...SD15_UNET_CONFIG,
    sampleSize: side,
    unet: { ...SD15_UNET_CONFIG.unet, modelChannels: width, imageSize: side },
  };
  const unet = new SdUNet(config, new ParamStore(() => rng.random() * 0.1 - 0.05));
  const session = await Session.create(unet.toModel(batch, TOKENS, side), {
    ...SD_UNET_SESSION_OPTIONS,
    intraOpThreads: THREADS,
  });
  unet.release();
  const x = Float32Array.from({ length: batch * 4 * side * side }, () => rng.random() * 2 - 1);
  const t = Float32Array.from({ length: batch }, () => Math.floor(rng.random() * 1000));
  const context = Float32Array.from({ length: batch * TOKENS * 768 }, () => rng.random() - 0.5);
  const run = () =>
    session.run({
      x: { dtype: "F32", shape: [batch, 4, side, side], data: x },
      t: { dtype: "F32", shape: [batch], data: t },
      context: { dtype: "F32", shape: [batch, TOKENS, 768], data: context },
    });
  for (let i = 0; i < 2; i++) await run();
  return { run, done: () => session.release() };
}

function startRef(): Promise<ReferenceServer | string> {
  return startReference(REF_SCRIPT, [], (said) => !said.startsWith("ref unavailable"), {
    MGD3_BENCH_THREADS: String(THREADS),
    OMP_WAIT_POLICY,
  });
}

if (import.meta.main) {
  const cases = Deno.args.length ? Deno.args : CASES;
  const ref = await startRef();
  console.log(`# threads=${THREADS} iters=${ITERS}`);
  if (typeof ref === "string") console.log(`# ${ref}: ref_ms=na`);
  const server = typeof ref === "string" ? null : ref;
  for (const c of cases) {
    const o = await ours(c);
    await server?.setup(c);
    const t = await alternate(o.run, server, ITERS);
    await o.done();
    console.log(caseLine(c, t, 1));
  }
  await server?.close();
}
