import { IMAGENETTE_224 } from "./shared.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { sharp } from "../models/core/deps.ts";
import { CLASS_PRESETS, imagenetIndex, resolveClasses } from "../stages/images/classes.ts";
import { listImageFolder } from "../stages/images/image_folder.ts";
import { loadImages } from "../stages/images/load_images.ts";
import { writeImageFolder } from "../stages/images/write_image_folder.ts";
import { MAX_INPUT_PIXELS, PIL_MAX_IMAGE_PIXELS } from "../stages/images/_decode_rgb.ts";
import { crc32 } from "../models/io/_zip.ts";
import IMAGENET1K_WNIDS from "../stages/images/imagenet1k_wnids.json" with { type: "json" };

// Real data (SPEC.md section 6); tests that need it are skipped where it is absent.
const DATA = IMAGENETTE_224;
const HAVE_DATA = (() => {
  try {
    return Deno.statSync(join(DATA, "val")).isDirectory;
  } catch {
    return false;
  }
})();
// A grayscale JPEG of ImageNette train (about 2% are grayscale).
const GRAY_FILE = join(DATA, "train/n02102040/n02102040_1408.JPEG");
const FIXTURES = new URL("./fixtures/image_parity/", import.meta.url).pathname;

async function rawRgb(path: string): Promise<Uint8Array> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3, `${path} should be an RGB PNG`);
  return new Uint8Array(data);
}

/** [1, 3, S, S] floats in [-1, 1] -> HWC bytes, inverting ADM's v / 127.5 - 1. */
function toHwcBytes(chw: Float32Array, size: number): Uint8Array {
  const plane = size * size;
  const out = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round((chw[c * plane + p] + 1) * 127.5);
  }
  return out;
}

Deno.test("imagenet1k_wnids.json holds the 1000 ILSVRC-2012 wnids in sorted order", () => {
  const wnids = IMAGENET1K_WNIDS as string[];
  assert.equal(wnids.length, 1000);
  assert.equal(new Set(wnids).size, 1000);
  assert.deepEqual([...wnids].sort(), wnids);
  assert.equal(wnids[0], "n01440764");
  assert.equal(wnids[999], "n15075141");
  assert.ok(wnids.every((w) => /^n\d{8}$/.test(w)));
});

Deno.test("imagenetIndex() gives sorted positions and names an unknown wnid", () => {
  assert.equal(imagenetIndex("n01440764"), 0);
  assert.equal(imagenetIndex("n15075141"), 999);
  assert.equal(imagenetIndex("n02102040"), 217);
  assert.throws(() => imagenetIndex("n99999999"), /n99999999/);
});

Deno.test("class presets match GLaD's ImageNet index lists", () => {
  // GeorgeCazenavette/glad utils.py Config: imagenette, alpha .. epsilon.
  const glad: Record<string, number[]> = {
    imagenette: [0, 217, 482, 491, 497, 566, 569, 571, 574, 701],
    "imagenet-a": [255, 376, 984, 364, 500, 986, 333, 576, 148, 135],
    "imagenet-b": [129, 916, 90, 275, 995, 874, 102, 259, 685, 139],
    "imagenet-c": [565, 94, 554, 535, 92, 392, 291, 136, 324, 11],
    "imagenet-d": [9, 258, 13, 262, 19, 339, 321, 24, 93, 322],
    "imagenet-e": [816, 96, 100, 145, 739, 713, 783, 76, 688, 326],
  };
  for (const [preset, indices] of Object.entries(glad)) {
    assert.deepEqual(resolveClasses(preset).map(imagenetIndex), indices, preset);
  }
  // GLaD's imagewoof is the same 10 classes in another order; SPEC.md's order is sorted.
  const woof = resolveClasses("imagewoof").map(imagenetIndex);
  assert.deepEqual(woof, [...woof].sort((a, b) => a - b));
  assert.deepEqual([...woof].sort((a, b) => a - b), [
    155,
    159,
    162,
    167,
    182,
    193,
    207,
    229,
    258,
    273,
  ]);
  assert.deepEqual(resolveClasses("ImageIDC").slice(0, 2), ["n02869837", "n01749939"]);
  for (const list of Object.values(CLASS_PRESETS)) assert.equal(new Set(list).size, 10);
});

