/**
 * The PyTorch side of a benchmark: a reference script started once with `--serve`, answering
 * one line per request ("setup <case>" -> "ready", "run" -> milliseconds, "quit"), so ours and
 * the reference can alternate on a machine whose load changes; and what the benchmarks share
 * around it: the alternating timing loop, the result line and the Deno.bench groups.
 *
 * @module
 */

import { cachedAssetPath, cacheDir } from "../stages/fetch/fetch_asset.ts";
import { findAsset } from "../stages/fetch/registry.ts";

/** Debian's python3 (the one python3-torch installs into). */
export const PYTHON = "/usr/bin/python3";

/** Where the reference scripts look first for the DiT and taesd checkouts. */
const REFS = "/work/.refs";

/**
 * The reference checkouts the scripts import: `MGD3_DIT_REF` / `MGD3_TAESD_REF` when set, else
 * `/work/.refs/{DiT,taesd}` when there, else the copies `mgd3 fetch dit-ref taesd-ref` put in
 * the asset cache (at the commits the ports follow). Unset when none exists (the scripts then
 * say "ref unavailable").
 *
 * @example
 * ```ts
 * import { referenceCheckouts } from "./_reference.ts";
 * referenceCheckouts(); // { MGD3_DIT_REF: "/home/me/.cache/mgd3/dit-ref/DiT-ed81ce2...", ... }
 * ```
 */
export function referenceCheckouts(): Record<string, string> {
  const out: Record<string, string> = {};
  const there = (p: string) => {
    try {
      return Deno.statSync(p).isDirectory;
    } catch {
      return false;
    }
  };
  for (
    const [env, dir, id] of [["MGD3_DIT_REF", "DiT", "dit-ref"], [
      "MGD3_TAESD_REF",
      "taesd",
      "taesd-ref",
    ]]
  ) {
    const set = Deno.env.get(env);
    if (set) out[env] = set;
    else if (there(`${REFS}/${dir}`)) out[env] = `${REFS}/${dir}`;
    else if (there(cachedAssetPath(findAsset(id), cacheDir()))) {
      out[env] = cachedAssetPath(findAsset(id), cacheDir());
    }
  }
  return out;
}

/** A running reference script. */
export class ReferenceServer {
  #proc: Deno.ChildProcess;
  #lines: AsyncIterator<string>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(readonly script: string, env: Record<string, string>) {
    this.#proc = new Deno.Command(PYTHON, {
      args: [script, "--serve"],
      env: { ...referenceCheckouts(), ...env },
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
      env: { ...referenceCheckouts(), ...env },
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

/** Our side of a benchmark case: one run to time, and a cleanup. */
export interface OursCase {
  run: () => Promise<unknown>;
  done: () => Promise<void>;
}

/** Milliseconds of our runs and of the reference's (empty without a reference). */
export interface Timings {
  mine: number[];
  theirs: number[];
}

/**
 * Times `iters` runs of ours, each followed by one run of the reference's current case when
 * there is a reference, so both see the same machine load; `each` hears the timings after
 * every pair.
 */
export async function alternate(
  run: () => Promise<unknown>,
  ref: ReferenceServer | null,
  iters: number,
  each?: (t: Timings) => void,
): Promise<Timings> {
  const t: Timings = { mine: [], theirs: [] };
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await run();
    t.mine.push(performance.now() - t0);
    if (ref) t.theirs.push(await ref.run());
    each?.(t);
  }
  return t;
}

/**
 * The result line `<case> ours_ms=<x> ref_ms=<y> ratio=<x/y>` from the medians, milliseconds
 * with `digits` decimals, "na" without reference timings; `extra` appends fields computed
 * from our median.
 */
export function caseLine(
  name: string,
  t: Timings,
  digits: number,
  extra?: (ms: number) => string,
): string {
  const ms = median(t.mine);
  const refMs = t.theirs.length ? median(t.theirs) : null;
  return `${name} ours_ms=${ms.toFixed(digits)} ` +
    `ref_ms=${refMs === null ? "na" : refMs.toFixed(digits)} ` +
    `ratio=${refMs === null ? "na" : (ms / refMs).toFixed(2)}${extra?.(ms) ?? ""}`;
}

/**
 * A reference started on the first call (the same one on every later call) and closed when
 * the process unloads; a string says why it is unavailable.
 */
export function lazyReference(
  start: () => Promise<ReferenceServer | string>,
): () => Promise<ReferenceServer | string> {
  let ref: Promise<ReferenceServer | string> | undefined;
  globalThis.addEventListener("unload", () =>
    void ref?.then((r) => {
      if (typeof r !== "string") return r.close();
    }));
  return () => ref ??= start();
}

/**
 * Registers a case as a Deno.bench group: ours, and the reference as the baseline. Our side
 * is built on its first run and the reference set up for the case on its first run, both
 * outside the timed part.
 */
export function benchCase(name: string, options: {
  iters: number;
  warmup: number;
  ours: () => Promise<OursCase>;
  ref: () => Promise<ReferenceServer | string>;
  ignoreRef?: boolean;
}): void {
  const { iters: n, warmup } = options;
  let o: OursCase | undefined;
  let ready = false;
  Deno.bench({
    name: `${name} ours`,
    group: name,
    n,
    warmup,
    async fn(b) {
      o ??= await options.ours();
      b.start();
      await o.run();
      b.end();
    },
  });
  Deno.bench({
    name: `${name} pytorch`,
    group: name,
    baseline: true,
    n,
    warmup,
    ignore: options.ignoreRef ?? false,
    async fn(b) {
      const r = await options.ref();
      if (typeof r === "string") throw new Error(r);
      if (!ready) {
        await r.setup(name);
        ready = true;
      }
      b.start();
      await r.run();
      b.end();
    },
  });
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
