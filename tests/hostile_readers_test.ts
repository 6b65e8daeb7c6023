// Hostile checkpoints (issue 15): each is built here, read in a child process with a capped
// heap, and must end in under 5 s with a peak RSS under 500 MB, in an error that names the
// file or in a bounded, correct read.
import assert from "node:assert/strict";
import { loadCheckpoint } from "../models/io/checkpoint.ts";
import { readPytorchCheckpoint, stateDict } from "../models/io/pytorch_checkpoint.ts";
import { readSafetensors, SafetensorsError } from "../models/io/safetensors.ts";
import { MAX_TENSORS } from "../models/io/_state_dict.ts";
import { hex, rejectsWith, tempFile } from "./_checkpoint_helpers.ts";
import {
  checkpointOf,
  cyclePickle,
  deepPickle,
  deflateBomb,
  sharedPickle,
  viewPickle,
  zipOf,
} from "./_hostile_files.ts";
import { probe, type ProbeReport } from "./_read_probe.ts";

const MAX_MS = 5_000; // per read
const MAX_RSS = 500 * 2 ** 20; // peak resident memory of the reading process
const MiB = 2 ** 20;

const READERS = ["loadCheckpoint", "describeCheckpoint", "readPytorchCheckpoint"];

/**
 * Reads `bytes` (saved as x.pt) with each checkpoint reader in a child of its own (so each
 * peak RSS is one read's) and checks the time and memory caps.
 */
async function probeHostile(bytes: Uint8Array): Promise<{ path: string; report: ProbeReport }> {
  const path = await tempFile(bytes);
  const reads: ProbeReport["reads"] = [];
  const peaks: number[] = [];
  for (const reader of READERS) {
    const report = await probe("checkpoint", [path], { heapMb: 512, timeoutMs: 30_000, reader });
    const what = `${reader} ${path}: ${JSON.stringify(report.reads)} ${report.stderr}`;
    assert.ok(!report.timedOut, `timed out: ${what}`);
    assert.equal(report.code, 0, what);
    assert.equal(report.reads.length, 1, what);
    assert.ok(report.reads[0].ms < MAX_MS, `took ${report.reads[0].ms} ms: ${what}`);
    assert.ok(report.peakRssBytes < MAX_RSS, `peak RSS ${report.peakRssBytes / MiB} MiB: ${what}`);
    reads.push(report.reads[0]);
    peaks.push(report.peakRssBytes);
  }
  console.log(
    `  ${bytes.length} bytes: ` +
      reads.map((r, i) => `${r.reader} ${r.ms.toFixed(0)} ms ${(peaks[i] / MiB).toFixed(0)} MiB`)
        .join(", "),
  );
  return {
    path,
    report: { reads, peakRssBytes: Math.max(...peaks), timedOut: false, code: 0, stderr: "" },
  };
}

/** Asserts every read failed with a message that names the file and contains `parts`. */
function assertNamedErrors(
  { path, report }: { path: string; report: ProbeReport },
  ...parts: string[]
) {
  for (const r of report.reads) {
    assert.ok(!r.ok, `${r.reader} read ${path}`);
    for (const p of [path, ...parts]) assert.ok(r.error!.includes(p), `"${r.error}" lacks "${p}"`);
  }
}

Deno.test("a zip bomb .pt (2 MB inflating to 2 GB, declaring 1000 bytes) stops at 1000 bytes", async () => {
  const bomb = deflateBomb(8_000_000); // ~2 MB of DEFLATE -> 2,064,000,001 zero bytes
  const pt = zipOf([{ name: "archive/data.pkl", data: bomb, method: 8, size: 1000 }]);
  assertNamedErrors(await probeHostile(pt), "'archive/data.pkl'", "declared 1000 bytes");
});

Deno.test("a zip entry declaring more than DEFLATE can produce, or more than the cap, is refused", async () => {
  const bomb = deflateBomb(4000); // ~1 KB inflating to ~1 MB
  const claims = zipOf([{ name: "archive/data.pkl", data: bomb, method: 8, size: 2 ** 31 }]);
  const path = await tempFile(claims);
  await rejectsWith(() => loadCheckpoint(path), path, "'archive/data.pkl'", "1032:1");
  const big = deflateBomb(1_100_000); // 275 KB inflating to 284 MB: past the 256 MiB floor
  const capped = await tempFile(
    zipOf([{ name: "archive/data.pkl", data: big, method: 8, size: 1 + 258 * 1_100_000 }]),
  );
  await rejectsWith(() => loadCheckpoint(capped), capped, "'archive/data.pkl'", "past the cap");
});

