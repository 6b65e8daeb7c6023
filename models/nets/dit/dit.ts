/**
 * DiT (Peebles & Xie, "Scalable Diffusion Models with Transformers"): every configuration of
 * facebookresearch/DiT `models.py` (DiT-XL/L/B/S x patch 2/4/8) plus tiny DiT-T/* for tests,
 * built as an ONNX graph from the original checkpoints (no export step). One builder gives
 * inference graphs (weights as initializers, external data past 2 GB) and training graphs
 * (weights as inputs, differentiable with models/autodiff.ts). {@link ditDenoiser} wraps a
 * model as the sampler's Denoiser; {@link forwardWithCfg} is DiT's `forward_with_cfg`.
 * Adapted from facebookresearch/DiT@ed81ce2 (semantics only).
 *
 * @module
 */
import { Graph, type ModelBytes, type ToModelOptions, type Value } from "../../graph/graph.ts";
import { Layers, ParamStore, type StoredParam } from "../../graph/nn.ts";
import { type DiTConfig, ditStateShapes } from "./config.ts";
import type { DiTKernels } from "./_attention.ts";
import { ditForward } from "./_forward.ts";
import { type LoadDiTOptions, loadDiTWeights, validateDiTState } from "./_weights.ts";
import type { Tensor } from "../../core/tensor.ts";

export {
  checkConfig,
  DIT_ARCHS,
  DIT_LN_EPS,
  type DiTConfig,
  ditConfig,
  ditStateShapes,
  FREQUENCY_EMBEDDING_SIZE,
  labelTableSize,
  MAX_PERIOD,
  outChannels,
} from "./config.ts";
export { posEmbed2d, timestepFrequencies } from "./_embed.ts";
export type { DiTKernels } from "./_attention.ts";
export { ditForward, type DiTForwardOptions } from "./_forward.ts";
export { type LoadDiTOptions, validateDiTState } from "./_weights.ts";

/**
 * Options of {@link DiT.graph}.
 *
 * @example
 * ```ts
 * import type { DiTGraphOptions } from "./dit.ts";
 * const o: DiTGraphOptions = { training: true }; // weights become trainable graph inputs
 * ```
 */
export interface DiTGraphOptions {
  /**
   * Training graph: parameters trainable; standard (differentiable) ONNX ops only. Label
   * dropout (DiT's token_drop) is the caller's: feed the null class id for dropped labels.
   */
  training?: boolean;
  /** Kernels of inference graphs (default "onnx"; "contrib": onnxruntime's fused ones). */
  kernels?: DiTKernels;
}

/**
 * A built DiT graph: its inputs (`x` [B, C, H, W] float32, `t` [B] float32, `y` [B] int32)
 * and its `output` [B, C or 2C, H, W].
 *
 * @example
 * ```ts
 * import { DiT, ditConfig, type DiTGraph } from "./dit.ts";
 * const built: DiTGraph = DiT.init(ditConfig("DiT-T/2", { inputSize: 8 }), Math.random).graph(2);
 * ```
 */
export interface DiTGraph {
  /** The graph the DiT was built into. */
  graph: Graph;
  /** The layer builder holding the DiT's weights. */
  layers: Layers;
  /** Input latents [B, C, H, W] float32. */
  x: Value;
  /** Input timesteps [B] float32. */
  t: Value;
  /** Input class labels [B] int32. */
  y: Value;
  /** The output [B, C or 2C, H, W] (2C with learned sigma). */
  output: Value;
}

/**
 * A DiT: its configuration and its weights (a {@link ParamStore} keyed by state-dict name,
 * shared by every graph built from it, so an optimizer's in-place updates reach them all).
 *
 * @example
 * ```ts
 * import { DiT, ditConfig } from "./dit.ts";
 * const dit = await DiT.load("DiT-XL-2-256x256.pt", ditConfig("DiT-XL/2"));
 * const { model, externalData } = dit.toModel(2); // > 2 GB: initializers in external data
 * ```
 */
export class DiT {
  /** Wraps a configuration and a store holding (or to hold) its weights. */
  constructor(readonly config: DiTConfig, readonly store: ParamStore) {}

  /** Loads and validates a checkpoint (.pt or safetensors; "ema" first when nested). */
  static async load(path: string, config: DiTConfig, o: LoadDiTOptions = {}): Promise<DiT> {
    return DiT.#fromParams(config, await loadDiTWeights(path, config, o));
  }

  /** Validates an in-memory state dict; `source` names it in errors. */
  static fromStateDict(
    tensors: Map<string, Tensor>,
    config: DiTConfig,
    source = "state dict",
  ): DiT {
    return DiT.#fromParams(config, validateDiTState(tensors, config, source));
  }

  /**
   * Fresh weights with DiT's `initialize_weights` (xavier-uniform linears, N(0, 0.02)
   * embeddings, zero adaLN modulations and final linear), drawn from `random` (uniform in [0, 1)).
   */
  static init(config: DiTConfig, random: () => number): DiT {
    const dit = new DiT(config, new ParamStore(random));
    dit.graph(1); // creates every parameter in the store
    return dit;
  }

  static #fromParams(config: DiTConfig, params: Map<string, StoredParam>): DiT {
    const store = new ParamStore(() => {
      throw new Error("A loaded DiT has every weight; nothing to initialise");
    });
    for (const [k, p] of params) store.entries.set(k, p);
    return new DiT(config, store);
  }

  /** Number of parameters (pos_embed included, as `sum(p.numel() for p in model.parameters())`). */
  get numParams(): number {
    let n = 0;
    for (const shape of ditStateShapes(this.config).values()) n += shape.reduce((a, b) => a * b, 1);
    return n;
  }

  /** Builds the forward graph for a fixed batch size (inputs `x`, `t`, `y`; output `out`). */
  graph(batch: number, o: DiTGraphOptions = {}): DiTGraph {
    const c = this.config;
    if (!Number.isInteger(batch) || batch < 1) {
      throw new RangeError(`DiT batch must be a positive integer, got ${batch}`);
    }
    if (o.training && o.kernels === "contrib") {
      throw new RangeError('kernels "contrib" have no gradient rules; training graphs use "onnx"');
    }
    const graph = new Graph();
    const layers = new Layers(graph, this.store, o.training ?? false);
    const x = graph.input("x", [batch, c.inChannels, c.inputSize, c.inputSize]);
    const t = graph.input("t", [batch]);
    const y = graph.input("y", [batch], "int32");
    const output = ditForward(layers, c, x, t, y, { kernels: o.kernels });
    graph.output(output, "out");
    return { graph, layers, x, t, y, output };
  }

  /**
   * ONNX bytes of the inference graph for a batch size: weights as initializers (default) and,
   * past the 2 GB protobuf limit (DiT-XL/2: 675M parameters), in external data files.
   */
  toModel(batch: number, o: ToModelOptions & { kernels?: DiTKernels } = {}): ModelBytes {
    const { kernels, ...emit } = o;
    return this.graph(batch, { kernels }).graph.toModel({ paramsAs: "initializers", ...emit });
  }
}
