import assert from "node:assert/strict";
import { unpackBits } from "../eval/protocols/correct_bits.ts";
import { Graph } from "../models/graph/graph.ts";
import { Session } from "../models/graph/session.ts";
import { Trainer } from "../models/train/trainer.ts";
import { adaptiveMaxPool2d, patchify } from "../eval/classifiers/_layers.ts";
import { Rng } from "../models/core/random.ts";
import { setProgressMode } from "../stages/progress.ts";
import { Store } from "../stages/store/store.ts";
import { writeImageFolder } from "../stages/images/write_image_folder.ts";
import { hardLabelEval } from "../eval/protocols/hard_label.ts";
import {
  cpuEpochs,
  evalEvery,
  evaluationEpochs,
  hardLabelLr,
  hardLabelProtocol,
  milestones,
  paperEpochs,
} from "../eval/protocols/hard_label_protocol.ts";
import { convNetDepthFor } from "../eval/classifiers/convnet.ts";
import { TORCHVISION_RESNET18_PARAMS } from "../eval/classifiers/resnet.ts";
import { netSizeFor } from "../eval/classifiers/resnet_ap.ts";
import { buildClassifier, CLASSIFIER_NAMES } from "../eval/classifiers/zoo.ts";
import { softLabelEval } from "../eval/protocols/soft_label.ts";
import {
  decays,
  rdedBatchSize,
  softLabelEvalEpochs,
  softLabelLr,
  softLabelProtocol,
} from "../eval/protocols/soft_label_protocol.ts";
import { trainTeacher } from "../eval/protocols/teacher.ts";

setProgressMode("silent");

function trainer(name: string, classes: number, size: number): Trainer {
  return new Trainer({
    model: buildClassifier(name, { classes, imageSize: size }),
    inputShape: [3, size, size],
    classes,
    loss: { kind: "crossEntropy" },
    random: () => 0.5,
  });
}

/** Parameter count (trainable tensors) and PyTorch-layout shapes by state-dict name. */
function params(t: Trainer): { count: number; shapes: Map<string, number[]> } {
  const shapes = new Map<string, number[]>();
  for (const [k, v] of t.stateDict()) if (v.dtype === "F32") shapes.set(k, v.shape);
  let count = 0;
  for (const p of t.store.entries.values()) if (p.trainable) count += p.data.length;
  return { count, shapes };
}

Deno.test("paperEpochs() follows MinimaxDiffusion's IPC table, two thirds for 100 classes", () => {
  assert.deepEqual([1, 10, 20, 50, 100, 200, 500, 1000].map((i) => paperEpochs(i, 10)), [
    3000,
    2000,
    1500,
    1500,
    1000,
    1000,
    500,
    300,
  ]);
  assert.deepEqual([1, 10, 20, 50, 100].map((i) => paperEpochs(i, 100)), [
    2000,
    1300,
    1000,
    1000,
    600,
  ]);
  assert.throws(() => paperEpochs(0, 10), /IPC/);
});

Deno.test("the hard-label schedule decays by 0.2 at 2/3 and 5/6 and validates every E/100 epochs", () => {
  assert.deepEqual(milestones(2000), [1333, 1666]);
  const lr = hardLabelLr(2000);
  assert.equal(lr(0), 0.01);
  assert.equal(lr(1332), 0.01);
  assert.ok(Math.abs(lr(1333) - 0.002) < 1e-12);
  assert.ok(Math.abs(lr(1999) - 0.0004) < 1e-12);
  assert.equal(evalEvery(2000, "paper"), 20);
  const points = evaluationEpochs(2000, 20);
  assert.equal(points.length, 100);
  assert.deepEqual([points[0], points[99]], [20, 2000]);
  assert.deepEqual(evaluationEpochs(7, 3), [3, 6, 7]);
});

Deno.test("the cpu-scale budget is the paper's epochs / 50 at 64 px with every validation image", () => {
  assert.deepEqual([1, 10, 20, 50].map((i) => cpuEpochs(i, 10)), [60, 40, 30, 30]);
  const p = hardLabelProtocol("cpu", 50, 10);
  assert.deepEqual(
    [p.imageSize, p.epochs, p.milestones, p.evalEvery, p.valPerClass, p.batchSize],
    [64, 30, [20, 25], 6, null, 64],
  );
  const q = hardLabelProtocol("paper", 10, 10);
  assert.deepEqual([q.imageSize, q.epochs, q.evalEvery, q.valPerClass], [224, 2000, 20, null]);
  assert.deepEqual([q.lr, q.momentum, q.weightDecay, q.gamma], [0.01, 0.9, 5e-4, 0.2]);
});

