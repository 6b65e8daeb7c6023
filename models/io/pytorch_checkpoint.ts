/**
 * Reads PyTorch `.pt`/`.pth`/`.bin` checkpoints written by `torch.save` (the zip format,
 * the default since PyTorch 1.6) without Python and without running any code: the zip
 * is read entry by entry, `data.pkl` goes through a whitelisting pickle interpreter, and
 * each storage `<archive>/data/<key>` is read once and shared by the tensors viewing it.
 *
 * @module
 */
import { ZipError, ZipReader } from "./_zip.ts";
import { PickleError, unpickle } from "./_pickle.ts";
import {
  copyBytes,
  materialize,
  replaceTensorRefs,
  storageLoader,
  TensorRef,
  tensorRefs,
  torchGlobals,
} from "./_torch_pickle.ts";
import { flattenLeaves, isTensor, selectLeaves, StructureError } from "./_state_dict.ts";
import { type DType, DTYPE_BYTES, type Tensor } from "../core/tensor.ts";

/**
 * Error for a checkpoint that cannot be read; names the file and what was expected.
 *
 * @example
 * ```ts
 * import { CheckpointError } from "./pytorch_checkpoint.ts";
 * new CheckpointError("x.pt", "the file is empty").message; // "Cannot load checkpoint x.pt: the file is empty"
 * ```
 */
export class CheckpointError extends Error {
  /** Builds "Cannot load checkpoint <path>: <what>". */
  constructor(path: string, what: string) {
    super(`Cannot load checkpoint ${path}: ${what}`);
    this.name = "CheckpointError";
  }
}

/**
 * Options of {@link readPytorchCheckpoint}.
 *
 * @example
 * ```ts
 * import type { ReadPytorchOptions } from "./pytorch_checkpoint.ts";
 * const options: ReadPytorchOptions = { allowGlobals: ["argparse.Namespace"] };
 * ```
 */
export interface ReadPytorchOptions {
  /**
   * Extra globals ("module.name", e.g. "argparse.Namespace") the pickle may name; they are
   * read as inert `PyObject`s, never called. Everything else outside the torch whitelist
   * is an error.
   */
  allowGlobals?: readonly string[];
  /**
   * Most bytes the archive's DEFLATE-compressed entries may inflate to, together (default
   * 64x the file size, at least 256 MiB; stored entries, as torch.save writes them, are
   * not counted). Guards against zip bombs; raise it for a re-zipped checkpoint of
   * mostly zeros.
   */
  maxInflatedBytes?: number;
}

/**
 * Name, dtype and shape of one tensor.
 *
 * @example
 * ```ts
 * import type { TensorInfo } from "./pytorch_checkpoint.ts";
 * const info: TensorInfo = { name: "0.weight", dtype: "F16", shape: [64, 3, 3, 3] };
 * ```
 */
export interface TensorInfo {
  /** Dotted name, e.g. "blocks.0.attn.qkv.weight". */
  name: string;
  /** Element type, as in safetensors. */
  dtype: DType;
  /** Dimensions, `[]` for a scalar. */
  shape: number[];
}

/**
 * State-dict keys tried, in order, when a checkpoint nests its weights: EMA weights first
 * (DiT's training checkpoints hold "model", "ema" and "opt"), then Lightning's
 * "state_dict", then "model".
 *
 * @example
 * ```ts
 * import { DEFAULT_PREFER, stateDict } from "./pytorch_checkpoint.ts";
 * stateDict(new Map(), { prefer: ["model", ...DEFAULT_PREFER] }); // throws: no tensors
 * ```
 */
export const DEFAULT_PREFER: readonly string[] = ["ema", "state_dict", "model"];

const FORBIDDEN_HINT = "; only tensors, storages, OrderedDict, set and bytes are read, " +
  "and allowGlobals may name further classes to read as inert data";
const LEGACY_HELP = "it is in the legacy (non-zip) torch.save format, which is not supported; " +
  "convert it once in Python with `torch.save(torch.load(src, weights_only=True), dst)` " +
  "(weights_only=True keeps the pickle from running code; PyTorch >= 1.6 writes the zip " +
  "format by default; do not pass _use_new_zipfile_serialization=False)";
/**
 * Bytes that strided views may copy beyond the size of the storages read: a transposed
 * view copies at most its storage, an expanded one (`x.expand(...)`, stride 0) more, so a
 * pickle cannot make a small storage allocate gigabytes.
 */
const COPY_ALLOWANCE_BYTES = 256 * 2 ** 20;

/**
 * Reads a torch.save zip checkpoint into a nested JavaScript value: dicts become Maps,
 * lists and tuples Arrays, tensors {@link Tensor}s (contiguous, row-major).
 *
 * @example
 * ```ts
 * import { readPytorchCheckpoint, stateDict } from "./pytorch_checkpoint.ts";
 * const ckpt = await readPytorchCheckpoint("taef2_encoder.pth");
 * const weights = stateDict(ckpt); // Map<string, Tensor>
 * ```
 */
