/**
 * onnxruntime sessions of one fixed-shape model family, built lazily and cached by batch size
 * (the graph builder uses static shapes), as codecs need them: `run(x, n)` feeds `n` items.
 *
 * @module
 */
import type { ModelBytes } from "./graph.ts";
import { Session, type SessionOptions } from "./session.ts";

/**
 * onnxruntime sessions of one fixed-shape model, built lazily per batch size (the graph builder
 * uses static shapes) and cached; at most `maxSessions` are kept (least recently used released
 * first). Every model that runs at several batch sizes (codecs, DiT, the cpu-scale U-Net)
 * keeps its sessions here.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { relu } from "./ops/activation.ts";
 * import { SessionCache } from "./batch_sessions.ts";
 * const cache = new SessionCache((n) => {
 *   const g = new Graph();
 *   g.output(relu(g.input("x", [n, 4])), "y");
 *   return g.toModel({ paramsAs: "initializers" });
 * }, { intraOpThreads: 2 }, 2);
 * const session = await cache.session(3); // built for batch 3, reused on the next call
 * await cache.release();
 * ```
 */
export class SessionCache {
  readonly #sessions = new Map<number, Promise<Session>>();

  /** `build(n)` makes the model for batch size n. */
  constructor(
    readonly build: (n: number) => ModelBytes,
    readonly options: SessionOptions = {},
    readonly maxSessions = Infinity,
  ) {
    if (!(maxSessions >= 1)) {
      throw new RangeError(`maxSessions must be at least 1, got ${maxSessions}`);
    }
  }

  /** The session for batch size `n` (built on first use). */
  session(n: number): Promise<Session> {
    let s = this.#sessions.get(n);
    if (s) {
      this.#sessions.delete(n); // re-insert: most recently used last
    } else {
      s = Session.create(this.build(n), this.options);
      s.catch(() => this.#sessions.delete(n));
    }
    this.#sessions.set(n, s);
    while (this.#sessions.size > this.maxSessions) {
      const [oldest, old] = this.#sessions.entries().next().value!;
      this.#sessions.delete(oldest);
      old.then((o) => o.release(), () => {});
    }
    return s;
  }

  /** Releases every cached session. */
  async release(): Promise<void> {
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const s of all) await (await s).release();
  }
}

/**
 * A {@link SessionCache} for a model with one float input and one float output:
 * `run(x, n)` feeds `n` items.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { relu } from "./ops/activation.ts";
 * import { BatchSessions } from "./batch_sessions.ts";
 * const sessions = new BatchSessions((n) => {
 *   const g = new Graph();
 *   g.output(relu(g.input("x", [n, 4])), "y");
 *   return g.toModel({ paramsAs: "initializers" });
 * }, [4], "x", "y", { intraOpThreads: 2 });
 * const y = await sessions.run(new Float32Array(8), 2); // Float32Array(8)
 * ```
 */
export class BatchSessions extends SessionCache {
  /**
   * `build(n)` makes the model for batch n with input `input` of shape [n, ...itemShape]
   * and output `output`.
   */
  constructor(
    build: (n: number) => ModelBytes,
    readonly itemShape: readonly number[],
    readonly input: string,
    readonly output: string,
    options: SessionOptions = {},
    maxSessions = 4,
  ) {
    super(build, options, maxSessions);
  }

  /** Runs `n` items of `x` ([n, ...itemShape], row-major) and returns the output values. */
  async run(x: Float32Array, n: number): Promise<Float32Array> {
    const per = this.itemShape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(n) || n < 1 || x.length !== n * per) {
      throw new RangeError(
        `Expected ${n} items of [${this.itemShape}] (${n * per} values), got ${x.length} values`,
      );
    }
    const s = await this.session(n);
    const out = await s.run({
      [this.input]: { dtype: "F32", shape: [n, ...this.itemShape], data: x },
    });
    return out[this.output].data as Float32Array;
  }
}
