import assert from "node:assert/strict";
import { Store, StoreError } from "../stages/store/store.ts";
import { readSafetensors, writeFileAtomic } from "../models/io/safetensors.ts";
import type { Tensor } from "../models/core/tensor.ts";

const OPTS = {
  kind: "latents",
  options: { codec: "taef2", size: 64, classes: ["a", "b"] },
  seed: 0,
};

function f32(shape: number[], values?: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(values ?? Array.from({ length: n }, (_, i) => i * 0.25 - 1));
  return { dtype: "F32", shape, data };
}

async function tempStore(): Promise<Store> {
  return await Store.open(await Deno.makeTempDir({ prefix: "mgd3-store-" }));
}

Deno.test("Store.artifact() with the same options resumes and keeps finished shards", async () => {
  const store = await tempStore();
  const a = await store.artifact("latents/x", OPTS);
  await a.writeShard("class-000", { latents: f32([2, 3]) });
  // A second run with the same options (keys in another order) sees the finished shard.
  const b = await store.artifact("latents/x", {
    kind: "latents",
    seed: 0,
    options: { classes: ["a", "b"], size: 64, codec: "taef2" },
  });
  assert.equal(await b.hasShard("class-000"), true);
  assert.equal(await b.hasShard("class-001"), false);
  assert.deepEqual(await b.shards(), ["class-000"]);
  const { tensors } = await b.readShard("class-000");
  assert.deepEqual([...(tensors.get("latents")!.data as Float32Array)], [...f32([2, 3]).data]);
});

Deno.test("Store.artifact() refuses other options and names what differs", async () => {
  const store = await tempStore();
  const a = await store.artifact("modes", OPTS);
  await a.writeShard("class-000", { m: f32([1]) });
  await assert.rejects(
    () => store.artifact("modes", { ...OPTS, options: { ...OPTS.options, size: 128 } }),
    (e: Error) =>
      e instanceof StoreError && /Refusing to overwrite/.test(e.message) &&
      /size=64 \(now 128\)/.test(e.message),
  );
  await assert.rejects(() => store.artifact("modes", { ...OPTS, seed: 1 }), /seed 0 \(now 1\)/);
  // Nothing was damaged: the shard is still there with its values.
  const again = await store.open("modes");
  assert.equal((await again.readShard("class-000")).tensors.get("m")!.data[0], -1);
});

Deno.test("Store.artifact() with overwrite replaces the old artifact", async () => {
  const store = await tempStore();
  const a = await store.artifact("modes", OPTS);
  await a.writeShard("class-000", { m: f32([1]) });
  const b = await store.artifact("modes", { ...OPTS, seed: 7, overwrite: true });
  assert.equal(b.manifest.seed, 7);
  assert.deepEqual(await b.shards(), []);
  const entries = [...Deno.readDirSync(store.root)].map((e) => e.name).sort();
  assert.deepEqual(entries, ["modes", "store.json"]);
});

Deno.test("a crashed shard write leaves no shard behind, and a failed write keeps the old file", async () => {
  const store = await tempStore();
  const a = await store.artifact("latents/x", OPTS);
  // What a crash mid-write leaves: a temporary file, never the final name.
  await Deno.writeFile(`${a.dir}/class-001.safetensors.1234.abcd1234.tmp`, new Uint8Array(100));
  assert.equal(await a.hasShard("class-001"), false);
  assert.deepEqual(await a.shards(), []);
  // A write that fails at the rename leaves the target as it was and removes its temp file.
  await a.writeShard("class-000", { latents: f32([4]) });
  const before = await Deno.readFile(a.shardPath("class-000"));
  const blocker = `${a.dir}/blocked`;
  await Deno.mkdir(`${blocker}/inner`, { recursive: true });
  await assert.rejects(() => writeFileAtomic(blocker, new Uint8Array(8)));
  assert.equal((await Deno.stat(`${blocker}/inner`)).isDirectory, true);
  const tmps = [...Deno.readDirSync(a.dir)].filter((e) =>
    e.name.startsWith("blocked.") && e.name.endsWith(".tmp")
  );
  assert.deepEqual(tmps, []);
  assert.deepEqual(await Deno.readFile(a.shardPath("class-000")), before);
});

