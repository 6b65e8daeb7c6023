/**
 * ONNX emission of a {@link Graph}: keeps the nodes the outputs need, names outputs, drops
 * unused optional outputs, and writes initializers inline or to external data files.
 *
 * @module
 */
import {
  type AttrValue,
  type ElemData,
  type ElemType,
  encodeModel,
  type TensorMsg,
} from "./onnx_proto.ts";

/**
 * The ONNX default-domain opset the builder targets. 18 gives Col2Im (used by strided conv
 * backward on small maps) and takes every Reduce* op's axes as an input.
 */
export const OPSET = 18;

/** What emission reads of a graph value (the builder's `Value` has these and more). */
export interface EmitValue {
  readonly id: number;
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: ElemType;
}

/** What emission reads of a node (the builder's `Node` has these and more). */
export interface EmitNode<V extends EmitValue> {
  readonly op: string;
  readonly domain: string;
  readonly inputs: readonly (V | null)[];
  readonly outputs: readonly V[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

/** What emission reads of a graph (the builder's `Graph` has these and more). */
export interface EmitGraph<V extends EmitValue> {
  readonly nodes: readonly EmitNode<V>[];
  readonly inputs: readonly V[];
  readonly params: ReadonlyMap<string, { value: V; data: ElemData }>;
  readonly constants: ReadonlyMap<number, { value: V; data: ElemData }>;
  readonly outputs: readonly { name: string; value: V }[];
}

/** Options of `Graph.toModel`. */
export interface ToModelOptions {
  /** Parameters as graph inputs (fed at each run; default) or baked-in initializers. */
  paramsAs?: "inputs" | "initializers";
  /** Move initializer bytes to external data: "auto" only when the model would pass 2 GB. */
  externalData?: "auto" | "always" | "never";
  /** Base file name of external data files (`<base>.0`, `<base>.1`, ...). */
  externalName?: string;
  /**
   * Bytes per external data file (default 1 GiB). 0 gives each initializer its own file,
   * which is then a view of the parameter's values rather than a copy: a model of several GB
   * is emitted without doubling the memory it takes (onnxruntime copies the bytes in).
   */
  externalFileBytes?: number;
}

/** ONNX bytes plus the external data files they reference (in memory). */
export interface EmittedModel<V extends EmitValue> {
  /** The serialized ONNX ModelProto. */
  model: Uint8Array;
  /** External data files the model references (empty when all bytes are inline). */
  externalData: { path: string; data: Uint8Array }[];
  /** Graph inputs of the model in order: the used inputs, then parameters when they are inputs. */
  inputs: V[];
  /** Graph outputs with their names. */
  outputs: { name: string; value: V }[];
}

const IR_VERSION = 8; // IR version of opsets 17 and 18
const PROTOBUF_LIMIT = 2 ** 31 - 1;
const EXTERNAL_CHUNK = 2 ** 30; // bytes per external data file
const EXTERNAL_MIN_BYTES = 1024; // smaller initializers stay inline

function bytesOf(d: ElemData): Uint8Array {
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/**
 * Encodes a graph's live part as ONNX bytes (what `Graph.toModel` returns).
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { emit } from "./_emit.ts";
 * const g = new Graph();
 * g.output(g.input("x", [2]), "y");
 * const { model } = emit(g, {});
 * ```
 */
export function emit<V extends EmitValue>(
  g: EmitGraph<V>,
  opts: ToModelOptions,
): EmittedModel<V> {
  type Node = EmitNode<V>;
  if (g.outputs.length === 0) throw new Error("Graph has no outputs");
  // 1. Keep the nodes the outputs depend on.
  const producer = new Map<number, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o.id, n);
  const live = new Set<Node>();
  const used = new Set<number>();
  const stack = g.outputs.map((o) => o.value);
  while (stack.length) {
    const v = stack.pop()!;
    if (used.has(v.id)) continue;
    used.add(v.id);
    const n = producer.get(v.id);
    if (n && !live.has(n)) {
      live.add(n);
      for (const i of n.inputs) if (i) stack.push(i);
    }
  }
  // 2. Output names: rename a node output in place when possible, else add an Identity.
  const rename = new Map<number, string>();
  const nodes = g.nodes.filter((n) => live.has(n));
  const identities: { input: V; name: string }[] = [];
  for (const { name, value } of g.outputs) {
    if (producer.has(value.id) && !rename.has(value.id)) rename.set(value.id, name);
    else identities.push({ input: value, name }); // a graph input, or a value output twice
  }
  const nm = (v: V) => rename.get(v.id) ?? v.name;
  // 3. Inputs and initializers.
  const asInit = opts.paramsAs === "initializers";
  const inputs: V[] = g.inputs.filter((v) => used.has(v.id));
  const inits: { value: V; data: ElemData }[] = [];
  for (const p of g.params.values()) {
    if (!used.has(p.value.id)) continue;
    if (asInit) inits.push({ value: p.value, data: p.data });
    else inputs.push(p.value);
  }
  for (const c of g.constants.values()) if (used.has(c.value.id)) inits.push(c);
  const initBytes = inits.reduce((a, c) => a + c.data.byteLength, 0);
  const external = opts.externalData === "always" ||
    (opts.externalData !== "never" && initBytes > PROTOBUF_LIMIT - 64 * 2 ** 20);
  const base = opts.externalName ?? "model.onnx.data";
  const files: { path: string; parts: Uint8Array[]; size: number }[] = [];
  const tensors: TensorMsg[] = inits.map(({ value, data }) => {
    const raw = bytesOf(data);
    if (!external || raw.length < EXTERNAL_MIN_BYTES) {
      return { name: value.name, dtype: value.dtype, dims: value.shape, raw };
    }
    let f = files[files.length - 1];
    if (!f || f.size + raw.length > (opts.externalFileBytes ?? EXTERNAL_CHUNK)) {
      f = { path: `${base}.${files.length}`, parts: [], size: 0 };
      files.push(f);
    }
    const pad = (64 - (f.size % 64)) % 64; // keep every tensor 64-byte aligned
    if (pad) f.parts.push(new Uint8Array(pad));
    const offset = f.size + pad;
    f.parts.push(raw);
    f.size = offset + raw.length;
    return {
      name: value.name,
      dtype: value.dtype,
      dims: value.shape,
      external: { location: f.path, offset, length: raw.length },
    };
  });
  const model = encodeModel({
    irVersion: IR_VERSION,
    opsets: [{ domain: "", version: OPSET }, { domain: "com.microsoft", version: 1 }],
    producer: "mgd3",
    graph: {
      name: "mgd3",
      nodes: [
        ...nodes.map((n) => ({
          opType: n.op,
          domain: n.domain,
          inputs: n.inputs.map((i) => (i ? nm(i) : "")),
          outputs: trimOutputs(n, used).map(nm),
          attrs: n.attrs,
        })),
        ...identities.map((i) => ({
          opType: "Identity",
          inputs: [nm(i.input)],
          outputs: [i.name],
        })),
      ],
      initializers: tensors,
      inputs: inputs.map((v) => ({ name: v.name, dtype: v.dtype, dims: v.shape })),
      outputs: g.outputs.map(({ name, value }) => ({
        name,
        dtype: value.dtype,
        dims: value.shape,
      })),
    },
  });
  return {
    model,
    externalData: files.map((f) => ({ path: f.path, data: concat(f.parts, f.size) })),
    inputs,
    outputs: [...g.outputs],
  };
}

const OPTIONAL_OUTPUTS = new Set(["MaxPool", "Dropout", "BatchNormalization"]);

/** Drops trailing optional outputs nothing reads (MaxPool's Indices when not training). */
function trimOutputs<V extends EmitValue>(n: EmitNode<V>, used: Set<number>): readonly V[] {
  if (!OPTIONAL_OUTPUTS.has(n.op)) return n.outputs;
  let k = n.outputs.length;
  while (k > 1 && !used.has(n.outputs[k - 1].id)) k--;
  return n.outputs.slice(0, k);
}

/** The parts as one array (the part itself, not a copy, when there is only one). */
function concat(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1 && parts[0].length === size) return parts[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
