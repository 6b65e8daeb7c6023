/**
 * Layer helpers that create their weights as named graph parameters (PyTorch state-dict
 * names: `features.0.weight`, `bn1.running_mean`, ...), so a model is written once as a
 * function `(nn, x) => logits` and built in train or eval mode. Weights come from a shared
 * {@link ParamStore}: both modes see the same Float32Arrays, which an optimizer updates
 * in place. Missing weights get PyTorch's default initialisation from a seeded generator.
 *
 * @module
 */
import type { Graph, Value } from "./graph.ts";
import { batchNorm } from "./ops/batchnorm.ts";
import { conv, convTranspose, linear as linearOp } from "./ops/conv.ts";
import { dropout as dropoutOp } from "./ops/dropout.ts";
import { groupNorm as groupNormOp, layerNorm as layerNormOp } from "./ops/norm.ts";
import { gather, permute } from "./ops/shape.ts";
import { type Tensor, toFloat32 } from "../core/tensor.ts";

/** Permutation from the stored conv weight layout [Cout, kh, kw, Cin] to PyTorch's. */
const TO_TORCH_OIHW = [0, 3, 1, 2];

/** How a missing parameter is initialised (PyTorch defaults). */
export type InitKind =
  | { kind: "uniform"; bound: number } // kaiming_uniform(a=sqrt 5) and biases: U(-b, b)
  | { kind: "const"; value: number }
  | { kind: "normal"; std: number };

/** A named weight or buffer and its values (float32, updated in place). */
export interface StoredParam {
  /** Shape as stored (and as the graph and optimizers see it). */
  shape: number[];
  /** Values in the stored layout (float32, updated in place). */
  data: Float32Array;
  /** Whether the optimizer updates it (false for buffers such as running statistics). */
  trainable: boolean;
  /**
   * Permutation from the stored dims to PyTorch's (conv weights are stored
   * [Cout, kh, kw, Cin] so the Gemm-lowered convs need no weight transposes; PyTorch's
   * layout is [Cout, Cin, kh, kw]). Absent when both agree.
   */
  toTorch?: number[];
}

/**
 * Permutes the dims of a row-major array (`out[perm-applied index] = data[index]`), so that
 * output dim i is input dim `perm[i]`.
 *
 * @example
 * ```ts
 * import { permuteData } from "./nn.ts";
 * permuteData(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3], [1, 0]); // [1, 4, 2, 5, 3, 6]
 * ```
 */
