/**
 * The CLIP text encoder of Stable Diffusion (transformers' `CLIPTextModel`: OpenAI CLIP
 * ViT-L/14's text tower for SD 1.x, OpenCLIP ViT-H's without its last layer for SD 2.x), built
 * as an ONNX graph from a `text_encoder/` folder or a single-file SD 1.x checkpoint. The graph
 * takes `ids [B, T]` (int32, T = max_position_embeddings, the tokenizer's padded rows) and
 * returns `out [B, T, D]` = `last_hidden_state`, the U-Net's cross-attention context, as
 * diffusers' StableDiffusionPipeline.encode_prompt gets it (`text_encoder(ids)[0]`, no
 * attention mask). Adapted from huggingface/transformers@0ea0108 `modeling_clip.py`
 * (semantics only).
 *
 * @module
 */
import { Graph, type ModelBytes, type ToModelOptions, type Value } from "../../graph/graph.ts";
import { Layers, type ParamStore } from "../../graph/nn.ts";
import { SessionCache } from "../../graph/batch_sessions.ts";
import type { SessionOptions } from "../../graph/session.ts";
import { StateDict } from "../../graph/weights.ts";
import { CheckpointError } from "../../io/checkpoint.ts";
import type { Tensor } from "../../core/tensor.ts";
import { checkClipTextConfig, type ClipTextConfig, readClipTextConfig } from "./config.ts";
import { clipTextForward } from "./_forward.ts";
import {
  foreignHint,
  readTextEncoderState,
  StateDictParamStore,
  TEXT_MODEL_ROOT,
  textEncoderWeights,
} from "./_weights.ts";

/**
 * Where an SD 1.x single-file checkpoint keeps CLIPTextModel's weights
 * (`cond_stage_model.transformer.text_model.*`; diffusers' LDM_CLIP_PREFIX_TO_REMOVE).
 *
 * @example
 * ```ts
 * import { ClipTextEncoder, SD1_CHECKPOINT_PREFIX, SD15_TEXT_CONFIG } from "./mod.ts";
 * await ClipTextEncoder.load("v1-5-pruned-emaonly.safetensors", {
 *   config: SD15_TEXT_CONFIG,
 *   prefix: SD1_CHECKPOINT_PREFIX,
 * });
 * ```
 */
export const SD1_CHECKPOINT_PREFIX = "cond_stage_model.transformer.";
/** Sessions kept per encoder (one per batch size). */
const MAX_SESSIONS = 2;

/**
 * Options of {@link ClipTextEncoder.load} and {@link ClipTextEncoder.fromStateDict}.
 *
 * @example
 * ```ts
 * import type { LoadClipTextOptions } from "./text_encoder.ts";
 * const o: LoadClipTextOptions = { prefix: "cond_stage_model.transformer." };
 * ```
 */
export interface LoadClipTextOptions {
  /** The configuration (default: the folder's config.json, or the one beside a single file). */
  config?: ClipTextConfig;
  /** Put before every CLIPTextModel key (`text_model.*`); default "". */
  prefix?: string;
  /** onnxruntime settings of the sessions {@link ClipTextEncoder.encode} creates. */
  session?: SessionOptions;
}

/**
 * A built text-encoder graph: input `ids` and output `out`.
 *
 * @example
 * ```ts
 * import type { ClipTextGraph } from "./text_encoder.ts";
 * const pick = (g: ClipTextGraph) => g.output; // [B, T, D]
 * ```
 */
export interface ClipTextGraph {
  /** The graph. */
  graph: Graph;
  /** Token ids [B, T] int32. */
  ids: Value;
  /** last_hidden_state [B, T, D] float32. */
  output: Value;
}

const isDir = (p: string) => Deno.stat(p).then((s) => s.isDirectory, () => false);
const isFile = (p: string) => Deno.stat(p).then((s) => s.isFile, () => false);

/**
 * A CLIP text encoder: configuration, weights (keyed by CLIPTextModel name, without the
 * prefix) and lazily created onnxruntime sessions, one per batch size.
 *
 * @example
 * ```ts
 * import { ClipTextEncoder } from "./text_encoder.ts";
 * const te = await ClipTextEncoder.load("stable-diffusion-v1-5/text_encoder");
 * const ids = new Int32Array(2 * 77); // two tokenized prompts, padded to 77
 * const context = await te.encode(ids, 2); // [2, 77, 768]
 * await te.release();
 * ```
 */
export class ClipTextEncoder {
  readonly #sessions: SessionCache;

  /** Wraps a configuration and its weights. */
  constructor(
    readonly config: ClipTextConfig,
    readonly store: ParamStore,
    session: SessionOptions = {},
  ) {
    this.#sessions = new SessionCache((n) => this.toModel(n), session, MAX_SESSIONS);
  }

