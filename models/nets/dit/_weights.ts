/**
 * DiT weights from a checkpoint: a plain state dict (DiT-XL-2-256x256.pt) or the "ema" entry
 * of a training checkpoint ({"model", "ema", "opt", "args"}), in .pt or safetensors form,
 * validated key by key against the configuration before anything is built.
 *
 * @module
 */
import {
  CheckpointError,
  loadCheckpoint,
  type LoadCheckpointOptions,
} from "../../io/checkpoint.ts";
import type { StoredParam } from "../../graph/nn.ts";
import { type Tensor, toFloat32 } from "../../core/tensor.ts";
import { type DiTConfig, ditStateShapes } from "./config.ts";

/**
 * Options of {@link loadDiTWeights}.
 *
 * @example
 * ```ts
 * import type { LoadDiTOptions } from "./_weights.ts";
 * const o: LoadDiTOptions = { prefer: ["model"], strict: false }; // raw weights, not EMA
 * ```
 */
export interface LoadDiTOptions extends LoadCheckpointOptions {
  /** Reject keys the model does not use (default true, as PyTorch's strict load_state_dict). */
  strict?: boolean;
}

const UNEXPECTED_SHOWN = 5;
const dims = (s: readonly number[]) => `[${s.join(", ")}]`;

/**
 * Checks a state dict against a configuration and converts it to float32 parameters
 * (pos_embed a non-trainable buffer). `source` names the file in errors.
 *
 * @example
 * ```ts
 * import { ditConfig } from "./config.ts";
 * import { validateDiTState } from "./_weights.ts";
 * validateDiTState(new Map(), ditConfig("DiT-XL/2"), "x.pt"); // throws: key 'pos_embed' missing
 * ```
 */
export function validateDiTState(
  tensors: Map<string, Tensor>,
  c: DiTConfig,
  source: string,
  strict = true,
): Map<string, StoredParam> {
  const want = ditStateShapes(c);
  const out = new Map<string, StoredParam>();
  for (const [key, shape] of want) {
    const t = tensors.get(key);
    if (!t) {
      const hint = [...tensors.keys()].some((k) => k.endsWith(`.${key}`))
        ? ` (keys carry a prefix, e.g. '${[...tensors.keys()].find((k) => k.endsWith(`.${key}`))}')`
        : "";
      throw new CheckpointError(
        source,
        `key '${key}' missing (${c.name} needs ${dims(shape)})${hint}`,
      );
    }
    if (t.shape.join() !== shape.join()) {
      throw new CheckpointError(
        source,
        `key '${key}' has shape ${dims(t.shape)}, expected ${dims(shape)} for ${c.name} ` +
          `(input ${c.inputSize}, ${c.inChannels} channels, ${c.numClasses} classes, ` +
          `learnSigma ${c.learnSigma})`,
      );
    }
    if (!["F32", "F16", "BF16", "F64"].includes(t.dtype)) {
      throw new CheckpointError(source, `key '${key}' has dtype ${t.dtype}, expected a float type`);
    }
    out.set(key, { shape: [...shape], data: toFloat32(t), trainable: key !== "pos_embed" });
  }
  if (strict) {
    const extra = [...tensors.keys()].filter((k) => !want.has(k));
    if (extra.length) {
      const shown = extra.slice(0, UNEXPECTED_SHOWN).map((k) => `'${k}'`).join(", ");
      const more = extra.length > UNEXPECTED_SHOWN
        ? ` and ${extra.length - UNEXPECTED_SHOWN} more`
        : "";
      throw new CheckpointError(
        source,
        `unexpected key${
          extra.length > 1 ? "s" : ""
        } ${shown}${more} for ${c.name} (depth ${c.depth}); ` +
          "check the architecture, or pass strict: false",
      );
    }
  }
  return out;
}

/**
 * Reads a DiT checkpoint (EMA weights first when nested; argparse args read as inert data)
 * and validates it against `c`.
 *
 * @example
 * ```ts
 * import { ditConfig } from "./config.ts";
 * import { loadDiTWeights } from "./_weights.ts";
 * const params = await loadDiTWeights("DiT-XL-2-256x256.pt", ditConfig("DiT-XL/2"));
 * ```
 */
export async function loadDiTWeights(
  path: string,
  c: DiTConfig,
  o: LoadDiTOptions = {},
): Promise<Map<string, StoredParam>> {
  const { strict, ...load } = o;
  const allowGlobals = [...new Set([...(load.allowGlobals ?? []), "argparse.Namespace"])];
  const ckpt = await loadCheckpoint(path, { ...load, allowGlobals });
  return validateDiTState(ckpt.tensors, c, ckpt.path, strict ?? true);
}
