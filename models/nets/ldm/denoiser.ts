/**
 * A LatentDiffusion as the sampler's {@link Denoiser}: eps prediction, fixed variance, the
 * ClassEmbedder's last row as the null class of classifier-free guidance (cin256-v2: class
 * 1000); one onnxruntime session per batch size, created on first use.
 *
 * @module
 */
import type { Denoiser } from "../../diffusion/denoiser.ts";
import type { SessionOptions } from "../../graph/session.ts";
import { SessionCache } from "../../graph/batch_sessions.ts";
import type { LatentDiffusion } from "./ldm.ts";

/**
 * Options of {@link ldmDenoiser}.
 *
 * @example
 * ```ts
 * import type { LdmDenoiserOptions } from "./denoiser.ts";
 * const o: LdmDenoiserOptions = { session: { intraOpThreads: 2 }, maxSessions: 1 };
 * ```
 */
export interface LdmDenoiserOptions {
  /** onnxruntime settings (threads, execution providers, optimisation level). */
  session?: SessionOptions;
  /** Sessions kept (one per batch size; each holds its own copy of the weights). Default 2. */
  maxSessions?: number;
}

/**
 * A {@link Denoiser} backed by a LatentDiffusion, with `release()` to free its sessions.
 *
 * @example
 * ```ts
 * import type { LdmDenoiser } from "./denoiser.ts";
 * const use = async (d: LdmDenoiser) => { await d.release(); };
 * ```
 */
export interface LdmDenoiser extends Denoiser {
  /** The model the sessions were built from. */
  readonly model: LatentDiffusion;
  /** Frees every cached session. */
  release(): Promise<void>;
}

/**
 * Wraps a LatentDiffusion as a Denoiser: `forward(x [B, C, S, S], t [B], y [B])` returns eps
 * `[B, C, S, S]`; class ids run 0..numClasses, numClasses being the null class.
 *
 * @example
 * ```ts
 * import { LatentDiffusion } from "./ldm.ts";
 * import { ldmDenoiser } from "./denoiser.ts";
 * const den = ldmDenoiser(await LatentDiffusion.load("cin256-v2.ckpt"));
 * const eps = await den.forward(x, new Float32Array([999, 999]), new Int32Array([207, 1000]));
 * await den.release();
 * ```
 */
export function ldmDenoiser(model: LatentDiffusion, o: LdmDenoiserOptions = {}): LdmDenoiser {
  const c = model.config, u = c.unet;
  const maxSessions = o.maxSessions ?? 2;
  if (!Number.isInteger(maxSessions) || maxSessions < 1) {
    throw new RangeError(`ldmDenoiser: maxSessions must be a positive integer, got ${maxSessions}`);
  }
  const sessions = new SessionCache((batch) => model.toModel(batch), o.session, maxSessions);
  const S = u.imageSize;
  const per = u.inChannels * S * S;
  return {
    model,
    latentShape: [u.inChannels, S, S],
    numClasses: c.nClasses - 1,
    predictionType: "eps",
    learnSigma: false,
    async forward(x: Float32Array, t: Float32Array, y: Int32Array): Promise<Float32Array> {
      const B = t.length;
      if (B < 1 || x.length !== B * per || y.length !== B) {
        throw new RangeError(
          `${c.name} forward: x has ${x.length} values, t ${t.length}, y ${y.length}; ` +
            `expected [B, ${u.inChannels}, ${S}, ${S}], [B], [B] with B >= 1`,
        );
      }
      for (const id of y) {
        if (!(id >= 0 && id < c.nClasses)) {
          throw new RangeError(
            `${c.name} forward: class id ${id} out of range [0, ${c.nClasses - 1}] ` +
              `(${c.nClasses - 1} is the null class)`,
          );
        }
      }
      const s = await sessions.session(B);
      const { out } = await s.run({
        x: { dtype: "F32", shape: [B, u.inChannels, S, S], data: x },
        t: { dtype: "F32", shape: [B], data: t },
        y: { dtype: "I32", shape: [B], data: y },
      });
      return out.data as Float32Array;
    },
    release: (): Promise<void> => sessions.release(),
  };
}