Deno.test("the soft-label protocol uses RDED's batch sizes, evaluation points, schedule and decay rule", () => {
  assert.deepEqual([rdedBatchSize(10, 1000), rdedBatchSize(50, 1000), rdedBatchSize(10, 10)], [
    100,
    200,
    50,
  ]);
  assert.equal(rdedBatchSize(1, 10), 10);
  assert.deepEqual(softLabelEvalEpochs(300), [250, 260, 270, 280, 290, 300]);
  assert.deepEqual(softLabelEvalEpochs(3), [3]);
  assert.equal(softLabelLr(300)(0), 1e-3);
  assert.ok(Math.abs(softLabelLr(300)(150) - 1e-3 * 0.5 * (1 + Math.cos(Math.PI / 4))) < 1e-15);
  assert.equal(decays("layer1.0.conv1.weight", [64, 64, 3, 3]), true);
  assert.equal(decays("fc.weight", [10, 512]), true);
  assert.equal(decays("bn1.weight", [64]), false);
  assert.equal(decays("fc.bias", [10]), false);
  const p = softLabelProtocol("paper", 10, 1000);
  assert.deepEqual([p.epochs, p.temperature, p.valResize, p.weightDecay], [300, 20, 256, 0.01]);
});

Deno.test("the stem and depth rules follow IDC: ConvNet-6 and a 7x7 ResNetAP stem at 224 px", () => {
  assert.deepEqual([32, 64, 128, 224, 256].map(convNetDepthFor), [3, 4, 5, 6, 6]);
  assert.deepEqual([32, 64, 65, 128, 224].map(netSizeFor), [
    "small",
    "small",
    "mid",
    "mid",
    "large",
  ]);
});

Deno.test("torchvision resnet18 has torchvision's names, shapes and 11,689,512 parameters", () => {
  const { count, shapes } = params(trainer("resnet-18-bn", 1000, 224));
  assert.equal(count, TORCHVISION_RESNET18_PARAMS);
  assert.equal(count, 11_689_512);
  const expect: [string, number[]][] = [
    ["conv1.weight", [64, 3, 7, 7]],
    ["bn1.running_var", [64]],
    ["layer1.0.conv1.weight", [64, 64, 3, 3]],
    ["layer2.0.downsample.0.weight", [128, 64, 1, 1]],
    ["layer2.0.downsample.1.running_mean", [128]],
    ["layer4.1.bn2.bias", [512]],
    ["fc.weight", [1000, 512]],
    ["fc.bias", [1000]],
  ];
  for (const [k, s] of expect) assert.deepEqual(shapes.get(k), s, k);
  assert.equal(shapes.size, 102); // 62 parameters + 40 running statistics
  assert.equal(shapes.has("layer1.0.downsample.0.weight"), false);
});

Deno.test("IDC and GLaD networks have the reference parameter counts and names", () => {
  // Counts printed by the reference modules (IDC models/, GLaD networks/) for 10 classes.
  const cases: [string, number, number, [string, number[]][]][] = [
    ["resnetap-10", 224, 4_910_922, [["layer0.conv1.weight", [64, 3, 7, 7]], [
      "layer2.0.downsample.2.weight",
      [128],
    ]]],
    ["resnetap-10", 64, 4_903_242, [["layer0.conv1.weight", [64, 3, 3, 3]]]],
    ["resnet-18", 224, 11_181_642, [["layer0.bn1.bias", [64]], ["layer4.1.conv2.weight", [
      512,
      512,
      3,
      3,
    ]]]],
    ["convnet", 224, 754_570, [["layers.conv.5.weight", [128, 128, 3, 3]], ["classifier.weight", [
      10,
      1152,
    ]]]],
    ["convnet", 64, 467_850, [["layers.norm.3.weight", [128]], ["classifier.weight", [10, 2048]]]],
    ["alexnet", 64, 1_964_362, [["features.10.weight", [192, 192, 3, 3]], ["fc.weight", [
      10,
      12288,
    ]]]],
    ["vgg11", 64, 9_476_874, [["features.1.weight", [64]], ["classifier.weight", [10, 25088]]]],
    ["vit", 64, 16_152_074, [["transformer.layers.9.1.fn.net.3.weight", [512, 512]], [
      "pos_embedding",
      [1, 17, 512],
    ]]],
  ];
  for (const [name, size, count, keys] of cases) {
    const p = params(trainer(name, 10, size));
    assert.equal(p.count, count, `${name} at ${size} px`);
    for (const [k, s] of keys) assert.deepEqual(p.shapes.get(k), s, `${name}: ${k}`);
  }
});

