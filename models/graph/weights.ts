/**
 * Checked access to a loaded state dict while a model graph is built: each weight is looked
 * up by its PyTorch name, its shape checked, widened to float32 and added to the graph as a
 * named parameter; what the model never asked for can be listed afterwards (PyTorch's
 * `load_state_dict(strict=True)`). Errors read "Cannot load checkpoint <path>: key '<k>'
 * missing ...".
 *
 * @module
 */
import { CheckpointError, loadCheckpoint } from "../io/checkpoint.ts";
import type { Graph, Value } from "./graph.ts";
import { type Tensor, toFloat32 } from "../core/tensor.ts";

/**
 * A state dict being consumed by a graph builder.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { StateDict } from "./weights.ts";
 * const sd = await StateDict.load("taef2_encoder.pth");
 * const g = new Graph();
 * const w = sd.param(g, "0.weight", [64, 3, 3, 3]);
 * ```
 */
export class StateDict {
  readonly #used = new Set<string>();
  readonly #cache = new Map<string, Float32Array>();

  /** Wraps tensors read from `path` (named in errors). */
  constructor(readonly path: string, readonly tensors: ReadonlyMap<string, Tensor>) {}

  /** Reads a checkpoint (file or diffusers folder) with {@link loadCheckpoint}. */
  static async load(path: string): Promise<StateDict> {
    const ckpt = await loadCheckpoint(path);
    return new StateDict(ckpt.path, ckpt.tensors);
  }

  /** Whether the checkpoint has a key. */
  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /**
   * The float32 values of `name`, which must have `shape` (or, when given, one of the
   * `alternatives` shapes with the same number of elements, e.g. a 1x1 conv stored for a
   * linear layer). Marks the key used.
   */
  get(name: string, shape: readonly number[], alternatives: number[][] = []): Float32Array {
    const t = this.tensors.get(name);
    if (!t) {
      throw new CheckpointError(this.path, `key '${name}' missing (expected shape [${shape}])`);
    }
    const ok = [shape, ...alternatives].some((s) =>
      s.length === t.shape.length && s.every((d, i) => d === t.shape[i])
    );
    if (!ok) {
      throw new CheckpointError(
        this.path,
        `key '${name}' has shape [${t.shape}], expected [${shape}]`,
      );
    }
    this.#used.add(name);
    let data = this.#cache.get(name);
    if (!data) {
      if (!["F32", "F16", "BF16", "F64"].includes(t.dtype)) {
        throw new CheckpointError(this.path, `key '${name}' is ${t.dtype}, expected a float type`);
      }
      data = toFloat32(t);
      this.#cache.set(name, data);
    }
    return data;
  }

  /** Adds weight `name` to a graph as a (non-trainable) parameter of shape `shape`. */
  param(g: Graph, name: string, shape: readonly number[], alternatives: number[][] = []): Value {
    const have = g.params.get(name);
    if (have) return have.value;
    return g.param(name, shape, this.get(name, shape, alternatives), false);
  }

  /** Marks keys as used without reading them (e.g. buffers the model recomputes). */
  markUsed(...names: string[]): void {
    for (const n of names) if (this.tensors.has(n)) this.#used.add(n);
  }

  /** Keys the builders have not read, in checkpoint order. */
  unused(): string[] {
    return [...this.tensors.keys()].filter((k) => !this.#used.has(k));
  }

  /** Throws naming the first key no builder read (`what` names the model in the message). */
  assertAllUsed(what: string): void {
    const extra = this.unused();
    if (extra.length) {
      const more = extra.length > 1 ? ` (and ${extra.length - 1} more)` : "";
      throw new CheckpointError(
        this.path,
        `unexpected key '${extra[0]}'${more}: ${what} has no such weight`,
      );
    }
  }
}
