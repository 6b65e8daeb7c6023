import assert from "node:assert/strict";
import { applyColorJitter, colorJitter, type JitterStep } from "../eval/augment/color_jitter.ts";
import { composeTrainAugment } from "../eval/augment/compose.ts";
import { cutmix, type CutMixBox, cutmixSoft, randBbox } from "../eval/augment/cutmix.ts";
import { hflip, randomHorizontalFlip } from "../eval/augment/flip.ts";
import { type ImageBatch, imageBatch } from "../stages/images/image_batch.ts";
import { lighting, lightingOffsets } from "../eval/augment/lighting.ts";
import { IMAGENET_MEAN, IMAGENET_STD, normalize } from "../eval/augment/normalize.ts";
import {
  randomResizedCrop,
  randomResizedCropParams,
  resizedCrop,
} from "../eval/augment/random_resized_crop.ts";
import { readSafetensors } from "../models/io/safetensors.ts";
import { toFloat32 } from "../models/core/tensor.ts";
import { Rng } from "../models/core/random.ts";

const FIXTURES = new URL("./fixtures/eval/", import.meta.url).pathname;

function randomImages(shape: [number, number, number, number], seed: number): ImageBatch {
  const [n, c, h, w] = shape;
  return imageBatch(shape, Rng.from(seed).rand(n * c * h * w));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function range(a: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    lo = Math.min(lo, a[i]);
    hi = Math.max(hi, a[i]);
  }
  return [lo, hi];
}

Deno.test("randomResizedCrop() and composeTrainAugment() return [N, 3, size, size] batches", () => {
  const x = randomImages([5, 3, 40, 48], 0);
  assert.deepEqual(randomResizedCrop(x, 32, Rng.from(1)).shape, [5, 3, 32, 32]);
  assert.deepEqual(randomResizedCrop(x, [24, 16], Rng.from(1)).shape, [5, 3, 24, 16]);
  const out = composeTrainAugment({ size: 32 })(x, new Int32Array([0, 1, 2, 3, 4]), Rng.from(2));
  assert.deepEqual(out.images.shape, [5, 3, 32, 32]);
  assert.equal(out.labelsA.length, 5);
  assert.equal(out.labelsB.length, 5);
  assert.ok(out.images.data.every(Number.isFinite));
});

Deno.test("RandomResizedCrop draws areas within [0.5, 1] and aspect ratios within [3/4, 4/3]", () => {
  const rng = Rng.from(3);
  const size = 224;
  let minArea = Infinity;
  let maxArea = -Infinity;
  for (let i = 0; i < 3000; i++) {
    const box = randomResizedCropParams(size, size, rng, {
      scale: [0.5, 1],
      ratio: [3 / 4, 4 / 3],
    });
    assert.ok(box.top >= 0 && box.left >= 0);
    assert.ok(box.top + box.height <= size && box.left + box.width <= size);
    const area = (box.width * box.height) / (size * size);
    const ratio = box.width / box.height;
    // w and h are rounded to integers: allow half a pixel on each side.
    assert.ok(area >= 0.5 - size / (size * size) && area <= 1, `area ${area}`);
    assert.ok(
      ratio >= (3 / 4) * (1 - 1 / 150) && ratio <= (4 / 3) * (1 + 1 / 150),
      `ratio ${ratio}`,
    );
    minArea = Math.min(minArea, area);
    maxArea = Math.max(maxArea, area);
  }
  assert.ok(minArea < 0.52 && maxArea > 0.97, `areas span [${minArea}, ${maxArea}]`);
});

Deno.test("RandomResizedCrop falls back to a center crop with the ratio clamped, as torchvision", () => {
  // A 10 x 40 image cannot hold any crop of area >= 2x its own: every attempt fails.
  const box = randomResizedCropParams(10, 40, Rng.from(0), { scale: [2, 3] });
  // in_ratio 4 > 4/3: h = 10, w = round(10 * 4 / 3) = 13, centered.
  assert.deepEqual(box, { top: 0, left: 13, height: 10, width: 13 });
  const tall = randomResizedCropParams(40, 10, Rng.from(0), { scale: [2, 3] });
  // in_ratio 1/4 < 3/4: w = 10, h = round(10 / (3 / 4)) = 13.
  assert.deepEqual(tall, { top: 13, left: 0, height: 13, width: 10 });
});

Deno.test("resizedCrop() matches PyTorch bilinear interpolation (align_corners=False) of the crop", async () => {
  const { tensors, metadata } = await readSafetensors(`${FIXTURES}/resize.safetensors`);
  const image = imageBatch([1, 3, 16, 16], toFloat32(tensors.get("image")!));
  const cases = JSON.parse(metadata.cases) as Record<
    string,
    { top: number; left: number; height: number; width: number; out: [number, number] }
  >;
  assert.ok(Object.keys(cases).length >= 5);
  for (const [name, c] of Object.entries(cases)) {
    const y = resizedCrop(image, c, c.out);
    const expected = toFloat32(tensors.get(`${name}.out`)!);
    // "up_aa" is torch's antialiased filter: identical to plain bilinear when upsampling.
    assert.ok(maxAbsDiff(y.data, expected) < 2e-6, `${name}: ${maxAbsDiff(y.data, expected)}`);
  }
});

