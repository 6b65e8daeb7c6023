/**
 * SGD (torch.optim.SGD semantics: weight decay, momentum, dampening, nesterov) as update
 * nodes inside the training graph, for {@link Trainer}'s `graphOptimizer` option: the step
 * then runs forward, backward and update in one onnxruntime call, with the update
 * multi-threaded and no separate pass over the parameters in JavaScript.
 *
 * Notation: p parameter, g gradient, lr learning rate, wd weight decay, mu momentum,
 * tau dampening, b momentum buffer. PyTorch starts b as the first step's g; here that is
 * `b' = c1 b + c2 g` with (c1, c2) = (0, 1) on the first step and (mu, 1 - tau) after.
 *
 * @module
 */
import type { Value } from "../graph/graph.ts";
import { add, mul, sub } from "../graph/ops/elementwise.ts";

/** An optimizer expressed as graph nodes; state slots live in the trainer (double-buffered). */
export interface GraphOptimizer {
  /** Per-parameter state slots (PyTorch names, e.g. `momentum_buffer`). */
  readonly slots: readonly string[];
  /** Scalar inputs of step `t` (1-based), e.g. the learning rate. */
  hyper(t: number): Record<string, number>;
  /** Emits the update of one parameter; returns its new value and new state slots. */
  update(
    p: Value,
    g: Value,
    state: readonly Value[],
    hyper: Readonly<Record<string, Value>>,
  ): { param: Value; state: Value[] };
}

/** Options of {@link GraphSGD} (torch.optim.SGD's arguments). */
export interface GraphSGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/**
 * torch.optim.SGD as graph nodes.
 *
 * @example
 * ```ts
 * import { GraphSGD } from "./graph_sgd.ts";
 * import { Trainer } from "./trainer.ts";
 * import { flatten } from "../graph/ops/shape.ts";
 * const t = new Trainer({
 *   model: (nn, x) => nn.linear("fc", flatten(x, 1), 10),
 *   inputShape: [3, 8, 8],
 *   classes: 10,
 *   loss: { kind: "crossEntropy" },
 *   random: Math.random,
 *   graphOptimizer: new GraphSGD({ lr: 0.01, momentum: 0.9, weightDecay: 5e-4 }),
 * });
 * await t.step({ x: new Float32Array(2 * 192), labels: [1, 2] });
 * ```
 */
export class GraphSGD implements GraphOptimizer {
  /** Learning rate of the next step (set it from a schedule). */
  lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  readonly slots: readonly string[];

  constructor(o: GraphSGDOptions) {
    this.lr = o.lr;
    this.momentum = o.momentum ?? 0;
    this.dampening = o.dampening ?? 0;
    this.weightDecay = o.weightDecay ?? 0;
    this.nesterov = o.nesterov ?? false;
    if (!(this.lr >= 0) || !(this.momentum >= 0) || !(this.weightDecay >= 0)) {
      throw new RangeError("GraphSGD: lr, momentum and weightDecay must be >= 0");
    }
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError("GraphSGD: nesterov needs momentum > 0 and dampening 0 (as in PyTorch)");
    }
    this.slots = this.momentum !== 0 ? ["momentum_buffer"] : [];
  }

  hyper(t: number): Record<string, number> {
    const first = t === 1;
    return {
      lr: this.lr,
      c1: first ? 0 : this.momentum,
      c2: first ? 1 : 1 - this.dampening,
    };
  }

  update(
    p: Value,
    g: Value,
    state: readonly Value[],
    h: Readonly<Record<string, Value>>,
  ): { param: Value; state: Value[] } {
    const d = this.weightDecay !== 0 ? add(g, mul(p, this.weightDecay)) : g; // g + wd p
    if (this.momentum === 0) return { param: sub(p, mul(d, h.lr)), state: [] };
    const b = add(mul(state[0], h.c1), mul(d, h.c2)); // mu b + (1 - tau) d
    const step = this.nesterov ? add(d, mul(b, this.momentum)) : b;
    return { param: sub(p, mul(step, h.lr)), state: [b] };
  }
}
