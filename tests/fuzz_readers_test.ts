// Fuzzing the readers (issue 15): seeded truncations and byte changes of a safetensors
// file, two .pt checkpoints (stored and DEFLATE zip), a PNG, a JPEG and a store manifest.
// Each mutated file is read in a child process with a capped heap; every read must end in
// an error whose message names the file, or in a read, within 5 s, and the child's peak
// RSS must stay under 500 MB. Nothing may crash the child or hang it.
import assert from "node:assert/strict";
import { Rng } from "../models/core/random.ts";
import { Store } from "../stages/store/store.ts";
import { probe, type ProbeKind } from "./_read_probe.ts";

const SEED = 15; // the issue's number; a failure names its seed, case and file
const CASES = 500; // per target; case 0 is the untouched file
const MAX_MS = 5_000; // per read
const MAX_RSS = 500 * 2 ** 20; // peak resident memory of a reading child
const CHILD_TIMEOUT_MS = 45_000;
const CHILDREN = 2; // in parallel, on 2 cores

const CKPT = new URL("./fixtures/checkpoints/", import.meta.url).pathname;
const IMAGES = new URL("./fixtures/image_parity/inputs/", import.meta.url).pathname;

interface Target {
  name: string;
  kind: ProbeKind;
  bytes: Uint8Array;
  /** Where case `i` is written, under the test's directory. */
  file: (dir: string, i: number) => string;
}

/** The untouched file for case 0; then a truncation, changed bytes, or both, by turns. */
function mutate(src: Uint8Array, rng: Rng, i: number): Uint8Array {
  if (i === 0) return src;
  const out = i % 3 === 1 ? src.slice() : src.slice(0, rng.randint(src.length));
  if (i % 3 !== 0 && out.length > 0) {
    const changes = 1 + rng.randint(4);
    for (let k = 0; k < changes; k++) out[rng.randint(out.length)] ^= 1 + rng.randint(255);
  }
  return out;
}

async function manifestBytes(dir: string): Promise<Uint8Array> {
  const store = await Store.open(`${dir}/store`);
  const artifact = await store.artifact("original", {
    kind: "fuzz",
    options: { lr: 0.1, classes: ["n01440764", "n02102040"], size: 64 },
    seed: 3,
  });
  return await Deno.readFile(`${artifact.dir}/manifest.json`);
}

Deno.test("the readers end every mutated file in a named error or a read, within the caps", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fuzz_readers_" });
  const flat = (ext: string) => (d: string, i: number) => `${d}/case-${i}.${ext}`;
  const targets: Target[] = [
    {
      name: "safetensors",
      kind: "checkpoint",
      bytes: await Deno.readFile(`${CKPT}numpy_written.safetensors`),
      file: flat("safetensors"),
    },
    {
      name: "pt",
      kind: "checkpoint",
      bytes: await Deno.readFile(`${CKPT}state_dict.pt`),
      file: flat("pt"),
    },
    {
      name: "pt-deflate",
      kind: "checkpoint",
      bytes: await Deno.readFile(`${CKPT}deflated.pt`),
      file: flat("pt"),
    },
    {
      name: "png",
      kind: "image",
      bytes: await Deno.readFile(`${IMAGES}tiny.png`),
      file: flat("png"),
    },
    {
      name: "jpeg",
      kind: "image",
      bytes: await Deno.readFile(`${IMAGES}real2.jpg`),
      file: flat("jpg"),
    },
    {
      name: "manifest",
      kind: "manifest",
      bytes: await manifestBytes(dir),
      file: (d, i) => `${d}/store/case-${i}/manifest.json`,
    },
  ];
  const failures: string[] = [];
  const summaries: string[] = [];
  const run = async (t: Target, index: number) => {
    const rng = Rng.from(SEED, index);
    const paths: string[] = [];
    for (let i = 0; i < CASES; i++) {
      const path = t.file(`${dir}/${t.name}`, i);
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeFile(path, mutate(t.bytes, rng, i));
      paths.push(path);
    }
    if (t.kind === "manifest") {
      await Deno.copyFile(`${dir}/store/store.json`, `${dir}/${t.name}/store/store.json`);
    }
    const report = await probe(t.kind, paths, { heapMb: 256, timeoutMs: CHILD_TIMEOUT_MS });
    const where = `${t.name} (seed ${SEED}, stream ${index})`;
    if (report.timedOut || report.code !== 0) {
      const last = report.reads.at(-1)?.path ?? "(none)";
      failures.push(
        `${where}: child ${
          report.timedOut ? "timed out" : `exited ${report.code}`
        } after ${last}: ${report.stderr}`,
      );
      return;
    }
    const perFile = report.reads.length / paths.length;
    if (!Number.isInteger(perFile) || perFile < 1) {
      failures.push(`${where}: ${report.reads.length} reads`);
    }
    for (const r of report.reads) {
      const untouched = r.path === paths[0];
      if (untouched && !r.ok) failures.push(`${where}: the untouched file fails: ${r.error}`);
      if (!r.ok && !r.error!.includes(r.path)) {
        failures.push(`${where}: ${r.reader} ${r.path}: ${r.error}`);
      }
      if (r.ms > MAX_MS) failures.push(`${where}: ${r.reader} ${r.path} took ${r.ms} ms`);
    }
    if (!(report.peakRssBytes < MAX_RSS)) {
      failures.push(`${where}: peak RSS ${report.peakRssBytes}`);
    }
    const errors = report.reads.filter((r) => !r.ok).length;
    const slowest = Math.max(...report.reads.map((r) => r.ms));
    summaries.push(
      `${t.name}: ${report.reads.length} reads, ${errors} named errors, slowest ${
        slowest.toFixed(0)
      } ms, ` +
        `peak RSS ${(report.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
    );
  };
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      await run(targets[i], i);
    }
  };
  await Promise.all(Array.from({ length: CHILDREN }, worker));
  console.log(summaries.map((s) => `  ${s}`).join("\n"));
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} failures`);
  await Deno.remove(dir, { recursive: true });
});
