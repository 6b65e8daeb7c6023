/**
 * Graph builder, ONNX encoding and session wrapper: models load and run, weights can be
 * inputs, initializers or external data, inputs are validated with clear messages, CUDA
 * requests fail clearly where the provider is missing, and outputs can be written in place.
 */
import assert from "node:assert/strict";
import { Graph } from "../models/graph/graph.ts";
import { relu } from "../models/graph/ops/activation.ts";
import { add, mul } from "../models/graph/ops/elementwise.ts";
import { linear } from "../models/graph/ops/conv.ts";
import { maxPool } from "../models/graph/ops/pool.ts";
import { Session } from "../models/graph/session.ts";
import type { Tensor } from "../models/core/tensor.ts";

const f32 = (shape: number[], xs: number[]): Tensor => ({
  dtype: "F32",
  shape,
  data: Float32Array.from(xs),
});

function affineGraph(): Graph {
  const g = new Graph();
  const x = g.input("x", [2, 3]);
  const w = g.param("fc.weight", [2, 3], Float32Array.from([1, 0, -1, 2, 1, 0]));
  const b = g.param("fc.bias", [2], Float32Array.from([0.5, -0.5]));
  g.output(relu(linear(x, w, b)), "y");
  return g;
}
const X = f32([2, 3], [1, 2, 3, -1, 0, 1]);
const WANT = [0, 3.5, 0, 0]; // relu([[1-3+0.5, 2+2-0.5], [-1-1+0.5, -2+0-0.5]])

Deno.test("a built model runs with weights as graph inputs", async () => {
  const g = affineGraph();
  const s = await Session.create(g.toModel(), { intraOpThreads: 1, interOpThreads: 1 });
  assert.deepEqual(s.inputs.map((i) => i.name), ["x", "fc.weight", "fc.bias"]);
  const feeds: Record<string, Tensor> = { x: X };
  for (const [k, p] of g.params) {
    feeds[k] = { dtype: "F32", shape: [...p.value.shape], data: p.data };
  }
  const { y } = await s.run(feeds);
  assert.deepEqual([...(y.data as Float32Array)], WANT);
  assert.deepEqual(y.shape, [2, 2]);
});

Deno.test("a built model runs with weights as initializers and as external data", async () => {
  for (const externalData of ["never", "always"] as const) {
    const m = affineGraph().toModel({
      paramsAs: "initializers",
      externalData,
      externalName: "w.bin",
    });
    assert.equal(m.externalData.length, 0); // tensors under 1 KB always stay inline
    const s = await Session.create(m);
    assert.deepEqual([...((await s.run({ x: X })).y.data as Float32Array)], WANT);
  }
  // Large initializers go to external files and load from memory.
  const g = new Graph();
  const x = g.input("x", [1, 512]);
  const w = g.param("w", [512, 512], new Float32Array(512 * 512).fill(0.5));
  g.output(linear(x, w, null), "y");
  const m = g.toModel({
    paramsAs: "initializers",
    externalData: "always",
    externalName: "big.bin",
  });
  assert.equal(m.externalData.length, 1);
  assert.equal(m.externalData[0].path, "big.bin.0");
  assert.ok(m.model.length < 10_000, "weights are not inline");
  const s = await Session.create(m);
  const y = await s.run({
    x: { dtype: "F32", shape: [1, 512], data: new Float32Array(512).fill(1) },
  });
  assert.equal((y.y.data as Float32Array)[7], 256);
});

Deno.test("session errors name the input and its expected and actual dims", async () => {
  const s = await Session.create(affineGraph().toModel({ paramsAs: "initializers" }));
  await assert.rejects(
    () => s.run({ x: f32([3, 2], [1, 2, 3, 4, 5, 6]) }),
    /Input 'x' has dims \[3,2\], expected \[2,3\]/,
  );
  await assert.rejects(() => s.run({}), /Missing input 'x' \(expected F32 \[2,3\]\)/);
  await assert.rejects(
    () => s.run({ x: { dtype: "F64", shape: [2, 3], data: new Float64Array(6) } }),
    /Input 'x' has dtype F64, expected F32/,
  );
  await assert.rejects(() => s.run({ x: X, z: X }), /Unknown input 'z'/);
});

Deno.test("asking for CUDA runs on it where installed, else fails with instructions", async () => {
  const model = affineGraph().toModel({ paramsAs: "initializers" });
  try {
    const s = await Session.create(model, { executionProviders: ["cuda"], logSeverityLevel: 4 });
    assert.deepEqual(s.providers, ["cuda", "cpu"]); // a machine with the CUDA provider installed
    assert.deepEqual([...((await s.run({ x: X })).y.data as Float32Array)], WANT);
  } catch (e) {
    assert.match(
      (e as Error).message,
      /CUDA execution provider was requested but is not available.*ONNXRUNTIME_NODE_INSTALL=cuda12/s,
    );
  }
});

Deno.test("run writes outputs into preallocated arrays in place", async () => {
  const g = new Graph();
  const a = g.input("a", [4]);
  g.output(mul(add(a, 1), 2), "y");
  g.output(a, "same");
  const s = await Session.create(g.toModel());
  const into = { y: f32([4], [0, 0, 0, 0]) };
  const out = await s.run({ a: f32([4], [1, 2, 3, 4]) }, { into });
  assert.equal(out.y, into.y);
  assert.deepEqual([...(into.y.data as Float32Array)], [4, 6, 8, 10]);
  assert.deepEqual([...(out.same.data as Float32Array)], [1, 2, 3, 4]);
});

Deno.test("nodes no output needs are pruned from the model", () => {
  const g = new Graph();
  const x = g.input("x", [1, 1, 4, 4]);
  maxPool(x, 2);
  relu(x); // dead
  g.output(maxPool(x, 2), "y");
  const m = g.toModel();
  const text = new TextDecoder("latin1").decode(m.model);
  assert.equal(text.split("Relu").length, 1);
  assert.equal(text.split("MaxPool").length, 2); // one live MaxPool node
});

Deno.test("builder rejects mismatched shapes with the op and shapes named", () => {
  const g = new Graph();
  assert.throws(
    () => add(g.input("a", [2, 3]), g.input("b", [4])),
    /Add: shapes \[2,3\] and \[4\] do not broadcast/,
  );
  assert.throws(() => g.output(g.input("c", [1]), "a"), /already the name of another graph value/);
});

Deno.test("profile: writes a Chrome-trace file with one event per node run, on release", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const s = await Session.create(affineGraph().toModel({ paramsAs: "initializers" }), {
      intraOpThreads: 1,
      profile: `${dir}/affine`,
    });
    await s.run({ x: X });
    await s.release();
    const files = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.equal(files.length, 1);
    assert.match(files[0], /^affine_.*\.json$/);
    const events = JSON.parse(await Deno.readTextFile(`${dir}/${files[0]}`)) as {
      cat: string;
      args?: { op_name?: string };
    }[];
    const ops = events.filter((e) => e.cat === "Node").map((e) => e.args?.op_name);
    // linear + relu run as onnxruntime's fused Gemm
    assert.ok(ops.some((o) => /Gemm/.test(o ?? "")), `node events: ${ops.join(", ")}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
