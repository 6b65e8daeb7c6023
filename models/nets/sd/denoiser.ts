/**
 * Stable Diffusion as the sampler's class-conditional {@link Denoiser}: class id i is the text
 * prompt of class i (tokenised, run through the CLIP text encoder once, on first use, and kept),
 * and the null class `numClasses` is the empty prompt "", the unconditional input of diffusers'
 * classifier-free guidance. The U-Net runs with one onnxruntime session per batch size.
 * Adapted from huggingface/diffusers@58eb52c `StableDiffusionPipeline.encode_prompt`
 * (semantics only).
 *
 * @module
 */
import type { Denoiser, PredictionType } from "../../diffusion/denoiser.ts";
import type { SessionOptions } from "../../graph/session.ts";
import { SessionCache } from "../../graph/batch_sessions.ts";
import { SD_UNET_SESSION_OPTIONS } from "./unet.ts";
import type { ClipTokenizer } from "../../text/clip_tokenizer.ts";
import type { ClipTextEncoder } from "../clip/text_encoder.ts";
import type { SdUNet } from "./unet.ts";

/**
 * The text side of a Stable Diffusion model: prompts in, per-token embeddings out.
 *
 * @example
 * ```ts
 * import type { PromptEncoder } from "./denoiser.ts";
 * const use = async (p: PromptEncoder) => (await p.embed(["tench"]))[0]; // [77 * 768]
 * ```
 */
export interface PromptEncoder {
  /** Tokens per prompt (77). */
  readonly tokens: number;
  /** Width of a token embedding (768 for SD 1.x, 1024 for SD 2.x). */
  readonly dim: number;
  /** The last hidden states [tokens, dim] of each prompt. */
  embed(prompts: readonly string[]): Promise<Float32Array[]>;
  /** Frees the text encoder's sessions. */
  release(): Promise<void>;
}

/**
 * A {@link PromptEncoder} from a CLIP tokenizer and text encoder.
 *
 * @example
 * ```ts
 * import { promptEncoder } from "./denoiser.ts";
 * const enc = promptEncoder(await ClipTokenizer.load("sd/tokenizer"),
 *   await ClipTextEncoder.load("sd/text_encoder"));
 * const [tench] = await enc.embed(["tench"]);
 * ```
 */
export function promptEncoder(tokenizer: ClipTokenizer, text: ClipTextEncoder): PromptEncoder {
  const T = tokenizer.maxLength;
  if (T !== text.config.maxPositionEmbeddings) {
    throw new RangeError(
      `The tokenizer pads to ${T} tokens but the text encoder has ` +
        `${text.config.maxPositionEmbeddings} positions (max_position_embeddings)`,
    );
  }
  const D = text.config.hiddenSize;
  return {
    tokens: T,
    dim: D,
    async embed(prompts) {
      if (!prompts.length) return [];
      const ids = new Int32Array(prompts.length * T);
      prompts.forEach((p, i) => ids.set(tokenizer.encode(p), i * T));
      const out = await text.encode(ids, prompts.length); // [N, T, D]
      return prompts.map((_, i) => out.slice(i * T * D, (i + 1) * T * D));
    },
    release: () => text.release(),
  };
}

/**
 * Options of {@link sdDenoiser}.
 *
 * @example
 * ```ts
 * import type { SdDenoiserOptions } from "./denoiser.ts";
 * const o: SdDenoiserOptions = { prompts: ["tench", "English springer"], predictionType: "eps" };
 * ```
 */
export interface SdDenoiserOptions {
  /** The prompt of each class id (its length is the class count; "" is the null class's). */
  prompts: readonly string[];
  /** What the U-Net predicts (the scheduler config's `prediction_type`). */
  predictionType: PredictionType;
  /** Latent side (default: the U-Net's `sample_size`). */
  latentSize?: number;
  /** onnxruntime settings of the U-Net session (on top of {@link SD_UNET_SESSION_OPTIONS}). */
  session?: SessionOptions;
  /**
   * Free the U-Net's JavaScript copy of the weights once its session exists (the onnxruntime
   * session holds the only other copy: SD 1.5 at 512 px then fits in 8 GB). The U-Net cannot
   * build another graph afterwards; only the owner of `unet` should set it. Default false.
   */
  releaseWeights?: boolean;
}

