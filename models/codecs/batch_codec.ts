/**
 * A codec made of an encoder's and a decoder's onnxruntime sessions, each built per batch size
 * (see `BatchSessions`), and released when done.
 *
 * @module
 */
import type { Codec } from "./codec.ts";
import type { ModelBytes } from "../graph/graph.ts";
import { BatchSessions } from "../graph/batch_sessions.ts";
import type { SessionOptions } from "../graph/session.ts";

/**
 * A {@link Codec} holding onnxruntime sessions (one per batch size used), to be released.
 *
 * @example
 * ```ts
 * import type { ModelCodec } from "./batch_codec.ts";
 * const done = (codec: ModelCodec) => codec.release();
 * ```
 */
export interface ModelCodec extends Codec {
  /** Frees the onnxruntime sessions. */
  release(): Promise<void>;
}

/**
 * A {@link ModelCodec} from an encoder and a decoder builder (`images` [n, C, S, S] ->
 * `latents` [n, ...latentShape] and back), their sessions built per batch size with graph
 * optimisation "all", `threads` intra-op threads when given, then `session` on top.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph/graph.ts";
 * import { mul } from "../graph/ops/elementwise.ts";
 * import { batchCodec } from "./batch_codec.ts";
 * const scaleBy = (k: number, from: string, to: string, shape: number[]) => (n: number) => {
 *   const g = new Graph();
 *   g.output(mul(g.input(from, [n, ...shape]), k), to);
 *   return g.toModel({ paramsAs: "initializers" });
 * };
 * const codec = batchCodec({
 *   id: "half",
 *   imageSize: 2,
 *   imageChannels: 3,
 *   latentShape: [3, 2, 2],
 *   encoder: scaleBy(0.5, "images", "latents", [3, 2, 2]),
 *   decoder: scaleBy(2, "latents", "images", [3, 2, 2]),
 *   threads: 1,
 * });
 * const z = await codec.encode(new Float32Array(12).fill(1), 1); // 0.5 everywhere
 * await codec.release();
 * ```
 */
export function batchCodec(o: {
  id: string;
  imageSize: number;
  imageChannels: number;
  latentShape: [number, number, number];
  encoder: (n: number) => ModelBytes;
  decoder: (n: number) => ModelBytes;
  threads?: number;
  session?: SessionOptions;
}): ModelCodec {
  const S = o.imageSize;
  const options: SessionOptions = {
    graphOptimizationLevel: "all",
    ...(o.threads ? { intraOpThreads: o.threads } : {}),
    ...o.session,
  };
  const encoders = new BatchSessions(
    o.encoder,
    [o.imageChannels, S, S],
    "images",
    "latents",
    options,
  );
  const decoders = new BatchSessions(o.decoder, o.latentShape, "latents", "images", options);
  return {
    id: o.id,
    imageSize: S,
    latentShape: o.latentShape,
    encode: (images, n) => encoders.run(images, n),
    decode: (latents, n) => decoders.run(latents, n),
    release: async () => {
      await encoders.release();
      await decoders.release();
    },
  };
}
