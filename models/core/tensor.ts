/**
 * A plain host tensor: a dtype, a shape and a typed array holding the values in row-major
 * (C) order. This is what checkpoint readers return and what the store writes.
 *
 * BF16 has no JavaScript typed array: its raw 16-bit patterns are kept in a Uint16Array
 * and {@link toFloat32} widens them.
 *
 * @module
 */

/** Element types, named as in the safetensors header. */
export type DType = "F32" | "F16" | "BF16" | "F64" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";

/** Typed array for each dtype (BF16 keeps raw bits in a Uint16Array). */
export type TensorData =
  | Float32Array
  | Float16Array
  | Float64Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

/**
 * A dense tensor in host memory.
 *
 * @example
 * ```ts
 * import { tensor } from "./tensor.ts";
 * const t = tensor("F32", [2, 3], new Float32Array(6)); // [2, 3]
 * ```
 */
export interface Tensor {
  /** Element type. */
  dtype: DType;
  /** Dimensions, outermost first (`[]` for a scalar). */
  shape: number[];
  /** The values in row-major (C) order; BF16 keeps raw bits in a Uint16Array. */
  data: TensorData;
}

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  F64: 8,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/**
 * Number of elements of a shape (1 for a scalar `[]`).
 *
 * @example
 * ```ts
 * import { numel } from "./tensor.ts";
 * numel([2, 3, 4]); // 24
 * ```
 */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Makes a tensor, checking that the data length matches the shape.
 *
 * @example
 * ```ts
 * import { tensor } from "./tensor.ts";
 * const t = tensor("F32", [2], new Float32Array([1, 2]));
 * ```
 */
export function tensor(dtype: DType, shape: number[], data: TensorData): Tensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`Invalid tensor shape [${shape}]: dims must be integers >= 0`);
    }
  }
  if (data.length !== numel(shape)) {
    throw new RangeError(
      `Tensor of shape [${shape}] needs ${numel(shape)} elements, got ${data.length}`,
    );
  }
  return { dtype, shape, data };
}

/**
 * Typed-array view of raw little-endian bytes for a dtype. Copies when the bytes are
 * not aligned for the element size, so the result never aliases a misaligned buffer.
 *
 * @example
 * ```ts
 * import { fromBytes } from "./tensor.ts";
 * const a = fromBytes("F32", new Uint8Array(8)); // Float32Array(2)
 * ```
 */
export function fromBytes(dtype: DType, bytes: Uint8Array): TensorData {
  const size = DTYPE_BYTES[dtype];
  if (bytes.byteLength % size !== 0) {
    throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${dtype} elements`);
  }
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const { buffer, byteOffset } = aligned;
  const n = bytes.byteLength / size;
  switch (dtype) {
    case "F32":
      return new Float32Array(buffer, byteOffset, n);
    case "F16":
      return new Float16Array(buffer, byteOffset, n);
    case "BF16":
      return new Uint16Array(buffer, byteOffset, n);
    case "F64":
      return new Float64Array(buffer, byteOffset, n);
    case "I64":
      return new BigInt64Array(buffer, byteOffset, n);
    case "I32":
      return new Int32Array(buffer, byteOffset, n);
    case "I16":
      return new Int16Array(buffer, byteOffset, n);
    case "I8":
      return new Int8Array(buffer, byteOffset, n);
    case "U8":
    case "BOOL":
      return new Uint8Array(buffer, byteOffset, n);
  }
}

/**
 * The raw little-endian bytes of a tensor's data (a view, not a copy).
 *
 * @example
 * ```ts
 * import { toBytes, tensor } from "./tensor.ts";
 * toBytes(tensor("F32", [1], new Float32Array([1]))).byteLength; // 4
 * ```
 */
export function toBytes(t: Tensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/**
 * The values of a tensor as float32 (F16 and BF16 widened exactly, integers converted).
 * Returns the same array when the tensor already is F32.
 *
 * @example
 * ```ts
 * import { tensor, toFloat32 } from "./tensor.ts";
 * toFloat32(tensor("F16", [1], new Float16Array([0.5]))); // Float32Array [0.5]
 * ```
 */
export function toFloat32(t: Tensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  const n = t.data.length;
  const out = new Float32Array(n);
  if (t.dtype === "BF16") {
    const bits = new Uint32Array(out.buffer);
    const src = t.data as Uint16Array;
    for (let i = 0; i < n; i++) bits[i] = src[i] << 16;
    return out;
  }
  const src = t.data;
  if (src instanceof BigInt64Array) {
    for (let i = 0; i < n; i++) out[i] = Number(src[i]);
  } else {
    for (let i = 0; i < n; i++) out[i] = (src as Float64Array)[i];
  }
  return out;
}

/**
 * Converts float32 values to another float dtype (F32, F16 or BF16, round to nearest even).
 *
 * @example
 * ```ts
 * import { castFloat } from "./tensor.ts";
 * castFloat(new Float32Array([1.5]), [1], "F16").dtype; // "F16"
 * ```
 */
export function castFloat(
  values: Float32Array,
  shape: number[],
  dtype: "F32" | "F16" | "BF16",
): Tensor {
  if (dtype === "F32") return tensor("F32", shape, values);
  if (dtype === "F16") return tensor("F16", shape, Float16Array.from(values));
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const b = bits[i];
    if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) {
      out[i] = (b >>> 16) | 0x40; // NaN stays a quiet NaN
    } else {
      out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
    }
  }
  return tensor("BF16", shape, out);
}