Deno.test("a pickle with 2^40 paths to one tensor is read as the graph it is, not expanded", async () => {
  const probed = await probeHostile(checkpointOf(sharedPickle(40)));
  for (const r of probed.report.reads) assert.ok(r.ok, `${r.reader}: ${r.error}`);
  const [load, describe] = probed.report.reads;
  assert.equal(load.summary, 2); // "a.a...a.a" and "a.a...a.b": the dict of level 1, once
  assert.equal(describe.summary, 2);
  // shared references stay shared: d["a"] is d["b"] at every level
  const small = await tempFile(checkpointOf(sharedPickle(5)));
  const d = await readPytorchCheckpoint(small) as Map<string, Map<string, unknown>>;
  assert.equal(d.get("a"), d.get("b"));
  assert.deepEqual([...stateDict(d).keys()], ["a.a.a.a.a", "a.a.a.a.b"]);
});

Deno.test("a pickle nested 1,000,000 lists deep fails naming the file and the depth", async () => {
  assertNamedErrors(await probeHostile(checkpointOf(deepPickle(1_000_000))), "1000 levels");
});

Deno.test("a dict that holds itself under 'ema' is read once, not followed forever", async () => {
  const { report } = await probeHostile(checkpointOf(cyclePickle()));
  for (const r of report.reads) assert.ok(r.ok, `${r.reader}: ${r.error}`);
  assert.equal(report.reads[0].summary, 1); // "w"
});

Deno.test("an expanded view of 16 GiB over a 4-byte storage is refused before allocating", async () => {
  const probed = await probeHostile(checkpointOf(viewPickle([65536, 65536], [0, 0])));
  const [load, describe, read] = probed.report.reads;
  assert.ok(describe.ok); // describing reads no data
  for (const r of [load, read]) {
    assert.ok(!r.ok && r.error!.includes(probed.path) && r.error!.includes("would copy"), r.error);
  }
  // a small expanded view (the fixtures' `expanded` is one) still reads
  const small = await tempFile(checkpointOf(viewPickle([3, 2], [0, 0])));
  assert.deepEqual([...(await loadCheckpoint(small)).tensors.get("w")!.data], [1, 1, 1, 1, 1, 1]);
});

Deno.test("stateDict() stops at MAX_TENSORS names", () => {
  const t = { dtype: "F32" as const, shape: [1], data: new Float32Array(1) };
  const many = new Map(Array.from({ length: MAX_TENSORS + 1 }, (_, i) => [`k${i}`, t]));
  assert.throws(() => stateDict(many), /more than 1000000 tensors/);
});

Deno.test("the legacy-format refusal converts with torch.load(..., weights_only=True)", async () => {
  const legacy = await tempFile(hex("80028a0a6cfc9c46f9206aa85019"));
  await rejectsWith(() => loadCheckpoint(legacy), legacy, "torch.load(src, weights_only=True)");
});

/** A safetensors file: 8-byte header length, the header, `dataBytes` zero bytes. */
function safetensors(header: string, dataBytes = 0, length = header.length): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(length), true);
  out.set(h, 8);
  return out;
}

Deno.test("a safetensors header length of 2^60 names the file and the 100 MB limit", async () => {
  const path = await tempFile(safetensors('{"a": 1}', 0, 2 ** 60), "x.safetensors");
  for (const read of [loadCheckpoint, readSafetensors]) {
    await rejectsWith(() => read(path), path, "1152921504606846976", "100000000 bytes");
  }
});

Deno.test("safetensors offsets that overlap, leave gaps or stop short are refused", async () => {
  const t = (name: string, b: number, e: number) =>
    `"${name}": {"dtype": "U8", "shape": [${e - b}], "data_offsets": [${b}, ${e}]}`;
  const cases: [string, number, RegExp][] = [
    [`{${t("a", 0, 8)}, ${t("b", 4, 12)}}`, 12, /'b' starts at byte 4.*'a' ends at 8.*overlapping/],
    [`{${t("a", 0, 4)}, ${t("b", 0, 4)}}`, 4, /overlapping/],
    [`{${t("a", 0, 4)}, ${t("b", 6, 8)}}`, 8, /'b' starts at byte 6.*gap/],
    [`{${t("a", 2, 4)}}`, 4, /'a' starts at byte 2.*must start at 0/],
    [`{${t("a", 0, 4)}}`, 6, /end at byte 4 of the 6-byte data section/],
  ];
  for (const [header, data, message] of cases) {
    const path = await tempFile(safetensors(header, data), "x.safetensors");
    await assert.rejects(() => readSafetensors(path), (e: Error) => {
      assert.ok(e instanceof SafetensorsError && e.message.includes(path), e.message);
      assert.match(e.message, message);
      return true;
    });
  }
  // the order of the header's keys does not matter: offsets are sorted, as the reference does
  const path = await tempFile(
    safetensors(`{${t("b", 4, 6)}, ${t("a", 0, 4)}}`, 6),
    "x.safetensors",
  );
  assert.deepEqual([...(await readSafetensors(path)).tensors.keys()], ["b", "a"]);
});
