// Checkpoint readers: torch.save zip checkpoints, safetensors, dispatch, and bad input.
// Fixtures come from tools/fixtures/make_checkpoint_fixtures.py (PyTorch 1.13); no Python here.
import { TAEF2_DIR } from "./shared.ts";
import assert from "node:assert/strict";
import {
  CheckpointError,
  describeCheckpoint,
  loadCheckpoint,
  sniffFormat,
  type TensorInfo,
} from "../models/io/checkpoint.ts";
import { readPytorchCheckpoint, stateDict } from "../models/io/pytorch_checkpoint.ts";
import { ZipReader } from "../models/io/_zip.ts";
import { PickleError, PyObject, unpickle } from "../models/io/_pickle.ts";
import { storageLoader, type TensorRef, torchGlobals } from "../models/io/_torch_pickle.ts";
import { type Tensor, toFloat32 } from "../models/core/tensor.ts";
import {
  ascii,
  assertMatches,
  DIR,
  entriesOf,
  EXPECTED,
  hex,
  NESTED,
  rejectsWith,
  SD,
  storedZip,
  tempFile,
} from "./_checkpoint_helpers.ts";

const TAEF2 = `${TAEF2_DIR}/taef2_encoder.pth`;
const haveTaef2 = await Deno.stat(TAEF2).then(() => true, () => false);

Deno.test("readPytorchCheckpoint() reads every dtype with the values PyTorch saved", async () => {
  const sd = stateDict(await readPytorchCheckpoint(SD));
  assertMatches(sd, EXPECTED.state_dict);
});

Deno.test("readPytorchCheckpoint() gathers transposed, strided and expanded views row-major", async () => {
  const sd = stateDict(await readPytorchCheckpoint(SD));
  assert.deepEqual(sd.get("strided")!.shape, [3, 2]);
  assert.deepEqual([...sd.get("strided")!.data], [1, 3, 5, 7, 9, 11]);
  assert.deepEqual([...sd.get("expanded")!.data], [1, 2, 1, 2, 1, 2]);
  assert.deepEqual(sd.get("transposed")!.shape, [4, 3]);
});

Deno.test("readPytorchCheckpoint() reads a storage once for tensors that share it", async () => {
  const sd = stateDict(await readPytorchCheckpoint(SD));
  const a = sd.get("shared_a")!.data;
  const b = sd.get("shared_b")!.data;
  assert.equal(a.buffer, b.buffer);
  assert.deepEqual([...a], [2, 3, 4, 5]);
  assert.deepEqual([...b], [6, 7, 8, 9, 10, 11]);
});

Deno.test("readPytorchCheckpoint() reads a 0-d tensor with shape []", async () => {
  const sd = stateDict(await readPytorchCheckpoint(SD));
  assert.deepEqual(sd.get("scalar"), { dtype: "F32", shape: [], data: new Float32Array([0.5]) });
  assert.deepEqual(sd.get("num_batches_tracked")!.data, new BigInt64Array([5n]));
});

Deno.test("readPytorchCheckpoint() returns dicts as Maps with Python keys, lists and sets", async () => {
  const ckpt = await readPytorchCheckpoint(NESTED) as Map<string, unknown>;
  assert.equal(ckpt.get("epoch"), 3);
  assert.equal(ckpt.get("name"), "run-1");
  assert.deepEqual(ckpt.get("steps"), new Set([1, 2]));
  const opt = ckpt.get("opt") as Map<string, Map<unknown, unknown>>;
  const state0 = opt.get("state")!.get(0) as Map<string, unknown>;
  assert.equal(state0.get("step"), 3);
  assert.deepEqual((state0.get("exp_avg") as Tensor).shape, [2, 3]);
  const groups = opt.get("param_groups") as unknown as Map<string, unknown>[];
  assert.deepEqual(groups[0].get("betas"), [0.9, 0.999]);
});

Deno.test("stateDict() picks the first preferred key that holds tensors", async () => {
  const ckpt = await readPytorchCheckpoint(NESTED);
  assertMatches(stateDict(ckpt), EXPECTED.state_dict);
  assertMatches(stateDict(ckpt, { prefer: ["model", "ema"] }), EXPECTED.nested_model);
});

Deno.test("stateDict() flattens nested dicts with dots when no preferred key exists", async () => {
  const ckpt = await readPytorchCheckpoint(NESTED);
  const flat = stateDict(ckpt, { prefer: [] });
  assert.ok(flat.has("ema.w32") && flat.has("model.w32") && flat.has("opt.state.0.exp_avg"));
  assert.throws(() => stateDict(new Map([["epoch", 3]])), /No tensors/);
});

