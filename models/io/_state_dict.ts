/**
 * Finding the state dict inside a nested checkpoint value and flattening it to dotted
 * names; shared by the tensor path and the metadata-only (describe) path.
 *
 * @module
 */
import { DTYPE_BYTES, type Tensor } from "../core/tensor.ts";

/**
 * Follows `prefer` keys down to the state dict and flattens it with "." joins. A dict
 * whose values are all leaves is taken as is; otherwise the first `prefer` key holding a
 * leaf is followed, repeatedly; what remains is flattened, skipping non-leaf values.
 *
 * @example
 * ```ts
 * import { isTensor, selectLeaves } from "./_state_dict.ts";
 * const w = { dtype: "F32" as const, shape: [1], data: new Float32Array([1]) };
 * selectLeaves(new Map([["ema", new Map([["w", w]])]]), ["ema"], isTensor).path; // "ema"
 * ```
 */
export function selectLeaves<T>(
  obj: unknown,
  prefer: readonly string[],
  isLeaf: (v: unknown) => v is T,
): { leaves: Map<string, T>; path: string } {
  const keys: string[] = [];
  let node = obj;
  for (;;) {
    const d = entries(node);
    if (!d || (d.length > 0 && d.every(([, v]) => isLeaf(v)))) break;
    const hit = prefer.find((k) => d.some(([key, v]) => key === k && hasLeaf(v, isLeaf)));
    if (hit === undefined) break;
    keys.push(hit);
    node = d.find(([key]) => key === hit)![1];
  }
  const leaves = new Map<string, T>();
  flatten(node, "", leaves, isLeaf, new Set());
  return { leaves, path: keys.join(".") };
}

/**
 * Every leaf of a nested value (Maps, Arrays, plain objects) under its dotted path.
 *
 * @example
 * ```ts
 * import { flattenLeaves, isTensor } from "./_state_dict.ts";
 * flattenLeaves(new Map([["a", [1]]]), (v): v is number => typeof v === "number"); // {"a.0" => 1}
 * ```
 */
export function flattenLeaves<T>(obj: unknown, isLeaf: (v: unknown) => v is T): Map<string, T> {
  const out = new Map<string, T>();
  flatten(obj, "", out, isLeaf, new Set());
  return out;
}

/**
 * Whether a value is a {@link Tensor} (a known dtype, a shape array and a typed array).
 *
 * @example
 * ```ts
 * import { isTensor } from "./_state_dict.ts";
 * isTensor({ dtype: "F32", shape: [], data: new Float32Array(1) }); // true
 * ```
 */
export function isTensor(v: unknown): v is Tensor {
  if (v === null || typeof v !== "object") return false;
  const t = v as Tensor;
  return typeof t.dtype === "string" && t.dtype in DTYPE_BYTES && Array.isArray(t.shape) &&
    ArrayBuffer.isView(t.data);
}

function entries(v: unknown): [string, unknown][] | undefined {
  if (v instanceof Map) return [...v].map(([k, x]) => [String(k), x]);
  if (Array.isArray(v)) return v.map((x, i) => [String(i), x]);
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.entries(v);
  }
  return undefined;
}

function flatten<T>(
  v: unknown,
  prefix: string,
  out: Map<string, T>,
  isLeaf: (v: unknown) => v is T,
  path: Set<unknown>, // objects on the current path, to stop at cycles
): void {
  if (isLeaf(v)) {
    out.set(prefix, v);
    return;
  }
  const d = entries(v);
  if (!d || path.has(v)) return;
  path.add(v);
  for (const [k, x] of d) flatten(x, prefix ? `${prefix}.${k}` : k, out, isLeaf, path);
  path.delete(v);
}

function hasLeaf<T>(v: unknown, isLeaf: (v: unknown) => v is T, seen = new Set()): boolean {
  if (isLeaf(v)) return true;
  const d = entries(v);
  if (!d || seen.has(v)) return false;
  seen.add(v);
  return d.some(([, x]) => hasLeaf(x, isLeaf, seen));
}
