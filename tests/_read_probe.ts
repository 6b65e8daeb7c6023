// Runs the readers on files in a child process, so a test can bound what one read may cost:
// the child's heap is capped (--max-old-space-size), the whole run has a deadline, and the
// child reports each read's time and its own peak resident memory (VmHWM) at the end.
//
//   deno run -A tests/_read_probe.ts <kind>[:<reader>] <file>...
//
// (kind: checkpoint, image, manifest; a reader name keeps only that reader) prints one JSON
// line per read and then {"peakRssBytes": n}.
import { basename, dirname } from "node:path";

/** What the readers of a kind are. */
export type ProbeKind = "checkpoint" | "image" | "manifest";

/** One read: which reader, on which file, and how it ended. */
export interface ProbeRead {
  path: string;
  reader: string;
  ok: boolean;
  /** The error's message when !ok. */
  error?: string;
  /** A summary of a successful read (e.g. the number of tensors). */
  summary?: number;
  ms: number;
}

/** What a probe run reports. */
export interface ProbeReport {
  reads: ProbeRead[];
  /** The child's peak resident set size (VmHWM); NaN when it did not get that far. */
  peakRssBytes: number;
  /** The child ran past its deadline and was killed. */
  timedOut: boolean;
  /** Exit code and the tail of stderr, for failure messages. */
  code: number;
  stderr: string;
}

type Reader = [name: string, read: (path: string) => Promise<number>];

/** The readers of a kind, imported only when used (sharp is large). */
async function readersFor(kind: ProbeKind): Promise<Reader[]> {
  if (kind === "checkpoint") {
    const { describeCheckpoint, loadCheckpoint, sniffFormat } = await import(
      "../models/io/checkpoint.ts"
    );
    const { readPytorchCheckpoint } = await import("../models/io/pytorch_checkpoint.ts");
    return [
      ["loadCheckpoint", async (p) => (await loadCheckpoint(p)).tensors.size],
      ["describeCheckpoint", async (p) => (await describeCheckpoint(p)).length],
      ["readPytorchCheckpoint", async (p) => {
        if ((await sniffFormat(p)) !== "pytorch") return 0;
        await readPytorchCheckpoint(p);
        return 1;
      }],
    ];
  }
  if (kind === "image") {
    const { loadImages } = await import("../stages/images/load_images.ts");
    const options = { size: 8, mode: "center_crop_arr" } as const;
    return [["loadImages", async (p) => (await loadImages([{ path: p }], options)).items.length]];
  }
  const { Store } = await import("../stages/store/store.ts");
  return [["Store.open", async (p) => {
    const store = await Store.open(dirname(dirname(p)), { create: false });
    return (await store.open(basename(dirname(p)))).manifest.key.length;
  }]];
}

/** Options of {@link probe}. */
export interface ProbeOptions {
  /** The child's V8 heap limit, MB (default 256). */
  heapMb?: number;
  /** The child is killed after this long (default 30 s). */
  timeoutMs?: number;
  /** Run only this reader of the kind (e.g. "loadCheckpoint"), so the peak RSS is its own. */
  reader?: string;
}

/**
 * Reads each file with the readers of `kind` in a child process with a capped heap,
 * killed after a deadline.
 */
export async function probe(
  kind: ProbeKind,
  paths: string[],
  { heapMb = 256, timeoutMs = 30_000, reader }: ProbeOptions = {},
): Promise<ProbeReport> {
  const script = new URL(import.meta.url).pathname;
  const what = reader ? `${kind}:${reader}` : kind;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `--v8-flags=--max-old-space-size=${heapMb}`, script, what, ...paths],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const reads: ProbeRead[] = [];
  let peakRssBytes = NaN;
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    if (!line.startsWith("{")) continue;
    const v = JSON.parse(line);
    if ("peakRssBytes" in v) peakRssBytes = v.peakRssBytes;
    else reads.push(v);
  }
  const stderr = new TextDecoder().decode(out.stderr).slice(-2000);
  return { reads, peakRssBytes, timedOut, code: out.code, stderr };
}

/** Peak resident set size of this process, from /proc (Linux) or else the current RSS. */
async function peakRss(): Promise<number> {
  try {
    const status = await Deno.readTextFile("/proc/self/status");
    const kb = status.match(/^VmHWM:\s+(\d+) kB/m);
    if (kb) return Number(kb[1]) * 1024;
  } catch {
    // not Linux
  }
  return Deno.memoryUsage().rss;
}

if (import.meta.main) {
  const [what, ...paths] = Deno.args;
  const [kind, only] = what.split(":") as [ProbeKind, string | undefined];
  const readers = (await readersFor(kind)).filter(([name]) => only === undefined || name === only);
  if (readers.length === 0) throw new Error(`no reader '${what}'`);
  for (const path of paths) {
    for (const [reader, read] of readers) {
      const t0 = performance.now();
      let line: ProbeRead;
      try {
        const summary = await read(path);
        line = { path, reader, ok: true, summary, ms: performance.now() - t0 };
      } catch (e) {
        const error = e instanceof Error ? `${e.name}: ${e.message}` : `non-Error ${String(e)}`;
        line = { path, reader, ok: false, error, ms: performance.now() - t0 };
      }
      console.log(JSON.stringify(line));
    }
  }
  console.log(JSON.stringify({ peakRssBytes: await peakRss() }));
}
