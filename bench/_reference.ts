/**
 * The PyTorch side of a benchmark: a reference script started once with `--serve`, answering
 * one line per request ("setup <case>" -> "ready", "run" -> milliseconds, "quit"), so ours and
 * the reference can alternate on a machine whose load changes.
 *
 * @module
 */

/** Debian's python3 (the one python3-torch installs into). */
export const PYTHON = "/usr/bin/python3";

/** A running reference script. */
export class ReferenceServer {
  #proc: Deno.ChildProcess;
  #lines: AsyncIterator<string>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(readonly script: string, env: Record<string, string>) {
    this.#proc = new Deno.Command(PYTHON, {
      args: [script, "--serve"],
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.#proc.stdin.getWriter();
    this.#lines = this.#proc.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(lines())[
      Symbol.asyncIterator
    ]();
  }

  async #ask(cmd: string): Promise<string> {
    await this.#writer.write(new TextEncoder().encode(cmd + "\n"));
    const { value, done } = await this.#lines.next();
    if (done) throw new Error(`${this.script} exited during '${cmd}'`);
    if (value.startsWith("ref unavailable")) throw new Error(value);
    return value;
  }

  /** Builds and warms up a case. */
  async setup(name: string): Promise<void> {
    await this.#ask(`setup ${name}`);
  }

  /** One timed run of the current case, in milliseconds. */
  async run(): Promise<number> {
    return Number(await this.#ask("run"));
  }

  /** Stops the script. */
  async close(): Promise<void> {
    await this.#writer.write(new TextEncoder().encode("quit\n")).catch(() => {});
    await this.#writer.close().catch(() => {});
    await this.#proc.status;
  }
}

/**
 * Starts a reference script after probing it with `probeArgs`; returns the reason instead
 * when the probe's first line is not accepted (torch or the checkout missing).
 */
export async function startReference(
  script: string,
  probeArgs: string[],
  accept: (said: string) => boolean,
  env: Record<string, string>,
): Promise<ReferenceServer | string> {
  try {
    const probe = await new Deno.Command(PYTHON, {
      args: [script, ...probeArgs],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    const said = new TextDecoder().decode(probe.stdout).trim();
    if (!accept(said)) return said || `ref unavailable: ${script} failed`;
  } catch (e) {
    return `ref unavailable: cannot run ${PYTHON} (${(e as Error).message})`;
  }
  return new ReferenceServer(script, env);
}

/** Median of a list of timings. */
export function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  return s[Math.floor(s.length / 2)];
}

function lines(): TransformStream<string, string> {
  let buf = "";
  return new TransformStream({
    transform(chunk, ctl) {
      buf += chunk;
      const parts = buf.split("\n");
      buf = parts.pop()!;
      for (const p of parts) if (p.trim()) ctl.enqueue(p.trim());
    },
  });
}
