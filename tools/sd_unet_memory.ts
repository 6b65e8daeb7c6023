/**
 * Memory and time of the SD 1.5-sized U-Net (issue 18: "loads with external data and samples
 * at 512 px in under 8 GB of RAM"): builds `SdUNet` from {@link SD15_UNET_CONFIG} with random
 * weights (no file needed), emits its ONNX model (external data: views of the weights),
 * creates the onnxruntime session (SD_UNET_SESSION_OPTIONS), frees the JS weights
 * (`release()`), runs one forward at batch 2 x 64 x 64 latents with a 77-token context, and
 * prints the process's peak resident memory (Linux `VmHWM`) and the time of each step. Heavy: about 3.4 GB of weights and a
 * minute or more of CPU per forward.
 *
 * Measured 2026-12-03 on 2 shared AMD EPYC cores (load about 7), `--threads 2`: 859,520,964
 * weights, ONNX model 11.2 s, session 11.7 s, forward 34.9 s; peak RSS 6.70 GB (while the
 * session is created: the JS weights and onnxruntime's copy), 3.42 GB after `release()`,
 * 5.58 GB during the forward.
 *
 * `--channels` shrinks model_channels (a quicker proxy of the same layout; the parameter count
 * is then not checked against SD 1.5's).
 *
 * Usage: deno run -A tools/sd_unet_memory.ts [--batch 2] [--tokens 77] [--latent 64]
 *        [--threads N] [--channels 320]
 */
import { parseArgs } from "node:util";
import { SD15_UNET_CONFIG, SD_UNET_SESSION_OPTIONS, SdUNet } from "../models/nets/sd/mod.ts";
import { ParamStore } from "../models/graph/nn.ts";
import { Session } from "../models/graph/session.ts";
import { Rng } from "../models/core/random.ts";

/** Parameters of the reference SD 1.5 UNetModel (v1-inference.yaml, counted with PyTorch). */
const SD15_PARAMS = 859_520_964;
/** The memory budget. */
const BUDGET_GB = 8;
const GB = 2 ** 30;

const { values: v } = parseArgs({
  options: {
    batch: { type: "string", default: "2" },
    tokens: { type: "string", default: "77" },
    latent: { type: "string", default: "64" },
    threads: { type: "string" },
    channels: { type: "string", default: String(SD15_UNET_CONFIG.unet.modelChannels) },
  },
});
const batch = Number(v.batch), tokens = Number(v.tokens), latent = Number(v.latent);

/** Peak and current resident memory of this process in GB (Linux /proc). */
async function rss(): Promise<{ peak: number; now: number }> {
  const status = await Deno.readTextFile("/proc/self/status");
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { peak: kb("VmHWM") * 1024 / GB, now: kb("VmRSS") * 1024 / GB };
}

async function step<T>(label: string, f: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  const out = await f();
  const m = await rss();
  console.log(
    `${label.padEnd(34)} ${((performance.now() - t0) / 1000).toFixed(1).padStart(7)} s   ` +
      `rss ${m.now.toFixed(2)} GB   peak ${m.peak.toFixed(2)} GB`,
  );
  return out;
}

const modelChannels = Number(v.channels);
const full = modelChannels === SD15_UNET_CONFIG.unet.modelChannels;
const config = { ...SD15_UNET_CONFIG, unet: { ...SD15_UNET_CONFIG.unet, modelChannels } };
const rng = Rng.from(0);
const unet = new SdUNet(config, new ParamStore(() => rng.random()));
console.log(`start: rss ${(await rss()).now.toFixed(2)} GB; ${navigator.hardwareConcurrency} CPUs`);
let model = await step("random weights + ONNX model", () => unet.toModel(batch, tokens, latent));
console.log(
  `  parameters ${unet.numParams} (reference ${SD15_PARAMS}), ` +
    `${model.externalData.length} external data views`,
);
if (full && unet.numParams !== SD15_PARAMS) {
  throw new Error("parameter count differs from SD 1.5's");
}
const threads = v.threads ? { intraOpThreads: Number(v.threads) } : {};
const options = { ...SD_UNET_SESSION_OPTIONS, ...threads };
const session = await step("onnxruntime session", () => Session.create(model, options));
model = { ...model, model: new Uint8Array(0), externalData: [] }; // let the views go
await step("release the JS weights", () => unet.release()); // onnxruntime holds its own copy
const r = Rng.from(1);
const feeds = {
  x: {
    dtype: "F32" as const,
    shape: [batch, 4, latent, latent],
    data: r.randn(batch * 4 * latent * latent),
  },
  t: { dtype: "F32" as const, shape: [batch], data: new Float32Array(batch).fill(500) },
  context: {
    dtype: "F32" as const,
    shape: [batch, tokens, 768],
    data: r.randn(batch * tokens * 768),
  },
};
const { out } = await step(
  `forward ${batch} x ${latent}^2, ${tokens} tokens`,
  () => session.run(feeds),
);
const finite = (out.data as Float32Array).every(Number.isFinite);
await session.release();
const { peak } = await rss();
console.log(
  `output [${out.shape}] finite: ${finite}; peak RSS ${peak.toFixed(2)} GB ` +
    `(budget ${BUDGET_GB} GB: ${peak < BUDGET_GB ? "within" : "OVER"})`,
);