export async function readPytorchCheckpoint(
  path: string,
  options: ReadPytorchOptions = {},
): Promise<unknown> {
  const { zip, prefix, value, pickle } = await openCheckpoint(path, options);
  try {
    const refs = walked(path, pickle, () => tensorRefs(value));
    const done = await readTensors(zip, prefix, refs);
    return walked(path, pickle, () => replaceTensorRefs(value, (ref) => done.get(ref)));
  } finally {
    zip.close();
  }
}

/**
 * Reads only the state dict of a torch.save checkpoint (see {@link stateDict} for how
 * `prefer` finds it), so a training checkpoint's optimizer state is never read. Returns
 * the tensors, the keys followed (e.g. "ema") and the top-level entries that are plain
 * numbers, strings or booleans (e.g. `epoch`) as strings.
 *
 * @example
 * ```ts
 * import { readPytorchStateDict } from "./pytorch_checkpoint.ts";
 * const { tensors, path } = await readPytorchStateDict("dit_ckpt.pt", { prefer: ["ema"] });
 * ```
 */
export async function readPytorchStateDict(
  path: string,
  options: ReadPytorchOptions & { prefer?: readonly string[] } = {},
): Promise<{ tensors: Map<string, Tensor>; path: string; scalars: Record<string, string> }> {
  const { zip, prefix, value, pickle } = await openCheckpoint(path, options);
  try {
    const prefer = options.prefer ?? DEFAULT_PREFER;
    const chosen = walked(path, pickle, () => selectLeaves(value, prefer, isTensorRef));
    if (chosen.leaves.size === 0) throw new CheckpointError(path, "it holds no tensors");
    const done = await readTensors(zip, prefix, [...chosen.leaves.values()]);
    const tensors = new Map([...chosen.leaves].map(([k, ref]) => [k, done.get(ref)!]));
    const scalars: Record<string, string> = {};
    for (const [k, v] of value instanceof Map ? value : []) {
      if (["number", "string", "boolean", "bigint"].includes(typeof v)) scalars[k] = String(v);
    }
    return { tensors, path: chosen.path, scalars };
  } finally {
    zip.close();
  }
}

/**
 * Name, dtype and shape of every tensor in a torch.save checkpoint, read from the pickle
 * alone (no tensor data is read). Names are dotted paths from the top, e.g. `ema.x.weight`.
 *
 * @example
 * ```ts
 * import { describePytorchCheckpoint } from "./pytorch_checkpoint.ts";
 * for (const t of await describePytorchCheckpoint("model.pt")) console.log(t.name, t.shape);
 * ```
 */
export async function describePytorchCheckpoint(
  path: string,
  options: ReadPytorchOptions = {},
): Promise<TensorInfo[]> {
  const { zip, prefix, value, pickle } = await openCheckpoint(path, options);
  zip.close();
  const leaves = walked(path, pickle, () => flattenLeaves(value, isTensorRef));
  return [...leaves].map(([name, r]) => {
    const entry = zip.entries.get(`${prefix}data/${r.storage.key}`);
    const need = viewEnd(r) * DTYPE_BYTES[r.dtype];
    if (!entry || entry.size < need) {
      throw new CheckpointError(
        path,
        `storage '${prefix}data/${r.storage.key}' of '${name}' is ` +
          (entry ? `${entry.size} bytes, expected at least ${need}` : "missing"),
      );
    }
    return { name, dtype: r.dtype, shape: r.shape };
  });
}

/**
 * Finds the state dict in a loaded checkpoint: a dict whose values are all tensors is
 * returned as is; otherwise the first key of `prefer` that holds tensors is followed
 * (repeatedly, e.g. `{"state_dict": {"model": ...}}`); what remains is flattened with
 * "." joins (`{"encoder": {"w": t}}` -> `encoder.w`), skipping values that are not tensors.
 *
 * @example
 * ```ts
 * import { stateDict } from "./pytorch_checkpoint.ts";
 * const w = { dtype: "F32" as const, shape: [1], data: new Float32Array([1]) };
 * const ckpt = new Map<string, unknown>([["ema", new Map([["w", w]])], ["epoch", 3]]);
 * stateDict(ckpt).get("w"); // w
 * ```
 */
export function stateDict(
  obj: unknown,
  options: { prefer?: readonly string[] } = {},
): Map<string, Tensor> {
  const { leaves } = selectLeaves(obj, options.prefer ?? DEFAULT_PREFER, isTensor);
  if (leaves.size === 0) throw new Error("No tensors found in the checkpoint");
  return leaves;
}

/**
 * Runs a walk over the unpickled value, naming the file and pickle when the value is too
 * deep or holds too many tensors.
 */
function walked<T>(path: string, pickle: string, walk: () => T): T {
  try {
    return walk();
  } catch (e) {
    if (e instanceof StructureError) throw new CheckpointError(path, `${pickle}: ${e.message}`);
    throw e;
  }
}