Deno.test("resolveClasses() accepts lists and rejects unknown presets and repeats", () => {
  assert.deepEqual(resolveClasses("n01440764, n02102040"), ["n01440764", "n02102040"]);
  assert.deepEqual(resolveClasses(["b", "a"]), ["b", "a"]);
  assert.throws(() => resolveClasses("imagenet-z"), /imagenet-z.*imagenette/);
  assert.throws(() => resolveClasses(["a", "a"]), /'a' appears twice/);
  assert.throws(() => resolveClasses([]), /empty/);
  assert.throws(() => resolveClasses(["../x"]), /Invalid class name/);
});

Deno.test({
  name: "listImageFolder() lists ImageNette val in preset order, files sorted, deterministic",
  ignore: !HAVE_DATA,
  fn: async () => {
    const val = join(DATA, "val");
    const items = await listImageFolder(val, { classes: "imagenette" });
    assert.equal(items.length, 3925);
    assert.deepEqual(items, await listImageFolder(val, { classes: "imagenette" }));
    assert.deepEqual(items, await listImageFolder(val)); // folders are sorted wnids here
    assert.equal(items[0].className, "n01440764");
    assert.equal(items[0].path, join(val, "n01440764", "ILSVRC2012_val_00009111.JPEG"));
    for (let i = 1; i < items.length; i++) {
      const [a, b] = [items[i - 1], items[i]];
      assert.ok(a.classIndex < b.classIndex || (a.classIndex === b.classIndex && a.path < b.path));
    }
    const two = await listImageFolder(val, { classes: ["n03888257", "n01440764"] });
    assert.equal(two[0].className, "n03888257");
    assert.equal(two.at(-1)?.classIndex, 1);
    await assert.rejects(
      () => listImageFolder(val, { classes: ["n01440764", "n09999999"] }),
      /Class folder '.*n09999999' not found/,
    );
  },
});

Deno.test({
  name: "loadImages() loads a grayscale JPEG as three equal channels",
  ignore: !HAVE_DATA,
  fn: async () => {
    const { images } = await loadImages([{ path: GRAY_FILE }], {
      size: 32,
      mode: "center_crop_arr",
    });
    assert.deepEqual(images.shape, [1, 3, 32, 32]);
    const plane = 32 * 32;
    const d = images.data;
    assert.deepEqual(d.subarray(0, plane), d.subarray(plane, 2 * plane));
    assert.deepEqual(d.subarray(0, plane), d.subarray(2 * plane, 3 * plane));
    assert.ok(d.some((v) => v !== d[0]), "image should not be constant");
  },
});

