/**
 * Finding the state dict inside a nested checkpoint value and flattening it to dotted
 * names; shared by the tensor path and the metadata-only (describe) path.
 *
 * A pickle is a graph, not a tree: `d = {"a": d, "b": d}` nested 40 times is 2^40 paths in
 * a kilobyte. A container reached again through another key is therefore not expanded
 * again (its tensors keep the name of the first path), and walks stop with a
 * {@link StructureError} past {@link MAX_NESTING} levels or {@link MAX_TENSORS} tensors.
 *
 * @module
 */
import { DTYPE_BYTES, type Tensor } from "../core/tensor.ts";

/**
 * Deepest nesting of dicts and lists a walk follows. State dicts nest a few levels (the
 * DiT training checkpoint: `opt.state.0.exp_avg`); 1000 keeps the recursive walks far
 * from the JavaScript stack limit (about 10,000 frames).
 *
 * @example
 * ```ts
 * import { MAX_NESTING } from "./_state_dict.ts";
 * MAX_NESTING; // 1000
 * ```
 */
export const MAX_NESTING = 1000;

/**
 * Most tensors (named, or distinct in a pickle) a checkpoint may hold. The largest real
 * state dicts have about 10^5; the cap keeps Maps far below V8's 2^24-entry limit.
 *
 * @example
 * ```ts
 * import { MAX_TENSORS } from "./_state_dict.ts";
 * MAX_TENSORS; // 1000000
 * ```
 */
export const MAX_TENSORS = 1_000_000;

/**
 * Error for a value nested too deep or holding too many tensors to walk.
 *
 * @example
 * ```ts
 * import { StructureError } from "./_state_dict.ts";
 * new StructureError("too deep").name; // "StructureError"
 * ```
 */
export class StructureError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "StructureError";
  }
}

/**
 * Throws a {@link StructureError} when a walk is deeper than {@link MAX_NESTING}.
 *
 * @example
 * ```ts
 * import { checkNesting } from "./_state_dict.ts";
 * checkNesting(3); // fine; checkNesting(1001) throws
 * ```
 */
export function checkNesting(depth: number): void {
  if (depth > MAX_NESTING) {
    throw new StructureError(`values are nested more than ${MAX_NESTING} levels deep`);
  }
}

/**
 * Throws a {@link StructureError} when a walk has found more than {@link MAX_TENSORS}.
 *
 * @example
 * ```ts
 * import { checkTensorCount } from "./_state_dict.ts";
 * checkTensorCount(10); // fine; checkTensorCount(1_000_001) throws
 * ```
 */
export function checkTensorCount(count: number): void {
  if (count > MAX_TENSORS) {
    throw new StructureError(`it holds more than ${MAX_TENSORS} tensors`);
  }
}

/**
 * Follows `prefer` keys down to the state dict and flattens it with "." joins. A dict
 * whose values are all leaves is taken as is; otherwise the first `prefer` key holding a
 * leaf is followed, repeatedly; what remains is flattened, skipping non-leaf values. A leaf
 * reached through several keys is listed under each; a container, only under the first.
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
  const followed = new Set<unknown>(); // a dict that holds itself under "ema" ends the descent
  let node = obj;
  for (;;) {
    const d = entries(node);
    if (!d || (d.length > 0 && d.every(([, v]) => isLeaf(v))) || followed.has(node)) break;
    followed.add(node);
    const hit = prefer.find((k) => d.some(([key, v]) => key === k && hasLeaf(v, isLeaf)));
    if (hit === undefined) break;
    keys.push(hit);
    node = d.find(([key]) => key === hit)![1];
  }
  const leaves = new Map<string, T>();
  flatten(node, "", leaves, isLeaf, new Set(), 0);
  return { leaves, path: keys.join(".") };
}

/**
 * Every leaf of a nested value (Maps, Arrays, plain objects) under its dotted path; a
 * container reached again through another key is not expanded again.
 *
 * @example
 * ```ts
 * import { flattenLeaves, isTensor } from "./_state_dict.ts";
 * flattenLeaves(new Map([["a", [1]]]), (v): v is number => typeof v === "number"); // {"a.0" => 1}
 * ```
 */
export function flattenLeaves<T>(obj: unknown, isLeaf: (v: unknown) => v is T): Map<string, T> {
  const out = new Map<string, T>();
  flatten(obj, "", out, isLeaf, new Set(), 0);
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
  expanded: Set<unknown>, // containers already expanded: a shared one is expanded once
  depth: number,
): void {
  if (isLeaf(v)) {
    out.set(prefix, v);
    checkTensorCount(out.size);
    return;
  }
  const d = entries(v);
  if (!d || expanded.has(v)) return;
  checkNesting(depth);
  expanded.add(v);
  for (const [k, x] of d) {
    flatten(x, prefix ? `${prefix}.${k}` : k, out, isLeaf, expanded, depth + 1);
  }
}

function hasLeaf<T>(
  v: unknown,
  isLeaf: (v: unknown) => v is T,
  seen = new Set(),
  depth = 0,
): boolean {
  if (isLeaf(v)) return true;
  const d = entries(v);
  if (!d || seen.has(v)) return false;
  checkNesting(depth);
  seen.add(v);
  return d.some(([, x]) => hasLeaf(x, isLeaf, seen, depth + 1));
}
