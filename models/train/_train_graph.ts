/**
 * Builds the trainer's graphs: eval (logits), grad (loss, gradients, new BatchNorm running
 * statistics) and fused (grad plus the parameter and optimizer-state updates of a
 * {@link GraphOptimizer}).
 *
 * @module
 */
import { grad } from "../graph/autodiff/autodiff.ts";
import { Graph, type Value } from "../graph/graph.ts";
import type { GraphOptimizer } from "./graph_sgd.ts";
import { crossEntropy, klDivSoftTargets, mixedCrossEntropy } from "./losses.ts";
import { Layers, type ParamStore } from "../graph/nn.ts";

/** Which graph to build. */
/** A model: builds logits `[N, classes]` from `x [N, ...inputShape]`. */
export type ModelFn = (nn: Layers, x: Value) => Value;

/** Training loss: hard labels, mixed (CutMix) labels, or soft labels from a teacher. */
export type LossSpec =
  | { kind: "crossEntropy" }
  | { kind: "mixedCrossEntropy" }
  | { kind: "klDiv"; temperature: number; scaleByTSquared?: boolean };

export type GraphMode = "eval" | "grad" | "fused";

/** A built graph and the names the trainer feeds and reads. */
export interface TrainGraph {
  g: Graph;
  /** Store entries fed as inputs. */
  params: string[];
  /** Trainable parameters with a `grad:<name>` output (grad) or updates (fused). */
  trainable: string[];
  /** `[output name, buffer name]` of new running statistics. */
  updates: [string, string][];
}

/** Model, loss and shapes of a training setup. */
export interface GraphSpec {
  model: ModelFn;
  inputShape: number[];
  classes: number;
  loss: LossSpec;
}

/**
 * Builds one of the trainer's graphs for batch size `n`.
 *
 * @example
 * ```ts
 * import { buildTrainGraph, type GraphSpec } from "./_train_graph.ts";
 * import { ParamStore } from "../graph/nn.ts";
 * import { flatten } from "../graph/ops/shape.ts";
 * const spec: GraphSpec = {
 *   model: (nn, x) => nn.linear("fc", flatten(x, 1), 10),
 *   inputShape: [3, 8, 8],
 *   classes: 10,
 *   loss: { kind: "crossEntropy" },
 * };
 * const { g } = buildTrainGraph(spec, new ParamStore(Math.random), 4, "grad");
 * ```
 */
export function buildTrainGraph(
  spec: GraphSpec,
  store: ParamStore,
  n: number,
  mode: GraphMode,
  opt?: GraphOptimizer,
): TrainGraph {
  const g = new Graph();
  const nn = new Layers(g, store, mode !== "eval");
  const x = g.input("x", [n, ...spec.inputShape]);
  const logits = spec.model(nn, x);
  if (logits.shape.join() !== `${n},${spec.classes}`) {
    throw new RangeError(`Model output ${logits} should be [${n}, ${spec.classes}]`);
  }
  const params = [...g.params.keys()];
  if (mode === "eval") {
    g.output(logits, "logits");
    return { g, params, trainable: [], updates: [] };
  }
  const loss = lossOf(g, spec, logits, n);
  g.output(loss, "loss");
  const trainable = [...g.params.values()].filter((p) => p.trainable).map((p) => p.value.name);
  const grads = grad(loss, trainable.map((k) => g.params.get(k)!.value));
  const updates: [string, string][] = [];
  for (const [k, v] of nn.updates) {
    g.output(v, `update:${k}`);
    updates.push([`update:${k}`, k]);
  }
  if (mode === "grad") {
    trainable.forEach((k, i) => g.output(grads[i], `grad:${k}`));
    return { g, params, trainable, updates };
  }
  if (!opt) throw new Error("A fused training graph needs a GraphOptimizer");
  const hyper: Record<string, Value> = {};
  for (const h of Object.keys(opt.hyper(1))) hyper[h] = g.input(`hyper:${h}`, []);
  trainable.forEach((k, i) => {
    const p = g.params.get(k)!.value;
    const state = opt.slots.map((s) => g.input(`state:${k}:${s}`, p.shape));
    const u = opt.update(p, grads[i], state, hyper);
    g.output(u.param, `new_param:${k}`);
    u.state.forEach((v, j) => g.output(v, `new_state:${k}:${opt.slots[j]}`));
  });
  return { g, params, trainable, updates };
}

function lossOf(g: Graph, spec: GraphSpec, logits: Value, n: number): Value {
  const s = spec.loss;
  const labels = () => g.input("labels", [n], "int64");
  if (s.kind === "crossEntropy") return crossEntropy(logits, labels());
  if (s.kind === "mixedCrossEntropy") {
    return mixedCrossEntropy(
      logits,
      labels(),
      g.input("labels_b", [n], "int64"),
      g.input("lam", []),
    );
  }
  return klDivSoftTargets(logits, g.input("teacher", [n, spec.classes]), s.temperature, s);
}
