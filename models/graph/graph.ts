/**
 * Typed ONNX graph builder with static shape tracking. Ops are appended in topological order
 * by the functions in `ops/` (each checks its operands and computes its output shapes);
 * `toModel` emits ONNX bytes (opset 17), keeping only the nodes the outputs need, with
 * weights as graph inputs or initializers and, for models over the 2 GB protobuf limit,
 * initializer bytes moved to external data files.
 *
 * @module
 */
import type { AttrValue, ElemData, ElemType } from "./onnx_proto.ts";
import { emit, type EmittedModel, type ToModelOptions } from "./_emit.ts";

export { OPSET, type ToModelOptions } from "./_emit.ts";
export type { ElemData } from "./onnx_proto.ts";

/** A tensor-valued symbol of a graph: its static shape and element type. */
export class Value {
  /** Creates a value; use {@link Graph} methods or ops instead of calling this. */
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly name: string,
    readonly shape: readonly number[],
    readonly dtype: ElemType,
  ) {}
  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }
  /** `name [d0, d1, ...] dtype`, for error messages. */
  toString(): string {
    return `${this.name} [${this.shape.join(", ")}] ${this.dtype}`;
  }
}

/**
 * Backward function of a group of nodes that autodiff treats as one op (a composite such as
 * GroupNorm): receives the gradients of `outputs` (null where none flows) and returns those
 * of `inputs` (null where not needed or not differentiable).
 */
export interface Region {
  /** Values the composite reads. */
  readonly inputs: readonly Value[];
  /** Values the composite produces. */
  readonly outputs: readonly Value[];
  /** Gradients of `inputs` from those of `outputs`; `needs[i]` says whether input i needs one. */
  readonly backward: (dys: (Value | null)[], needs: boolean[]) => (Value | null)[];
}

/** One ONNX node. `inputs` may hold null for omitted optional inputs. */
export interface Node {
  /** ONNX op type, e.g. `"Conv"`. */
  readonly op: string;
  /** Op domain (`""`: the ONNX default domain). */
  readonly domain: string;
  /** Input values in order (null: an omitted optional input). */
  readonly inputs: readonly (Value | null)[];
  /** Values the node produces. */
  readonly outputs: readonly Value[];
  /** ONNX attributes by name. */
  readonly attrs: Readonly<Record<string, AttrValue>>;
  /** The composite op the node belongs to, if any. */
  readonly region?: Region;
}

/** A graph input holding a model weight or buffer, with its current value. */
export interface ParamInfo {
  /** The graph input standing for the weight. */
  value: Value;
  /** Its current values. */
  data: ElemData;
  /** Trainable parameters receive gradients; buffers (running stats) do not. */
  trainable: boolean;
}

/** ONNX bytes plus the external data files they reference (in memory). */
export type ModelBytes = EmittedModel<Value>;

/**
 * A graph under construction.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { relu } from "./ops/activation.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 3]);
 * g.output(relu(x), "y");
 * const { model } = g.toModel();
 * ```
 */
export class Graph {
  /** Nodes in the order they were added (topological). */
  readonly nodes: Node[] = [];
  /** Inputs declared with {@link Graph.input}. */
  readonly inputs: Value[] = [];
  /** Weights and buffers declared with {@link Graph.param}, by name. */
  readonly params: Map<string, ParamInfo> = new Map();
  /** Constants (initializers with fixed contents) by value id. */
  readonly constants: Map<number, { value: Value; data: ElemData }> = new Map();
  /** Outputs marked with {@link Graph.output}, in order. */
  readonly outputs: { name: string; value: Value }[] = [];
  /** Inputs refilled from a seeded generator at each run (dropout keep-masks). */
  readonly randomInputs: { value: Value; kind: "dropout"; p: number }[] = [];
  #nextId = 0;
  #names = new Set<string>();
  #constKeys = new Map<string, Value>();
  #region: Region | null = null;
  #producer = new Map<number, Node>();
  /**
   * This graph's override of `convLowering.gemmMaxPixels` (ops/conv.ts): null follows the
   * global policy; 0 keeps every conv on onnxruntime's Conv.
   */
  convGemmMaxPixels: number | null = null;

  /** Default floating-point type of parameters and constants. */
  constructor(readonly floatType: "float32" | "float64" = "float32") {}

