/**
 * A small training API over the graph builder and autodiff: the model is written once as
 * `(nn, x) => logits`; the trainer builds (per batch size, lazily) a train-mode graph that
 * outputs the loss, every parameter's gradient and the new BatchNorm running statistics,
 * and an eval-mode graph that outputs logits, and runs them as ordinary ONNX sessions.
 *
 * Parameters live in a {@link ParamStore} as Float32Arrays that an optimizer from
 * `optim.ts` updates in place; gradients are written by onnxruntime straight into
 * preallocated arrays (no allocation or copy per step). State exports and imports as
 * `Map<string, Tensor>` with PyTorch state-dict names.
 *
 * @module
 */
import { grad } from "./autodiff.ts";
import { Graph, type Value } from "./graph.ts";
import { crossEntropy, klDivSoftTargets, mixedCrossEntropy } from "./losses.ts";
import { Layers, ParamStore } from "./nn.ts";
import { fillDropoutMask } from "./ops/dropout.ts";
import type { Optimizer, ParamMap } from "./optim.ts";
import { Session, type SessionOptions } from "./session.ts";
import type { Tensor } from "./tensor.ts";

/** A model: builds logits `[N, classes]` from `x [N, ...inputShape]`. */
export type ModelFn = (nn: Layers, x: Value) => Value;

/** Training loss: hard labels, mixed (CutMix) labels, or soft labels from a teacher. */
export type LossSpec =
  | { kind: "crossEntropy" }
  | { kind: "mixedCrossEntropy" }
  | { kind: "klDiv"; temperature: number; scaleByTSquared?: boolean };

/** Options of {@link Trainer}. */
export interface TrainerOptions {
  model: ModelFn;
  /** Shape of one sample, e.g. `[3, 32, 32]`. */
  inputShape: number[];
  classes: number;
  loss: LossSpec;
  /** Uniform [0, 1) generator for initialisation and dropout masks (seeded by the caller). */
  random: () => number;
  optimizer?: Optimizer;
  /** Initial weights (PyTorch names); missing ones get PyTorch's default init. */
  state?: Map<string, Tensor>;
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
  feeds: Record<string, Tensor>;
  into: Record<string, Tensor>;
  random: { name: string; p: number; data: Float32Array }[];
  updates: [string, string][];
}

const f32 = (shape: number[], data: Float32Array): Tensor => ({ dtype: "F32", shape, data });

