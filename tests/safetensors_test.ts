// safetensors reader/writer: round trips, atomic writes, numpy interop, corrupt files.
// The numpy fixtures come from tools/fixtures/make_checkpoint_fixtures.py; no Python here.
import assert from "node:assert/strict";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  SafetensorsError,
  writeSafetensors,
} from "../models/io/safetensors.ts";
import { castFloat, type Tensor, toFloat32 } from "../models/core/tensor.ts";

const DIR = new URL("./fixtures/checkpoints/", import.meta.url).pathname;
const EXPECTED = JSON.parse(await Deno.readTextFile(`${DIR}expected.json`)).numpy_written;

/** The tensors tools/fixtures/make_checkpoint_fixtures.py also asks our writer for. */
function denoWritten(): Record<string, Tensor> {
  return {
    f32: { dtype: "F32", shape: [2, 2], data: new Float32Array([1, -2.5, 3.25, 1e-7]) },
    f16: { dtype: "F16", shape: [3], data: new Float16Array([0.5, -65504, 6e-8]) },
    bf16: { dtype: "BF16", shape: [2], data: new Uint16Array([0x3fc0, 0xc010]) },
    i64: { dtype: "I64", shape: [2], data: new BigInt64Array([-3n, 9007199254740993n]) },
  };
}

async function corrupt(bytes: Uint8Array): Promise<string> {
  const path = `${await Deno.makeTempDir()}/bad.safetensors`;
  await Deno.writeFile(path, bytes);
  return path;
}

function withHeader(json: string, dataBytes = 0): Uint8Array {
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

Deno.test("writeSafetensors() and readSafetensors() round-trip F32, F16, BF16 and I64", async () => {
  const path = `${await Deno.makeTempDir()}/t.safetensors`;
  const tensors = {
    ...denoWritten(),
    bf16: castFloat(new Float32Array([1.5, -2.25, 0]), [3, 1], "BF16"),
    scalar: { dtype: "F32" as const, shape: [], data: new Float32Array([7]) },
    empty: { dtype: "F32" as const, shape: [0, 4], data: new Float32Array(0) },
  };
  await writeSafetensors(path, tensors, { seed: "3", note: "é" });
  const back = await readSafetensors(path);
  assert.deepEqual(back.metadata, { seed: "3", note: "é" });
  assert.deepEqual([...back.tensors.keys()], Object.keys(tensors));
  for (const [name, t] of Object.entries(tensors)) assert.deepEqual(back.tensors.get(name), t);
  assert.deepEqual([...toFloat32(back.tensors.get("bf16")!)], [1.5, -2.25, 0]);
});

Deno.test("writeSafetensors() leaves no temporary file next to the output", async () => {
  const dir = await Deno.makeTempDir();
  await writeSafetensors(`${dir}/a.safetensors`, denoWritten());
  await writeSafetensors(`${dir}/a.safetensors`, denoWritten()); // overwrite in place
  const names = [...Deno.readDirSync(dir)].map((e) => e.name);
  assert.deepEqual(names, ["a.safetensors"]);
});

Deno.test("writeSafetensors() keeps the old file and no temporary when writing fails", async () => {
  const dir = await Deno.makeTempDir();
  await writeSafetensors(`${dir}/a.safetensors`, denoWritten());
  const before = await Deno.readFile(`${dir}/a.safetensors`);
  const bad = { w: { dtype: "F32" as const, shape: [3], data: new Float32Array(2) } };
  await assert.rejects(() => writeSafetensors(`${dir}/a.safetensors`, bad), /needs 12 bytes/);
  assert.deepEqual(await Deno.readFile(`${dir}/a.safetensors`), before);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["a.safetensors"]);
});

Deno.test("readSafetensors() reads a file numpy wrote by hand with the right values", async () => {
  const { tensors, metadata } = await readSafetensors(`${DIR}numpy_written.safetensors`);
  assert.deepEqual(metadata, { writer: "numpy" });
  for (const [name, e] of Object.entries(EXPECTED) as [string, Record<string, never>][]) {
    const t = tensors.get(name)!;
    assert.equal(t.dtype, e.dtype);
    assert.deepEqual(t.shape, e.shape);
    const got = t.dtype === "I64" ? [...t.data].map(String) : [...toFloat32(t)];
    const want = (e.values as unknown[]).map((v) => typeof v === "number" ? Math.fround(v) : v);
    assert.deepEqual(got, want, name);
  }
});

Deno.test("encodeSafetensors() writes the bytes that numpy was checked to read", async () => {
  const python = await Deno.readFile(`${DIR}deno_written.safetensors`);
  assert.deepEqual(encodeSafetensors(denoWritten(), { writer: "deno" }), python);
  const header = new TextDecoder().decode(python.subarray(8, 8 + python[0]));
  assert.equal((8 + header.length) % 8, 0); // data section 8-byte aligned
});

Deno.test("readSafetensorsHeader() reads names, dtypes and shapes without the data", async () => {
  const { tensors, dataStart } = await readSafetensorsHeader(`${DIR}numpy_written.safetensors`);
  assert.deepEqual(tensors.i64, { dtype: "I64", shape: [1, 2], data_offsets: [20, 36] }); // unaligned: read by copy
  assert.equal(dataStart % 8, 0);
});

Deno.test("readSafetensors() names the file and the problem for corrupt headers", async () => {
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(5), /shorter than the 8-byte header size/],
    [withHeader("{}").subarray(0, 9), /does not fit/],
    [withHeader('{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]'), /not valid/],
    [withHeader('{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}', 4), /expected 8/],
    [withHeader('{"a": {"dtype": "Q8", "shape": [2], "data_offsets": [0, 2]}}', 2), /dtype Q8/],
    [withHeader('{"a": {"dtype": "U8", "shape": [-1], "data_offsets": [0, 0]}}'), /shape/],
    [withHeader("[1, 2]"), /not a JSON object/],
  ];
  for (const [bytes, message] of cases) {
    const path = await corrupt(bytes);
    await assert.rejects(() => readSafetensors(path), (e: Error) => {
      assert.ok(e instanceof SafetensorsError, e.message);
      assert.ok(e.message.includes(path), e.message);
      assert.match(e.message, message);
      return true;
    });
  }
  assert.throws(
    () => decodeSafetensors(new Uint8Array(3), "mem"),
    /Cannot read safetensors file mem/,
  );
});
