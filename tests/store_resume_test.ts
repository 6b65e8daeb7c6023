// Issue 15 (store): a resumed run verifies what it skips, --overwrite always rewrites, a
// corrupt manifest is named and recoverable, dead writers' temporary files go, concurrent
// writers with other options are refused at once, and path options are normalised.
import assert from "node:assert/strict";
import { artifactKey, Store, StoreError } from "../stages/store/store.ts";
import { sample } from "../stages/sample.ts";
import { setProgressMode } from "../stages/progress.ts";
import { encode, ENCODE_DEFAULTS } from "../stages/encode.ts";
import type { Codec } from "../models/codecs/codec.ts";
import { parseTempName, processRuns, STALE_TEMP_MS, tempPath } from "../stages/store/temp_files.ts";
import { FIXTURE_SAMPLE, fixtureModel, fixtureStore } from "./_store_fixture.ts";
import { IMAGENETTE_224 } from "./shared.ts";
import { main } from "../cli.ts";

setProgressMode("silent");
const model = fixtureModel(3);
const OPTS = { kind: "latents", options: { codec: "taef2", size: 64 }, seed: 0 };

async function sampled(): Promise<Store> {
  const store = await fixtureStore(await Deno.makeTempDir({ prefix: "mgd3-resume-" }), 3);
  assert.equal((await sample(store, model, FIXTURE_SAMPLE)).written.length, 3);
  return store;
}