Deno.test("loadCheckpoint() reads a ZIP64 checkpoint like torch writes past 4 GB", async () => {
  const { tensors, format } = await loadCheckpoint(`${DIR}zip64.pt`);
  assert.equal(format, "pytorch");
  assertMatches(tensors, EXPECTED.state_dict);
});

Deno.test("loadCheckpoint() reads a checkpoint re-zipped with DEFLATE", async () => {
  assertMatches((await loadCheckpoint(`${DIR}deflated.pt`)).tensors, EXPECTED.state_dict);
});

Deno.test("loadCheckpoint() reports the state dict path and scalar entries as metadata", async () => {
  const c = await loadCheckpoint(NESTED);
  assert.deepEqual(c.metadata, { epoch: "3", name: "run-1", state_dict_path: "ema" });
  assert.equal(c.tensors.size, Object.keys(EXPECTED.state_dict).length);
});

Deno.test("loadCheckpoint() reads safetensors that numpy wrote with the right values", async () => {
  const c = await loadCheckpoint(`${DIR}numpy_written.safetensors`);
  assert.equal(c.format, "safetensors");
  assert.deepEqual(c.metadata, { writer: "numpy" });
  assertMatches(c.tensors, EXPECTED.numpy_written);
});

Deno.test("loadCheckpoint() resolves a model directory to the weights file inside", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.copyFile(SD, `${dir}/diffusion_pytorch_model.bin`);
  const c = await loadCheckpoint(dir);
  assert.equal(c.path, `${dir}/diffusion_pytorch_model.bin`);
  await Deno.copyFile(
    `${DIR}numpy_written.safetensors`,
    `${dir}/diffusion_pytorch_model.safetensors`,
  );
  assert.equal((await loadCheckpoint(dir)).format, "safetensors");
  await rejectsWith(() => loadCheckpoint(Deno.makeTempDirSync()), "diffusion_pytorch_model");
});

Deno.test("describeCheckpoint() lists names, dtypes and shapes of every tensor", async () => {
  const pt = await describeCheckpoint(NESTED);
  assert.deepEqual(pt.find((t) => t.name === "ema.transposed"), {
    name: "ema.transposed",
    dtype: "F32",
    shape: [4, 3],
  });
  assert.ok(pt.some((t) => t.name === "opt.state.0.exp_avg"));
  const st = await describeCheckpoint(`${DIR}numpy_written.safetensors`);
  assert.deepEqual(st.map((t) => [t.name, t.dtype, t.shape]), [
    ["f32", "F32", [1, 3]],
    ["f16", "F16", [2]],
    ["bf16", "BF16", [2]],
    ["i64", "I64", [1, 2]],
    ["u8", "U8", [3]],
  ]);
});

Deno.test({
  name: "loadCheckpoint() reads the TAEF2 encoder with the names, shapes and values of torch.load",
  ignore: !haveTaef2,
  fn: async () => {
    const want = JSON.parse(await Deno.readTextFile(`${DIR}taef2_encoder_expected.json`));
    const { tensors } = await loadCheckpoint(TAEF2);
    const info = ({ name, dtype, shape }: TensorInfo) => ({ name, dtype, shape });
    assert.deepEqual(
      [...tensors].map(([name, t]) => info({ name, dtype: t.dtype, shape: t.shape })),
      want.map(info),
    );
    assert.deepEqual(tensors.get("0.weight")!.shape, [64, 3, 3, 3]);
    assert.deepEqual(tensors.get("14.weight")!.shape, [32, 64, 3, 3]); // 32 latent channels
    for (const w of want) {
      const v = toFloat32(tensors.get(w.name)!);
      assert.deepEqual([...v.subarray(0, 4)], w.first, w.name);
      const sum = v.reduce((s, x) => s + x, 0);
      assert.ok(Math.abs(sum - w.sum) <= 1e-6 * Math.max(1, Math.abs(w.sum)), w.name);
    }
    assert.equal((await describeCheckpoint(TAEF2)).length, want.length);
  },
});

Deno.test("loadCheckpoint() names the file when a zip is truncated", async () => {
  const bytes = await Deno.readFile(SD);
  const path = await tempFile(bytes.subarray(0, bytes.length >> 1));
  await rejectsWith(() => loadCheckpoint(path), path, "truncated");
});

