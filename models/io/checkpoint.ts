/**
 * One entry point for model weights: {@link loadCheckpoint} reads a safetensors file or a
 * PyTorch torch.save checkpoint (told apart by their first bytes, not their names) into a
 * flat `Map<string, Tensor>`; {@link describeCheckpoint} lists names, dtypes and shapes
 * cheaply for `mgd3 inspect`. A directory (e.g. a diffusers model folder) resolves to
 * the weights file inside it.
 *
 * @module
 */
import { readSafetensors, readSafetensorsHeader } from "./safetensors.ts";
import {
  CheckpointError,
  describePytorchCheckpoint,
  type ReadPytorchOptions,
  readPytorchStateDict,
  type TensorInfo,
} from "./pytorch_checkpoint.ts";
import type { Tensor } from "../core/tensor.ts";

export { CheckpointError, type TensorInfo };

/**
 * File formats {@link loadCheckpoint} reads.
 *
 * @example
 * ```ts
 * import type { CheckpointFormat } from "./checkpoint.ts";
 * const f: CheckpointFormat = "safetensors";
 * ```
 */
export type CheckpointFormat = "safetensors" | "pytorch";

/**
 * Options of {@link loadCheckpoint}.
 *
 * @example
 * ```ts
 * import { loadCheckpoint } from "./checkpoint.ts";
 * await loadCheckpoint("ckpt.pt", { prefer: ["model"], allowGlobals: ["argparse.Namespace"] });
 * ```
 */
export interface LoadCheckpointOptions extends ReadPytorchOptions {
  /** Keys tried, in order, when a .pt file nests its state dict (default ema, state_dict, model). */
  prefer?: readonly string[];
}

/**
 * A loaded checkpoint.
 *
 * @example
 * ```ts
 * import { type LoadedCheckpoint, loadCheckpoint } from "./checkpoint.ts";
 * const { tensors, metadata }: LoadedCheckpoint = await loadCheckpoint("model.safetensors");
 * ```
 */
export interface LoadedCheckpoint {
  /** The weights file actually read (differs from the argument for a directory). */
  path: string;
  /** Which reader was used, told from the file's first bytes. */
  format: CheckpointFormat;
  /** The state dict, by dotted name. */
  tensors: Map<string, Tensor>;
  /**
   * safetensors: the header's `__metadata__`. pytorch: the top-level entries that are
   * plain numbers, strings or booleans (e.g. `epoch`), and `state_dict_path`, the keys
   * followed to reach the state dict (e.g. "ema") when it was nested.
   */
  metadata: Record<string, string>;
}

/**
 * Weights files looked for, in order, when a directory is given.
 *
 * @example
 * ```ts
 * import { DIRECTORY_WEIGHTS } from "./checkpoint.ts";
 * DIRECTORY_WEIGHTS[0]; // "diffusion_pytorch_model.safetensors"
 * ```
 */
export const DIRECTORY_WEIGHTS: readonly string[] = [
  "diffusion_pytorch_model.safetensors", // diffusers
  "diffusion_pytorch_model.bin",
  "model.safetensors", // transformers
  "pytorch_model.bin",
];

/**
 * Loads the weights of a checkpoint: every tensor of a safetensors file, or the state dict
 * of a torch.save zip checkpoint, which may be nested (`{"ema": sd, "opt": ...}`; see
 * `prefer`); only the chosen state dict's storages are read.
 *
 * @example
 * ```ts
 * import { loadCheckpoint } from "./checkpoint.ts";
 * const { tensors, format } = await loadCheckpoint("taef2_encoder.pth");
 * tensors.get("0.weight")?.shape; // [64, 3, 3, 3]
 * ```
 */
export async function loadCheckpoint(
  path: string,
  options: LoadCheckpointOptions = {},
): Promise<LoadedCheckpoint> {
  const file = await resolveCheckpointPath(path);
  const format = await sniffFormat(file);
  if (format === "safetensors") {
    const { tensors, metadata } = await readSafetensors(file);
    return { path: file, format, tensors, metadata };
  }
  const { tensors, path: keyPath, scalars } = await readPytorchStateDict(file, options);
  const metadata = keyPath ? { ...scalars, state_dict_path: keyPath } : scalars;
  return { path: file, format, tensors, metadata };
}

