/**
 * A small training API over the graph builder and autodiff: the model is written once as
 * `(nn, x) => logits`; the trainer builds (per batch size, lazily) a train-mode graph that
 * outputs the loss, every parameter's gradient and the new BatchNorm running statistics,
 * and an eval-mode graph that outputs logits, and runs them as ordinary ONNX sessions.
 *
 * Parameters live in a {@link ParamStore} as Float32Arrays. Two ways to optimise:
 * - `optimizer` (an `optim.ts` Optimizer): `step` = {@link Trainer.computeGradients}, whose
 *   gradients onnxruntime writes straight into preallocated arrays, then the optimizer's
 *   in-place update in JavaScript;
 * - `graphOptimizer` (e.g. `GraphSGD`): the update runs inside the training graph, and the
 *   new parameters and optimizer state are written into second buffers that are swapped in
 *   after each step (no copies, no separate pass in JavaScript).
 * State exports and imports as `Map<string, Tensor>` with PyTorch state-dict names.
 *
 * @module
 */
import type { GraphOptimizer } from "./graph_sgd.ts";
import { ParamStore } from "../graph/nn.ts";
import { fillDropoutMask } from "../graph/ops/dropout.ts";
import type { Optimizer, ParamMap } from "./optim.ts";
import { Session, type SessionOptions } from "../graph/session.ts";
import type { Tensor } from "../core/tensor.ts";
import { buildTrainGraph, type GraphMode, type LossSpec, type ModelFn } from "./_train_graph.ts";

export type { LossSpec, ModelFn } from "./_train_graph.ts";

/** Options of {@link Trainer}. */
export interface TrainerOptions {
  /** The network, built once per mode and batch size. */
  model: ModelFn;
  /** Shape of one sample, e.g. `[3, 32, 32]`. */
  inputShape: number[];
  /** Number of logits. */
  classes: number;
  /** Loss of the train-mode graph. */
  loss: LossSpec;
  /** Uniform [0, 1) generator for initialisation and dropout masks (seeded by the caller). */
  random: () => number;
  /** Optimizer updating parameters in JavaScript after each gradient computation. */
  optimizer?: Optimizer;
  /** Optimizer fused into the training graph (takes precedence for `step`). */
  graphOptimizer?: GraphOptimizer;
  /** Initial weights (PyTorch names and layouts); missing ones get PyTorch's default init. */
  state?: Map<string, Tensor>;
  /**
   * Session options (threads, execution providers); graph optimisation defaults to "extended",
   * memory to {@link TRAINER_SESSION_MEMORY}.
   */
  session?: SessionOptions;
}

/** One batch: inputs and the targets the loss needs. */
export interface Batch {
  /** `[N, ...inputShape]`, row-major. */
  x: Float32Array;
  /** Class indices (crossEntropy; first label set of mixedCrossEntropy). */
  labels?: ArrayLike<number> | BigInt64Array;
  /** Second label set of mixedCrossEntropy. */
  labelsB?: ArrayLike<number> | BigInt64Array;
  /** Weight of `labels` in mixedCrossEntropy. */
  lam?: number;
  /** Teacher logits `[N, classes]` (klDiv). */
  teacher?: Float32Array;
}

interface Built {
  session: Session;
  params: string[];
  trainable: string[];
  updates: [string, string][];
  into: Record<string, Tensor>;
  random: { name: string; shape: number[]; p: number; data: Float32Array }[];
}

const f32 = (shape: number[], data: Float32Array): Tensor => ({ dtype: "F32", shape, data });

/**
 * Memory settings of the trainer's sessions (overridable through `TrainerOptions.session`): no
 * memory pattern. With it, onnxruntime asks its arena for one contiguous block per input shape
 * on the second run, which the blocks of the first run never fit, so every session's arena
 * grew to about twice its working set and kept it (a ConvNet-4 at 64 px, batch 64, 10 epochs:
 * 4.36 GB resident with two training sessions and one validation session); without it the
 * arena reuses the first run's blocks: 2.26 GB, the same numbers, and 12% less CPU time
 * (measured 2026-12-03 on 2 AMD EPYC Zen 4 cores; see DESIGN.md). Turning the arena off as well
 * frees everything after each run (1.2 GB) but costs about 40% more CPU time in page faults.
 *
 * @example
 * ```ts
 * import { TRAINER_SESSION_MEMORY } from "./trainer.ts";
 * TRAINER_SESSION_MEMORY.memPattern; // false
 * ```
 */
