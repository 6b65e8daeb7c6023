/**
 * Stable Diffusion's text-conditioned U-Net (diffusers `UNet2DConditionModel` for the SD 1.x
 * and 2.x configurations; the original `UNetModel`): the LDM U-Net of `nets/ldm` built with
 * the folder's configuration, a text context of T tokens per sample, and weights read from a
 * diffusers `unet/` folder or a single file in either naming. The graph takes `x [B, C, S, S]`,
 * `t [B]` and `context [B, T, D]` and returns `out [B, Cout, S, S]` (eps, or v for the SD 2.x
 * 768 px model: the scheduler config says which). Adapted from huggingface/diffusers@58eb52c
 * and Stability-AI/stablediffusion@cf1d67a (semantics only).
 *
 * Memory: the weights are held once, as float32 (SD 1.5: 3.4 GB); the ONNX model's external
 * data are views of them, not copies; onnxruntime copies them into the session (create it with
 * {@link SD_UNET_SESSION_OPTIONS} to keep that at one copy), after which
 * {@link SdUNet.release} frees them at once.
 *
 * @module
 */
import { Graph, type ModelBytes, type Value } from "../../graph/graph.ts";
import { Layers, type ParamStore } from "../../graph/nn.ts";
import type { SessionOptions } from "../../graph/session.ts";
import { reshape } from "../../graph/ops/shape.ts";
import { CheckpointParamStore, ldmUNetForward } from "../ldm/mod.ts";
import { readSdUNetConfig, type SdUNetConfig } from "./unet_config.ts";
import { detectLayout, folderWeights, freeTensors, readWeights } from "./_weights.ts";
import { diffusersName } from "./_key_map.ts";

/**
 * onnxruntime settings for U-Net sessions that keep the session at about one copy of the
 * weights: no constant folding (it would hold a transposed copy of every conv weight beside
 * the original; the transposes run in each forward instead) and no pre-packing of the Linear
 * weights (a packed copy beside each; packing per call costs little at thousands of token
 * rows). Measured on a quarter-width SD 1.5 (0.82 GB of weights): the session holds 0.93 GB
 * instead of 1.65 GB; the full SD 1.5 U-Net then peaks at 6.7 GB while its session is created
 * and 5.6 GB in a forward at batch 2 x 64 x 64 (tools/sd_unet_memory.ts). Spread it into
 * your own options.
 *
 * @example
 * ```ts
 * import { Session } from "../../graph/session.ts";
 * import { SD_UNET_SESSION_OPTIONS, SdUNet } from "./unet.ts";
 * const unet = await SdUNet.load("stable-diffusion-v1-5/unet");
 * const s = await Session.create(unet.toModel(2, 77), { ...SD_UNET_SESSION_OPTIONS, intraOpThreads: 4 });
 * unet.release();
 * ```
 */
export const SD_UNET_SESSION_OPTIONS: Readonly<SessionOptions> = Object.freeze({
  disableOptimizers: ["ConstantFolding"],
  disablePrepacking: true,
});

/**
 * Options of {@link SdUNet.load}.
 *
 * @example
 * ```ts
 * import type { LoadSdUNetOptions } from "./unet.ts";
 * import { SD15_UNET_CONFIG } from "./unet_config.ts";
 * const o: LoadSdUNetOptions = { config: SD15_UNET_CONFIG, prefix: "model.diffusion_model." };
 * ```
 */
export interface LoadSdUNetOptions {
  /** The configuration (default: the folder's config.json; required for a single file). */
  config?: SdUNetConfig;
  /** Prefix of the U-Net's keys in a single file (default `model.diffusion_model.` when present). */
  prefix?: string;
  /** Reject keys under the prefix that the configuration does not use (default true). */
  strict?: boolean;
}

/**
 * A built U-Net graph: inputs `x`, `t`, `context` and the output.
 *
 * @example
 * ```ts
 * import type { SdUNetGraph } from "./unet.ts";
 * const pick = (g: SdUNetGraph) => g.output; // [B, Cout, S, S]
 * ```
 */
export interface SdUNetGraph {
  /** The graph. */
  graph: Graph;
  /** Latents [B, C, S, S] float32. */
  x: Value;
  /** Timesteps [B] float32. */
  t: Value;
  /** Text context [B, T, D] float32 (the text encoder's hidden states). */
  context: Value;
  /** The prediction [B, Cout, S, S]. */
  output: Value;
}