Deno.test("loadCheckpoint() rejects an empty file, random bytes and a legacy torch.save file", async () => {
  const empty = await tempFile(new Uint8Array(0));
  await rejectsWith(() => loadCheckpoint(empty), empty, "empty");
  const random = await tempFile(crypto.getRandomValues(new Uint8Array(4096)).fill(7, 0, 9));
  await rejectsWith(() => loadCheckpoint(random), random, "expected safetensors");
  // legacy format: a pickle of torch's magic number first (PROTO 2, LONG1 ...)
  const legacy = await tempFile(hex("80028a0a6cfc9c46f9206aa85019"));
  await rejectsWith(() => loadCheckpoint(legacy), legacy, "legacy", "torch.save(torch.load(");
  await assert.rejects(() => sniffFormat(`${DIR}missing.pt`), CheckpointError);
});

Deno.test("readPytorchCheckpoint() refuses a pickle that names os.system and runs nothing", async () => {
  // PROTO 2; GLOBAL 'os system'; BINUNICODE 'touch pwned'; TUPLE1; REDUCE; STOP
  const pkl = new Uint8Array([
    ...[0x80, 2],
    ...ascii("cos\nsystem\n"),
    ...[0x58, 11, 0, 0, 0],
    ...ascii("touch pwned"),
    ...[0x85, 0x52, 0x2e],
  ]);
  const path = await tempFile(storedZip([["archive/data.pkl", pkl]]));
  await rejectsWith(() => readPytorchCheckpoint(path), path, "forbidden global 'os.system'");
  // STACK_GLOBAL spelling of builtins.eval, protocol 4
  const pkl4 = new Uint8Array([
    ...[0x80, 4, 0x8c, 8],
    ...ascii("builtins"),
    ...[0x8c, 4],
    ...ascii("eval"),
    ...[0x93, 0x2e],
  ]);
  const path4 = await tempFile(storedZip([["archive/data.pkl", pkl4]]));
  await rejectsWith(() => readPytorchCheckpoint(path4), "forbidden global 'builtins.eval'");
});

Deno.test("readPytorchCheckpoint() reads allowed extra globals as inert objects", async () => {
  // pickle.dumps({"args": argparse.Namespace(lr=0.5)}, protocol=2)
  const pkl = hex(
    "80027d710058040000006172677371016361726770617273650a4e616d6573706163650a710229817103" +
      "7d710458020000006c727105473fe00000000000007362732e",
  );
  const path = await tempFile(storedZip([["archive/data.pkl", pkl]]));
  await rejectsWith(() => readPytorchCheckpoint(path), "argparse.Namespace");
  const ckpt = await readPytorchCheckpoint(path, { allowGlobals: ["argparse.Namespace"] });
  const args = (ckpt as Map<string, PyObject>).get("args")!;
  assert.ok(args instanceof PyObject);
  assert.deepEqual(args.state, new Map([["lr", 0.5]]));
});

Deno.test("readPytorchCheckpoint() decodes the plain values of protocols 2, 4 and 5", async () => {
  const body = "7d94288c0161945d94284b014afeffffff4d2c014a701101004a000000808a0900000000000000" +
    "00408a090000000000000000c0473ff80000000000004e888943027879948c02c3a9944b014b02869428" +
    "4b0391948f94284b0490654b058c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493" +
    "942952948c016b94473ff000000000000073752e";
  for (const proto of ["04", "05"]) {
    const pkl = hex(`80${proto}958f00000000000000${body}`);
    const v = await readPytorchCheckpoint(await tempFile(storedZip([["a/data.pkl", pkl]])));
    assert.deepEqual(
      v,
      new Map<unknown, unknown>([
        ["a", [
          ...[1, -2, 300, 70000, -(2 ** 31), 2n ** 70n, -(2n ** 70n), 1.5, null, true, false],
          ...[new Uint8Array([0x78, 0x79]), "é", [1, 2], new Set([3]), new Set([4])],
        ]],
        [5, new Map([["k", 1]])],
      ]),
    );
  }
});

Deno.test("readPytorchCheckpoint() names a storage entry missing from the zip", async () => {
  const entries = (await entriesOf(SD)).filter(([n]) => n !== "state_dict/data/3");
  const path = await tempFile(storedZip(entries));
  await rejectsWith(() => readPytorchCheckpoint(path), path, "state_dict/data/3", "missing");
  await rejectsWith(() => describeCheckpoint(path), "state_dict/data/3");
});