/**
 * A {@link Denoiser} backed by Stable Diffusion, with `release()`.
 *
 * @example
 * ```ts
 * import type { SdDenoiser } from "./denoiser.ts";
 * const done = (d: SdDenoiser) => d.release();
 * ```
 */
export interface SdDenoiser extends Denoiser {
  /** The prompt embedding of a class id (`numClasses`: the empty prompt), computed once. */
  context(classId: number): Promise<Float32Array>;
  /** Frees the U-Net and text encoder sessions. */
  release(): Promise<void>;
}

/**
 * Wraps a U-Net and a prompt encoder as a Denoiser: `forward(x [B, C, S, S], t [B], y [B])`
 * runs the U-Net with the prompt embedding of each class id as its cross-attention context.
 *
 * @example
 * ```ts
 * import { promptEncoder, sdDenoiser } from "./denoiser.ts";
 * const den = sdDenoiser(unet, promptEncoder(tokenizer, text), {
 *   prompts: ["tench", "English springer"], predictionType: "eps",
 * });
 * const eps = await den.forward(x, Float32Array.of(981, 981), Int32Array.of(0, 2)); // 2: ""
 * await den.release();
 * ```
 */
export function sdDenoiser(unet: SdUNet, text: PromptEncoder, o: SdDenoiserOptions): SdDenoiser {
  const u = unet.config.unet;
  const S = o.latentSize ?? unet.config.sampleSize;
  const C = u.inChannels;
  const K = o.prompts.length;
  if (K < 1) throw new RangeError("sdDenoiser: give at least one class prompt");
  if (text.dim !== u.contextDim) {
    throw new RangeError(
      `The text encoder's width ${text.dim} does not match the U-Net's cross_attention_dim ` +
        `${u.contextDim}: the text_encoder and unet folders belong to different models`,
    );
  }
  const T = text.tokens, D = text.dim;
  // One session, built for the first batch size seen; other batches are split or zero-padded
  // to it (the network treats each sample alone, so the results do not change).
  const sessions = new SessionCache(
    (b) => unet.toModel(b, T, S),
    { ...SD_UNET_SESSION_OPTIONS, ...o.session },
    1,
  );
  let width = 0; // the session's batch size
  const session = async () => {
    const s = await sessions.session(width);
    if (o.releaseWeights) unet.release();
    return s;
  };
  const cache = new Map<number, Promise<Float32Array>>();
  const context = (id: number): Promise<Float32Array> => {
    if (!(Number.isInteger(id) && id >= 0 && id <= K)) {
      throw new RangeError(`Stable Diffusion: class id ${id} out of range [0, ${K}] (${K}: "")`);
    }
    let c = cache.get(id);
    if (!c) {
      c = text.embed([id === K ? "" : o.prompts[id]]).then(([e]) => e);
      cache.set(id, c);
    }
    return c;
  };
  const per = C * S * S;
  return {
    latentShape: [C, S, S],
    numClasses: K,
    predictionType: o.predictionType,
    learnSigma: false,
    context,
    async forward(x, t, y) {
      const B = t.length;
      if (B < 1 || x.length !== B * per || y.length !== B) {
        throw new RangeError(
          `Stable Diffusion forward: x has ${x.length} values, t ${t.length}, y ${y.length}; ` +
            `expected [B, ${C}, ${S}, ${S}], [B], [B] with B >= 1`,
        );
      }
      width ||= B;
      const result = new Float32Array(B * per); // [B, C, S, S]
      for (let b0 = 0; b0 < B; b0 += width) {
        const n = Math.min(width, B - b0);
        const xs = new Float32Array(width * per), ts = new Float32Array(width);
        const ctx = new Float32Array(width * T * D); // [width, T, D]; rows past n stay 0
        xs.set(x.subarray(b0 * per, (b0 + n) * per));
        ts.set(t.subarray(b0, b0 + n));
        for (let b = 0; b < n; b++) ctx.set(await context(y[b0 + b]), b * T * D);
        const { out } = await (await session()).run({
          x: { dtype: "F32", shape: [width, C, S, S], data: xs },
          t: { dtype: "F32", shape: [width], data: ts },
          context: { dtype: "F32", shape: [width, T, D], data: ctx },
        });
        result.set((out.data as Float32Array).subarray(0, n * per), b0 * per);
      }
      return result;
    },
    async release() {
      await sessions.release();
      await text.release();
    },
  };
}
