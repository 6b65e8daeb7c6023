/**
 * A DiT as the sampler's {@link Denoiser} (eps prediction, learned sigma): one onnxruntime
 * session per batch size (the graph's shapes are static), created on first use and kept
 * for the most recent `maxSessions` sizes; and DiT's `forward_with_cfg`.
 *
 * @module
 */
import { combineCfg, type Denoiser } from "../../diffusion/denoiser.ts";
import type { SessionOptions } from "../../graph/session.ts";
import { SessionCache } from "../../graph/batch_sessions.ts";
import type { DiTKernels } from "./_attention.ts";
import { labelTableSize } from "./config.ts";
import type { DiT } from "./dit.ts";

/**
 * Channels DiT's `forward_with_cfg` guides: 3 of the 4 latent channels ("for exact
 * reproducibility reasons", models.py); "all" guides every latent channel (the standard CFG).
 *
 * @example
 * ```ts
 * import { DIT_CFG_CHANNELS } from "./denoiser.ts";
 * DIT_CFG_CHANNELS; // 3
 * ```
 */
export const DIT_CFG_CHANNELS = 3;

/**
 * Options of {@link ditDenoiser}.
 *
 * @example
 * ```ts
 * import type { DiTDenoiserOptions } from "./denoiser.ts";
 * const o: DiTDenoiserOptions = { session: { intraOpThreads: 2 }, maxSessions: 1 };
 * ```
 */
export interface DiTDenoiserOptions {
  /** onnxruntime settings (threads, execution providers, optimisation level). */
  session?: SessionOptions;
  /**
   * Kernels (default "contrib": onnxruntime's fused attention and GELU, 3-8% faster than
   * "onnx" on 2 CPU cores and equal to 4e-7; "onnx": standard ops only).
   */
  kernels?: DiTKernels;
  /** Sessions kept (one per batch size; each holds its own copy of the weights). Default 2. */
  maxSessions?: number;
}

/**
 * A {@link Denoiser} backed by a DiT, with `release()` to free its sessions.
 *
 * @example
 * ```ts
 * import type { DiTDenoiser } from "./denoiser.ts";
 * const use = async (d: DiTDenoiser) => { await d.release(); };
 * ```
 */
export interface DiTDenoiser extends Denoiser {
  /** The model the sessions were built from. */
  readonly model: DiT;
  /** Frees every cached session. */
  release(): Promise<void>;
}

/**
 * Wraps a DiT as a Denoiser: `forward(x [B, C, H, W], t [B], y [B])` runs the session for
 * batch B (building it on first use) and returns `[B, C or 2C, H, W]`.
 *
 * @example
 * ```ts
 * import { DiT, ditConfig } from "./dit.ts";
 * import { ditDenoiser } from "./denoiser.ts";
 * const dit = await DiT.load("DiT-XL-2-256x256.pt", ditConfig("DiT-XL/2"));
 * const den = ditDenoiser(dit, { session: { intraOpThreads: 2 } });
 * const out = await den.forward(x, new Float32Array([999, 999]), new Int32Array([207, 1000]));
 * await den.release();
 * ```
 */
export function ditDenoiser(model: DiT, o: DiTDenoiserOptions = {}): DiTDenoiser {
  const c = model.config;
  const maxSessions = o.maxSessions ?? 2;
  if (!Number.isInteger(maxSessions) || maxSessions < 1) {
    throw new RangeError(`ditDenoiser: maxSessions must be a positive integer, got ${maxSessions}`);
  }
  const sessions = new SessionCache(
    (batch) => model.toModel(batch, { kernels: o.kernels ?? "contrib" }),
    o.session,
    maxSessions,
  );
  const plane = c.inputSize * c.inputSize;
  const per = c.inChannels * plane;
  const table = labelTableSize(c);

  return {
    model,
    latentShape: [c.inChannels, c.inputSize, c.inputSize],
    numClasses: c.numClasses,
    predictionType: "eps",
    learnSigma: c.learnSigma,
    async forward(x: Float32Array, t: Float32Array, y: Int32Array): Promise<Float32Array> {
      const B = t.length;
      if (B < 1 || x.length !== B * per || y.length !== B) {
        throw new RangeError(
          `${c.name} forward: x has ${x.length} values, t ${t.length}, y ${y.length}; ` +
            `expected [B, ${c.inChannels}, ${c.inputSize}, ${c.inputSize}], [B], [B] with B >= 1`,
        );
      }
      for (const id of y) {
        if (!(id >= 0 && id < table)) {
          throw new RangeError(
            `${c.name} forward: class id ${id} out of range [0, ${table - 1}]` +
              (table > c.numClasses ? ` (${c.numClasses} is the null class)` : ""),
          );
        }
      }
      const s = await sessions.session(B);
      const { out } = await s.run({
        x: { dtype: "F32", shape: [B, c.inChannels, c.inputSize, c.inputSize], data: x },
        t: { dtype: "F32", shape: [B], data: t },
        y: { dtype: "I32", shape: [B], data: y },
      });
      return out.data as Float32Array;
    },
    release: (): Promise<void> => sessions.release(),
  };
}

/**
 * DiT's `forward_with_cfg`: runs the first half of `x` twice (`[x_half; x_half]`) with the
 * given `t` and `y` (conditional ids, then null ids), and replaces the first `channels`
 * output channels of both halves with `uncond + scale * (cond - uncond)` ({@link combineCfg},
 * the sampler's combiner); other channels keep each half's own output. Returns
 * `[2B, Cout, H, W]`, like DiT.
 *
 * @example
 * ```ts
 * import { forwardWithCfg } from "./denoiser.ts";
 * const out = await forwardWithCfg(den, x, t, new Int32Array([207, 1000]), 4.0); // DiT: 3 channels
 * const std = await forwardWithCfg(den, x, t, new Int32Array([207, 1000]), 4.0, { channels: "all" });
 * ```
 */
export async function forwardWithCfg(
  model: Denoiser,
  x: Float32Array, // [2B, C, H, W]; only the first half is used
  t: Float32Array, // [2B]
  y: Int32Array, // [2B]
  scale: number,
  o: { channels?: number | "all" } = {},
): Promise<Float32Array> {
  const [C, H, W] = model.latentShape;
  const plane = H * W;
  const n = t.length;
  if (n % 2 || x.length !== n * C * plane) {
    throw new RangeError(
      `forwardWithCfg: need an even batch; x has ${x.length} values for ${n} timesteps`,
    );
  }
  const half = x.subarray(0, (n / 2) * C * plane);
  const combined = new Float32Array(x.length);
  combined.set(half, 0);
  combined.set(half, half.length);
  const out = await model.forward(combined, t, y); // [2B, Cout, H, W]
  const co = model.learnSigma ? 2 * C : C;
  const guided = o.channels === "all" ? C : (o.channels ?? DIT_CFG_CHANNELS);
  if (!Number.isInteger(guided) || guided < 1 || guided > co) {
    throw new RangeError(
      `forwardWithCfg: channels must be in [1, ${co}] or "all", got ${o.channels}`,
    );
  }
  const per = co * plane, B = n / 2, g = guided * plane;
  const cond = combineCfg(out, B, co, plane, scale, guided); // [B, Cout, H, W]
  out.set(cond, 0); // cond half: guided channels combined, the others its own
  // uncond half: the same guided channels, the others its own
  for (let b = 0; b < B; b++) out.set(cond.subarray(b * per, b * per + g), (B + b) * per);
  return out;
}