/**
 * A Stable Diffusion U-Net: configuration and float32 weights (keyed by the original
 * `UNetModel` names).
 *
 * @example
 * ```ts
 * import { SdUNet } from "./unet.ts";
 * const unet = await SdUNet.load("stable-diffusion-v1-5/unet");
 * const bytes = unet.toModel(2, 77); // x [2, 4, 64, 64], t [2], context [2, 77, 768]
 * ```
 */
export class SdUNet {
  #released = false;
  #numParams = 0;

  /** Wraps a configuration and its weights (missing weights are drawn at random). */
  constructor(readonly config: SdUNetConfig, readonly store: ParamStore) {}

  /**
   * Reads a diffusers `unet/` folder (config.json and the weights file), or a single weights
   * file in diffusers' or the original naming (then `o.config` is required), and checks every
   * weight against the configuration.
   */
  static async load(path: string, o: LoadSdUNetOptions = {}): Promise<SdUNet> {
    const isDir = await Deno.stat(path).then((s) => s.isDirectory, (e) => {
      throw new Error(`Cannot load U-Net ${path}: ${(e as Error).message}`);
    });
    const dir = path.replace(/\/+$/, "");
    if (!isDir && !o.config) {
      throw new Error(
        `Cannot load U-Net ${path}: a single weights file has no config.json; pass ` +
          "options.config (SD15_UNET_CONFIG for the SD 1.x checkpoints)",
      );
    }
    const config = o.config ?? await readSdUNetConfig(`${dir}/config.json`);
    const file = isDir ? await folderWeights(dir) : path;
    const tensors = await readWeights(file);
    const { layout, prefix } = detectLayout(tensors, file, isDir ? "" : o.prefix);
    const L = config.unet.numResBlocks;
    const keyOf = layout === "diffusers"
      ? (name: string) => prefix + diffusersName(name, L)
      : (name: string) => prefix + name;
    const store = new CheckpointParamStore(tensors, file, "the Stable Diffusion U-Net", false, "", {
      keyOf,
      copy: true,
      configHint: isDir ? `${dir}/config.json` : "options.config",
    });
    const unet = new SdUNet(config, store);
    unet.graph(1, 1); // reads and checks every weight now
    if (o.strict ?? true) store.checkAllUsed(prefix);
    freeTensors(tensors); // the store holds its own float32 copies (copy: true)
    return unet;
  }

  /** Number of weights (counted when they were read; still known after {@link release}). */
  get numParams(): number {
    if (this.#released) return this.#numParams;
    let n = 0;
    for (const p of this.store.entries.values()) n += p.data.length;
    return n;
  }

  /** Builds the graph for `batch` samples of `tokens` context tokens at latent side `latentSize`. */
  graph(batch: number, tokens: number, latentSize: number = this.config.sampleSize): SdUNetGraph {
    if (this.#released) {
      throw new Error("SdUNet: the weights were released (release()); load the U-Net again");
    }
    for (const [k, v] of Object.entries({ batch, tokens, latentSize })) {
      if (!Number.isInteger(v) || v < 1) {
        throw new RangeError(`SdUNet.graph: ${k} must be a positive integer, got ${v}`);
      }
    }
    const u = { ...this.config.unet, imageSize: latentSize };
    const graph = new Graph();
    const nn = new Layers(graph, this.store, false);
    const x = graph.input("x", [batch, u.inChannels, latentSize, latentSize]);
    const t = graph.input("t", [batch]);
    const context = graph.input("context", [batch, tokens, u.contextDim]);
    const rows = reshape(context, [batch * tokens, u.contextDim]); // [B*T, D]
    const output = ldmUNetForward(nn, u, x, t, rows);
    graph.output(output, "out");
    return { graph, x, t, context, output };
  }

  /**
   * ONNX bytes of the graph (inputs `x`, `t`, `context`; output `out`); past 2 GB the weights
   * go to external data, one view per weight (no copy).
   */
  toModel(batch: number, tokens: number, latentSize?: number): ModelBytes {
    return this.graph(batch, tokens, latentSize).graph.toModel({
      paramsAs: "initializers",
      externalFileBytes: 0,
    });
  }

  /**
   * Frees the float32 weights now (call once the sessions you need exist: onnxruntime holds its
   * own copy). Buffers the store owns whole are detached, so their memory is returned without
   * waiting for a garbage collection: graphs built earlier cannot be emitted again, and later
   * {@link toModel} calls throw.
   */
  release(): void {
    if (this.#released) return;
    this.#numParams = this.numParams;
    this.#released = true;
    for (const { data } of this.store.entries.values()) {
      const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
      if (whole && data.buffer instanceof ArrayBuffer) data.buffer.transfer(0);
    }
    this.store.entries.clear();
  }
}
