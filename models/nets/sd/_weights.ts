/**
 * Finding and reading the weights of a Stable Diffusion U-Net: the file of a diffusers
 * `unet/` folder (safetensors before `.bin`, full precision before the `fp16` variant), and
 * which layout a file uses (diffusers' names, or the original `UNetModel` names behind a
 * prefix such as `model.diffusion_model.` in a single-file checkpoint), with a hint when the
 * file is some other model.
 *
 * @module
 */
import { CheckpointError, loadCheckpoint } from "../../io/checkpoint.ts";
import { LIGHTNING_GLOBALS } from "../../io/lightning.ts";
import type { Tensor } from "../../core/tensor.ts";

/** Weights files of a diffusers `unet/` folder, in the order diffusers prefers them. */
export const UNET_WEIGHTS: readonly string[] = [
  "diffusion_pytorch_model.safetensors",
  "diffusion_pytorch_model.fp16.safetensors",
  "diffusion_pytorch_model.bin",
  "diffusion_pytorch_model.fp16.bin",
];
/** The U-Net's prefix in an original single-file checkpoint (LatentDiffusion's DiffusionWrapper). */
export const ORIGINAL_PREFIX = "model.diffusion_model.";
/** A weight every U-Net has, in diffusers' names and in the original ones. */
const DIFFUSERS_PROBE = "conv_in.weight";
const ORIGINAL_PROBE = "input_blocks.0.0.weight";

/**
 * The weights file of a diffusers `unet/` folder (the first of {@link UNET_WEIGHTS} there).
 *
 * @example
 * ```ts
 * import { folderWeights } from "./_weights.ts";
 * await folderWeights("sd15/unet"); // "sd15/unet/diffusion_pytorch_model.safetensors"
 * ```
 */
export async function folderWeights(dir: string): Promise<string> {
  for (const name of UNET_WEIGHTS) {
    const p = `${dir.replace(/\/+$/, "")}/${name}`;
    if (await Deno.stat(p).then((s) => s.isFile, () => false)) return p;
  }
  const sharded = await Deno.stat(`${dir}/diffusion_pytorch_model.safetensors.index.json`)
    .then(() => true, () => false);
  throw new CheckpointError(
    dir,
    sharded
      ? "sharded U-Net weights (an index.json) are not supported; merge the shards into one file"
      : `no U-Net weights: expected one of ${UNET_WEIGHTS.join(", ")}`,
  );
}

/**
 * The tensors of a weights file (a Lightning `.ckpt`'s `state_dict`, a flat `.bin` or a
 * safetensors file).
 *
 * @example
 * ```ts
 * import { readWeights } from "./_weights.ts";
 * const tensors = await readWeights("v1-5-pruned-emaonly.safetensors");
 * ```
 */
export async function readWeights(file: string): Promise<Map<string, Tensor>> {
  const ckpt = await loadCheckpoint(file, {
    prefer: ["state_dict"],
    allowGlobals: LIGHTNING_GLOBALS,
  });
  return ckpt.tensors;
}

/**
 * How a file names the U-Net's weights: `diffusers` or `original`, behind `prefix` (given, or
 * `model.diffusion_model.` when the file has such keys, else none). Throws naming the file,
 * the keys looked for and, when recognisable, what the file holds instead.
 *
 * @example
 * ```ts
 * import { detectLayout } from "./_weights.ts";
 * detectLayout(new Map([["conv_in.weight", { dtype: "F32", shape: [1], data: new Float32Array(1) }]]), "u.safetensors");
 * // { layout: "diffusers", prefix: "" }
 * ```
 */
export function detectLayout(
  tensors: Map<string, Tensor>,
  file: string,
  prefix?: string,
): { layout: "diffusers" | "original"; prefix: string } {
  const keys = [...tensors.keys()];
  const p = prefix ?? (keys.some((k) => k.startsWith(ORIGINAL_PREFIX)) ? ORIGINAL_PREFIX : "");
  if (tensors.has(p + DIFFUSERS_PROBE)) return { layout: "diffusers", prefix: p };
  if (tensors.has(p + ORIGINAL_PROBE)) return { layout: "original", prefix: p };
  throw new CheckpointError(
    file,
    `neither key '${p}${DIFFUSERS_PROBE}' (diffusers UNet2DConditionModel) nor ` +
      `'${p}${ORIGINAL_PROBE}' (original UNetModel) found: not a Stable Diffusion U-Net` +
      otherModel(keys),
  );
}

/** What a file that is not a U-Net looks like, from its keys ("" when unrecognised). */
function otherModel(keys: string[]): string {
  const has = (k: string) => keys.includes(k);
  const starts = (p: string) => keys.some((k) => k.startsWith(p));
  if (starts(ORIGINAL_PREFIX)) return `; it has keys under '${ORIGINAL_PREFIX}': use that prefix`;
  if (has("x_embedder.proj.weight") || has("pos_embed")) return "; it looks like a DiT checkpoint";
  if (has("cond_stage_model.embedding.weight")) {
    return "; it looks like a class-conditional LDM checkpoint (give it to --ldm)";
  }
  if (starts("encoder.conv_in.") || starts("decoder.conv_in.") || starts("first_stage_model.")) {
    return "; it looks like a VAE (AutoencoderKL), e.g. the vae/ folder";
  }
  if (starts("text_model.")) return "; it looks like a CLIP text encoder (text_encoder/)";
  return "";
}

/**
 * Frees the memory of a file's tensors now (detaching their buffers) and empties the map, once
 * the store holds its own float32 copies: without it the file's bytes (SD 1.5: 1.7 GB in fp16,
 * 3.4 GB in fp32) would stay until the next full garbage collection, beside the session's copy.
 *
 * @example
 * ```ts
 * import { freeTensors } from "./_weights.ts";
 * const m = new Map([["w", { dtype: "F32" as const, shape: [2], data: new Float32Array(2) }]]);
 * freeTensors(m); // m.size === 0
 * ```
 */
export function freeTensors(tensors: Map<string, Tensor>): void {
  const buffers = new Set<ArrayBuffer>();
  for (const t of tensors.values()) {
    if (t.data.buffer instanceof ArrayBuffer) buffers.add(t.data.buffer);
  }
  tensors.clear();
  for (const b of buffers) if (!b.detached) b.transfer(0);
}