  /**
   * Reads a `text_encoder/` folder (config.json and model.safetensors, model.fp16.safetensors
   * or pytorch_model.bin; float16 weights become float32) or a single weights file.
   */
  static async load(path: string, o: LoadClipTextOptions = {}): Promise<ClipTextEncoder> {
    let config = o.config, file = path;
    if (await isDir(path)) {
      config ??= await readClipTextConfig(`${path.replace(/\/+$/, "")}/config.json`);
      file = await textEncoderWeights(path);
    } else if (!config) {
      const beside = `${path.slice(0, path.lastIndexOf("/") + 1) || "./"}config.json`;
      if (!(await isFile(path))) throw new CheckpointError(path, "no such file or folder");
      if (!(await isFile(beside))) {
        throw new CheckpointError(
          path,
          `a single weights file needs a configuration: no ${beside}; pass config ` +
            "(e.g. SD15_TEXT_CONFIG)",
        );
      }
      config = await readClipTextConfig(beside);
    }
    const sd = await readTextEncoderState(file);
    return ClipTextEncoder.fromStateDict(sd.tensors, config, sd.path, o);
  }

  /** Checks an in-memory state dict against `config`; `source` names it in errors. */
  static fromStateDict(
    tensors: ReadonlyMap<string, Tensor>,
    config: ClipTextConfig,
    source = "state dict",
    o: Omit<LoadClipTextOptions, "config"> = {},
  ): ClipTextEncoder {
    checkClipTextConfig(config, `CLIP text config for ${source}`);
    const prefix = o.prefix ?? "";
    if (![...tensors.keys()].some((k) => k.startsWith(prefix + TEXT_MODEL_ROOT))) {
      throw new CheckpointError(
        source,
        `no key starts with '${prefix}${TEXT_MODEL_ROOT}': not a CLIPTextModel state dict` +
          foreignHint(tensors.keys(), prefix),
      );
    }
    const store = new StateDictParamStore(new StateDict(source, tensors), prefix);
    const te = new ClipTextEncoder(config, store, o.session);
    te.graph(1); // reads and checks every weight now
    store.finish(`CLIPTextModel with ${config.numHiddenLayers} layers`);
    return te;
  }

  /** Number of parameters (CLIPTextModel's `num_parameters()`). */
  get numParams(): number {
    let n = 0;
    for (const p of this.store.entries.values()) n += p.data.length;
    return n;
  }

  /** Builds the graph for a fixed batch size (input `ids` [B, T] int32, output `out`). */
  graph(batch: number): ClipTextGraph {
    if (!Number.isInteger(batch) || batch < 1) {
      throw new RangeError(`CLIP text encoder batch must be a positive integer, got ${batch}`);
    }
    const graph = new Graph();
    const nn = new Layers(graph, this.store, false);
    const ids = graph.input("ids", [batch, this.config.maxPositionEmbeddings], "int32");
    const output = clipTextForward(nn, this.config, ids);
    graph.output(output, "out");
    return { graph, ids, output };
  }

  /** ONNX bytes of the graph for a batch size (weights as initializers). */
  toModel(batch: number, o: ToModelOptions = {}): ModelBytes {
    return this.graph(batch).graph.toModel({ paramsAs: "initializers", ...o });
  }

  /**
   * `last_hidden_state` [batch, T, D] of `ids` [batch, T] (row-major, T =
   * maxPositionEmbeddings), each id in [0, vocabSize).
   */
  async encode(ids: Int32Array, batch: number): Promise<Float32Array> {
    const c = this.config, T = c.maxPositionEmbeddings;
    if (!Number.isInteger(batch) || batch < 1 || ids.length !== batch * T) {
      throw new RangeError(
        `CLIP text encode: ${ids.length} ids for batch ${batch}; expected [batch, ${T}] ` +
          `(${Number.isInteger(batch) && batch > 0 ? batch * T : "?"} ids) with batch >= 1`,
      );
    }
    const bad = ids.findIndex((id) => id < 0 || id >= c.vocabSize);
    if (bad >= 0) {
      throw new RangeError(
        `CLIP text encode: id ${ids[bad]} at row ${Math.floor(bad / T)}, position ${bad % T} ` +
          `is outside the vocabulary [0, ${c.vocabSize - 1}]`,
      );
    }
    const s = await this.#sessions.session(batch);
    const { out } = await s.run({ ids: { dtype: "I32", shape: [batch, T], data: ids } });
    return out.data as Float32Array;
  }

  /** Frees every cached session. */
  release(): Promise<void> {
    return this.#sessions.release();
  }
}
