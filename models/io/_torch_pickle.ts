/**
 * The PyTorch half of checkpoint unpickling: the whitelist of torch globals a state dict
 * may name, persistent ids that point at storages, and tensor views (offset, size, stride)
 * that become contiguous {@link Tensor}s once their storage bytes are read.
 *
 * Semantics follow torch/_utils.py (`_rebuild_tensor_v2`, `_rebuild_parameter`) and
 * torch/serialization.py (`persistent_load` of the zip format) of PyTorch 1.13-2.x.
 *
 * @module
 */
import { PyGlobal, PyObject, PYTHON_GLOBALS } from "./_pickle.ts";
import { checkNesting, checkTensorCount } from "./_state_dict.ts";
import {
  type DType,
  DTYPE_BYTES,
  fromBytes,
  numel,
  type Tensor,
  type TensorData,
} from "../core/tensor.ts";

/**
 * A storage type global (`torch.HalfStorage`, ...) with the dtype it stands for.
 *
 * @example
 * ```ts
 * import { StorageType } from "./_torch_pickle.ts";
 * new StorageType("torch.HalfStorage", "F16").dtype; // "F16"
 * ```
 */
export class StorageType extends PyGlobal {
  constructor(name: string, readonly dtype: DType) {
    super(name);
  }
}

/**
 * A storage named by a persistent id: the zip entry `<archive>/data/<key>`.
 *
 * @example
 * ```ts
 * import { StorageRef } from "./_torch_pickle.ts";
 * new StorageRef("0", "F32", "cpu").key; // "0"
 * ```
 */
export class StorageRef {
  constructor(readonly key: string, readonly dtype: DType, readonly location: string) {}
}

/**
 * A tensor not read yet: a strided view (offset and stride in elements) into a storage.
 *
 * @example
 * ```ts
 * import { StorageRef, TensorRef } from "./_torch_pickle.ts";
 * new TensorRef(new StorageRef("0", "F32", "cpu"), 0, [2, 3], [3, 1]).dtype; // "F32"
 * ```
 */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
  get dtype(): DType {
    return this.storage.dtype;
  }
}

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: "F32",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  DoubleStorage: "F64",
  LongStorage: "I64",
  IntStorage: "I32",
  ShortStorage: "I16",
  CharStorage: "I8",
  ByteStorage: "U8",
  BoolStorage: "BOOL",
};
const TORCH_DTYPE_NAMES = ["float32", "float16", "bfloat16", "float64", "int64", "int32", "int16"]
  .concat(["int8", "uint8", "bool"]);
const TENSOR_TYPES = new Set([
  "torch.Tensor",
  "torch._tensor.Tensor",
  "torch.nn.parameter.Parameter",
]);

const ints = (v: unknown, what: string): number[] => {
  if (!Array.isArray(v) || !v.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(`${what} must be a tuple of integers >= 0, got ${String(v)}`);
  }
  return v as number[];
};
const rebuildTensor = ([storage, offset, size, stride]: unknown[]) => {
  if (!(storage instanceof StorageRef)) throw new TypeError("first argument is not a storage");
  if (!Number.isInteger(offset) || (offset as number) < 0) throw new TypeError("bad offset");
  const shape = ints(size, "size");
  const strides = ints(stride, "stride");
  if (shape.length !== strides.length) throw new TypeError("size and stride differ in length");
  return new TensorRef(storage, offset as number, shape, strides);
};
const tensorArg = ([data]: unknown[]) => {
  if (!(data instanceof TensorRef)) throw new TypeError("argument is not a tensor");
  return data;
};
const fromTypeV2 = ([func, type, args]: unknown[]) => {
  if (!(type instanceof PyGlobal) || !TENSOR_TYPES.has(type.name)) {
    throw new TypeError(`tensor subclass ${(type as PyGlobal)?.name} is not supported`);
  }
  if (!(func instanceof PyGlobal) || !func.call) throw new TypeError("rebuild function missing");
  return func.call(args as unknown[]);
};

