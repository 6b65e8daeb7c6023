/**
 * Progress reporting for long loops: a progress bar on stderr when stderr is a terminal,
 * periodic plain lines otherwise (logs, CI, notebooks), or nothing at all.
 *
 * @module
 */
import cliProgress from "cli-progress";

/** Something a long loop reports to. */
export interface Progress {
  /** Advances by `n` (default 1) and optionally replaces the status text. */
  tick(n?: number, status?: string): void;
  /** Marks the loop finished and releases the terminal line. */
  done(): void;
}

/** How progress is shown: `auto` picks `bar` on a terminal and `lines` elsewhere. */
export type ProgressMode = "auto" | "bar" | "lines" | "silent";

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
  if (mode === "auto") mode = Deno.stderr.isTerminal() ? "bar" : "lines";
  if (mode === "silent") return { tick() {}, done() {} };
  if (mode === "bar") return barProgress(label, total);
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
  const line = () => {
    const secs = (performance.now() - start) / 1000;
    const pct = total > 0 ? ((100 * value) / total).toFixed(1) : "100.0";
    const eta = value > 0 && value < total
      ? ` eta ${Math.round((secs * (total - value)) / value)}s`
      : "";
    write(
      `${label}: ${value}/${total} (${pct}%) ${secs.toFixed(1)}s${eta}${
        status ? ` ${status}` : ""
      }`,
    );
  };
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
