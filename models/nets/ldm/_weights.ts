/**
 * Weights of a LatentDiffusion model from its Lightning `.ckpt` (a torch zip checkpoint
 * `{"state_dict": {...}, ...}` whose keys are `model.diffusion_model.*`, `first_stage_model.*`,
 * `cond_stage_model.*`, the schedule buffers and, when trained with `use_ema`,
 * `model_ema.*`). {@link CheckpointParamStore} checks each weight as the graph builder asks
 * for it, so an error names the key and the shape the configuration expects.
 *
 * @module
 */
import { LIGHTNING_GLOBALS } from "../../io/lightning.ts";
import { CheckpointError, loadCheckpoint } from "../../io/checkpoint.ts";
import { type InitKind, ParamStore, permuteData, type StoredParam } from "../../graph/nn.ts";
import { type Tensor, toFloat32 } from "../../core/tensor.ts";

/** Prefix of the denoising U-Net in a LatentDiffusion state dict (DiffusionWrapper). */
export const UNET_PREFIX = "model.diffusion_model.";
/** Prefix of LitEma's copies: `model_ema.` + the wrapper-relative name without dots. */
export const EMA_PREFIX = "model_ema.";
const dims = (s: readonly number[]) => `[${s.join(", ")}]`;
const FLOATS = ["F32", "F16", "BF16", "F64"];

/**
 * The LitEma key holding the EMA copy of `key` (`model.diffusion_model.a.0.b` ->
 * `model_ema.diffusion_modela0b`), or undefined for keys outside the U-Net.
 *
 * @example
 * ```ts
 * import { emaKey } from "./_weights.ts";
 * emaKey("model.diffusion_model.out.2.weight"); // "model_ema.diffusion_modelout2weight"
 * ```
 */
export function emaKey(key: string): string | undefined {
  if (!key.startsWith("model.")) return undefined;
  return EMA_PREFIX + key.slice("model.".length).replaceAll(".", "");
}

/**
 * Reads the state dict of a Lightning checkpoint (`state_dict` entry; a flat file is taken as
 * is). Lightning's callback and hyper-parameter objects are read as inert data, never executed.
 *
 * @example
 * ```ts
 * import { readLdmState } from "./_weights.ts";
 * const { tensors, path } = await readLdmState("cin256-v2.ckpt");
 * ```
 */
export async function readLdmState(
  path: string,
): Promise<{ tensors: Map<string, Tensor>; path: string }> {
  const ckpt = await loadCheckpoint(path, {
    prefer: ["state_dict"],
    allowGlobals: LIGHTNING_GLOBALS,
  });
  return { tensors: ckpt.tensors, path: ckpt.path };
}

/**
 * How a {@link CheckpointParamStore} finds and keeps the checkpoint's tensors.
 *
 * @example
 * ```ts
 * import type { CheckpointStoreOptions } from "./_weights.ts";
 * const o: CheckpointStoreOptions = { keyOf: (n) => n.replace("time_embed.0", "time_embedding.linear_1"), copy: true };
 * ```
 */
export interface CheckpointStoreOptions {
  /** The checkpoint key holding the weight the graph names `name` (default: the same name). */
  keyOf?: (name: string) => string;
  /**
   * Copy float32 tensors instead of keeping views of the file's bytes, so the file buffer can
   * be collected once every weight was read (default false).
   */
  copy?: boolean;
  /** What strict-loading errors tell the user to check (default "the configuration (--ldm-config)"). */
  configHint?: string;
}

/**
 * A {@link ParamStore} filled lazily from a checkpoint: each weight the graph builder asks
 * for is looked up (EMA copy first when `ema`; under `o.keyOf(name)` when the file names it
 * differently), checked against the shape the builder expects, and converted to float32 in
 * the stored layout. `hint` is added to missing-key errors (e.g. what the file looks like
 * instead).
 *
 * @example
 * ```ts
 * import { CheckpointParamStore } from "./_weights.ts";
 * const store = new CheckpointParamStore(new Map(), "x.ckpt", "cin256-v2", true);
 * ```
 */
export class CheckpointParamStore extends ParamStore {
  /** Checkpoint keys read so far. */
  readonly used: Set<string> = new Set();

  /** Reads from `tensors` of file `source`, for model `model` (named in errors). */
  constructor(
    readonly tensors: Map<string, Tensor>,
    readonly source: string,
    readonly model: string,
    readonly ema: boolean,
    readonly hint = "",
    readonly o: CheckpointStoreOptions = {},
  ) {
    super(() => {
      throw new Error("A checkpoint-backed store has every weight; nothing to initialise");
    });
  }

  /** The stored values of `name`, read from the checkpoint on first request. */
  override get(
    name: string,
    shape: number[],
    init: InitKind,
    trainable: boolean,
    toTorch?: number[],
  ): StoredParam {
    if (this.entries.has(name)) return super.get(name, shape, init, trainable, toTorch);
    const torchShape = toTorch ? toTorch.map((i) => shape[i]) : shape;
    const fileKey = this.o.keyOf?.(name) ?? name;
    const ek = this.ema ? emaKey(fileKey) : undefined;
    const key = ek && this.tensors.has(ek) ? ek : fileKey;
    const t = this.tensors.get(key);
    if (!t) {
      throw new CheckpointError(
        this.source,
        `key '${fileKey}' missing (${this.model} needs ${dims(torchShape)})${this.hint}`,
      );
    }
    if (t.shape.join() !== torchShape.join()) {
      throw new CheckpointError(
        this.source,
        `key '${key}' has shape ${dims(t.shape)}, expected ${dims(torchShape)} for ${this.model}`,
      );
    }
    if (!FLOATS.includes(t.dtype)) {
      throw new CheckpointError(
        this.source,
        `key '${key}' has dtype ${t.dtype}, expected a float type`,
      );
    }
    this.used.add(key);
    if (key !== fileKey) this.used.add(fileKey);
    const float = toFloat32(t);
    const values = this.o.copy && float === t.data ? float.slice() : float;
    const data = toTorch
      ? permuteData(values, torchShape, toTorch.map((_, i) => toTorch.indexOf(i)))
      : values;
    const p: StoredParam = toTorch
      ? { shape: [...shape], data, trainable, toTorch }
      : { shape: [...shape], data, trainable };
    this.entries.set(name, p);
    return p;
  }

  /** Throws naming checkpoint keys under `prefix` that no weight used (strict loading). */
  checkAllUsed(prefix: string): void {
    const extra = [...this.tensors.keys()].filter((k) => k.startsWith(prefix) && !this.used.has(k));
    if (extra.length) {
      const shown = extra.slice(0, 5).map((k) => `'${k}'`).join(", ");
      throw new CheckpointError(
        this.source,
        `unexpected key${extra.length > 1 ? "s" : ""} ${shown}` +
          (extra.length > 5 ? ` and ${extra.length - 5} more` : "") +
          ` for ${this.model}; check ${this.o.configHint ?? "the configuration (--ldm-config)"}`,
      );
    }
  }
}
