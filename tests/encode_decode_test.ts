import assert from "node:assert/strict";
import { sharp } from "../models/core/deps.ts";
import { Store } from "../stages/store/store.ts";
import { encode, ENCODE_DEFAULTS } from "../stages/encode.ts";
import { decode, DECODE_DEFAULTS } from "../stages/decode.ts";
import type { Codec } from "../models/codecs/codec.ts";
import { listImageFolder } from "../stages/images/image_folder.ts";
import { loadImages } from "../stages/images/load_images.ts";
import { IMAGENETTE_224 } from "./shared.ts";

const HAVE_DATA = await Deno.stat(`${IMAGENETTE_224}/val`).then(() => true, () => false);
const S = 16;
/** A codec whose latent is the image itself, halved (so scaling is visible). */
const halve: Codec = {
  id: "halve-16",
  imageSize: S,
  latentShape: [3, S, S],
  encode: (x) => Promise.resolve(x.map((v) => v / 2)),
  decode: (z) => Promise.resolve(z.map((v) => v * 2)),
};
const CLASSES = ["n01440764", "n02102040"];

Deno.test({
  name:
    "encode() writes per-class latents of real images, resumes, and decode() writes an ImageFolder and a contact sheet",
  ignore: !HAVE_DATA,
  async fn() {
    const store = await Store.open(await Deno.makeTempDir({ prefix: "mgd3-encode-" }));
    const opts = {
      ...ENCODE_DEFAULTS,
      data: `${IMAGENETTE_224}/val`,
      classes: CLASSES,
      out: "latents",
      limit: 3,
    };
    const r1 = await encode(store, halve, opts);
    assert.deepEqual(r1.written, ["class-000", "class-001"]);
    assert.deepEqual((await encode(store, halve, opts)).skipped, ["class-000", "class-001"]);
    const { tensors, metadata } = await (await store.open("latents")).readShard("class-001");
    const z = tensors.get("latents")!;
    assert.deepEqual(z.shape, [3, 3, S, S]);
    assert.equal(metadata.class, "217"); // ImageNet-1K index of n02102040 (English springer)
    const files = JSON.parse(metadata.files);
    assert.equal(files.length, 3);
    const items = (await listImageFolder(`${IMAGENETTE_224}/val`, { classes: CLASSES })).filter((
      i,
    ) => i.classIndex === 1);
    const ref = await loadImages(items.slice(0, 3), { size: S, mode: "center_crop_arr" });
    assert.deepEqual([...z.data as Float32Array], [...ref.images.data.map((v) => v / 2)]);

    // A flipped encode mirrors every image row.
    await encode(store, halve, { ...opts, out: "flipped", flip: true });
    const f = (await (await store.open("flipped")).readShard("class-001")).tensors.get("latents")!
      .data as Float32Array;
    assert.equal(f[0], (z.data as Float32Array)[S - 1]);
    assert.equal(f[S + 3], (z.data as Float32Array)[2 * S - 4]);

    // Decode the "samples" (here: the latents artifact itself) into PNGs and a contact sheet.
    const d = await decode(store, halve, {
      ...DECODE_DEFAULTS,
      samples: "latents",
      out: "distilled",
    });
    assert.deepEqual(d.written, ["class-000", "class-001"]);
    const back = await listImageFolder(d.imageFolder);
    assert.equal(back.length, 6);
    const png = await loadImages(back.filter((i) => i.className === "n02102040"), {
      size: S,
      mode: "center_crop_arr",
    });
    let worst = 0;
    for (let i = 0; i < png.images.data.length; i++) {
      worst = Math.max(worst, Math.abs(png.images.data[i] - ref.images.data[i]));
    }
    assert.ok(worst <= 2 / 255 + 1e-6, `PNG round trip differs by ${worst}`);
    const meta = await sharp(d.contactSheet!).metadata();
    assert.equal(meta.width, 3 * (S + 2) + 2);
    assert.equal(meta.height, 2 * (S + 2) + 2);
  },
});

Deno.test({
  name: "encode() refuses a store made with another image limit, naming the option",
  ignore: !HAVE_DATA,
  async fn() {
    const store = await Store.open(await Deno.makeTempDir());
    const opts = {
      ...ENCODE_DEFAULTS,
      data: `${IMAGENETTE_224}/val`,
      classes: CLASSES.slice(0, 1),
      out: "l",
      limit: 1,
    };
    await encode(store, halve, opts);
    await assert.rejects(() => encode(store, halve, { ...opts, limit: 2 }), /limit=1 \(now 2\)/);
    await assert.rejects(
      () => encode(store, halve, { ...opts, classes: ["n99999999"] }),
      /n99999999/,
    );
  },
});

Deno.test("decode() refuses an artifact that is neither samples nor latents before writing, naming it, its kind and the kinds expected", async () => {
  const store = await Store.open(await Deno.makeTempDir({ prefix: "mgd3-decode-" }));
  const modes = await store.artifact("modes", { kind: "modes", options: {}, seed: 0 });
  await modes.writeShard("class-000", {
    modes: { dtype: "F32", shape: [1, 3, S, S], data: new Float32Array(3 * S * S) },
  }, { class: "0" });
  await assert.rejects(
    () => decode(store, halve, { ...DECODE_DEFAULTS, samples: "modes", out: "distilled" }),
    /Artifact 'modes' \(.*\/modes\) is a 'modes' artifact; decode option samples \(--samples\) expects 'samples' or 'latents'/,
  );
  assert.equal(await store.has("distilled"), false);
});