Deno.test("every zoo network builds and returns [N, classes] logits at 32 px", async () => {
  const x = Rng.from(1).rand(2 * 3 * 32 * 32);
  for (const name of CLASSIFIER_NAMES) {
    const t = trainer(name, 5, 32);
    const y = await t.forward(x);
    assert.equal(y.length, 2 * 5, name);
    assert.ok(y.every(Number.isFinite), name);
    await t.release();
  }
  assert.throws(
    () => buildClassifier("lenet", { classes: 2, imageSize: 32 }),
    /Unknown classifier 'lenet'/,
  );
});

/** PyTorch AdaptiveMaxPool2d by definition: bins [floor(i in / out), ceil((i + 1) in / out)). */
function adaptiveMaxRef(x: Float32Array, h: number, w: number, oh: number, ow: number) {
  const out = new Float32Array(oh * ow);
  for (let i = 0; i < oh; i++) {
    for (let j = 0; j < ow; j++) {
      let m = -Infinity;
      for (let r = Math.floor((i * h) / oh); r < Math.ceil(((i + 1) * h) / oh); r++) {
        for (let c = Math.floor((j * w) / ow); c < Math.ceil(((j + 1) * w) / ow); c++) {
          m = Math.max(m, x[r * w + c]);
        }
      }
      out[i * ow + j] = m;
    }
  }
  return out;
}

Deno.test("adaptiveMaxPool2d() matches PyTorch's bins when shrinking and when growing", async () => {
  for (const [h, w, oh, ow] of [[5, 7, 2, 3], [2, 3, 7, 7], [8, 8, 4, 4], [1, 1, 7, 7]]) {
    const g = new Graph();
    g.output(adaptiveMaxPool2d(g.input("x", [1, 1, h, w]), [oh, ow]), "y");
    const s = await Session.create(g.toModel());
    const x = Rng.from(h * 10 + w).randn(h * w);
    const { y } = await s.run({ x: { dtype: "F32", shape: [1, 1, h, w], data: x } });
    assert.deepEqual(
      Array.from(y.data as Float32Array),
      Array.from(adaptiveMaxRef(x, h, w, oh, ow)),
    );
    await s.release();
  }
});

Deno.test("patchify() orders patch values as einops 'b c (h p1) (w p2) -> b (h w) (p1 p2 c)'", async () => {
  const g = new Graph();
  g.output(patchify(g.input("x", [1, 2, 4, 4]), 2), "y");
  const s = await Session.create(g.toModel());
  const x = Float32Array.from({ length: 32 }, (_, i) => i);
  const { y } = await s.run({ x: { dtype: "F32", shape: [1, 2, 4, 4], data: x } });
  assert.deepEqual(y.shape, [1, 4, 8]);
  // patch (h=0, w=1): p1, p2, c -> x[c, p1, 2 + p2]
  const expect = [];
  for (let p1 = 0; p1 < 2; p1++) {
    for (let p2 = 0; p2 < 2; p2++) {
      for (let c = 0; c < 2; c++) expect.push(c * 16 + p1 * 4 + 2 + p2);
    }
  }
  assert.deepEqual(Array.from((y.data as Float32Array).subarray(8, 16)), expect);
  await s.release();
});

/** Two classes of 4 synthetic 40x40 images (red-ish and blue-ish) as train/ and val/. */
async function tinyFolders(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "mgd3-protocol-" });
  for (const [split, seed] of [["train", 1], ["val", 2]] as const) {
    const rng = Rng.from(seed);
    const n = 8, hw = 40 * 40;
    const data = rng.rand(n * 3 * hw).map((v) => 0.3 * v);
    for (let i = 0; i < n; i++) {
      const ch = i < 4 ? 0 : 2; // class 0: red, class 1: blue
      for (let p = 0; p < hw; p++) data[(i * 3 + ch) * hw + p] += 0.6;
    }
    await writeImageFolder(`${root}/${split}`, { shape: [n, 3, 40, 40], data }, {
      classNames: [..."aaaa", ..."bbbb"].map((c) => (c === "a" ? "cls_a" : "cls_b")),
      range: "[0,1]",
    });
  }
  return root;
}

