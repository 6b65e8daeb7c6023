// The toolkit imported by path from a folder outside the repository, with no deno.json there:
// encode -> discover -> sample -> decode on two classes with the shipped model, and no
// node_modules appears beside the caller (the npm packages are pinned in models/core/deps.ts and
// live in Deno's global cache).
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("a script outside the repo imports mod.ts by path and distils two classes with no config of its own", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mgd3-outside-" });
  try {
    assert.ok(!dir.startsWith(ROOT), `${dir} is inside the repo`);
    await Deno.writeTextFile(
      `${dir}/distil.ts`,
      `import { decode, discover, encode, loadScale, sample, SHIPPED_CPU_MODEL, Store } from "${ROOT}mod.ts";
const store = await Store.open("./store");
const scale = await loadScale({ scale: "cpu", model: SHIPPED_CPU_MODEL });
await encode(store, scale, {
  data: "${ROOT}data/imagenette-64/train",
  classes: ["n01440764", "n02102040"],
  out: "latents/train",
  limit: 20,
});
await discover(store, { latents: "latents/train", out: "modes/ipc2", modes: { method: "kmeans", k: 2, seed: 0 } });
await sample(store, scale, { modes: "modes/ipc2", out: "samples/mgd3", seed: 0 });
const d = await decode(store, scale.codec, { samples: "samples/mgd3", out: "distilled/mgd3" });
await scale.release();
console.log("decoded", d.written.length, "classes into", d.imageFolder);
`,
    );
    const env = { ...Deno.env.toObject() };
    delete env.DENO_DIR_CONFIG;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "distil.ts"],
      cwd: dir,
      env: { ...env, MGD3_HOME: "" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, new TextDecoder().decode(out.stderr).slice(-2000));
    assert.match(text, /decoded 2 classes into \.\/store\/distilled\/mgd3\/images/);
    const pngs = [...Deno.readDirSync(`${dir}/store/distilled/mgd3/images/n01440764`)];
    assert.equal(pngs.length, 2);
    const entries = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(entries, ["distil.ts", "store"], "no deno.json, deno.lock or node_modules");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