Deno.test({
  name: "loadImages() names a truncated JPEG, and skip mode reports and leaves it out",
  ignore: !HAVE_DATA,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const good = join(DATA, "val/n01440764/ILSVRC2012_val_00009111.JPEG");
      const bytes = await Deno.readFile(good);
      const bad = join(dir, "truncated.jpg");
      await Deno.writeFile(bad, bytes.subarray(0, Math.floor(bytes.length / 2)));
      const items = [{ path: good }, { path: bad }, { path: good }];
      const opts = { size: 16, mode: "resize_center_crop" } as const;
      await assert.rejects(() => loadImages(items, opts), (e: Error) => {
        assert.match(e.message, /Cannot load image '.*truncated\.jpg'/);
        return true;
      });
      const r = await loadImages(items, { ...opts, onError: "skip" });
      assert.deepEqual(r.images.shape, [2, 3, 16, 16]);
      assert.deepEqual(r.items, [items[0], items[2]]);
      assert.equal(r.skipped.length, 1);
      assert.equal(r.skipped[0].path, bad);
      await assert.rejects(
        () => loadImages([{ path: join(dir, "missing.png") }], opts),
        /missing\.png/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("loadImages() drops alpha without flattening and converts CMYK to RGB", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [w, h] = [8, 6];
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set([200, 100, 50, i % 2 ? 0 : 255], i * 4);
    const raw = { raw: { width: w, height: h, channels: 4 as const } };
    await sharp(rgba, raw).png().toFile(join(dir, "rgba.png"));
    await sharp(rgba, raw).removeAlpha().toColourspace("cmyk").jpeg({ quality: 100 })
      .toFile(join(dir, "cmyk.jpg"));
    assert.equal((await sharp(join(dir, "cmyk.jpg")).metadata()).space, "cmyk");
    const { images } = await loadImages(
      [{ path: join(dir, "rgba.png") }, { path: join(dir, "cmyk.jpg") }],
      { size: 6, mode: "center_crop_arr", range: "[0,1]" },
    );
    const plane = 36;
    const px = (n: number, c: number) => Math.round(images.data[(n * 3 + c) * plane + 1] * 255);
    assert.deepEqual([px(0, 0), px(0, 1), px(0, 2)], [200, 100, 50]); // a transparent pixel
    // CMYK by PIL's formula is a crude conversion: close to, not equal to, the source colour.
    for (const [c, v] of [200, 100, 50].entries()) assert.ok(Math.abs(px(1, c) - v) <= 40);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadImages() matches PIL (ADM center_crop_arr, torchvision resize) exactly", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(join(FIXTURES, "manifest.json")));
  let compared = 0;
  for (const c of manifest.cases as { name: string; input: string; outputs: string[] }[]) {
    for (const key of c.outputs) {
      if (key === "decode") continue;
      const [mode, size] = [key.split(".")[0] as "center_crop_arr", Number(key.split(".")[1])];
      const { images } = await loadImages([{ path: join(FIXTURES, "inputs", c.input) }], {
        size,
        mode,
      });
      const got = toHwcBytes(images.data, size);
      const want = await rawRgb(join(FIXTURES, "expected", `${c.name}.${key}.png`));
      let maxDiff = 0;
      for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
      assert.equal(maxDiff, 0, `${c.name} ${key}: max abs difference ${maxDiff}/255 vs PIL`);
      compared++;
    }
  }
  assert.ok(compared >= 30);
});

Deno.test("loadImages() decodes grayscale, RGBA, palette and CMYK files as PIL does", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(join(FIXTURES, "manifest.json")));
  for (const c of manifest.cases as { name: string; input: string; size: number[] }[]) {
    if (!["real0", "gray", "rgba", "palette", "cmyk"].includes(c.name)) continue;
    const [w, h] = c.size;
    const want = await rawRgb(join(FIXTURES, "expected", `${c.name}.decode.png`));
    // A square crop of the top-left corner: center_crop_arr at the short side is a pure crop.
    const s = Math.min(w, h);
    const { images } = await loadImages([{ path: join(FIXTURES, "inputs", c.input) }], {
      size: s,
      mode: "center_crop_arr",
    });
    const got = toHwcBytes(images.data, s);
    const [top, left] = [Math.floor((h - s) / 2), Math.floor((w - s) / 2)];
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s * 3; x++) {
        const g = got[y * s * 3 + x];
        const e = want[(top + y) * w * 3 + left * 3 + x];
        if (g !== e) assert.fail(`${c.name}: pixel (${y}, ${Math.floor(x / 3)}) ${g} vs PIL ${e}`);
      }
    }
  }
});

Deno.test({
  name: "loadImages() keeps input order whatever the concurrency and reports progress",
  ignore: !HAVE_DATA,
  fn: async () => {
    const items = (await listImageFolder(join(DATA, "val"), { classes: "imagenette" }))
      .filter((_, i) => i % 400 === 0);
    const seen: number[] = [];
    const opts = { size: 24, mode: "center_crop_arr" } as const;
    const a = await loadImages(items, { ...opts, concurrency: 1 });
    const b = await loadImages(items, { ...opts, concurrency: 8, onProgress: (d) => seen.push(d) });
    assert.deepEqual(b.items, items);
    assert.deepEqual(a.images.data, b.images.data);
    assert.deepEqual(seen, items.map((_, i) => i + 1));
    assert.ok(a.images.data.every((v) => v >= -1 && v <= 1));
  },
});

