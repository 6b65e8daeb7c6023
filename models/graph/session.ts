/**
 * The one place that creates, validates and runs onnxruntime sessions: thread settings,
 * execution providers (CPU always; CUDA when the user installed onnxruntime-node's CUDA
 * provider), external data, input checking with errors that name the input and its
 * expected and actual dims, and optional preallocated outputs (fetched in place).
 *
 * @module
 */
import { ort } from "../core/deps.ts";
import type { ModelBytes } from "./graph.ts";
import type { DType, Tensor, TensorData } from "../core/tensor.ts";

/** Options for {@link Session.create}. */
export interface SessionOptions {
  /** Threads inside one op (default: onnxruntime's choice, one per core). */
  intraOpThreads?: number;
  /** Threads running independent ops in parallel (default 1: sequential execution). */
  interOpThreads?: number;
  /** Execution providers in order of preference; "cpu" is always appended. */
  executionProviders?: ("cpu" | "cuda")[];
  /** CUDA device index (default 0). */
  deviceId?: number;
  /** onnxruntime graph optimizations (default "all"). */
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  /** External data files referenced by the model, when given as bytes. */
  externalData?: { path: string; data: Uint8Array }[];
  /** onnxruntime log level: 0 verbose ... 4 fatal (default 3: errors only). */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /**
   * onnxruntime graph optimizers to skip, by name (its `optimization.disable_specified_optimizers`
   * setting). "ConstantFolding" keeps a model whose weights come as in-memory external data at
   * one copy of them: folded copies of transposed weights are otherwise held beside the originals.
   */
  disableOptimizers?: string[];
  /**
   * Skip onnxruntime's pre-packing of constant Gemm/MatMul operands (`session.disable_prepacking`):
   * the packed copy would otherwise be held beside the original weight.
   */
  disablePrepacking?: boolean;
  /**
   * Profile every node: onnxruntime writes `<profile>_<date>.json` (Chrome trace format, one
   * event per node run with its op type and microseconds) when the session is released.
   */
  profile?: string;
  /**
   * onnxruntime's CPU memory arena (default true). The arena keeps the largest working set a
   * session ever needed until the session is released, and each session has its own; without it
   * a run's intermediates go back to the system when the run ends.
   */
  memArena?: boolean;
  /** onnxruntime's memory pattern (one planned block per input shape; default true). */
  memPattern?: boolean;
}

let defaultThreads: number | undefined;

/**
 * Threads per op of every session created afterwards whose options give none (undefined:
 * onnxruntime's choice, one per core). A process that shares the cores with other workers
 * (`reproduce --workers N`) sets its share here, so the trainer's and metrics' sessions follow.
 *
 * @example
 * ```ts
 * import { setDefaultThreads } from "./session.ts";
 * setDefaultThreads(1);
 * setDefaultThreads(undefined); // back to one per core
 * ```
 */
export function setDefaultThreads(n: number | undefined): void {
  if (n !== undefined && !(Number.isInteger(n) && n >= 1)) {
    throw new RangeError(`Threads must be an integer >= 1, got ${n}`);
  }
  defaultThreads = n;
}

/** Static description of one session input or output. */
export interface IoInfo {
  name: string;
  dtype: DType;
  dims: (number | string)[];
}

const ORT_TO_DTYPE: Record<string, DType> = {
  float32: "F32",
  float16: "F16",
  float64: "F64",
  int64: "I64",
  int32: "I32",
  int16: "I16",
  int8: "I8",
  uint8: "U8",
  bool: "BOOL",
};
const DTYPE_TO_ORT: Partial<Record<DType, ort.Tensor.Type>> = {
  F32: "float32",
  F16: "float16",
  F64: "float64",
  I64: "int64",
  I32: "int32",
  I16: "int16",
  I8: "int8",
  U8: "uint8",
  BOOL: "bool",
};

/** Error raised when a run's feeds do not match the model's inputs. */
export class SessionInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SessionInputError";
  }
}

/**
 * An onnxruntime inference session with checked inputs and plain {@link Tensor} results.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { relu } from "./ops/activation.ts";
 * import { Session } from "./session.ts";
 * const g = new Graph();
 * g.output(relu(g.input("x", [2])), "y");
 * const s = await Session.create(g.toModel(), { intraOpThreads: 2 });
 * const { y } = await s.run({ x: { dtype: "F32", shape: [2], data: new Float32Array([-1, 1]) } });
 * ```
 */
export class Session {
  readonly inputs: IoInfo[];
  readonly outputs: IoInfo[];
  #byName: Map<string, IoInfo>;

  private constructor(readonly ort: ort.InferenceSession, readonly providers: string[]) {
    const info = (names: readonly string[], meta: readonly ort.InferenceSession.ValueMetadata[]) =>
      names.map((name, i) => {
        const m = meta[i] as { type?: string; shape?: (number | string)[] };
        return { name, dtype: ORT_TO_DTYPE[m.type ?? ""] ?? "F32", dims: m.shape ?? [] };
      });
    this.inputs = info(this.ort.inputNames, this.ort.inputMetadata);
    this.outputs = info(this.ort.outputNames, this.ort.outputMetadata);
    this.#byName = new Map(this.inputs.map((i) => [i.name, i]));
  }

