/**
 * safetensors reader and writer, following the format's specification: an 8-byte
 * little-endian header length N, then N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}`, then the
 * raw little-endian tensor bytes, with offsets relative to the end of the header.
 * Files written here load with `safetensors.numpy.load_file` and `safetensors.torch.load_file`.
 *
 * Reading checks what the reference reader (huggingface/safetensors, `Metadata::validate`)
 * checks: the header is at most 100 MB, and the tensors' byte ranges, sorted, tile the data
 * section exactly (no gap, no overlap, nothing after the last one). Every error names the file.
 *
 * @module
 */
import { writeAtomic } from "../core/fs.ts";
import { type DType, DTYPE_BYTES, fromBytes, numel, type Tensor, toBytes } from "../core/tensor.ts";

/** Header entry of one tensor. */
export interface SafetensorsEntry {
  /** Element type, as named in the header. */
  dtype: DType;
  /** Dimensions of the tensor. */
  shape: number[];
  /** Byte range [begin, end) of its data, relative to the start of the data section. */
  data_offsets: [number, number];
}

/** Parsed header: tensor entries plus the free-form string metadata. */
export interface SafetensorsHeader {
  /** Entry of each tensor, by name. */
  tensors: Record<string, SafetensorsEntry>;
  /** The header's `__metadata__` (empty when absent). */
  metadata: Record<string, string>;
  /** Byte offset of the data section in the file (8 + header length). */
  dataStart: number;
}

/**
 * Longest header the reference reader accepts (safetensors' MAX_HEADER_SIZE, 100 MB).
 *
 * @example
 * ```ts
 * import { MAX_HEADER_BYTES } from "./safetensors.ts";
 * MAX_HEADER_BYTES; // 100000000
 * ```
 */
export const MAX_HEADER_BYTES = 100_000_000;
const KNOWN_DTYPES = new Set(Object.keys(DTYPE_BYTES));

/** Error for a file that is not a valid safetensors file; names the file. */
export class SafetensorsError extends Error {
  /** Error for the file at `path`; `what` says what is wrong with it. */
  constructor(path: string, what: string) {
    super(`Cannot read safetensors file ${path}: ${what}`);
    this.name = "SafetensorsError";
  }
}

/**
 * Parses and validates a safetensors header from its bytes.
 *
 * @example
 * ```ts
 * import { parseSafetensorsHeader } from "./safetensors.ts";
 * const bytes = await Deno.readFile("model.safetensors");
 * const header = parseSafetensorsHeader(bytes, "model.safetensors", bytes.length);
 * ```
 */
export function parseSafetensorsHeader(
  head: Uint8Array,
  path: string,
  fileSize: number,
): SafetensorsHeader {
  if (head.length < 8) throw new SafetensorsError(path, "file shorter than the 8-byte header size");
  const n = headerLength(head, path, fileSize);
  if (head.length < 8 + n) throw new SafetensorsError(path, "truncated header");
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(head.subarray(8, 8 + n)));
  } catch (e) {
    throw new SafetensorsError(path, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new SafetensorsError(path, "header is not a JSON object");
  }
  const dataSize = fileSize - 8 - n;
  const tensors: Record<string, SafetensorsEntry> = {};
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json)) {
    if (name === "__metadata__") {
      metadata = value as Record<string, string>;
      continue;
    }
    const e = value as SafetensorsEntry;
    if (!e || !KNOWN_DTYPES.has(e.dtype)) {
      throw new SafetensorsError(path, `tensor '${name}' has unsupported dtype ${e?.dtype}`);
    }
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new SafetensorsError(
        path,
        `tensor '${name}' has invalid shape ${JSON.stringify(e.shape)}`,
      );
    }
    const [b, end] = e.data_offsets ?? [];
    const want = numel(e.shape) * DTYPE_BYTES[e.dtype];
    if (
      !Number.isInteger(b) || !Number.isInteger(end) || b < 0 || end > dataSize || end - b !== want
    ) {
      throw new SafetensorsError(
        path,
        `tensor '${name}' (${e.dtype} [${e.shape}]) has data_offsets ${
          JSON.stringify(e.data_offsets)
        }, ` +
          `expected ${want} bytes within the ${dataSize}-byte data section`,
      );
    }
    tensors[name] = { dtype: e.dtype, shape: e.shape, data_offsets: [b, end] };
  }
  checkTiling(tensors, dataSize, path);
  return { tensors, metadata, dataStart: 8 + n };
}

/**
 * The header length from the first 8 bytes, checked against the format's 100 MB limit and
 * the file's size.
 */
function headerLength(head: Uint8Array, path: string, fileSize: number): number {
  const n = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      path,
      `header length ${n} is over the format's limit of ${MAX_HEADER_BYTES} bytes (the ` +
        `reference reader's MAX_HEADER_SIZE); not a safetensors file, or a corrupt one`,
    );
  }
  if (8 + Number(n) > fileSize) {
    throw new SafetensorsError(path, `header size ${n} does not fit a ${fileSize}-byte file`);
  }
  return Number(n);
}