Deno.test("RandomResizedCrop and flips keep pixel values inside the input's range", () => {
  const x = randomImages([4, 3, 20, 20], 4);
  const [lo, hi] = range(x.data);
  const y = randomHorizontalFlip(randomResizedCrop(x, 20, Rng.from(5)), Rng.from(6)).images;
  const [ylo, yhi] = range(y.data);
  assert.ok(ylo >= lo && yhi <= hi);
  assert.ok(lo >= 0 && hi < 1);
});

Deno.test("hflip() reverses every row exactly, twice is the identity; the random flip hits about half", () => {
  const x = randomImages([2, 3, 5, 7], 7);
  const y = hflip(x);
  for (let row = 0; row < 2 * 3 * 5; row++) {
    const a = x.data.subarray(row * 7, row * 7 + 7);
    const b = y.data.subarray(row * 7, row * 7 + 7);
    assert.deepEqual([...b], [...a].reverse());
  }
  assert.deepEqual(hflip(y).data, x.data);
  const { images, flipped } = randomHorizontalFlip(randomImages([400, 1, 1, 2], 8), Rng.from(9));
  const count = flipped.filter(Boolean).length;
  assert.ok(count > 160 && count < 240, `${count} of 400 flipped`);
  assert.equal(images.shape[0], 400);
});

Deno.test("composeTrainAugment() is deterministic for a seed and differs across seeds", () => {
  const x = randomImages([6, 3, 24, 24], 10);
  const labels = new Int32Array([0, 1, 2, 3, 4, 5]);
  const augment = composeTrainAugment({ size: 16 });
  const a = augment(x, labels, Rng.from(0, 7));
  const b = augment(x, labels, Rng.from(0, 7));
  const c = augment(x, labels, Rng.from(0, 8));
  assert.deepEqual(a.images.data, b.images.data);
  assert.deepEqual([a.lambda, [...a.labelsB]], [b.lambda, [...b.labelsB]]);
  assert.notDeepEqual(a.images.data, c.images.data);
  assert.deepEqual(randomImages([1, 1, 2, 2], 3).data, randomImages([1, 1, 2, 2], 3).data);
});

Deno.test("ColorJitter with factor 1 (or strength 0) is the identity", () => {
  const x = randomImages([3, 3, 6, 5], 11);
  const img = x.data.slice(0, 90);
  const steps: JitterStep[] = [
    { op: "brightness", factor: 1 },
    { op: "contrast", factor: 1 },
    { op: "saturation", factor: 1 },
  ];
  applyColorJitter(img, 30, steps);
  assert.deepEqual(img, x.data.slice(0, 90));
  const y = colorJitter(x, Rng.from(0), { brightness: 0, contrast: 0, saturation: 0 });
  assert.deepEqual(y.data, x.data);
});

Deno.test("ColorJitter and Lighting match IDC's lerp and PCA-noise semantics (torch fixture)", async () => {
  const { tensors, metadata } = await readSafetensors(`${FIXTURES}/jitter.safetensors`);
  const image = toFloat32(tensors.get("image")!); // [3, 5, 6]
  const cases = JSON.parse(metadata.jitter) as Record<string, [JitterStep["op"], number][]>;
  for (const [name, draws] of Object.entries(cases)) {
    const img = image.slice();
    applyColorJitter(img, 30, draws.map(([op, alpha]) => ({ op, factor: 1 - alpha })));
    const err = maxAbsDiff(img, toFloat32(tensors.get(`${name}.out`)!));
    assert.ok(err < 1e-6, `${name}: ${err}`);
  }
  const alpha = JSON.parse(metadata.lighting_alpha) as number[];
  const rgb = lightingOffsets(alpha);
  const lit = image.map((v, i) => v + rgb[Math.floor(i / 30)]);
  assert.ok(maxAbsDiff(lit, toFloat32(tensors.get("lighting.out")!)) < 1e-6);
});