export const TRAINER_SESSION_MEMORY: Readonly<Pick<SessionOptions, "memArena" | "memPattern">> = {
  memPattern: false,
};

/**
 * Trains a model with onnxruntime.
 *
 * @example
 * ```ts
 * import { Trainer } from "./trainer.ts";
 * import { SGD } from "./optim.ts";
 * import { flatten } from "../graph/ops/shape.ts";
 * const t = new Trainer({
 *   model: (nn, x) => nn.linear("fc", flatten(x, 1), 10),
 *   inputShape: [3, 8, 8],
 *   classes: 10,
 *   loss: { kind: "crossEntropy" },
 *   random: Math.random,
 *   optimizer: new SGD({ lr: 0.1 }),
 * });
 * const loss = await t.step({ x: new Float32Array(2 * 192), labels: [1, 2] });
 * ```
 */
export class Trainer {
  /** Parameter and buffer values (PyTorch names). */
  readonly store: ParamStore;
  #built = new Map<string, Built>();
  /** Second buffers of parameters and optimizer state (graphOptimizer), swapped per step. */
  #spare = new Map<string, Float32Array>();
  #optState = new Map<string, Float32Array[]>();
  #optSpare = new Map<string, Float32Array[]>();
  #steps = 0;

  /**
   * Creates every parameter (building the graph once at batch size 1), then loads `o.state` when
   * given.
   */
  constructor(readonly o: TrainerOptions) {
    this.store = new ParamStore(o.random);
    // Build once at batch size 1 to create every parameter, then apply the given state.
    buildTrainGraph(o, this.store, 1, "eval");
    if (o.state) this.loadStateDict(o.state);
  }

  /**
   * Trainable parameters by PyTorch name (an optimizer updates them in place). Conv weights
   * are stored [Cout, kh, kw, Cin]; `store.toTorch(name, data)` gives PyTorch's layout.
   * Gradients from {@link computeGradients} use the same layout as these arrays.
   */
  get params(): ParamMap {
    const m: ParamMap = new Map();
    for (const [k, p] of this.store.entries) if (p.trainable) m.set(k, p.data);
    return m;
  }