async function truncate(path: string, keep = 0.5): Promise<void> {
  const bytes = await Deno.readFile(path);
  await Deno.writeFile(path, bytes.subarray(0, Math.floor(bytes.length * keep)));
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test("a resumed sample() verifies finished shards: a truncated one is redone and reported", async () => {
  const store = await sampled();
  const a = await store.open("samples");
  const good = await Deno.readFile(a.shardPath("class-1"));
  await truncate(a.shardPath("class-1"));
  await assert.rejects(() => a.readShard("class-1"), /class-1\.safetensors is broken: .*truncated/);
  const r = await sample(store, model, FIXTURE_SAMPLE);
  assert.deepEqual(r.written, ["class-1"]);
  assert.deepEqual(r.skipped, ["class-0", "class-2"]);
  assert.deepEqual(r.redone.map((b) => b.shard), ["class-1"]);
  assert.match(r.redone[0].reason, /truncated/);
  assert.deepEqual(await Deno.readFile(a.shardPath("class-1")), good);
});

Deno.test("--overwrite with the same options rewrites every shard of the run, broken or not", async () => {
  const store = await sampled();
  const a = await store.open("samples");
  await truncate(a.shardPath("class-2"), 0.9);
  const r = await sample(store, model, { ...FIXTURE_SAMPLE, overwrite: true });
  assert.deepEqual(r.written, ["class-0", "class-1", "class-2"]);
  assert.deepEqual(r.skipped, []);
  await a.readShard("class-2");
});

Deno.test("a shard whose bytes changed but still parse fails its recorded SHA-256 and is redone", async () => {
  const store = await sampled();
  const a = await store.open("samples");
  const path = a.shardPath("class-0");
  const good = await Deno.readFile(path);
  const bad = good.slice();
  bad[bad.length - 3] ^= 0x40; // a bit of the last float: still a valid safetensors file
  await Deno.writeFile(path, bad);
  await assert.rejects(() => a.readShard("class-0"), /SHA-256 .* differs .*Re-run the stage/s);
  assert.equal((await a.verifyShard("class-0")).status, "broken");
  const r = await sample(store, model, FIXTURE_SAMPLE);
  assert.deepEqual(r.written, ["class-0"]);
  assert.match(r.redone[0].reason, /SHA-256/);
  assert.deepEqual(await Deno.readFile(path), good);
  // The checksum file is the sha256sum format: `<hex>  <file>`.
  assert.match(
    await Deno.readTextFile(`${path}.sha256`),
    /^[0-9a-f]{64} {2}class-0\.safetensors\n$/,
  );
});

Deno.test("a corrupt manifest.json is named with the way out, and overwrite recovers", async () => {
  const store = await sampled();
  const dir = `${store.root}/samples`;
  await Deno.writeTextFile(`${dir}/manifest.json`, '{"format": "mgd3-artif');
  const named = (e: Error) =>
    e instanceof StoreError && e.message.includes(`${dir}/manifest.json`) &&
    /--overwrite/.test(e.message);
  await assert.rejects(() => sample(store, model, FIXTURE_SAMPLE), named);
  await assert.rejects(() => store.open("samples"), named);
  const r = await sample(store, model, { ...FIXTURE_SAMPLE, overwrite: true });
  assert.deepEqual(r.written, ["class-0", "class-1", "class-2"]);
  assert.equal((await store.open("samples")).manifest.kind, "samples");
  // A manifest that parses but is not one (no key) is refused the same way.
  await Deno.writeTextFile(`${dir}/manifest.json`, '{"format": "mgd3-artifact"}');
  await assert.rejects(() => sample(store, model, FIXTURE_SAMPLE), /key is not a SHA-256/);
});

Deno.test("temporary files of dead writers are removed by the next writer, a live writer's are kept", async () => {
  const store = await Store.open(await Deno.makeTempDir({ prefix: "mgd3-temps-" }));
  const a = await store.artifact("latents", OPTS);
  await Deno.mkdir(`${a.dir}/images/c0`, { recursive: true });
  const dead = await deadPid();
  assert.equal(await processRuns(dead), false);
  const sleeper = new Deno.Command("sleep", { args: ["30"] }).spawn();
  const mine = (p: string) => tempPath(p); // this process: alive
  const as = (pid: number, p: string) => tempPath(p).replace(`.${Deno.pid}.`, `.${pid}.`);
  const untagged = (pid: number, p: string) => `${p}.${pid}.0badf00d.tmp`;
  const foreign = (p: string) => `${p}.${Deno.pid}.0badf00d-elsewhere.tmp`;
  const s = `${a.dir}/class-000.safetensors`;
  const files = {
    deadWriter: as(dead, s),
    deadNested: as(dead, `${a.dir}/images/c0/0.png`),
    live: mine(s),
    liveChild: as(sleeper.pid, `${a.dir}/manifest.json`),
    untaggedFresh: untagged(dead, s),
    untaggedOld: untagged(dead, `${a.dir}/x.json`),
    foreignFresh: foreign(s),
    foreignOld: foreign(`${a.dir}/y.json`),
  };
  for (const f of Object.values(files)) await Deno.writeFile(f, new Uint8Array(10));
  const old = new Date(Date.now() - 2 * STALE_TEMP_MS);
  for (const f of [files.untaggedOld, files.foreignOld]) await Deno.utime(f, old, old);
  try {
    await store.artifact("latents", OPTS);
    const left = async (f: string) => await Deno.stat(f).then(() => true, () => false);
    const state = Object.fromEntries(
      await Promise.all(Object.entries(files).map(async ([k, f]) => [k, await left(f)])),
    );
    assert.deepEqual(state, {
      deadWriter: false,
      deadNested: false,
      live: true,
      liveChild: true,
      untaggedFresh: true, // might be another host's live writer: kept for STALE_TEMP_MS
      untaggedOld: false,
      foreignFresh: true,
      foreignOld: false,
    });
  } finally {
    sleeper.kill("SIGKILL");
    await sleeper.status;
  }
  assert.deepEqual(parseTempName("a.safetensors.42.0badf00d-my-host.tmp"), {
    target: "a.safetensors",
    pid: 42,
    host: "my-host",
  });
  assert.equal(parseTempName("a.safetensors"), null);
});

Deno.test("two writers of one artifact with other options: one is refused at once, naming the option", async () => {
  const store = await Store.open(await Deno.makeTempDir({ prefix: "mgd3-race-" }));
  const open = (flip: boolean) =>
    store.artifact("latents", { ...OPTS, options: { ...OPTS.options, flip } });
  const results = await Promise.allSettled([open(false), open(true)]);
  const refused = results.filter((r) => r.status === "rejected");
  assert.equal(refused.length, 1, "exactly one writer is refused");
  assert.match((refused[0] as PromiseRejectedResult).reason.message, /flip=(false|true) \(now/);
  // The same with sample(): the artifact ends whole, made by one of the two.
  const s = await fixtureStore(await Deno.makeTempDir({ prefix: "mgd3-race-" }), 3);
  const runs = await Promise.allSettled([
    sample(s, model, FIXTURE_SAMPLE),
    sample(s, model, { ...FIXTURE_SAMPLE, cfgScale: 2 }),
  ]);
  const failed = runs.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
  assert.equal(failed.length, 1);
  assert.match(failed[0].reason.message, /cfgScale=(1|2) \(now (2|1)\)/);
  const a = await s.open("samples");
  for (const c of await a.shards()) await a.readShard(c); // every shard has the manifest's key
  assert.equal((await a.shards()).length, 3);
});

Deno.test("a writer whose artifact another writer replaced stops instead of mixing them", async () => {
  const store = await Store.open(await Deno.makeTempDir({ prefix: "mgd3-replaced-" }));
  const first = await store.artifact("latents", OPTS);
  await store.artifact("latents", { ...OPTS, seed: 1, overwrite: true });
  const t = { dtype: "F32" as const, shape: [1], data: new Float32Array(1) };
  await assert.rejects(() => first.writeShard("class-000", { t }), /another writer replaced/);
  assert.deepEqual(await (await store.open("latents")).shards(), []);
});

Deno.test("path options are normalised: ./data/x/ and data/x are one artifact, and keys stay as they were", async () => {
  const store = await Store.open(await Deno.makeTempDir({ prefix: "mgd3-paths-" }));
  const options = {
    data: "data/imagenette-64/train",
    classes: ["n01440764"],
    flip: false,
    codec: "taef2-64",
    imageSize: 64,
    limit: null,
  };
  const latents = { kind: "latents", options, seed: null, paths: ["data"] };
  // The key of a normalised path is the key this store gave before paths were normalised.
  const GOLDEN = "d39ea4035ba4ea1817644cde1054c19313dca2fe1453eebb3c464f5c0c7de5ea";
  assert.equal(await artifactKey(latents), GOLDEN);
  const a = await store.artifact("l", latents);
  assert.equal(a.manifest.key, GOLDEN);
  const b = await store.artifact("l", {
    ...latents,
    options: { ...options, data: "./data//imagenette-64/./train/" },
  });
  assert.equal(b.manifest.key, GOLDEN);
  await assert.rejects(
    () => store.artifact("l", { ...latents, options: { ...options, data: "data/other/" } }),
    /data="data\/imagenette-64\/train" \(now "data\/other"\)/,
  );
  // An artifact made before normalisation, with an unnormalised path, is joined and keeps its key.
  const legacy = await store.artifact("old", {
    ...latents,
    paths: [],
    options: { ...options, data: "./data/x/" },
  });
  const joined = await store.artifact("old", {
    ...latents,
    options: { ...options, data: "data/x" },
  });
  assert.equal(joined.manifest.key, legacy.manifest.key);
  assert.equal(joined.manifest.options.data, "./data/x/");
});

const HAVE_DATA = await Deno.stat(`${IMAGENETTE_224}/val`).then(() => true, () => false);
const S = 8;
const halve: Codec = {
  id: "halve-8",
  imageSize: S,
  latentShape: [3, S, S],
  encode: (x) => Promise.resolve(x.map((v) => v / 2)),
  decode: (z) => Promise.resolve(z.map((v) => v * 2)),
};

Deno.test({
  name: "encode(): --flip and no --flip at once are refused, and ./data/x/ resumes data/x",
  ignore: !HAVE_DATA,
  async fn() {
    const store = await Store.open(await Deno.makeTempDir({ prefix: "mgd3-encode-race-" }));
    const opts = {
      ...ENCODE_DEFAULTS,
      data: `${IMAGENETTE_224}/val`,
      classes: ["n01440764", "n02102040"],
      out: "latents",
      limit: 2,
    };
    const runs = await Promise.allSettled([
      encode(store, halve, opts),
      encode(store, halve, { ...opts, flip: true }),
    ]);
    const failed = runs.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    assert.equal(failed.length, 1);
    assert.match(failed[0].reason.message, /flip=(false|true) \(now (true|false)\)/);
    const flip = (await store.open("latents")).manifest.options.flip as boolean;
    const again = await encode(store, halve, { ...opts, flip, data: `${IMAGENETTE_224}/./val/` });
    assert.deepEqual(again.skipped, ["class-000", "class-001"]);
  },
});

Deno.test("mgd3 discover re-run: a truncated shard is redone and named, --overwrite rewrites, a corrupt manifest is named", async () => {
  const root = await Deno.makeTempDir({ prefix: "mgd3-cli-resume-" });
  const store = await Store.open(root);
  const latents = await store.artifact("latents", { kind: "latents", options: {}, seed: null });
  for (let c = 0; c < 2; c++) {
    const data = Float32Array.from({ length: 20 * 4 }, (_, i) => Math.sin(i * (c + 1)));
    await latents.writeShard(`class-00${c}`, {
      latents: { dtype: "F32", shape: [20, 4, 1, 1], data },
    });
  }
  const argv = [
    "discover",
    "--store",
    root,
    "--latents",
    "latents",
    "--out",
    "modes",
    "--ipc",
    "2",
  ];
  const run = async (extra: string[] = []) => {
    const lines: string[] = [];
    const [log, error] = [console.log, console.error];
    console.log = console.error = (...a: unknown[]) => lines.push(a.join(" "));
    try {
      return {
        status: await main([...argv, ...extra, "--progress", "silent"]),
        out: lines.join("\n"),
      };
    } finally {
      [console.log, console.error] = [log, error];
    }
  };
  assert.match((await run()).out, /wrote 2 classes, skipped 0 finished/);
  await truncate(`${root}/modes/class-001.safetensors`);
  const again = await run();
  assert.match(again.out, /wrote 1 classes, skipped 1 finished/);
  assert.match(again.out, /modes: redid broken class-001: .*truncated/);
  assert.match((await run(["--overwrite"])).out, /wrote 2 classes, skipped 0 finished/);
  await Deno.writeTextFile(`${root}/modes/manifest.json`, "");
  const corrupt = await run();
  assert.equal(corrupt.status, 1);
  assert.match(corrupt.out, /modes\/manifest\.json is not a valid artifact manifest.*--overwrite/);
  assert.match((await run(["--overwrite"])).out, /wrote 2 classes, skipped 0 finished/);
});

Deno.test("the table runner counts a class-level unit complete only when every shard verifies", async () => {
  const { isComplete } = await import("../eval/tables/execute.ts");
  const { fixtureLatents } = await import("./_store_fixture.ts");
  const root = await Deno.makeTempDir({ prefix: "mgd3-complete-" });
  try {
    const store = await fixtureLatents(root, 3);
    const unit = {
      id: "latents",
      kind: "encode",
      classLevel: true,
      classes: 3,
    } as unknown as Parameters<typeof isComplete>[1];
    const shard = `${root}/latents/class-1.safetensors`;
    const bytes = await Deno.readFile(shard);
    await Deno.writeFile(shard, bytes.subarray(0, bytes.length - 7));
    assert.equal(
      await isComplete(store, unit),
      false,
      "a truncated shard makes the unit incomplete",
    );
    await Deno.writeFile(shard, bytes);
    assert.equal(await isComplete(store, unit), true);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