Deno.test("lighting() shifts each channel by one constant and colorJitter() brightness stays in [0.6, 1.4]x", () => {
  const x = randomImages([2, 3, 4, 4], 12);
  const y = lighting(x, Rng.from(13), 0.1);
  for (let i = 0; i < 2; i++) {
    for (let ch = 0; ch < 3; ch++) {
      const o = (i * 3 + ch) * 16;
      const shift = y.data[o] - x.data[o];
      for (let p = 1; p < 16; p++) {
        assert.ok(Math.abs(y.data[o + p] - x.data[o + p] - shift) < 1e-6);
      }
      assert.ok(Math.abs(shift) < 0.2); // |alpha| < 5 std: |shift| <= 0.5 * 0.2175 * ...
    }
  }
  const ones = imageBatch([200, 3, 1, 1], new Float32Array(600).fill(1));
  const [lo, hi] = range(
    colorJitter(ones, Rng.from(14), { brightness: 0.4, contrast: 0, saturation: 0 }).data,
  );
  assert.ok(lo >= 0.6 && hi <= 1.4 && lo < 0.65 && hi > 1.35, `[${lo}, ${hi}]`);
});

Deno.test("normalize() matches hand-computed ImageNet values", () => {
  const x = imageBatch([1, 3, 1, 2], new Float32Array([0.5, 0, 0.5, 1, 0.5, 0.406]));
  const y = normalize(x);
  const expected = [
    (0.5 - 0.485) / 0.229,
    (0 - 0.485) / 0.229,
    (0.5 - 0.456) / 0.224,
    (1 - 0.456) / 0.224,
    (0.5 - 0.406) / 0.225,
    0,
  ];
  assert.ok(maxAbsDiff(y.data, expected) < 1e-6);
  assert.ok(Math.abs(y.data[0] - 0.0655022) < 1e-6);
  assert.deepEqual([IMAGENET_MEAN, IMAGENET_STD], [[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]]);
});

Deno.test("cutmix() weights labelsB by exactly the pasted area, over many draws", () => {
  const [n, h, w] = [8, 13, 11];
  const x = imageBatch(
    [n, 3, h, w],
    new Float32Array(n * 3 * h * w).map((_, i) => 1 + Math.floor(i / (3 * h * w))),
  );
  const labels = new Int32Array([10, 11, 12, 13, 14, 15, 16, 17]);
  const rng = Rng.from(15);
  let mixedSome = 0;
  for (let t = 0; t < 200; t++) {
    const r = cutmix(x, labels, rng);
    assert.ok(r.box && r.lambda >= 0 && r.lambda <= 1);
    assert.deepEqual([...r.labelsB], [...r.perm].map((j) => labels[j]));
    assert.deepEqual(r.labelsA, labels);
    for (let i = 0; i < n; i++) {
      if (r.perm[i] === i) continue;
      const img = r.images.data.subarray(i * 3 * h * w, (i + 1) * 3 * h * w);
      const pasted = img.filter((v) => v === r.perm[i] + 1).length;
      const kept = img.filter((v) => v === i + 1).length;
      const box: CutMixBox = r.box!;
      const boxArea: number = Math.max(box.bottom - box.top, 0) * Math.max(box.right - box.left, 0);
      assert.equal(pasted, 3 * boxArea); // every pasted pixel is inside the box, in 3 channels
      assert.equal(kept + pasted, img.length);
      assert.equal(r.lambda, 1 - boxArea / (h * w)); // weight of labelsB = pasted area
      assert.ok(Math.abs(pasted / img.length - (1 - r.lambda)) < 1e-12);
      if (pasted > 0) mixedSome++;
    }
  }
  assert.ok(mixedSome > 100);
  const none = cutmix(x, labels, Rng.from(0), { prob: 0 });
  assert.deepEqual([none.lambda, none.box, none.images.data], [1, null, x.data]);
});

Deno.test("randBbox() cuts sides of int(H * sqrt(1 - lambda)) around a uniform center, clipped", () => {
  const rng = Rng.from(16);
  for (let t = 0; t < 500; t++) {
    const box = randBbox(64, 48, 0.75, rng); // cut = 0.5: 32 rows, 24 columns before clipping
    assert.ok(box.bottom - box.top <= 32 && box.right - box.left <= 24);
    assert.ok(box.top >= 0 && box.left >= 0 && box.bottom <= 64 && box.right <= 48);
    if (box.top > 0 && box.bottom < 64) assert.equal(box.bottom - box.top, 32);
    if (box.left > 0 && box.right < 48) assert.equal(box.right - box.left, 24);
  }
  const full = randBbox(10, 10, 0, Rng.from(0)); // lambda 0: a 10 x 10 cut, clipped
  assert.ok(full.bottom - full.top >= 5);
});

Deno.test("cutmixSoft() mixes every batch and returns the permutation for relabelling", () => {
  const x = randomImages([4, 3, 8, 8], 17);
  const r = cutmixSoft(x, Rng.from(18));
  assert.deepEqual([...r.perm].sort(), [0, 1, 2, 3]);
  assert.deepEqual(r.images.shape, [4, 3, 8, 8]);
  const rows = r.box.bottom - r.box.top;
  const cols = r.box.right - r.box.left;
  assert.equal(r.lambda, 1 - (Math.max(rows, 0) * Math.max(cols, 0)) / 64);
});
