/**
 * A minimal protobuf writer for the ONNX messages this toolkit emits: ModelProto, GraphProto,
 * NodeProto, AttributeProto, TensorProto (raw or external data) and ValueInfoProto.
 * Field numbers follow onnx/onnx.proto (proto2); repeated scalars are written unpacked,
 * which every protobuf parser accepts.
 *
 * @module
 */

/** ONNX TensorProto.DataType codes used here. */
export const ONNX_DTYPE = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
} as const;

/** Element type names of the graph builder (onnxruntime-node's tensor type names). */
export type ElemType = keyof typeof ONNX_DTYPE;

/** Typed array backing a tensor of each element type. */
export type ElemData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

/** One attribute value: number (int or float by `kind`), numbers, string, tensor. */
export type AttrValue =
  | { kind: "int"; value: number }
  | { kind: "float"; value: number }
  | { kind: "ints"; value: readonly number[] }
  | { kind: "floats"; value: readonly number[] }
  | { kind: "string"; value: string }
  | { kind: "tensor"; value: TensorMsg };

/** A TensorProto: raw little-endian bytes, or a reference into an external data file. */
export interface TensorMsg {
  /** Tensor (initializer) name. */
  name: string;
  /** Element type. */
  dtype: ElemType;
  /** Dimensions. */
  dims: readonly number[];
  /** The values as raw little-endian bytes (when stored inline). */
  raw?: Uint8Array;
  /** Where the values lie in an external data file: its location, byte offset and length. */
  external?: { location: string; offset: number; length: number };
}

/** A NodeProto. */
export interface NodeMsg {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attrs?: Readonly<Record<string, AttrValue>>;
}

/** A ValueInfoProto for a tensor of static shape. */
export interface ValueInfoMsg {
  name: string;
  dtype: ElemType;
  dims: readonly number[];
}

/** A ModelProto holding one graph. */
export interface ModelMsg {
  irVersion: number;
  opsets: readonly { domain: string; version: number }[];
  producer: string;
  graph: {
    name: string;
    nodes: readonly NodeMsg[];
    initializers: readonly TensorMsg[];
    inputs: readonly ValueInfoMsg[];
    outputs: readonly ValueInfoMsg[];
    valueInfo?: readonly ValueInfoMsg[];
  };
}

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LEN = 2;
const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

/** Growable byte buffer with protobuf primitives; messages nest as chunk lists. */
class Writer {
  chunks: Uint8Array[] = [];
  #buf = new Uint8Array(256);
  #n = 0;
  length = 0;

  #ensure(extra: number): void {
    if (this.#n + extra <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#n + extra));
    next.set(this.#buf.subarray(0, this.#n));
    this.#buf = next;
  }

  varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    this.#ensure(10);
    if (x < 0x80n) {
      this.#buf[this.#n++] = Number(x);
      this.length++;
      return;
    }
    while (x >= 0x80n) {
      this.#buf[this.#n++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
      this.length++;
    }
    this.#buf[this.#n++] = Number(x);
    this.length++;
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  fixed32Float(field: number, v: number): void {
    this.tag(field, WIRE_FIXED32);
    this.#ensure(4);
    new DataView(this.#buf.buffer).setFloat32(this.#n, v, true);
    this.#n += 4;
    this.length += 4;
  }

  int(field: number, v: number | bigint): void {
    this.tag(field, WIRE_VARINT);
    this.varint(v);
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.varint(b.length);
    this.#flush();
    if (b.length) this.chunks.push(b);
    this.length += b.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, fill: (w: Writer) => void): void {
    const sub = new Writer();
    fill(sub);
    sub.#flush();
    this.tag(field, WIRE_LEN);
    this.varint(sub.length);
    this.#flush();
    this.chunks.push(...sub.chunks);
    this.length += sub.length;
  }

  #flush(): void {
    if (this.#n === 0) return;
    this.chunks.push(this.#buf.slice(0, this.#n));
    this.#n = 0;
  }

  finish(): Uint8Array {
    this.#flush();
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

function writeTensor(w: Writer, t: TensorMsg): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, ONNX_DTYPE[t.dtype]);
  w.string(8, t.name);
  if (t.external) {
    const entries: [string, string][] = [
      ["location", t.external.location],
      ["offset", String(t.external.offset)],
      ["length", String(t.external.length)],
    ];
    for (const [k, v] of entries) {
      w.message(13, (e) => {
        e.string(1, k);
        e.string(2, v);
      });
    }
    w.int(14, 1); // data_location = EXTERNAL
  } else {
    w.bytes(9, t.raw ?? new Uint8Array(0));
  }
}

function writeAttr(w: Writer, name: string, a: AttrValue): void {
  w.string(1, name);
  w.int(20, ATTR_TYPE[a.kind]);
  switch (a.kind) {
    case "float":
      w.fixed32Float(2, a.value);
      break;
    case "int":
      w.int(3, a.value);
      break;
    case "string":
      w.string(4, a.value);
      break;
    case "tensor":
      w.message(5, (t) => writeTensor(t, a.value));
      break;
    case "floats":
      for (const v of a.value) w.fixed32Float(7, v);
      break;
    case "ints":
      for (const v of a.value) w.int(8, v);
      break;
  }
}

function writeNode(w: Writer, n: NodeMsg): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, a] of Object.entries(n.attrs ?? {})) w.message(5, (m) => writeAttr(m, k, a));
  if (n.domain) w.string(7, n.domain);
}

function writeValueInfo(w: Writer, v: ValueInfoMsg): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tt) => {
      tt.int(1, ONNX_DTYPE[v.dtype]);
      tt.message(2, (shape) => {
        for (const d of v.dims) shape.message(1, (dim) => dim.int(1, d));
      });
    }));
}

/**
 * Encodes a model as ONNX protobuf bytes.
 *
 * @example
 * ```ts
 * import { encodeModel } from "./onnx_proto.ts";
 * const bytes = encodeModel({
 *   irVersion: 8,
 *   opsets: [{ domain: "", version: 17 }],
 *   producer: "mgd3",
 *   graph: {
 *     name: "g",
 *     nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"] }],
 *     initializers: [],
 *     inputs: [{ name: "x", dtype: "float32", dims: [2] }],
 *     outputs: [{ name: "y", dtype: "float32", dims: [2] }],
 *   },
 * });
 * ```
 */
export function encodeModel(m: ModelMsg): Uint8Array {
  const w = new Writer();
  w.int(1, m.irVersion);
  w.string(2, m.producer);
  w.message(7, (g) => {
    for (const n of m.graph.nodes) g.message(1, (x) => writeNode(x, n));
    g.string(2, m.graph.name);
    for (const t of m.graph.initializers) g.message(5, (x) => writeTensor(x, t));
    for (const v of m.graph.inputs) g.message(11, (x) => writeValueInfo(x, v));
    for (const v of m.graph.outputs) g.message(12, (x) => writeValueInfo(x, v));
    for (const v of m.graph.valueInfo ?? []) g.message(13, (x) => writeValueInfo(x, v));
  });
  for (const o of m.opsets) {
    w.message(8, (x) => {
      if (o.domain) x.string(1, o.domain);
      x.int(2, o.version);
    });
  }
  return w.finish();
}