Deno.test("writeImageFolder() round-trips through listImageFolder() and loadImages()", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [n, s] = [3, 10];
    const data = new Float32Array(n * 3 * s * s);
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 1.02; // a bit outside
    const images = { shape: [n, 3, s, s], data };
    const classNames = ["n02102040", "n01440764", "n02102040"];
    const paths = await writeImageFolder(dir, images, { classNames });
    assert.deepEqual(paths, [
      join(dir, "n02102040", "0000.png"),
      join(dir, "n01440764", "0000.png"),
      join(dir, "n02102040", "0001.png"),
    ]);
    await writeImageFolder(dir, images, { classNames }); // rewrite in place
    const files = [...Deno.readDirSync(join(dir, "n02102040"))].map((e) => e.name).sort();
    assert.deepEqual(files, ["0000.png", "0001.png"]); // no temporary files left
    const items = await listImageFolder(dir);
    assert.deepEqual(items.map((it) => it.className), ["n01440764", "n02102040", "n02102040"]);
    const back = await loadImages(items, { size: s, mode: "center_crop_arr" });
    const order = [1, 0, 2]; // listed order -> written order
    const plane = 3 * s * s;
    for (const [row, src] of order.entries()) {
      for (let k = 0; k < plane; k++) {
        const want = Math.min(1, Math.max(-1, data[src * plane + k]));
        const diff = Math.abs(back.images.data[row * plane + k] - want);
        assert.ok(diff <= 1 / 255 + 1e-6, `image ${src} value ${k}: off by ${diff}`);
      }
    }
    await assert.rejects(
      () => writeImageFolder(dir, images, { classNames, names: ["a", "b", "a"] }),
      /n02102040\/a\.png' given twice/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveClasses() takes a single wnid as a one-class list", () => {
  assert.deepEqual(resolveClasses("n01440764"), ["n01440764"]);
  assert.deepEqual(resolveClasses(" n02102040 "), ["n02102040"]);
  assert.throws(() => resolveClasses("n0144076"), /Unknown class preset 'n0144076'.*single wnid/);
});

/** A 4x4 PNG or JPEG whose header is rewritten to claim width x height pixels. */
async function lyingImage(format: "png" | "jpeg", width: number, height: number) {
  const small = sharp(new Uint8Array(48).fill(90), { raw: { width: 4, height: 4, channels: 3 } });
  const bytes = new Uint8Array(await (format === "png" ? small.png() : small.jpeg()).toBuffer());
  const view = new DataView(bytes.buffer);
  if (format === "png") {
    view.setUint32(16, width); // IHDR: 8-byte signature, length, "IHDR", width, height
    view.setUint32(20, height);
    view.setUint32(29, crc32(bytes.subarray(12, 29))); // CRC of "IHDR" and its 13 data bytes
  } else {
    let at = 2; // after SOI: walk the marker segments to the SOF0 frame header
    while (!(bytes[at] === 0xff && bytes[at + 1] === 0xc0)) at += 2 + view.getUint16(at + 2);
    view.setUint16(at + 5, height); // FFC0, length, precision, height, width
    view.setUint16(at + 7, width);
  }
  return bytes;
}

Deno.test("loadImages() refuses, from the header and naming the file, an image above PIL's decompression-bomb limit (2 x MAX_IMAGE_PIXELS)", async () => {
  assert.equal(PIL_MAX_IMAGE_PIXELS, 89_478_485); // int(1024 * 1024 * 1024 // 4 // 3)
  assert.equal(MAX_INPUT_PIXELS, 178_956_970);
  const dir = await Deno.makeTempDir({ prefix: "mgd3-bomb-" });
  // 16000 x 12000 = 192 Mpx: above PIL's limit, below sharp's default (~268 Mpx).
  for (const format of ["png", "jpeg"] as const) {
    const path = `${dir}/bomb.${format}`;
    await Deno.writeFile(path, await lyingImage(format, 16000, 12000));
    const meta = await sharp(path).metadata();
    assert.deepEqual([meta.width, meta.height], [16000, 12000]); // the header claims it
    await assert.rejects(
      () => loadImages([{ path }], { size: 8, mode: "center_crop_arr" }),
      new RegExp(
        `Cannot load image '${path}': 16000x12000 = 192000000 pixels exceeds the limit of ` +
          `178956970 \\(2 x PIL's Image\\.MAX_IMAGE_PIXELS`,
      ),
    );
  }
});