/**
 * The whitelist for a torch zip checkpoint: {@link PYTHON_GLOBALS}, the storage types,
 * the tensor/parameter rebuild functions and dtype names, plus `allow`: names of further
 * globals to read as inert {@link PyObject}s (e.g. "argparse.Namespace").
 *
 * @example
 * ```ts
 * import { torchGlobals } from "./_torch_pickle.ts";
 * torchGlobals().has("torch._utils._rebuild_tensor_v2"); // true
 * torchGlobals().has("os.system"); // false
 * ```
 */
export function torchGlobals(allow: readonly string[] = []): Map<string, PyGlobal> {
  const list: PyGlobal[] = [
    ...Object.entries(STORAGE_DTYPES).map(([n, d]) => new StorageType(`torch.${n}`, d)),
    new PyGlobal("torch._utils._rebuild_tensor", rebuildTensor),
    new PyGlobal("torch._utils._rebuild_tensor_v2", rebuildTensor),
    new PyGlobal("torch._utils._rebuild_parameter", tensorArg),
    new PyGlobal("torch._utils._rebuild_parameter_with_state", tensorArg),
    new PyGlobal("torch._tensor._rebuild_from_type_v2", fromTypeV2),
    ...[...TENSOR_TYPES].map((n) => new PyGlobal(n)),
    ...TORCH_DTYPE_NAMES.map((n) => new PyGlobal(`torch.${n}`)),
    ...allow.map((n) => new PyGlobal(n, (args) => new PyObject(n, args))),
  ];
  return new Map([...PYTHON_GLOBALS, ...list.map((g) => [g.name, g] as const)]);
}

/**
 * A persistent-id loader for torch's zip format: `('storage', type, key, location, numel)`
 * becomes a {@link StorageRef}, one per key, so tensors sharing a storage share the ref.
 *
 * @example
 * ```ts
 * import { storageLoader } from "./_torch_pickle.ts";
 * const load = storageLoader(); // pass as unpickle's persistentLoad
 * ```
 */
export function storageLoader(): (pid: unknown) => StorageRef {
  const seen = new Map<string, StorageRef>();
  return (pid) => {
    if (!Array.isArray(pid) || pid[0] !== "storage" || pid.length < 4) {
      throw new TypeError(`unsupported persistent id ${JSON.stringify(String(pid))}`);
    }
    const [, type, key, location] = pid;
    if (!(type instanceof StorageType)) throw new TypeError("persistent id without storage type");
    const k = String(key);
    const prev = seen.get(k);
    if (prev && prev.dtype !== type.dtype) throw new TypeError(`storage ${k} has two dtypes`);
    const ref = prev ?? new StorageRef(k, type.dtype, String(location));
    seen.set(k, ref);
    return ref;
  };
}

/**
 * Every {@link TensorRef} in a nested value (Map, Array, Set, PyObject), each once; a
 * shared container is walked once. Throws a `StructureError` past `MAX_NESTING` levels or
 * `MAX_TENSORS` tensors.
 *
 * @example
 * ```ts
 * import { tensorRefs } from "./_torch_pickle.ts";
 * tensorRefs(new Map([["a", 1]])).length; // 0
 * ```
 */
export function tensorRefs(value: unknown): TensorRef[] {
  const out = new Set<TensorRef>();
  walk(value, (v) => {
    if (v instanceof TensorRef) {
      out.add(v);
      checkTensorCount(out.size);
    }
    return v;
  });
  return [...out];
}

/**
 * Replaces, in place, each {@link TensorRef} in a nested value by `fn(ref)`.
 *
 * @example
 * ```ts
 * import { replaceTensorRefs } from "./_torch_pickle.ts";
 * replaceTensorRefs([1], (r) => r); // [1]
 * ```
 */
export function replaceTensorRefs(value: unknown, fn: (ref: TensorRef) => unknown): unknown {
  return walk(value, (v) => (v instanceof TensorRef ? fn(v) : v));
}

