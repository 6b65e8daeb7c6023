/**
 * Progress reporting for long loops: a progress bar on stderr when stderr is a terminal, one
 * updating display per loop in a Jupyter notebook (the Deno kernel shows `console.*` and
 * display messages only, never stderr), periodic plain lines otherwise (logs, CI), or nothing.
 *
 * @module
 */
import { cliProgress } from "../models/core/deps.ts";

/** Something a long loop reports to. */
export interface Progress {
  /** Advances by `n` (default 1) and optionally replaces the status text. */
  tick(n?: number, status?: string): void;
  /** Marks the loop finished and releases the terminal line. */
  done(): void;
}

/**
 * How progress is shown: `auto` picks `notebook` inside the Deno Jupyter kernel, `bar` on a
 * terminal and `lines` elsewhere.
 */
export type ProgressMode = "auto" | "bar" | "lines" | "notebook" | "silent";

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** How to show progress (default: the mode set by {@link setProgressMode}, initially `auto`). */
  mode?: ProgressMode;
  /** Seconds between plain lines (default 10). */
  interval?: number;
  /** Where plain lines go (default stderr); used by tests. */
  write?: (line: string) => void;
}

let defaultMode: ProgressMode = "auto";

/**
 * Sets the mode used when {@link createProgress} is not given one (the CLI's `--progress`).
 *
 * @example
 * ```ts
 * import { setProgressMode } from "./progress.ts";
 * setProgressMode("silent");
 * ```
 */
export function setProgressMode(mode: ProgressMode): void {
  defaultMode = mode;
}

/**
 * Creates a progress reporter for a loop of `total` steps.
 *
 * @example
 * ```ts
 * import { createProgress } from "./progress.ts";
 * const p = createProgress("encode n01440764", 1300);
 * for (let i = 0; i < 1300; i += 64) p.tick(Math.min(64, 1300 - i));
 * p.done();
 * ```
 */
export function createProgress(label: string, total: number, opts: ProgressOptions = {}): Progress {
  let mode = opts.mode ?? defaultMode;
  if (mode === "auto") mode = jupyter() ? "notebook" : Deno.stderr.isTerminal() ? "bar" : "lines";
  if (mode === "silent") return { tick() {}, done() {} };
  if (mode === "bar") return barProgress(label, total);
  if (mode === "notebook") {
    const kernel = jupyter();
    if (!kernel) throw new Error(`Progress mode "notebook" needs the Deno Jupyter kernel`);
    return notebookProgress(label, total, kernel);
  }
  return lineProgress(label, total, opts.interval ?? 10, opts.write ?? writeStderr);
}

function barProgress(label: string, total: number): Progress {
  const bar = new cliProgress.SingleBar({
    format: `${label} [{bar}] {value}/{total} {percentage}% eta {eta_formatted} {status}`,
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: false,
  }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, { status: "" });
  let value = 0;
  return {
    tick(n = 1, status = "") {
      value += n;
      bar.update(value, { status });
    },
    done() {
      bar.stop();
    },
  };
}

/**
 * The Deno Jupyter kernel's broadcast function (send a message to the notebook), or null outside
 * the kernel.
 *
 * @example
 * ```ts
 * import { jupyter } from "./progress.ts";
 * const inNotebook = jupyter() !== null;
 * ```
 */
export function jupyter(): Broadcast | null {
  try {
    // Reading Deno.jupyter outside the kernel throws.
    const j = (Deno as unknown as { jupyter?: { broadcast?: Broadcast } }).jupyter;
    return typeof j?.broadcast === "function"
      ? (type, content) => j.broadcast!(type, content)
      : null;
  } catch {
    return null;
  }
}

/** Sends one message (`display_data`, `update_display_data`, ...) to the notebook. */
export type Broadcast = (
  type: string,
  content: Record<string, unknown>,
) => Promise<void> | void;

const pending = new Set<Promise<void>>();
let displays = 0;

/**
 * Waits until every progress display sent so far has reached the notebook, then 50 ms more:
 * the kernel can report a cell done before its last output arrives, and a headless run
 * (nbclient) then drops that output. Resolves at once outside a notebook.
 *
 * @example
 * ```ts
 * import { flushProgress } from "./progress.ts";
 * await flushProgress();
 * ```
 */
export async function flushProgress(): Promise<void> {
  if (!jupyter()) return;
  while (pending.size) await Promise.allSettled([...pending]);
  await new Promise((r) => setTimeout(r, 50));
}

function notebookProgress(label: string, total: number, broadcast: Broadcast): Progress {
  const id = `mgd3-progress-${Deno.pid}-${++displays}`;
  const start = performance.now();
  let last = -Infinity;
  let value = 0;
  let status = "";
  const send = (type: string) => {
    const secs = (performance.now() - start) / 1000;
    const text = progressText(label, value, total, secs, status);
    const html = `<div><progress value="${value}" max="${Math.max(total, 1)}"></progress> ${
      escapeHtml(text)
    }</div>`;
    const p = Promise.resolve(broadcast(type, {
      data: { "text/plain": text, "text/html": html },
      metadata: {},
      transient: { display_id: id },
    })).catch(() => {}); // a closed kernel channel must not fail the loop
    pending.add(p);
    p.finally(() => pending.delete(p));
  };
  send("display_data");
  return {
    tick(n = 1, s = "") {
      value += n;
      if (s) status = s;
      const now = performance.now();
      if (now - last >= 500) {
        last = now;
        send("update_display_data");
      }
    },
    done() {
      send("update_display_data");
    },
  };
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function progressText(
  label: string,
  value: number,
  total: number,
  secs: number,
  status: string,
): string {
  const pct = total > 0 ? ((100 * value) / total).toFixed(1) : "100.0";
  const eta = value > 0 && value < total
    ? ` eta ${Math.round((secs * (total - value)) / value)}s`
    : "";
  return `${label}: ${value}/${total} (${pct}%) ${secs.toFixed(1)}s${eta}${
    status ? ` ${status}` : ""
  }`;
}

function lineProgress(
  label: string,
  total: number,
  interval: number,
  write: (s: string) => void,
): Progress {
  const start = performance.now();
  let last = start;
  let value = 0;
  let status = "";
  const line = () =>
    write(progressText(label, value, total, (performance.now() - start) / 1000, status));
  return {
    tick(n = 1, s = "") {
      value += n;
      if (s) status = s;
      const now = performance.now();
      if (now - last >= interval * 1000) {
        last = now;
        line();
      }
    },
    done() {
      line();
    },
  };
}

function writeStderr(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
}
