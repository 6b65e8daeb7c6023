/**
 * The class-conditional LatentDiffusion of CompVis (Rombach et al. 2022; cin256-v2): its
 * openaimodel U-Net with SpatialTransformer cross-attention to the ClassEmbedder's vector,
 * built as an ONNX graph from the original Lightning `.ckpt` (EMA weights when present).
 * The graph takes `x [B, C, S, S]`, `t [B]` and class ids `y [B]` (the null class is
 * `nClasses - 1`) and returns eps `[B, C, S, S]`, as `apply_model(x, t, get_learned_conditioning(y))`.
 * Adapted from CompVis/latent-diffusion@a506df5 (semantics only).
 *
 * @module
 */
import { Graph, type ModelBytes, type ToModelOptions, type Value } from "../../graph/graph.ts";
import { Layers, type ParamStore } from "../../graph/nn.ts";
import { gather } from "../../graph/ops/shape.ts";
import type { Tensor } from "../../core/tensor.ts";
import { checkLdmUNetConfig, CIN256_V2, type LdmConfig } from "./config.ts";
import { ldmUNetForward } from "./_forward.ts";
import { CheckpointParamStore, readLdmState, UNET_PREFIX } from "./_weights.ts";

/** Key of the ClassEmbedder table in a LatentDiffusion state dict. */
export const CLASS_EMBEDDING_KEY = "cond_stage_model.embedding.weight";

/**
 * Options of {@link LatentDiffusion.load}.
 *
 * @example
 * ```ts
 * import type { LoadLdmOptions } from "./ldm.ts";
 * const o: LoadLdmOptions = { ema: false };
 * ```
 */
export interface LoadLdmOptions {
  /** Use the `model_ema.*` weights when the file has them (default true). */
  ema?: boolean;
  /** Reject U-Net/condition keys the configuration does not use (default true). */
  strict?: boolean;
}

/**
 * A built LDM denoiser graph: inputs `x`, `t`, `y` and the eps `output`.
 *
 * @example
 * ```ts
 * import type { LdmGraph } from "./ldm.ts";
 * const pick = (b: LdmGraph) => b.output; // [B, C, S, S]
 * ```
 */
export interface LdmGraph {
  /** The graph. */
  graph: Graph;
  /** Latents [B, C, S, S] float32. */
  x: Value;
  /** Timesteps [B] float32. */
  t: Value;
  /** Class ids [B] int32. */
  y: Value;
  /** eps [B, C, S, S]. */
  output: Value;
}

/** What a file whose keys are DiT's looks like to the LDM loader. */
function shapeHint(tensors: Map<string, Tensor>): string {
  if (tensors.has("x_embedder.proj.weight") || tensors.has("pos_embed")) {
    return "; this looks like a DiT checkpoint (give it to --dit, not --ldm)";
  }
  if (![...tensors.keys()].some((k) => k.startsWith(UNET_PREFIX))) {
    return `; no key starts with '${UNET_PREFIX}': not a LatentDiffusion checkpoint`;
  }
  return "";
}

/**
 * A LatentDiffusion denoiser: configuration and weights (a store keyed by state-dict name).
 *
 * @example
 * ```ts
 * import { LatentDiffusion } from "./ldm.ts";
 * const ldm = await LatentDiffusion.load("cin256-v2.ckpt");
 * const bytes = ldm.toModel(2);
 * ```
 */
export class LatentDiffusion {
  /** Wraps a configuration and its weights. */
  constructor(readonly config: LdmConfig, readonly store: ParamStore) {}

  /** Reads a Lightning `.ckpt` (or flat state dict) and checks it against `config`. */
  static async load(
    path: string,
    config: LdmConfig = CIN256_V2,
    o: LoadLdmOptions = {},
  ): Promise<LatentDiffusion> {
    const { tensors, path: file } = await readLdmState(path);
    return LatentDiffusion.fromStateDict(tensors, config, file, o);
  }

  /** Checks an in-memory state dict; `source` names it in errors. */
  static fromStateDict(
    tensors: Map<string, Tensor>,
    config: LdmConfig = CIN256_V2,
    source = "state dict",
    o: LoadLdmOptions = {},
  ): LatentDiffusion {
    checkLdmUNetConfig(config.unet);
    const store = new CheckpointParamStore(
      tensors,
      source,
      config.name,
      o.ema ?? true,
      shapeHint(tensors),
    );
    const ldm = new LatentDiffusion(config, store);
    ldm.graph(1); // reads and checks every weight now
    if (o.strict ?? true) {
      store.checkAllUsed(UNET_PREFIX);
      store.checkAllUsed("cond_stage_model.");
    }
    return ldm;
  }

  /** Number of U-Net and ClassEmbedder parameters. */
  get numParams(): number {
    let n = 0;
    for (const p of this.store.entries.values()) n += p.data.length;
    return n;
  }

  /** Builds the eps graph for a fixed batch size (inputs `x`, `t`, `y`; output `out`). */
  graph(batch: number): LdmGraph {
    const c = this.config, u = c.unet;
    if (!Number.isInteger(batch) || batch < 1) {
      throw new RangeError(`LDM batch must be a positive integer, got ${batch}`);
    }
    const graph = new Graph();
    const nn = new Layers(graph, this.store, false);
    const x = graph.input("x", [batch, u.inChannels, u.imageSize, u.imageSize]);
    const t = graph.input("t", [batch]);
    const y = graph.input("y", [batch], "int32");
    const table = nn.param(CLASS_EMBEDDING_KEY, [c.nClasses, u.contextDim], {
      kind: "normal",
      std: 1,
    });
    const context = gather(table, y, 0); // ClassEmbedder: [B, 1, D] as B rows of one token
    const output = ldmUNetForward(nn, u, x, t, context, UNET_PREFIX);
    graph.output(output, "out");
    return { graph, x, t, y, output };
  }

  /** ONNX bytes of the graph for a batch size (external data past 2 GB). */
  toModel(batch: number, o: ToModelOptions = {}): ModelBytes {
    return this.graph(batch).graph.toModel({ paramsAs: "initializers", ...o });
  }
}
