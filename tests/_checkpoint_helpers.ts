// Helpers for tests/checkpoint_test.ts: fixture paths, expected values, a tiny zip
// writer for crafting malformed checkpoints, and error-message assertions.
import assert from "node:assert/strict";
import { crc32, ZipReader } from "../models/io/_zip.ts";
import { type Tensor, toFloat32 } from "../models/core/tensor.ts";

/** Fixtures written by tools/fixtures/make_checkpoint_fixtures.py. */
export const DIR = new URL("./fixtures/checkpoints/", import.meta.url).pathname;
/** torch.save of a flat state dict. */
export const SD = `${DIR}state_dict.pt`;
/** torch.save of {"ema": sd, "model": ..., "opt": ..., "epoch": 3, ...}. */
export const NESTED = `${DIR}nested.pt`;
/** Values PyTorch/numpy wrote, keyed by fixture. */
export const EXPECTED = JSON.parse(await Deno.readTextFile(`${DIR}expected.json`));
/** Expected dtype, shape and row-major values (I64 as strings) per tensor name. */
export type Expected = Record<string, { dtype: string; shape: number[]; values: unknown[] }>;

/** Values of a tensor as comparable JS values (I64 as decimal strings, others as numbers). */
function values(t: Tensor): unknown[] {
  if (t.data instanceof BigInt64Array) return [...t.data].map(String);
  if (t.data instanceof Float64Array) return [...t.data];
  return [...toFloat32(t)];
}

/** Asserts names (in order), dtypes, shapes and exact values. */
export function assertMatches(tensors: Map<string, Tensor>, expected: Expected) {
  assert.deepEqual([...tensors.keys()], Object.keys(expected));
  for (const [name, e] of Object.entries(expected)) {
    const t = tensors.get(name)!;
    assert.equal(t.dtype, e.dtype, name);
    assert.deepEqual(t.shape, e.shape, name);
    const want = e.values.map((v) =>
      typeof v === "boolean"
        ? Number(v)
        : typeof v === "number" && e.dtype !== "F64"
        ? Math.fround(v)
        : v
    );
    assert.deepEqual(values(t), want, name);
  }
}

/** A stored (uncompressed) zip of the given entries, written the way torch lays them out. */
export function storedZip(entries: [string, Uint8Array][]): Uint8Array {
  const enc = new TextEncoder();
  const local: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const n = enc.encode(name);
    const h = new Uint8Array(30 + n.length);
    const v = new DataView(h.buffer);
    v.setUint32(0, 0x04034b50, true);
    v.setUint32(14, crc32(data), true);
    v.setUint32(18, data.length, true);
    v.setUint32(22, data.length, true);
    v.setUint16(26, n.length, true);
    h.set(n, 30);
    const c = new Uint8Array(46 + n.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint32(16, crc32(data), true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, n.length, true);
    cv.setUint32(42, offset, true);
    c.set(n, 46);
    local.push(h, data);
    central.push(c);
    offset += h.length + data.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let at = 0;
  for (const part of [...local, ...central, end]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Every entry of a zip, in order. */
export async function entriesOf(path: string): Promise<[string, Uint8Array][]> {
  using zip = await ZipReader.open(path);
  return await Promise.all([...zip.entries.keys()].map(async (n) => [n, await zip.read(n)]));
}

/** Writes bytes to a fresh temporary directory and returns the path. */
export async function tempFile(bytes: Uint8Array, name = "x.pt"): Promise<string> {
  const path = `${await Deno.makeTempDir()}/${name}`;
  await Deno.writeFile(path, bytes);
  return path;
}

/** Runs `fn`, expecting an error whose message contains every one of `parts`. */
export async function rejectsWith(fn: () => Promise<unknown>, ...parts: string[]) {
  await assert.rejects(fn, (e: Error) => {
    for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" lacks "${p}"`);
    return true;
  });
}

/** Bytes from a hex string. */
export const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));
/** Bytes of an ASCII string. */
export const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