/**
 * Trains a model with onnxruntime.
 *
 * @example
 * ```ts
 * import { Trainer } from "./trainer.ts";
 * import { SGD } from "./optim.ts";
 * import { flatten } from "./ops/shape.ts";
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
  readonly store: ParamStore;
  #train = new Map<number, Built>();
  #eval = new Map<number, Built>();

  constructor(readonly o: TrainerOptions) {
    this.store = new ParamStore(o.random);
    // Build once at batch size 1 to create every parameter, then apply the given state.
    this.#graph(1, false);
    if (o.state) this.loadStateDict(o.state);
  }

  /**
   * Trainable parameters by PyTorch name (update them in place). Conv weights are stored
   * [Cout, kh, kw, Cin]; `store.toTorch(name, data)` gives PyTorch's layout. Gradients from
   * {@link computeGradients} use the same layout as these arrays.
   */
  get params(): ParamMap {
    const m: ParamMap = new Map();
    for (const [k, p] of this.store.entries) if (p.trainable) m.set(k, p.data);
    return m;
  }

  #graph(n: number, training: boolean): { g: Graph; nn: Layers; loss?: Value; logits: Value } {
    const g = new Graph();
    const nn = new Layers(g, this.store, training);
    const x = g.input("x", [n, ...this.o.inputShape]);
    const logits = this.o.model(nn, x);
    if (logits.shape.join() !== `${n},${this.o.classes}`) {
      throw new RangeError(`Model output ${logits} should be [${n}, ${this.o.classes}]`);
    }
    if (!training) return { g, nn, logits };
    const spec = this.o.loss;
    const labels = () => g.input("labels", [n], "int64");
    const loss = spec.kind === "crossEntropy"
      ? crossEntropy(logits, labels())
      : spec.kind === "mixedCrossEntropy"
      ? mixedCrossEntropy(logits, labels(), g.input("labels_b", [n], "int64"), g.input("lam", []))
      : klDivSoftTargets(logits, g.input("teacher", [n, this.o.classes]), spec.temperature, spec);
    return { g, nn, loss, logits };
  }

  async #build(n: number, training: boolean): Promise<Built> {
    const cache = training ? this.#train : this.#eval;
    const have = cache.get(n);
    if (have) return have;
    const { g, nn, loss, logits } = this.#graph(n, training);
    const into: Record<string, Tensor> = {};
    const updates: [string, string][] = [];
    if (loss) {
      g.output(loss, "loss");
      const names = [...g.params.values()].filter((p) => p.trainable).map((p) => p.value.name);
      const grads = grad(loss, names.map((k) => g.params.get(k)!.value));
      names.forEach((k, i) => {
        g.output(grads[i], `grad:${k}`);
        const p = this.store.entries.get(k)!;
        into[`grad:${k}`] = f32(p.shape, new Float32Array(p.data.length));
      });
      for (const [k, v] of nn.updates) {
        g.output(v, `update:${k}`);
        updates.push([`update:${k}`, k]);
      }
    } else g.output(logits, "logits");
    const session = await Session.create(g.toModel(), this.o.session);
    const feeds: Record<string, Tensor> = {};
    for (const [k, p] of g.params) {
      feeds[k] = f32(p.value.shape as number[], p.data as Float32Array);
    }
    const random = g.randomInputs.map((r) => ({
      name: r.value.name,
      p: r.p,
      data: new Float32Array(r.value.shape.reduce((a, b) => a * b, 1)),
    }));
    for (const r of random) {
      feeds[r.name] = f32(g.inputs.find((v) => v.name === r.name)!.shape as number[], r.data);
    }
    const built = { session, feeds, into, random, updates };
    cache.set(n, built);
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

  /**
   * Loss and gradients of one batch in train mode; also advances BatchNorm running
   * statistics. The gradient arrays are reused by the next call with the same batch size.
   */
  async computeGradients(batch: Batch): Promise<{ loss: number; grads: ParamMap }> {
    const n = this.#batchSize(batch.x);
    const b = await this.#build(n, true);
    const feeds: Record<string, Tensor> = {
      ...b.feeds,
      x: f32([n, ...this.o.inputShape], batch.x),
    };
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
    for (const r of b.random) fillDropoutMask(r.data, r.p, this.o.random);
    const out = await b.session.run(feeds, { into: b.into });
    for (const [outName, buf] of b.updates) {
      this.store.entries.get(buf)!.data.set(out[outName].data as Float32Array);
    }
    for (const k of this.store.counters.keys()) {
      this.store.counters.set(k, this.store.counters.get(k)! + 1n);
    }
    const grads: ParamMap = new Map();
    for (const [k, t] of Object.entries(b.into)) grads.set(k.slice(5), t.data as Float32Array);
    return { loss: (out.loss.data as Float32Array)[0], grads };
  }

  /** One optimisation step: gradients, then the optimizer's in-place update. Returns the loss. */
  async step(batch: Batch): Promise<number> {
    if (!this.o.optimizer) {
      throw new Error("Trainer.step needs an optimizer (or use computeGradients)");
    }
    const { loss, grads } = await this.computeGradients(batch);
    this.o.optimizer.step(this.params, grads);
    return loss;
  }

  /** Eval-mode logits `[N, classes]` of a batch (running statistics, no dropout). */
  async forward(x: Float32Array): Promise<Float32Array> {
    const n = this.#batchSize(x);
    const b = await this.#build(n, false);
    const out = await b.session.run({ ...b.feeds, x: f32([n, ...this.o.inputShape], x) });
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

  /** Frees every session. */
  async release(): Promise<void> {
    for (const b of [...this.#train.values(), ...this.#eval.values()]) await b.session.release();
    this.#train.clear();
    this.#eval.clear();
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