Deno.test("hardLabelEval() writes results with provenance and resumes from its checkpoint", async () => {
  const root = await tinyFolders();
  const base = {
    name: "eval/tiny",
    scale: "cpu" as const,
    train: `${root}/train`,
    val: `${root}/val`,
    model: "convnet",
    seeds: [0],
    epochs: 3,
    imageSize: 32,
    checkpointEvery: 1,
  };
  // Uninterrupted reference run.
  const ref = await hardLabelEval(await Store.open(`${root}/store-ref`), base);
  assert.equal(ref.runs.length, 1);
  assert.deepEqual(ref.runs[0].history.map((h) => h.epoch), [1, 2, 3]); // every floor(3/5) -> 1
  assert.ok(ref.runs[0].bestTop1 >= 0 && ref.runs[0].bestTop1 <= 100);
  // The best epoch's per-image correctness: its share of right images is the best top-1.
  const bits = unpackBits(ref.runs[0].correct!, ref.runs[0].valImages!);
  assert.equal(bits.length, ref.runs[0].valImages);
  const right = bits.reduce((s, x) => s + x, 0);
  assert.ok(Math.abs((100 * right) / bits.length - ref.runs[0].bestTop1) < 1e-9);
  const json = JSON.parse(await Deno.readTextFile(`${ref.artifact}/results.json`));
  assert.equal(json.provenance.kind, "eval-hard-label");
  assert.equal(json.provenance.options.protocol.epochs, 3);
  assert.equal(json.provenance.options.model, "convnet");
  assert.ok(typeof json.provenance.code.package === "string");
  const md = await Deno.readTextFile(`${ref.artifact}/results.md`);
  assert.match(md, /Best top-1: \*\*\d+\.\d ± 0\.0\*\* over 1 run/);

  // Interrupted after epoch 1, then resumed: same history as the uninterrupted run.
  const store = await Store.open(`${root}/store`);
  const stop = new AbortController();
  await assert.rejects(
    hardLabelEval(store, {
      ...base,
      signal: stop.signal,
      onEpoch: (e) => e.epoch === 1 && stop.abort(new Error("interrupted")),
    }),
    /interrupted/,
  );
  const art = await store.open("eval/tiny");
  assert.ok(await art.hasShard("checkpoint-run-0"));
  const seen: number[] = [];
  const resumed = await hardLabelEval(store, { ...base, onEpoch: (e) => seen.push(e.epoch) });
  assert.deepEqual(seen, [2, 3]);
  const a = ref.runs[0].history, b = resumed.runs[0].history;
  assert.deepEqual(b.map((h) => h.top1), a.map((h) => h.top1));
  assert.equal(resumed.runs[0].correct, ref.runs[0].correct); // kept across the resume
  b.forEach((h, i) => assert.ok(Math.abs(h.loss - a[i].loss) < 1e-4, `loss at epoch ${h.epoch}`));
  // A finished run is not trained again.
  const again: number[] = [];
  await hardLabelEval(store, { ...base, onEpoch: (e) => again.push(e.epoch) });
  assert.deepEqual(again, []);
  // lowMemory frees and rebuilds sessions around each validation: the same numbers, bit for bit.
  const low = await hardLabelEval(await Store.open(`${root}/store-low`), {
    ...base,
    lowMemory: true,
  });
  assert.deepEqual(low.runs[0].history, ref.runs[0].history);
  assert.equal(low.runs[0].correct, ref.runs[0].correct);
  await Deno.remove(root, { recursive: true });
});

Deno.test("softLabelEval() trains a student on teacher soft labels from a stored teacher", async () => {
  const root = await tinyFolders();
  const store = await Store.open(`${root}/store`);
  const teacher = await trainTeacher(store, {
    name: "teachers/tiny",
    scale: "cpu",
    train: `${root}/train`,
    val: `${root}/val`,
    model: "convnet",
    seed: 0,
    epochs: 2,
    imageSize: 32,
  });
  assert.ok(await (await store.open("teachers/tiny")).hasShard("teacher"));
  assert.ok(teacher.top1 >= 0);
  const r = await softLabelEval(store, {
    name: "eval/soft-tiny",
    scale: "cpu",
    train: `${root}/train`,
    val: `${root}/val`,
    student: "convnet",
    teacher: { artifact: "teachers/tiny" },
    teacherModel: "convnet",
    seeds: [0],
    epochs: 2,
    imageSize: 32,
  });
  assert.equal(r.protocol.batchSize, 8); // RDED: min(50, IPC x classes)
  assert.deepEqual(r.runs[0].history.map((h) => h.epoch), [2]);
  assert.ok(r.runs[0].history[0].loss > 0 && Number.isFinite(r.runs[0].history[0].loss));
  const json = JSON.parse(await Deno.readTextFile(`${r.artifact}/results.json`));
  assert.equal(json.provenance.options.protocol.temperature, 20);
  await assert.rejects(
    softLabelEval(store, {
      name: "eval/soft-tiny-64",
      scale: "cpu",
      train: `${root}/train`,
      val: `${root}/val`,
      student: "convnet",
      teacher: { artifact: "teachers/tiny" },
      teacherModel: "convnet",
      seeds: [0],
      epochs: 1,
      imageSize: 40,
    }),
    /trained at 32 px/,
  );
  await Deno.remove(root, { recursive: true });
});