export function permuteData(
  data: Float32Array,
  shape: readonly number[],
  perm: readonly number[],
): Float32Array {
  const out = new Float32Array(data.length);
  const outShape = perm.map((p) => shape[p]);
  const inStride = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const strideForOut = perm.map((p) => inStride[p]);
  const idx = new Array(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < idx.length; d++) src += idx[d] * strideForOut[d];
    out[o] = data[src];
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * The values of a model's parameters and buffers, keyed by PyTorch name; shared by the
 * train and eval graphs. `random` draws uniform numbers in [0, 1) for initialisation.
 *
 * @example
 * ```ts
 * import { ParamStore } from "./nn.ts";
 * const store = new ParamStore(Math.random);
 * ```
 */
export class ParamStore {
  /** Weights and buffers by name. */
  readonly entries: Map<string, StoredParam> = new Map();
  /** Integer counters PyTorch keeps in state dicts (`num_batches_tracked`). */
  readonly counters: Map<string, bigint> = new Map();
  /** `random` returns numbers in [0, 1); it initialises missing parameters. */
  constructor(readonly random: () => number) {}

  /** Values of `name` (or `data` in its stored layout) as a tensor in PyTorch's layout. */
  toTorch(name: string, data?: Float32Array): Tensor {
    const p = this.entries.get(name);
    if (!p) throw new Error(`No parameter '${name}'`);
    const d = data ?? p.data;
    if (!p.toTorch) return { dtype: "F32", shape: [...p.shape], data: d.slice() };
    return {
      dtype: "F32",
      shape: p.toTorch.map((i) => p.shape[i]),
      data: permuteData(d, p.shape, p.toTorch),
    };
  }

  /** Copies a PyTorch-layout tensor into the stored values; throws naming bad shapes. */
  fromTorch(name: string, t: Tensor): void {
    const p = this.entries.get(name);
    if (!p) throw new Error(`No parameter '${name}'`);
    const want = p.toTorch ? p.toTorch.map((i) => p.shape[i]) : p.shape;
    if (t.shape.join() !== want.join()) {
      throw new RangeError(
        `State dict '${name}' has shape [${t.shape}], the model needs [${want}]`,
      );
    }
    const values = toFloat32(t);
    if (!p.toTorch) {
      p.data.set(values);
      return;
    }
    const inverse = p.toTorch.map((_, i) => p.toTorch!.indexOf(i));
    p.data.set(permuteData(values, want, inverse));
  }

  /** Returns the stored values of `name`, creating them with `init` when missing. */
  get(
    name: string,
    shape: number[],
    init: InitKind,
    trainable: boolean,
    toTorch?: number[],
  ): StoredParam {
    const have = this.entries.get(name);
    if (have) {
      if (have.shape.join() !== shape.join()) {
        throw new RangeError(
          `Parameter '${name}' has shape [${have.shape}], the model needs [${shape}]`,
        );
      }
      return have;
    }
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (init.kind === "const") data.fill(init.value);
    else if (init.kind === "uniform") {
      for (let i = 0; i < n; i++) data[i] = (2 * this.random() - 1) * init.bound;
    } else {
      for (let i = 0; i < n; i++) {
        const u = Math.max(this.random(), 1e-12), v = this.random();
        data[i] = init.std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      }
    }
    const p: StoredParam = toTorch
      ? { shape, data, trainable, toTorch }
      : { shape, data, trainable };
    this.entries.set(name, p);
    return p;
  }
}

/**
 * Layer builder for one graph: `nn.conv2d("features.0", x, 128, 3, { padding: 1 })`.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { Layers, ParamStore } from "./nn.ts";
 * import { relu } from "./ops/activation.ts";
 * import { flatten } from "./ops/shape.ts";
 * const g = new Graph();
 * const nn = new Layers(g, new ParamStore(Math.random), true);
 * const h = relu(nn.conv2d("conv", g.input("x", [2, 3, 8, 8]), 4, 3)); // [2, 4, 6, 6]
 * const y = nn.linear("fc", flatten(h, 1), 10); // [2, 10]
 * ```
 */
export class Layers {
  /** New running statistics of train-mode BatchNorms: buffer name -> graph value. */
  readonly updates: Map<string, Value> = new Map();

  /**
   * Builds layers into `g`, with weights from `store`; `training` selects train-mode BatchNorm,
   * GroupNorm and dropout.
   */
  constructor(readonly g: Graph, readonly store: ParamStore, readonly training: boolean) {}

  /** A trainable parameter (created with `init` when the store lacks it). */
  param(name: string, shape: number[], init: InitKind): Value {
    return this.#value(name, shape, init, true);
  }

  /** A non-trainable buffer (running statistics). */
  buffer(name: string, shape: number[], init: InitKind): Value {
    return this.#value(name, shape, init, false);
  }

  #value(
    name: string,
    shape: number[],
    init: InitKind,
    trainable: boolean,
    toTorch?: number[],
  ): Value {
    const p = this.store.get(name, shape, init, trainable, toTorch);
    const have = this.g.params.get(name);
    if (have) return have.value;
    return this.g.param(name, shape, p.data, trainable);
  }

  /** `nn.Conv2d(cin, cout, k, stride, padding, groups, bias)` applied to `x`. */
  conv2d(
    name: string,
    x: Value,
    cout: number,
    k: number,
    o: { stride?: number; padding?: number; groups?: number; bias?: boolean; dilation?: number } =
      {},
  ): Value {
    const groups = o.groups ?? 1;
    const cin = x.shape[1] / groups;
    const bound = 1 / Math.sqrt(cin * k * k);
    // Stored [Cout, kh, kw, Cin]: the Gemm-lowered convs use that layout directly (the
    // transposes fold away), PyTorch's [Cout, Cin, kh, kw] is one transpose of it.
    const init: InitKind = { kind: "uniform", bound };
    const stored = this.#value(`${name}.weight`, [cout, k, k, cin], init, true, TO_TORCH_OIHW);
    const w = permute(stored, TO_TORCH_OIHW); // [Cout, Cin, kh, kw]
    const b = o.bias === false
      ? null
      : this.param(`${name}.bias`, [cout], { kind: "uniform", bound });
    return conv(x, w, b, o);
  }

  /** `nn.ConvTranspose2d(cin, cout, k, stride, padding, output_padding)` applied to `x`. */
  convTranspose2d(
    name: string,
    x: Value,
    cout: number,
    k: number,
    o: { stride?: number; padding?: number; outputPadding?: number; bias?: boolean } = {},
  ): Value {
    const bound = 1 / Math.sqrt(cout * k * k); // PyTorch uses weight.size(1) * k * k as fan-in
    const w = this.param(`${name}.weight`, [x.shape[1], cout, k, k], { kind: "uniform", bound });
    const b = o.bias === false
      ? null
      : this.param(`${name}.bias`, [cout], { kind: "uniform", bound });
    return convTranspose(x, w, b, o);
  }

  /** `nn.Linear(in, out)` applied to `x [N, in]`. */
  linear(name: string, x: Value, out: number, o: { bias?: boolean } = {}): Value {
    const bound = 1 / Math.sqrt(x.shape[1]);
    const w = this.param(`${name}.weight`, [out, x.shape[1]], { kind: "uniform", bound });
    const b = o.bias === false
      ? null
      : this.param(`${name}.bias`, [out], { kind: "uniform", bound });
    return linearOp(x, w, b);
  }

  /** `nn.BatchNorm2d(C)` (also 1d/3d): batch statistics in train mode, running ones in eval. */
  batchNorm(name: string, x: Value, o: { momentum?: number; eps?: number } = {}): Value {
    const c = x.shape[1];
    const w = this.param(`${name}.weight`, [c], { kind: "const", value: 1 });
    const b = this.param(`${name}.bias`, [c], { kind: "const", value: 0 });
    const rm = this.buffer(`${name}.running_mean`, [c], { kind: "const", value: 0 });
    const rv = this.buffer(`${name}.running_var`, [c], { kind: "const", value: 1 });
    const counter = `${name}.num_batches_tracked`;
    if (!this.store.counters.has(counter)) this.store.counters.set(counter, 0n);
    const r = batchNorm(x, w, b, rm, rv, { training: this.training, ...o });
    if (r.runningMean) this.updates.set(`${name}.running_mean`, r.runningMean);
    if (r.runningVar) this.updates.set(`${name}.running_var`, r.runningVar);
    return r.y;
  }

  /** `nn.GroupNorm(groups, C)` (affine); `groups == C` is the instance norm of DC/DM ConvNets. */
  groupNorm(name: string, x: Value, groups: number, o: { eps?: number } = {}): Value {
    const c = x.shape[1];
    const w = this.param(`${name}.weight`, [c], { kind: "const", value: 1 });
    const b = this.param(`${name}.bias`, [c], { kind: "const", value: 0 });
    return groupNormOp(x, groups, w, b, o.eps, { inference: !this.training });
  }

  /** `nn.LayerNorm(shape)` over the last dims. */
  layerNorm(name: string, x: Value, shape: number[], o: { eps?: number } = {}): Value {
    const w = this.param(`${name}.weight`, shape, { kind: "const", value: 1 });
    const b = this.param(`${name}.bias`, shape, { kind: "const", value: 0 });
    return layerNormOp(x, w, b, o.eps);
  }

  /** `nn.Embedding(num, dim)` lookup of int64 ids. */
  embedding(name: string, ids: Value, num: number, dim: number): Value {
    return gather(this.param(`${name}.weight`, [num, dim], { kind: "normal", std: 1 }), ids, 0);
  }

  /** `nn.Dropout(p)`: a seeded mask input in train mode, identity in eval mode. */
  dropout(x: Value, p: number): Value {
    return dropoutOp(x, p, this.training);
  }
}