  async #build(n: number, mode: GraphMode): Promise<Built> {
    const key = `${mode}:${n}`;
    const have = this.#built.get(key);
    if (have) return have;
    const t = buildTrainGraph(this.o, this.store, n, mode, this.o.graphOptimizer);
    const session = await Session.create(t.g.toModel(), {
      graphOptimizationLevel: "extended", // "all" adds NCHWc reorders that cost more here
      ...TRAINER_SESSION_MEMORY,
      ...this.o.session,
    });
    const into: Record<string, Tensor> = {};
    if (mode === "grad") {
      for (const k of t.trainable) {
        const p = this.store.entries.get(k)!;
        into[`grad:${k}`] = f32(p.shape, new Float32Array(p.data.length));
      }
    }
    const random = t.g.randomInputs.map((r) => ({
      name: r.value.name,
      shape: [...r.value.shape],
      p: r.p,
      data: new Float32Array(r.value.shape.reduce((a, b) => a * b, 1)),
    }));
    const built = {
      session,
      params: t.params,
      trainable: t.trainable,
      updates: t.updates,
      into,
      random,
    };
    this.#built.set(key, built);
    return built;
  }

  #batchSize(x: Float32Array): number {
    const per = this.o.inputShape.reduce((a, b) => a * b, 1);
    if (x.length % per !== 0 || x.length === 0) {
      throw new RangeError(
        `Batch x has ${x.length} values, not a multiple of [${this.o.inputShape}]`,
      );
    }
    return x.length / per;
  }

  /** Feeds of the parameters (current buffers), the batch and fresh dropout masks. */
  #feeds(b: Built, n: number, batch: Batch | null, x: Float32Array): Record<string, Tensor> {
    const feeds: Record<string, Tensor> = { x: f32([n, ...this.o.inputShape], x) };
    for (const k of b.params) {
      const p = this.store.entries.get(k)!;
      feeds[k] = f32(p.shape, p.data);
    }
    for (const r of b.random) {
      feeds[r.name] = f32(r.shape, fillDropoutMask(r.data, r.p, this.o.random));
    }
    if (!batch) return feeds;
    const spec = this.o.loss;
    if (spec.kind !== "klDiv") feeds.labels = int64("labels", batch.labels, n);
    if (spec.kind === "mixedCrossEntropy") {
      feeds.labels_b = int64("labelsB", batch.labelsB, n);
      if (batch.lam === undefined) throw new Error("mixedCrossEntropy batch needs lam");
      feeds.lam = f32([], Float32Array.of(batch.lam));
    }
    if (spec.kind === "klDiv") {
      if (!batch.teacher) throw new Error("klDiv batch needs teacher logits");
      feeds.teacher = f32([n, this.o.classes], batch.teacher);
    }
    return feeds;
  }

  #afterTrainRun(b: Built, out: Record<string, Tensor>): number {
    for (const [name, buf] of b.updates) {
      this.store.entries.get(buf)!.data.set(out[name].data as Float32Array);
    }
    for (const [k, c] of this.store.counters) this.store.counters.set(k, c + 1n);
    return (out.loss.data as Float32Array)[0];
  }

  /**
   * Loss and gradients of one batch in train mode; also advances BatchNorm running
   * statistics. The gradient arrays are reused by the next call with the same batch size.
   */
  async computeGradients(batch: Batch): Promise<{ loss: number; grads: ParamMap }> {
    const n = this.#batchSize(batch.x);
    const b = await this.#build(n, "grad");
    const out = await b.session.run(this.#feeds(b, n, batch, batch.x), { into: b.into });
    const grads: ParamMap = new Map();
    for (const k of b.trainable) grads.set(k, b.into[`grad:${k}`].data as Float32Array);
    return { loss: this.#afterTrainRun(b, out), grads };
  }

  /** One optimisation step (fused in the graph when a graphOptimizer is set). Returns the loss. */
  async step(batch: Batch): Promise<number> {
    const opt = this.o.graphOptimizer;
    if (!opt) {
      if (!this.o.optimizer) throw new Error("Trainer.step needs an optimizer or graphOptimizer");
      const { loss, grads } = await this.computeGradients(batch);
      this.o.optimizer.step(this.params, grads);
      return loss;
    }
    const n = this.#batchSize(batch.x);
    const b = await this.#build(n, "fused");
    const feeds = this.#feeds(b, n, batch, batch.x);
    const into: Record<string, Tensor> = {};
    for (const [h, v] of Object.entries(opt.hyper(this.#steps + 1))) {
      const name = `hyper:${h}`;
      if (b.session.inputs.some((i) => i.name === name)) feeds[name] = f32([], Float32Array.of(v));
    }
    for (const k of b.trainable) {
      const p = this.store.entries.get(k)!;
      const spare = this.#spare.get(k) ?? new Float32Array(p.data.length);
      this.#spare.set(k, spare);
      into[`new_param:${k}`] = f32(p.shape, spare);
      const state = this.#optState.get(k) ?? opt.slots.map(() => new Float32Array(p.data.length));
      const next = this.#optSpare.get(k) ?? opt.slots.map(() => new Float32Array(p.data.length));
      this.#optState.set(k, state);
      this.#optSpare.set(k, next);
      opt.slots.forEach((s, i) => {
        feeds[`state:${k}:${s}`] = f32(p.shape, state[i]);
        into[`new_state:${k}:${s}`] = f32(p.shape, next[i]);
      });
    }
    const out = await b.session.run(feeds, { into });
    for (const k of b.trainable) { // swap in the new buffers; the old ones become spares
      const p = this.store.entries.get(k)!;
      const old = p.data;
      p.data = this.#spare.get(k)!;
      this.#spare.set(k, old);
      const state = this.#optState.get(k)!;
      this.#optState.set(k, this.#optSpare.get(k)!);
      this.#optSpare.set(k, state);
    }
    this.#steps++;
    return this.#afterTrainRun(b, out);
  }

  /** Eval-mode logits `[N, classes]` of a batch (running statistics, no dropout). */
  async forward(x: Float32Array): Promise<Float32Array> {
    const n = this.#batchSize(x);
    const b = await this.#build(n, "eval");
    const out = await b.session.run(this.#feeds(b, n, null, x));
    return out.logits.data as Float32Array;
  }

  /** Parameters, buffers and counters as tensors with PyTorch state-dict names (copies). */
  stateDict(): Map<string, Tensor> {
    const m = new Map<string, Tensor>();
    for (const k of this.store.entries.keys()) m.set(k, this.store.toTorch(k));
    for (const [k, c] of this.store.counters) {
      m.set(k, { dtype: "I64", shape: [], data: BigInt64Array.of(c) });
    }
    return m;
  }

  /** Copies values from a state dict in place; throws naming missing or mis-shaped keys. */
  loadStateDict(state: Map<string, Tensor>, o: { strict?: boolean } = {}): void {
    for (const k of this.store.entries.keys()) {
      const t = state.get(k);
      if (!t) throw new Error(`State dict lacks '${k}'`);
      this.store.fromTorch(k, t);
    }
    for (const k of this.store.counters.keys()) {
      const t = state.get(k);
      if (t) this.store.counters.set(k, BigInt(Number(t.data[0])));
    }
    if (o.strict !== false) {
      for (const k of state.keys()) {
        if (!this.store.entries.has(k) && !this.store.counters.has(k)) {
          throw new Error(`State dict has '${k}', which the model does not use`);
        }
      }
    }
  }

  /**
   * State of the graphOptimizer as `state.<param>.<slot>` tensors in PyTorch's layout
   * (torch.optim state naming), e.g. `state.fc.weight.momentum_buffer`.
   */
  graphOptimizerState(): Map<string, Tensor> {
    const m = new Map<string, Tensor>();
    const slots = this.o.graphOptimizer?.slots ?? [];
    for (const [k, arrays] of this.#optState) {
      slots.forEach((s, i) => m.set(`state.${k}.${s}`, this.store.toTorch(k, arrays[i])));
    }
    return m;
  }

  /** The sessions built so far, as `<mode>:<batch size>` (e.g. `grad:64`, `eval:100`). */
  get sessions(): string[] {
    return [...this.#built.keys()];
  }

  /**
   * Frees every session, or every one but the training sessions at batch size `keepTrain`.
   * A freed session is rebuilt when next needed (a graph build, a session and its first run's
   * page faults: about 0.3 s for a ConvNet-4 at 64 px, batch 36). A training loop that frees
   * all but its full-batch session around each validation holds at most two arenas at once
   * (full + partial batch, or full + validation) instead of three.
   */
  async release(o: { keepTrain?: number } = {}): Promise<void> {
    const keep = o.keepTrain === undefined ? [] : [`grad:${o.keepTrain}`, `fused:${o.keepTrain}`];
    for (const [key, b] of this.#built) {
      if (keep.includes(key)) continue;
      await b.session.release();
      this.#built.delete(key);
    }
  }
}

function int64(what: string, v: ArrayLike<number> | BigInt64Array | undefined, n: number): Tensor {
  if (!v) throw new Error(`Batch needs ${what}`);
  if (v.length !== n) throw new RangeError(`Batch ${what} has ${v.length} entries, expected ${n}`);
  const data = v instanceof BigInt64Array
    ? v
    : BigInt64Array.from(Array.from(v as ArrayLike<number>), BigInt);
  return { dtype: "I64", shape: [n], data };
}
