// Issue 15 (store): a stage killed with SIGKILL anywhere in its writes resumes to exactly the
// artifact an uninterrupted run writes; a truncated shard is found and redone.
import assert from "node:assert/strict";
import { Rng } from "../models/core/random.ts";
import { fixtureLatents, fixtureStore } from "./_store_fixture.ts";
import { Store } from "../stages/store/store.ts";
import type { SampleReport } from "../stages/sample.ts";

const WORKER = new URL("./_kill_worker.ts", import.meta.url).pathname;
const CLASSES = 6;
const WORKER_TIMEOUT_MS = 60_000;

/** Runs the worker; kills it with SIGKILL when it reaches its kill point. */
async function runWorker(
  root: string,
  point: string,
  stage = "sample",
): Promise<{ killed: boolean; report: SampleReport | null }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WORKER, root, String(CLASSES), point, stage],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const timer = setTimeout(() => child.kill("SIGKILL"), WORKER_TIMEOUT_MS);
  let out = "";
  let killed = false;
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
    if (out.includes("KILL-POINT")) {
      child.kill("SIGKILL");
      killed = true;
      await reader.cancel();
      break;
    }
  }
  const status = await child.status; // reaped: its pid no longer runs
  clearTimeout(timer);
  const err = await stderr;
  if (killed) {
    assert.equal(status.signal, "SIGKILL");
    return { killed, report: null };
  }
  assert.equal(status.code, 0, `worker ${point} failed:\n${err}`);
  return { killed, report: JSON.parse(out.trim().split("\n").pop()!) };
}

/** Every file under `dir` (relative path -> bytes). */
async function files(dir: string, rel = ""): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const e of Deno.readDir(`${dir}/${rel}`)) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) { for (const [k, v] of await files(dir, p)) out.set(k, v); }
    else out.set(p, await Deno.readFile(`${dir}/${p}`));
  }
  return out;
}

/** The artifact's files, with the manifest's creation time (the one thing that may differ) removed. */
async function artifactFiles(root: string, artifact = "samples"): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [k, v] of await files(`${root}/${artifact}`)) {
    if (k !== "manifest.json") {
      out.set(k, [...v].join(","));
      continue;
    }
    const { created: _created, ...rest } = JSON.parse(new TextDecoder().decode(v));
    out.set(k, JSON.stringify(rest));
  }
  return out;
}

Deno.test("sample() killed with SIGKILL at seeded random points resumes to a byte-identical artifact", async () => {
  const reference = await Deno.makeTempDir({ prefix: "mgd3-kill-ref-" });
  await fixtureStore(reference, CLASSES);
  const whole = await runWorker(reference, "none");
  assert.equal(whole.report!.written.length, CLASSES);
  const want = await artifactFiles(reference);

  const root = await Deno.makeTempDir({ prefix: "mgd3-kill-" });
  await fixtureStore(root, CLASSES);
  const rng = Rng.from(15); // seeded kill points: the n-th temporary file of a run, and when
  const points: string[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const n = 1 + rng.randint(6); // seed 15: 1:synced 3:synced 5:partial 4:partial 4:synced
    const point = `${n}:${rng.random() < 0.5 ? "partial" : "synced"}`;
    const { killed } = await runWorker(root, point);
    assert.ok(killed, `the worker reached kill point ${point}`);
    points.push(point);
    const temps = [...(await files(`${root}/samples`)).keys()].filter((k) => k.endsWith(".tmp"));
    assert.ok(temps.length >= 1, `a killed writer leaves its temporary file (${point})`);
  }
  const resumed = await runWorker(root, "none");
  assert.ok(resumed.report!.written.length > 0 && resumed.report!.skipped.length > 0, `${points}`);
  assert.deepEqual(resumed.report!.redone, []);
  const got = await artifactFiles(root);
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), "no temporary file is left");
  for (const [k, v] of want) assert.ok(got.get(k) === v, `${k} differs after kills at ${points}`);

  // A truncated shard is found, redone, and the artifact is whole again.
  const shard = `${root}/samples/class-3.safetensors`;
  const bytes = await Deno.readFile(shard);
  await Deno.writeFile(shard, bytes.subarray(0, bytes.length - 5));
  const redo = await runWorker(root, "none");
  assert.deepEqual(redo.report!.written, ["class-3"]);
  assert.deepEqual(redo.report!.redone.map((b) => b.shard), ["class-3"]);
  assert.deepEqual(await artifactFiles(root), want);
});

/**
 * The same for another stage: kills at seeded points, then a full run gives the artifact an
 * uninterrupted run writes, byte for byte, with no temporary file left.
 */
async function killLoop(stage: string, artifact: string, seed: number) {
  const setup = async (root: string) => {
    if (stage === "encode") await Store.open(root);
    else await fixtureLatents(root, CLASSES);
  };
  const reference = await Deno.makeTempDir({ prefix: `mgd3-kill-${stage}-ref-` });
  await setup(reference);
  const whole = await runWorker(reference, "none", stage);
  assert.ok(whole.report!.written.length > 0);
  const want = await artifactFiles(reference, artifact);
  const root = await Deno.makeTempDir({ prefix: `mgd3-kill-${stage}-` });
  await setup(root);
  const rng = Rng.from(seed);
  const points: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const point = `${1 + rng.randint(4)}:${rng.random() < 0.5 ? "partial" : "synced"}`;
    const { killed } = await runWorker(root, point, stage);
    assert.ok(killed, `the ${stage} worker reached kill point ${point}`);
    points.push(point);
  }
  await runWorker(root, "none", stage);
  const got = await artifactFiles(root, artifact);
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `files after ${points}`);
  for (const [k, v] of want) assert.ok(got.get(k) === v, `${stage}: ${k} differs after ${points}`);
  await Deno.remove(reference, { recursive: true });
  await Deno.remove(root, { recursive: true });
}

Deno.test("discover() killed with SIGKILL at seeded points resumes to a byte-identical artifact", async () => {
  await killLoop("discover", "modes-out", 21);
});

Deno.test("decode() killed with SIGKILL at seeded points resumes to byte-identical shards and PNGs", async () => {
  await killLoop("decode", "decoded", 22);
});

Deno.test("encode() killed with SIGKILL at seeded points resumes to a byte-identical artifact", async () => {
  await killLoop("encode", "encoded", 23);
});