Deno.test("readPytorchCheckpoint() rejects a big-endian checkpoint and a truncated pickle", async () => {
  const entries = await entriesOf(SD);
  const big = await tempFile(storedZip([...entries, ["state_dict/byteorder", ascii("big")]]));
  await rejectsWith(() => readPytorchCheckpoint(big), big, "little-endian");
  const cut = entries.map(([n, b]): [string, Uint8Array] => [
    n,
    n.endsWith("data.pkl") ? b.subarray(0, 100) : b,
  ]);
  const path = await tempFile(storedZip(cut));
  await rejectsWith(() => readPytorchCheckpoint(path), path, "truncated pickle");
});

Deno.test("readPytorchCheckpoint() explains that a TorchScript archive is not a state dict", async () => {
  const path = await tempFile(storedZip([
    ["m/code/__torch__.py", ascii("x")],
    ["m/constants.pkl", ascii("x")],
  ]));
  await rejectsWith(() => readPytorchCheckpoint(path), "TorchScript");
});

Deno.test("loadCheckpoint() reads only the storages of the chosen state dict", async () => {
  const entries = await entriesOf(NESTED);
  const pkl = entries.find(([n]) => n.endsWith("data.pkl"))![1];
  const tree = unpickle(pkl, { globals: torchGlobals(), persistentLoad: storageLoader() });
  const opt = (tree as Map<string, Map<string, Map<number, Map<string, unknown>>>>).get("opt")!;
  const key = (opt.get("state")!.get(0)!.get("exp_avg") as TensorRef).storage.key;
  const path = await tempFile(storedZip(entries.filter(([n]) => n !== `nested/data/${key}`)));
  assertMatches((await loadCheckpoint(path)).tensors, EXPECTED.state_dict); // opt not read
  await rejectsWith(() => readPytorchCheckpoint(path), `nested/data/${key}`, "missing");
});

Deno.test("describeCheckpoint() names a storage too small for its tensor", async () => {
  const entries = (await entriesOf(SD)).map(([n, b]): [string, Uint8Array] => [
    n,
    n === "state_dict/data/0" ? b.subarray(0, 4) : b,
  ]);
  const path = await tempFile(storedZip(entries));
  await rejectsWith(() => describeCheckpoint(path), "state_dict/data/0", "expected at least");
  await rejectsWith(() => loadCheckpoint(path), "storage 0", "which has 1");
});

Deno.test("readPytorchCheckpoint() detects a corrupted data.pkl by its CRC-32", async () => {
  const bytes = await Deno.readFile(SD);
  using zip = await ZipReader.open(SD);
  const e = zip.entries.get("state_dict/data.pkl")!;
  const copy = bytes.slice();
  copy[e.localHeaderOffset + 30 + e.name.length + 40] ^= 0xff; // somewhere inside the pickle
  const path = await tempFile(copy);
  await rejectsWith(() => readPytorchCheckpoint(path), path, "CRC-32");
});

Deno.test("unpickle() fails only with PickleError on thousands of corrupted pickles", async () => {
  const pkl = (await entriesOf(NESTED)).find(([n]) => n.endsWith("data.pkl"))![1];
  let seed = 1; // a fixed LCG, so a failure reproduces
  const rand = (n: number) =>
    Math.floor((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 * n);
  for (let i = 0; i < 2000; i++) {
    const bytes = pkl.slice(0, i % 3 ? pkl.length : rand(pkl.length));
    for (let j = 0; j <= i % 3; j++) bytes[rand(bytes.length)] = rand(256);
    try {
      unpickle(bytes, { globals: torchGlobals(), persistentLoad: storageLoader() });
    } catch (e) {
      assert.ok(e instanceof PickleError, `mutation ${i}: ${(e as Error).stack}`);
    }
  }
});

Deno.test("sniffFormat() reads a safetensors file whose header length starts with byte 0x80 as safetensors, not a legacy pickle", async () => {
  const file = new URL("./fixtures/sd/pipeline/text_encoder/model.safetensors", import.meta.url)
    .pathname;
  const head = (await Deno.readFile(file)).subarray(0, 9);
  assert.equal(head[0], 0x80); // header length 0x1080: the first byte is a pickle PROTO opcode
  assert.equal(await sniffFormat(file), "safetensors");
  assert.equal((await loadCheckpoint(file)).format, "safetensors");
});