function walk(root: unknown, leaf: (v: unknown) => unknown): unknown {
  const seen = new Set<unknown>();
  const visit = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== "object" || v instanceof TensorRef) return leaf(v);
    if (seen.has(v)) return v;
    checkNesting(depth);
    seen.add(v);
    const inner = (x: unknown) => visit(x, depth + 1);
    if (v instanceof Map) { for (const [k, x] of v) v.set(k, inner(x)); }
    else if (Array.isArray(v)) v.forEach((x, i) => (v[i] = inner(x)));
    else if (v instanceof Set) {
      const items = [...v].map(inner);
      v.clear();
      items.forEach((x) => v.add(x));
    } else if (v instanceof PyObject) {
      v.args.forEach((x, i) => (v.args[i] = inner(x)));
      v.state = inner(v.state);
    }
    return v;
  };
  return visit(root, 0);
}

/**
 * Bytes {@link materialize} allocates for a view: none when the view is contiguous (it
 * shares its storage's memory), all its elements when it is gathered into a copy.
 *
 * @example
 * ```ts
 * import { copyBytes, StorageRef, TensorRef } from "./_torch_pickle.ts";
 * copyBytes(new TensorRef(new StorageRef("0", "F32", "cpu"), 0, [3, 2], [0, 1])); // 24 (expanded)
 * ```
 */
export function copyBytes(ref: TensorRef): number {
  return isContiguous(ref) ? 0 : numel(ref.shape) * DTYPE_BYTES[ref.dtype];
}

/**
 * Makes a contiguous {@link Tensor} from a view and its storage's raw little-endian bytes.
 * A contiguous view shares memory with the storage; a strided one is gathered into a copy.
 *
 * @example
 * ```ts
 * import { materialize, StorageRef, TensorRef } from "./_torch_pickle.ts";
 * const ref = new TensorRef(new StorageRef("0", "U8", "cpu"), 0, [2, 2], [1, 2]); // transposed
 * materialize(ref, new Uint8Array([1, 2, 3, 4])).data; // Uint8Array [1, 3, 2, 4]
 * ```
 */
export function materialize(ref: TensorRef, bytes: Uint8Array): Tensor {
  const { dtype, key } = ref.storage;
  const size = DTYPE_BYTES[dtype];
  if (bytes.byteLength % size) {
    throw new RangeError(`storage ${key} has ${bytes.byteLength} bytes, not whole ${dtype}s`);
  }
  const storage = fromBytes(dtype, bytes);
  const { shape, stride, offset } = ref;
  const n = numel(shape);
  let last = offset;
  for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * stride[d];
  if (n > 0 && (offset >= storage.length || last >= storage.length)) {
    throw new RangeError(
      `${dtype} view [${shape}] (offset ${offset}, stride [${stride}]) reaches element ${last}` +
        ` of storage ${key}, which has ${storage.length}`,
    );
  }
  if (isContiguous(ref)) return { dtype, shape, data: storage.subarray(offset, offset + n) };
  const out = new (storage.constructor as new (n: number) => TensorData)(n);
  gather(storage as unknown as number[], out as unknown as number[], shape, stride, offset);
  return { dtype, shape, data: out };
}

/** Whether a view's elements lie in row-major order without gaps (size-1 dims aside). */
function isContiguous({ shape, stride }: TensorRef): boolean {
  for (let d = shape.length - 1, want = 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== want) return false;
    want *= shape[d];
  }
  return true;
}

/** Copies a strided view row by row into `out` (row-major). */
function gather(src: number[], out: number[], shape: number[], stride: number[], offset: number) {
  const nd = shape.length;
  const rows = numel(shape.slice(0, -1));
  const len = shape[nd - 1];
  const step = stride[nd - 1];
  const idx = new Array(nd - 1).fill(0);
  let base = offset;
  for (let r = 0, o = 0; r < rows; r++) {
    for (let j = 0; j < len; j++) out[o++] = src[base + j * step];
    for (let d = nd - 2; d >= 0; d--) { // odometer over the outer dims
      base += stride[d];
      if (++idx[d] < shape[d]) break;
      base -= stride[d] * shape[d];
      idx[d] = 0;
    }
  }
}
