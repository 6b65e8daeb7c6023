/**
 * Runs a stage so that the kernel's interrupt stops it cleanly between two shards.
 *
 * @module
 */
import { jupyter } from "../stages/progress.ts";

/**
 * Runs `run` with a signal that the kernel's interrupt (SIGINT, inside the Deno Jupyter kernel
 * only: a terminal keeps its usual Ctrl-C) aborts. A stage stops between two shards, so the
 * store keeps every finished shard; the error says so and how to resume.
 *
 * @example
 * ```ts
 * import { interruptible } from "./_interrupt.ts";
 * await interruptible("sample", ".store/notebook", async (signal) => signal.aborted);
 * ```
 */
export async function interruptible<T>(
  label: string,
  storeRoot: string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort(new Error("interrupted"));
  const listen = jupyter() !== null && Deno.build.os !== "windows";
  if (listen) Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    return await run(controller.signal);
  } catch (e) {
    if (!controller.signal.aborted) throw e;
    throw new Error(
      `Interrupted: ${label} stopped between two shards. Every finished shard is kept in the ` +
        `store (${storeRoot}); run the cell again to resume where it stopped.`,
    );
  } finally {
    if (listen) Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}