  #value(name: string | undefined, shape: readonly number[], dtype: ElemType): Value {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new RangeError(`Invalid shape [${shape}]`);
    }
    const id = this.#nextId++;
    const n = name ?? `v${id}`;
    if (this.#names.has(n)) throw new Error(`Graph already has a value named '${n}'`);
    this.#names.add(n);
    return new Value(this, id, n, [...shape], dtype);
  }

  /** Declares a graph input (data fed at each run). */
  input(name: string, shape: readonly number[], dtype: ElemType = this.floatType): Value {
    const v = this.#value(name, shape, dtype);
    this.inputs.push(v);
    return v;
  }

  /** Declares a named weight with its current values (PyTorch state-dict naming). */
  param(name: string, shape: readonly number[], data: ElemData, trainable = true): Value {
    const need = shape.reduce((a, b) => a * b, 1);
    if (data.length !== need) {
      throw new RangeError(
        `Parameter '${name}' [${shape}] needs ${need} values, got ${data.length}`,
      );
    }
    const dtype: ElemType = data instanceof BigInt64Array
      ? "int64"
      : data instanceof Float64Array
      ? "float64"
      : this.floatType;
    const v = this.#value(name, shape, dtype);
    this.params.set(name, { value: v, data, trainable });
    return v;
  }

  /** An initializer with fixed contents; small constants with equal contents are shared. */
  constant(data: ElemData, shape: readonly number[], dtype?: ElemType): Value {
    const t: ElemType = dtype ?? dtypeOf(data, this.floatType);
    const key = data.length <= 16 ? `${t}|${shape}|${Array.from(data as ArrayLike<unknown>)}` : "";
    const hit = key ? this.#constKeys.get(key) : undefined;
    if (hit) return hit;
    const v = this.#value(undefined, shape, t);
    this.constants.set(v.id, { value: v, data });
    if (key) this.#constKeys.set(key, v);
    return v;
  }

  /** A scalar (or `[1]`-free, rank-0) constant of the given type. */
  scalar(x: number, dtype: ElemType = this.floatType): Value {
    return this.constant(makeData(dtype, [x]), [], dtype);
  }

  /** An int64 vector constant (shapes, axes, pads). */
  ints(xs: readonly number[]): Value {
    return this.constant(BigInt64Array.from(xs, (x) => BigInt(x)), [xs.length], "int64");
  }

  /**
   * Appends a node whose output shapes the caller computed. Used by `ops/`; prefer those.
   */
  node(
    op: string,
    inputs: readonly (Value | null)[],
    outs: readonly { shape: readonly number[]; dtype: ElemType }[],
    attrs: Record<string, AttrValue> = {},
    domain = "",
  ): Value[] {
    for (const i of inputs) {
      if (i && i.graph !== this) throw new Error(`${op}: input ${i} belongs to another graph`);
    }
    const outputs = outs.map((o) => this.#value(undefined, o.shape, o.dtype));
    const node: Node = { op, domain, inputs: [...inputs], outputs, attrs };
    const stored = this.#region ? { ...node, region: this.#region } : node;
    this.nodes.push(stored);
    for (const o of outputs) this.#producer.set(o.id, stored);
    return outputs;
  }

  /**
   * Builds a composite op: nodes added by `build` are differentiated as one unit by the
   * returned region's `backward` instead of node by node.
   */
  composite(
    inputs: readonly Value[],
    build: () => { outputs: Value[]; backward: Region["backward"] },
  ): Value[] {
    if (this.#region) throw new Error("Composite ops cannot nest");
    const first = this.nodes.length;
    const placeholder: { r: Region | null } = { r: null };
    const region: Region = {
      inputs,
      get outputs() {
        return placeholder.r!.outputs;
      },
      backward: (d, n) => placeholder.r!.backward(d, n),
    };
    this.#region = region;
    try {
      const { outputs, backward } = build();
      placeholder.r = { inputs, outputs, backward };
    } finally {
      this.#region = null;
    }
    if (this.nodes.length === first) throw new Error("A composite op must add nodes");
    return placeholder.r.outputs as Value[];
  }

  /** The node that computes `v` (undefined for inputs, parameters and constants). */
  producer(v: Value): Node | undefined {
    return this.#producer.get(v.id);
  }

  /** True while a composite op's forward is being built (composites cannot nest). */
  get inComposite(): boolean {
    return this.#region !== null;
  }

  /** The contents of a constant (shape vectors, exponents), or undefined for other values. */
  constantData(v: Value): ElemData | undefined {
    return this.constants.get(v.id)?.data;
  }

  /** Marks a value as a graph output under `name`. */
  output(value: Value, name: string): void {
    if (this.outputs.some((o) => o.name === name)) throw new Error(`Duplicate output '${name}'`);
    if (value.graph !== this) throw new Error(`Output '${name}' belongs to another graph`);
    if (this.#names.has(name) && value.name !== name) {
      throw new Error(`Output name '${name}' is already the name of another graph value`);
    }
    this.outputs.push({ name, value });
  }

  /** Emits ONNX bytes for the current outputs. */
  toModel(opts: ToModelOptions = {}): ModelBytes {
    return emit(this, opts);
  }
}

/** Element type of a typed array (floats take the graph's float type for Float32Array). */
function dtypeOf(data: ElemData, float: ElemType): ElemType {
  if (data instanceof BigInt64Array) return "int64";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Uint8Array) return "bool";
  if (data instanceof Float64Array) return "float64";
  return float === "float64" ? "float64" : "float32";
}

/**
 * A typed array of the given element type holding `xs`.
 *
 * @example
 * ```ts
 * import { makeData } from "./graph.ts";
 * makeData("int64", [1, 2]); // BigInt64Array [1n, 2n]
 * ```
 */
export function makeData(dtype: ElemType, xs: ArrayLike<number>): ElemData {
  switch (dtype) {
    case "float32":
      return Float32Array.from(xs);
    case "float64":
      return Float64Array.from(xs);
    case "int64":
      return BigInt64Array.from(Array.from(xs), (x) => BigInt(Math.trunc(x)));
    case "int32":
      return Int32Array.from(xs);
    case "bool":
    case "uint8":
      return Uint8Array.from(xs);
    default:
      throw new Error(`No constant support for ${dtype}`);
  }
}