/**
 * Name, dtype and shape of every tensor in a checkpoint, without reading tensor data
 * (safetensors: the header only; pytorch: the pickle only, names as dotted paths from
 * the top, e.g. `ema.blocks.0.attn.qkv.weight`).
 *
 * @example
 * ```ts
 * import { describeCheckpoint } from "./checkpoint.ts";
 * for (const t of await describeCheckpoint("model.safetensors")) {
 *   console.log(t.name, t.dtype, t.shape.join("x"));
 * }
 * ```
 */
export async function describeCheckpoint(
  path: string,
  options: ReadPytorchOptions = {},
): Promise<TensorInfo[]> {
  const file = await resolveCheckpointPath(path);
  if ((await sniffFormat(file)) === "pytorch") return describePytorchCheckpoint(file, options);
  const { tensors } = await readSafetensorsHeader(file);
  return Object.entries(tensors).map(([name, e]) => ({ name, dtype: e.dtype, shape: e.shape }));
}

/**
 * The weights file for a path: the path itself for a file, or the first of
 * {@link DIRECTORY_WEIGHTS} inside a directory.
 *
 * @example
 * ```ts
 * import { resolveCheckpointPath } from "./checkpoint.ts";
 * await resolveCheckpointPath("sd-vae-ft-ema"); // "sd-vae-ft-ema/diffusion_pytorch_model.safetensors"
 * ```
 */
export async function resolveCheckpointPath(path: string): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    throw new CheckpointError(path, (e as Error).message);
  }
  if (!info.isDirectory) return path;
  for (const name of DIRECTORY_WEIGHTS) {
    const candidate = `${path.replace(/\/+$/, "")}/${name}`;
    const found = await Deno.stat(candidate).then((s) => s.isFile, () => false);
    if (found) return candidate;
  }
  throw new CheckpointError(
    path,
    `it is a directory without any of ${DIRECTORY_WEIGHTS.join(", ")} ` +
      `(sharded checkpoints with an index.json are not supported)`,
  );
}

/**
 * Tells the format from the first bytes: "PK" (zip) or a pickle PROTO byte is PyTorch;
 * an 8-byte little-endian length followed by "{" is safetensors (whatever the length says:
 * the safetensors reader checks it and names what is wrong).
 *
 * @example
 * ```ts
 * import { sniffFormat } from "./checkpoint.ts";
 * await sniffFormat("model.safetensors"); // "safetensors"
 * ```
 */
export async function sniffFormat(path: string): Promise<CheckpointFormat> {
  const head = new Uint8Array(9);
  let n = 0;
  try {
    using f = await Deno.open(path, { read: true });
    while (n < head.length) {
      const r = await f.read(head.subarray(n));
      if (r === null) break;
      n += r;
    }
  } catch (e) {
    throw new CheckpointError(path, (e as Error).message);
  }
  if (n === 0) {
    throw new CheckpointError(path, "the file is empty; expected safetensors or a torch.save file");
  }
  // "{" opens the JSON header; its length is checked by the safetensors reader, whose
  // errors say what is wrong with it (too long for the format, longer than the file). Tested
  // first: a header of 0x..80 bytes starts with 0x80, a pickle's PROTO opcode (a legacy
  // torch.save file starts 80 02 8a 0a 6c fc 9c 46 f9: never "{" at byte 8).
  if (n === 9 && head[8] === 0x7b) return "safetensors";
  if ((head[0] === 0x50 && head[1] === 0x4b) || head[0] === 0x80) return "pytorch"; // "PK", PROTO
  throw new CheckpointError(
    path,
    "unknown format: expected safetensors (8-byte header length, then '{') or a torch.save " +
      "zip checkpoint (starting with 'PK')",
  );
}