/**
 * Checks, as the reference reader does, that the tensors' byte ranges sorted by offset
 * follow each other without gap or overlap and end exactly at the end of the data section.
 */
function checkTiling(
  tensors: Record<string, SafetensorsEntry>,
  dataSize: number,
  path: string,
): void {
  const ranges = Object.entries(tensors).sort(([, a], [, b]) =>
    a.data_offsets[0] - b.data_offsets[0] || a.data_offsets[1] - b.data_offsets[1]
  );
  let end = 0;
  let previous = "";
  for (const [name, { data_offsets: [b, e] }] of ranges) {
    if (b !== end) {
      const expected = previous
        ? `the previous tensor '${previous}' ends at ${end}`
        : "the first tensor must start at 0";
      const problem = b < end ? "overlapping" : "leaving a gap";
      throw new SafetensorsError(
        path,
        `tensor '${name}' starts at byte ${b} of the data section, but ${expected} ` +
          `(${problem}; the tensors must tile the data section)`,
      );
    }
    end = e;
    previous = name;
  }
  if (end !== dataSize) {
    throw new SafetensorsError(
      path,
      `the tensors end at byte ${end} of the ${dataSize}-byte data section; the rest is ` +
        `not described by the header`,
    );
  }
}

/**
 * Reads only the header of a safetensors file (cheap for large files).
 *
 * @example
 * ```ts
 * import { readSafetensorsHeader } from "./safetensors.ts";
 * const { tensors } = await readSafetensorsHeader("model.safetensors");
 * ```
 */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw new SafetensorsError(path, (e as Error).message);
  }
  try {
    const size = (await file.stat()).size;
    const first = new Uint8Array(Math.min(size, 8));
    await readFull(file, first, path);
    if (size < 8) throw new SafetensorsError(path, "file shorter than the 8-byte header size");
    const n = headerLength(first, path, size);
    const head = new Uint8Array(8 + n);
    head.set(first);
    await readFull(file, head.subarray(8), path);
    return parseSafetensorsHeader(head, path, size);
  } finally {
    file.close();
  }
}

/**
 * Decodes every tensor of a safetensors file held in memory.
 *
 * @example
 * ```ts
 * import { decodeSafetensors } from "./safetensors.ts";
 * const { tensors } = decodeSafetensors(await Deno.readFile("x.safetensors"), "x.safetensors");
 * ```
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  path = "<memory>",
): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const header = parseSafetensorsHeader(bytes, path, bytes.length);
  const tensors = new Map<string, Tensor>();
  for (const [name, e] of Object.entries(header.tensors)) {
    const raw = bytes.subarray(
      header.dataStart + e.data_offsets[0],
      header.dataStart + e.data_offsets[1],
    );
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data: fromBytes(e.dtype, raw) });
  }
  return { tensors, metadata: header.metadata };
}

/**
 * Reads a whole safetensors file.
 *
 * @example
 * ```ts
 * import { readSafetensors } from "./safetensors.ts";
 * const { tensors, metadata } = await readSafetensors("latents.safetensors");
 * ```
 */
export async function readSafetensors(
  path: string,
): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new SafetensorsError(path, (e as Error).message);
  }
  return decodeSafetensors(bytes, path);
}

/**
 * Encodes tensors (in the given order, 8-byte aligned as the reference writer does) and
 * string metadata as safetensors bytes.
 *
 * @example
 * ```ts
 * import { encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors(new Map([["w", { dtype: "F32", shape: [1], data: new Float32Array([1]) }]]));
 * ```
 */
export function encodeSafetensors(
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") {
        throw new TypeError(`safetensors metadata '${k}' must be a string`);
      }
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of entries) {
    const size = numel(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== size) {
      throw new RangeError(
        `Tensor '${name}' ${t.dtype} [${t.shape}] needs ${size} bytes, has ${t.data.byteLength}`,
      );
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8; // spaces keep the data section 8-byte aligned
  if (pad) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, t] of entries) {
    const b = toBytes(t);
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/**
 * Writes tensors to a safetensors file atomically: the bytes go to a temporary file in
 * the same directory, which is then renamed over `path`, so a crash never leaves half a file.
 *
 * @example
 * ```ts
 * import { writeSafetensors } from "./safetensors.ts";
 * await writeSafetensors("w.safetensors", { w: { dtype: "F32", shape: [1], data: new Float32Array([1]) } });
 * ```
 */
export async function writeSafetensors(
  path: string,
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/**
 * Writes bytes to `path` through a temporary sibling file and a rename (atomic on POSIX); the
 * same writer as the store's (`writeAtomic` in models/core/fs.ts).
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./safetensors.ts";
 * await writeFileAtomic("out.json", new TextEncoder().encode("{}"));
 * ```
 */
export const writeFileAtomic: (path: string, bytes: Uint8Array) => Promise<void> = writeAtomic;

async function readFull(file: Deno.FsFile, buf: Uint8Array, path: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const n = await file.read(buf.subarray(done));
    if (n === null) throw new SafetensorsError(path, "unexpected end of file (truncated?)");
    done += n;
  }
}