/**
 * Reads each storage the refs view, once, and makes their tensors. Strided views may copy,
 * together, at most the storages' bytes plus {@link COPY_ALLOWANCE_BYTES}.
 */
async function readTensors(
  zip: ZipReader,
  prefix: string,
  refs: TensorRef[],
): Promise<Map<TensorRef, Tensor>> {
  const done = new Map<TensorRef, Tensor>();
  const groups = Map.groupBy(refs, (r) => r.storage);
  let allowance = COPY_ALLOWANCE_BYTES;
  for (const storage of groups.keys()) {
    const entry = `${prefix}data/${storage.key}`;
    if (!zip.entries.has(entry)) {
      throw new CheckpointError(zip.path, `storage '${entry}' named by the pickle is missing`);
    }
    allowance += zip.entries.get(entry)!.size;
  }
  for (const [storage, views] of groups) {
    const entry = `${prefix}data/${storage.key}`;
    for (const ref of views) {
      allowance -= copyBytes(ref);
      if (allowance < 0) {
        throw new CheckpointError(
          zip.path,
          `the ${ref.dtype} view [${ref.shape}] (stride [${ref.stride}]) of '${entry}' would ` +
            `copy ${copyBytes(ref)} bytes; strided views may copy at most the storages' ` +
            `bytes plus ${COPY_ALLOWANCE_BYTES} in all`,
        );
      }
    }
    let bytes: Uint8Array;
    try {
      bytes = await zip.read(entry);
    } catch (e) {
      throw e instanceof ZipError ? new CheckpointError(zip.path, e.detail) : e;
    }
    for (const ref of views) {
      try {
        done.set(ref, materialize(ref, bytes));
      } catch (e) {
        throw new CheckpointError(zip.path, (e as Error).message);
      }
    }
  }
  return done;
}

/** One past the last storage element a view touches (0 for an empty view). */
function viewEnd(r: TensorRef): number {
  if (r.shape.some((d) => d === 0)) return 0;
  return r.shape.reduce((end, d, i) => end + (d - 1) * r.stride[i], r.offset + 1);
}

async function openCheckpoint(path: string, options: ReadPytorchOptions) {
  await checkMagic(path);
  let zip: ZipReader;
  try {
    zip = await ZipReader.open(path, { maxInflatedBytes: options.maxInflatedBytes });
  } catch (e) {
    throw e instanceof ZipError ? new CheckpointError(path, e.detail) : e;
  }
  let pickle = "data.pkl";
  try {
    const names = [...zip.entries.keys()];
    const pkl = names.find((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (!pkl) {
      const script = names.some((n) => /^[^/]+\/(code|constants\.pkl)/.test(n));
      throw new CheckpointError(
        path,
        script
          ? "it is a TorchScript archive (torch.jit.save); save the state dict with " +
            "torch.save(model.state_dict(), path) instead"
          : "zip archive has no '<archive>/data.pkl' entry; expected a torch.save checkpoint",
      );
    }
    pickle = pkl;
    const prefix = pkl.slice(0, -"data.pkl".length);
    if (zip.entries.has(`${prefix}byteorder`)) {
      const order = new TextDecoder().decode(await zip.read(`${prefix}byteorder`)).trim();
      if (order !== "little") {
        throw new CheckpointError(path, `byteorder is '${order}'; only little-endian is supported`);
      }
    }
    const value = unpickle(await zip.read(pkl, { checkCrc: true }), {
      globals: torchGlobals(options.allowGlobals),
      persistentLoad: storageLoader(),
      file: pkl,
    });
    return { zip, prefix, value, pickle };
  } catch (e) {
    zip.close();
    if (e instanceof ZipError) throw new CheckpointError(path, e.detail);
    if (e instanceof PickleError) {
      const hint = e.detail.startsWith("forbidden global") ? FORBIDDEN_HINT : "";
      throw new CheckpointError(path, `${pickle}: ${e.detail}${hint}`);
    }
    throw e;
  }
}

/** Rejects empty files, legacy torch.save pickles and non-zip files with a clear message. */
async function checkMagic(path: string): Promise<void> {
  let head: Uint8Array;
  try {
    using f = await Deno.open(path, { read: true });
    head = new Uint8Array(4);
    const n = (await f.read(head)) ?? 0;
    head = head.subarray(0, n);
  } catch (e) {
    throw new CheckpointError(path, (e as Error).message);
  }
  if (head.length === 0) throw new CheckpointError(path, "the file is empty");
  if (head[0] === 0x50 && head[1] === 0x4b) return; // "PK"
  if (head[0] === 0x80) throw new CheckpointError(path, LEGACY_HELP); // pickle PROTO opcode
  throw new CheckpointError(
    path,
    `not a PyTorch zip checkpoint (starts with bytes ${[...head].map((b) => b.toString(16))}, ` +
      `expected "PK")`,
  );
}

function isTensorRef(v: unknown): v is TensorRef {
  return v instanceof TensorRef;
}