  /** Creates a session from ONNX bytes, a path, or a {@link ModelBytes} from the builder. */
  static async create(
    model: Uint8Array | string | ModelBytes,
    opts: SessionOptions = {},
  ): Promise<Session> {
    const providers = [...new Set([...(opts.executionProviders ?? []), "cpu"])];
    const bytes = typeof model === "string" || model instanceof Uint8Array ? model : model.model;
    const external = opts.externalData ??
      (typeof model === "string" || model instanceof Uint8Array ? [] : model.externalData);
    const extra = configEntries(opts);
    const eps = providers.map((p) =>
      p === "cuda" ? { name: "cuda", deviceId: opts.deviceId ?? 0 } : { name: p }
    );
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: eps,
      graphOptimizationLevel: opts.graphOptimizationLevel ?? "all",
      logSeverityLevel: opts.logSeverityLevel ?? 3,
      executionMode: (opts.interOpThreads ?? 1) > 1 ? "parallel" : "sequential",
      ...((opts.intraOpThreads ?? defaultThreads)
        ? { intraOpNumThreads: opts.intraOpThreads ?? defaultThreads }
        : {}),
      ...(opts.interOpThreads ? { interOpNumThreads: opts.interOpThreads } : {}),
      ...(external.length ? { externalData: external } : {}),
      ...(opts.memArena === false ? { enableCpuMemArena: false } : {}),
      ...(opts.memPattern === false ? { enableMemPattern: false } : {}),
      ...(opts.profile ? { enableProfiling: true, profileFilePrefix: opts.profile } : {}),
      ...(extra ? { extra } : {}),
    };
    let s: ort.InferenceSession;
    try {
      s = typeof bytes === "string"
        ? await ort.InferenceSession.create(bytes, options)
        : await ort.InferenceSession.create(bytes, options);
    } catch (e) {
      const msg = (e as Error).message;
      if (providers.includes("cuda") && /cuda/i.test(msg)) {
        throw new Error(
          "The CUDA execution provider was requested but is not available. onnxruntime-node " +
            "ships the CPU provider only; install the CUDA one with " +
            "`ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js` " +
            `(needs CUDA 12 and cuDNN 9), or drop "cuda" from executionProviders. (${msg})`,
        );
      }
      throw new Error(`Cannot create onnxruntime session: ${msg}`);
    }
    return new Session(s, providers);
  }

  /** Checks feeds against the model inputs; throws naming the input and its dims. */
  validate(feeds: Record<string, Tensor>): void {
    for (const info of this.inputs) {
      const t = feeds[info.name];
      if (!t) {
        throw new SessionInputError(
          `Missing input '${info.name}' (expected ${info.dtype} [${info.dims}])`,
        );
      }
      if (t.dtype !== info.dtype) {
        throw new SessionInputError(
          `Input '${info.name}' has dtype ${t.dtype}, expected ${info.dtype} [${info.dims}]`,
        );
      }
      const ok = t.shape.length === info.dims.length &&
        info.dims.every((d, i) => typeof d === "string" || d === t.shape[i]);
      if (!ok) {
        throw new SessionInputError(
          `Input '${info.name}' has dims [${t.shape}], expected [${info.dims}]`,
        );
      }
      if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) {
        throw new SessionInputError(
          `Input '${info.name}' [${t.shape}] holds ${t.data.length} values`,
        );
      }
    }
    for (const name of Object.keys(feeds)) {
      if (!this.#byName.has(name)) {
        throw new SessionInputError(
          `Unknown input '${name}'; the model takes ${this.inputs.map((i) => i.name).join(", ")}`,
        );
      }
    }
  }

  /**
   * Runs the model. `into` gives preallocated arrays that outputs are written to in place
   * (no allocation per run); `outputs` limits which outputs are computed.
   */
  async run(
    feeds: Record<string, Tensor>,
    opts: { outputs?: string[]; into?: Record<string, Tensor>; validate?: boolean } = {},
  ): Promise<Record<string, Tensor>> {
    if (opts.validate !== false) this.validate(feeds);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) ortFeeds[k] = toOrt(t);
    const names = opts.outputs ?? this.outputs.map((o) => o.name);
    let result: ort.InferenceSession.ReturnType;
    if (opts.into) {
      const fetches: Record<string, ort.Tensor | null> = {};
      for (const n of names) fetches[n] = opts.into[n] ? toOrt(opts.into[n]) : null;
      result = await this.ort.run(ortFeeds, fetches);
    } else {
      result = await this.ort.run(ortFeeds, names);
    }
    const out: Record<string, Tensor> = {};
    for (const n of names) {
      const pre = opts.into?.[n];
      if (pre) {
        out[n] = pre;
        continue;
      }
      const r = result[n] as ort.Tensor;
      out[n] = {
        dtype: ORT_TO_DTYPE[r.type] ?? "F32",
        shape: [...r.dims],
        data: r.data as TensorData,
      };
    }
    return out;
  }

  /** Frees the native session. */
  async release(): Promise<void> {
    await this.ort.release();
  }
}

/** onnxruntime's session config entries (`extra`, nested by section) for the options. */
function configEntries(opts: SessionOptions): Record<string, Record<string, string>> | undefined {
  const extra: Record<string, Record<string, string>> = {};
  if (opts.disableOptimizers?.length) {
    extra.optimization = { disable_specified_optimizers: opts.disableOptimizers.join(",") };
  }
  if (opts.disablePrepacking) extra.session = { disable_prepacking: "1" };
  return Object.keys(extra).length ? extra : undefined;
}

function toOrt(t: Tensor): ort.Tensor {
  const type = DTYPE_TO_ORT[t.dtype];
  if (!type) throw new SessionInputError(`onnxruntime has no ${t.dtype} tensors`);
  // deno-lint-ignore no-explicit-any
  return new ort.Tensor(type, t.data as any, t.shape);
}