Deno.test("shards are stamped with options, seed and code version, and F16 storage round-trips", async () => {
  const store = await tempStore();
  const a = await store.artifact("latents/h", { ...OPTS, dtype: "F16" });
  await a.writeShard("class-000", { latents: f32([3], [0.5, -2, 1 / 3]) }, { wnid: "n01440764" });
  const raw = await readSafetensors(a.shardPath("class-000"));
  assert.equal(raw.tensors.get("latents")!.dtype, "F16");
  assert.equal(raw.metadata["mgd3.kind"], "latents");
  assert.equal(raw.metadata["mgd3.seed"], "0");
  assert.equal(raw.metadata.wnid, "n01440764");
  assert.deepEqual(JSON.parse(raw.metadata["mgd3.options"]), {
    classes: ["a", "b"],
    codec: "taef2",
    size: 64,
  });
  assert.match(raw.metadata["mgd3.code"], /^\d+\.\d+\.\d+/);
  const back = (await a.readShard("class-000")).tensors.get("latents")!;
  assert.equal(back.dtype, "F32");
  assert.deepEqual([...back.data as Float32Array], [0.5, -2, 0.333251953125]);
  const manifest = JSON.parse(await Deno.readTextFile(`${a.dir}/manifest.json`));
  assert.equal(manifest.dtype, "F16");
  assert.equal(typeof manifest.code.package, "string");
});

Deno.test("readShard() rejects a shard that belongs to another artifact key", async () => {
  const store = await tempStore();
  const a = await store.artifact("one", OPTS);
  const b = await store.artifact("two", { ...OPTS, seed: 5 });
  await b.writeShard("s", { x: f32([1]) });
  await Deno.copyFile(b.shardPath("s"), a.shardPath("s"));
  await assert.rejects(() => a.readShard("s"), /mismatched/);
  await assert.rejects(() => a.readShard("missing"), /Shard 'missing' .* is missing/);
});

Deno.test("Store.open() rejects a foreign store.json and bad artifact names", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/store.json`, '{"format":"other","version":9}');
  await assert.rejects(() => Store.open(dir), /this code reads/);
  const store = await tempStore();
  await assert.rejects(() => store.artifact("../escape", OPTS), /Invalid artifact name/);
  await assert.rejects(() => store.open("absent"), /No artifact 'absent'/);
  await assert.rejects(() => Store.open(`${dir}/nope`, { create: false }), /No store/);
});

Deno.test("writeJson() stamps provenance into JSON outputs", async () => {
  const store = await tempStore();
  const a = await store.artifact("eval/r", OPTS);
  const path = await a.writeJson("report.json", { top1: 0.5 });
  const json = JSON.parse(await Deno.readTextFile(path));
  assert.equal(json.top1, 0.5);
  assert.equal(json.provenance.seed, 0);
  assert.equal(json.provenance.key, a.manifest.key);
});

const python = await (async () => {
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", "import numpy"],
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "a store shard loads in numpy with the same values (when python3-numpy is installed)",
  ignore: !python,
  async fn() {
    const store = await tempStore();
    const a = await store.artifact("np", OPTS);
    const values = [1.5, -0.25, 3e-8, 65504, -7, 0.1];
    await a.writeShard("s", { x: f32([2, 3], values) });
    const script = `
import json, struct, sys, numpy as np
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
e = h["x"]
lo, hi = e["data_offsets"]
a = np.frombuffer(b[8 + n + lo:8 + n + hi], dtype="<f4").reshape(e["shape"])
print(json.dumps({"shape": list(a.shape), "values": [float(v) for v in a.ravel()], "meta": h["__metadata__"]["mgd3.kind"]}))
`;
    const out = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", script, a.shardPath("s")],
    }).output();
    assert.equal(out.success, true, new TextDecoder().decode(out.stderr));
    const got = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.deepEqual(got.shape, [2, 3]);
    assert.deepEqual(got.values, [...new Float32Array(values)]);
    assert.equal(got.meta, "latents");
  },
});
