/**
 * Weights of a CLIP text encoder: where they are in a `text_encoder/` folder (safetensors,
 * diffusers' fp16 variant or a torch `.bin`), or in a single file (an SD 1.x `.ckpt` whose
 * keys carry a prefix), and a {@link ParamStore} that reads each weight the graph builder asks
 * for from a {@link StateDict}, which checks its shape and dtype and names the file and key.
 *
 * @module
 */
import { LIGHTNING_GLOBALS } from "../../io/lightning.ts";
import { CheckpointError, loadCheckpoint } from "../../io/checkpoint.ts";
import { type InitKind, ParamStore, type StoredParam } from "../../graph/nn.ts";
import { StateDict } from "../../graph/weights.ts";

/** Weights files looked for in a `text_encoder/` folder, in order (transformers, diffusers). */
export const TEXT_ENCODER_WEIGHTS: readonly string[] = [
  "model.safetensors",
  "model.fp16.safetensors", // diffusers' variant="fp16"
  "pytorch_model.bin",
  "pytorch_model.fp16.bin",
];

/** CLIPTextModel's state-dict root: every weight is `text_model.*`. */
export const TEXT_MODEL_ROOT = "text_model.";
/** The buffer older transformers files save (arange(T)); the graph uses 0..T-1 itself. */
export const POSITION_IDS_KEY = "text_model.embeddings.position_ids";

/**
 * The weights file of a `text_encoder/` folder (the first of {@link TEXT_ENCODER_WEIGHTS}).
 *
 * @example
 * ```ts
 * import { textEncoderWeights } from "./_weights.ts";
 * await textEncoderWeights("sd15/text_encoder"); // "sd15/text_encoder/model.safetensors"
 * ```
 */
export async function textEncoderWeights(dir: string): Promise<string> {
  for (const name of TEXT_ENCODER_WEIGHTS) {
    const p = `${dir.replace(/\/+$/, "")}/${name}`;
    if (await Deno.stat(p).then((s) => s.isFile, () => false)) return p;
  }
  throw new CheckpointError(
    dir,
    `no text encoder weights: expected one of ${TEXT_ENCODER_WEIGHTS.join(", ")} ` +
      "(sharded checkpoints with an index.json are not supported)",
  );
}

/**
 * Reads a weights file (safetensors or torch.save; a Lightning `.ckpt`'s `state_dict` entry,
 * its callback objects read as inert data) into a {@link StateDict}.
 *
 * @example
 * ```ts
 * import { readTextEncoderState } from "./_weights.ts";
 * const sd = await readTextEncoderState("text_encoder/model.safetensors");
 * ```
 */
export async function readTextEncoderState(file: string): Promise<StateDict> {
  const ckpt = await loadCheckpoint(file, {
    prefer: ["state_dict"],
    allowGlobals: LIGHTNING_GLOBALS,
  });
  return new StateDict(ckpt.path, ckpt.tensors);
}

/**
 * What a file without `<prefix>text_model.*` keys looks like instead (added to the error).
 *
 * @example
 * ```ts
 * import { foreignHint } from "./_weights.ts";
 * foreignHint(["cond_stage_model.transformer.text_model.final_layer_norm.bias"], ""); // "...prefix..."
 * ```
 */
export function foreignHint(keys: Iterable<string>, prefix: string): string {
  const all = [...keys];
  const nested = all.find((k) => k.includes(`.${TEXT_MODEL_ROOT}`));
  if (nested) {
    const p = nested.slice(0, nested.indexOf(`.${TEXT_MODEL_ROOT}`) + 1);
    return `; the keys carry a prefix: pass prefix '${p}' (e.g. '${nested}')`;
  }
  if (all.some((k) => k.includes("transformer.resblocks."))) {
    return "; this is an OpenCLIP-layout text tower (an SD 2.x single file): convert it to the " +
      "CLIPTextModel layout (diffusers' text_encoder/ folder)";
  }
  if (all.some((k) => k.startsWith("model.diffusion_model.") || k.startsWith("down_blocks."))) {
    return "; this looks like a U-Net checkpoint, not a text encoder";
  }
  if (all.some((k) => k.startsWith("encoder.down") || k.startsWith("decoder.up"))) {
    return "; this looks like a VAE checkpoint, not a text encoder";
  }
  return prefix ? `; no key starts with '${prefix}${TEXT_MODEL_ROOT}'` : "";
}

/**
 * A {@link ParamStore} whose every weight comes from a {@link StateDict} (names prefixed by
 * `prefix`), checked against the shape the graph builder asks for.
 *
 * @example
 * ```ts
 * import { StateDict } from "../../graph/weights.ts";
 * import { StateDictParamStore } from "./_weights.ts";
 * const store = new StateDictParamStore(new StateDict("x.safetensors", new Map()), "");
 * ```
 */
export class StateDictParamStore extends ParamStore {
  #sd: StateDict | undefined;

  /** Reads `prefix + name` from `sd` on each first request. */
  constructor(sd: StateDict, readonly prefix: string) {
    super(() => {
      throw new Error("A checkpoint-backed store has every weight; nothing to initialise");
    });
    this.#sd = sd;
  }

  /** The stored values of `name`, read and checked on first request. */
  override get(
    name: string,
    shape: number[],
    init: InitKind,
    trainable: boolean,
    toTorch?: number[],
  ): StoredParam {
    if (this.entries.has(name) || toTorch) return super.get(name, shape, init, trainable, toTorch);
    if (!this.#sd) throw new Error(`Weight '${name}' was never read from the checkpoint`);
    const data = this.#sd.get(this.prefix + name, shape);
    const p: StoredParam = { shape: [...shape], data, trainable };
    this.entries.set(name, p);
    return p;
  }

  /**
   * Throws naming keys under the prefix that no weight used (`position_ids` aside), then drops
   * the state dict (the store holds every float32 weight by now).
   */
  finish(what: string): void {
    const sd = this.#sd!;
    sd.markUsed(this.prefix + POSITION_IDS_KEY);
    const extra = sd.unused().filter((k) => k.startsWith(this.prefix));
    if (extra.length) {
      const more = extra.length > 1 ? ` (and ${extra.length - 1} more)` : "";
      throw new CheckpointError(
        sd.path,
        `unexpected key '${extra[0]}'${more}: ${what} has no such weight ` +
          "(check num_hidden_layers in config.json)",
      );
    }
    this.#sd = undefined;
  }
}
