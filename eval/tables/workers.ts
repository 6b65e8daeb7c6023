/**
 * `reproduce --workers N`: runs a table as N worker processes on one machine, sharing the cores
 * (each gets `threads` onnxruntime threads per op) and one store. Each worker claims whole units
 * as they become ready (run_table.ts `claim`); the launcher prefixes their output lines with
 * `[w<i>]`, stops the others when one fails (a rerun resumes: finished units are kept), and
 * leaves writing the report to its caller.
 *
 * Why processes and not more threads: on 2 AMD EPYC (Zen 4) cores, two single-threaded
 * ConvNet-4 processes side by side train 1.15x and validate 1.31x as much as one process on two
 * threads (`tools/threads_timing.ts`, README "Whole experiments").
 *
 * @module
 */
import type { Store } from "../../stages/store/store.ts";
import { clearClaims } from "./run_table.ts";

/** Options of {@link runWorkers}. */
export interface WorkersOptions {
  /** The store the workers share (its claims are cleared before and after). */
  store: Store;
  /** Worker processes. */
  count: number;
  /** The script every worker runs (`deno run -A <script>`). */
  script: string;
  /** Its arguments, the claim flag included (the launcher adds `--threads`). */
  args: string[];
  /** onnxruntime threads per op of each worker (see {@link threadsPerWorker}). */
  threads: number;
  /** Where the workers' lines go, prefixed (default stderr). */
  write?: (line: string) => void;
}

/** Default worker count: 2 at the cpu scale on a machine with at least 2 cores, else 1. */
export function defaultWorkers(scale: "cpu" | "paper", cores: number): number {
  return scale === "cpu" && cores >= 2 ? 2 : 1;
}

/**
 * Threads per op for each of `count` workers: the cores shared out, at least 1.
 *
 * @example
 * ```ts
 * import { threadsPerWorker } from "./workers.ts";
 * threadsPerWorker(2, 2); // 1
 * threadsPerWorker(2, 16); // 8
 * ```
 */
export function threadsPerWorker(count: number, cores = navigator.hardwareConcurrency): number {
  return Math.max(1, Math.floor(cores / count));
}

async function pump(
  stream: ReadableStream<Uint8Array>,
  prefix: string,
  write: (line: string) => void,
): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split(/\r?\n|\r/);
    rest = parts.pop()!;
    for (const p of parts) if (p.trim() !== "") write(`${prefix}${p}`);
  }
  if (rest.trim() !== "") write(`${prefix}${rest}`);
}

/**
 * Runs the workers to the end; throws naming the first one that failed (the others are stopped).
 *
 * @example
 * ```ts
 * import { Store } from "../../stages/store/store.ts";
 * import { runWorkers } from "./workers.ts";
 * await runWorkers({
 *   store: await Store.open(".store/reproduce-cpu"),
 *   count: 2,
 *   script: "examples/reproduce.ts",
 *   args: ["table1", "--claim"],
 *   threads: 1,
 * });
 * ```
 */
export async function runWorkers(o: WorkersOptions): Promise<void> {
  if (!(Number.isInteger(o.count) && o.count >= 1)) {
    throw new RangeError(`Workers must be an integer >= 1, got ${o.count}`);
  }
  const write = o.write ?? ((line: string) => console.error(line));
  await clearClaims(o.store);
  const children = Array.from({ length: o.count }, () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", o.script, ...o.args, "--threads", String(o.threads)],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn());
  let failed: string | null = null;
  try {
    await Promise.all(children.map(async (c, i) => {
      const prefix = `[w${i}] `;
      const [status] = await Promise.all([
        c.status,
        pump(c.stdout, prefix, write),
        pump(c.stderr, prefix, write),
      ]);
      if (!status.success && failed === null) {
        failed = `worker ${i} exited with code ${status.code}${
          status.signal ? ` (${status.signal})` : ""
        }`;
        for (const other of children) {
          try {
            other.kill("SIGTERM");
          } catch { /* already gone */ }
        }
      }
    }));
  } finally {
    await clearClaims(o.store);
  }
  if (failed !== null) {
    throw new Error(`${failed}; the other workers were stopped. Rerun the same command to resume`);
  }
}
