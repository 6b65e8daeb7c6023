/**
 * Configuration of the CLIP text encoder as transformers' `CLIPTextModel` holds it (a Stable
 * Diffusion folder's `text_encoder/config.json`), the SD 1.x and SD 2.x values, and
 * {@link readClipTextConfig}, which reads and checks such a file.
 *
 * @module
 */

/**
 * The CLIPTextModel hyper-parameters the graph builder uses (transformers' snake_case keys in
 * camelCase).
 *
 * @example
 * ```ts
 * import { type ClipTextConfig, SD15_TEXT_CONFIG } from "./config.ts";
 * const tiny: ClipTextConfig = { ...SD15_TEXT_CONFIG, hiddenSize: 32, intermediateSize: 128 };
 * ```
 */
export interface ClipTextConfig {
  /** Token table rows (`vocab_size`). */
  vocabSize: number;
  /** Width D of the residual stream (`hidden_size`). */
  hiddenSize: number;
  /** Width of the MLP's fc1 output (`intermediate_size`). */
  intermediateSize: number;
  /** Encoder layers (`num_hidden_layers`). */
  numHiddenLayers: number;
  /** Attention heads; must divide hiddenSize (`num_attention_heads`). */
  numAttentionHeads: number;
  /** Positions, and the fixed sequence length T of the graph (`max_position_embeddings`). */
  maxPositionEmbeddings: number;
  /** MLP activation: x sigmoid(1.702 x) (OpenAI CLIP) or the exact erf GELU (OpenCLIP). */
  hiddenAct: "quick_gelu" | "gelu";
  /** Epsilon of every LayerNorm (`layer_norm_eps`). */
  layerNormEps: number;
}

/**
 * SD 1.x's text encoder: openai/clip-vit-large-patch14's text tower (openai/CLIP@d05afc4
 * `clip/model.py` ViT-L/14: width 768, 12 layers, heads = width / 64, 77 tokens, 49408 BPE
 * tokens, QuickGELU, nn.LayerNorm's eps).
 *
 * @example
 * ```ts
 * import { SD15_TEXT_CONFIG } from "./config.ts";
 * SD15_TEXT_CONFIG.hiddenSize; // 768, the U-Net's context_dim
 * ```
 */
export const SD15_TEXT_CONFIG: Readonly<ClipTextConfig> = Object.freeze({
  vocabSize: 49408,
  hiddenSize: 768,
  intermediateSize: 3072,
  numHiddenLayers: 12,
  numAttentionHeads: 12,
  maxPositionEmbeddings: 77,
  hiddenAct: "quick_gelu",
  layerNormEps: 1e-5,
});

/**
 * SD 2.x's text encoder: OpenCLIP ViT-H-14's text tower (mlfoundations/open_clip
 * `model_configs/ViT-H-14.json`: width 1024, heads 16, 24 layers, mlp_ratio 4, 77 tokens, 49408
 * tokens, nn.GELU) without its last layer, as FrozenOpenCLIPEmbedder's "penultimate" output
 * uses it and diffusers converts it (huggingface/diffusers@58eb52c `convert_from_ckpt.py`:
 * stabilityai/stable-diffusion-2 with `num_hidden_layers == 23`, resblock 23 dropped).
 *
 * @example
 * ```ts
 * import { SD21_TEXT_CONFIG } from "./config.ts";
 * SD21_TEXT_CONFIG.numHiddenLayers; // 23
 * ```
 */
export const SD21_TEXT_CONFIG: Readonly<ClipTextConfig> = Object.freeze({
  vocabSize: 49408,
  hiddenSize: 1024,
  intermediateSize: 4096,
  numHiddenLayers: 23,
  numAttentionHeads: 16,
  maxPositionEmbeddings: 77,
  hiddenAct: "gelu",
  layerNormEps: 1e-5,
});

/** The activations CLIPTextModel configs of SD use (transformers' ACT2FN names). */
export const CLIP_ACTIVATIONS: readonly string[] = ["quick_gelu", "gelu"];

/** Upper bounds past which a size is taken for a corrupt file, not a model. */
const MAX_SIZE = {
  vocab_size: 10_000_000,
  hidden_size: 65_536,
  intermediate_size: 1_048_576,
  num_hidden_layers: 1024,
  num_attention_heads: 1024,
  max_position_embeddings: 65_536,
} as const;

/**
 * Checks a configuration (positive integer sizes within sane bounds, heads dividing the width,
 * a known activation, a small positive epsilon); `source` names it in errors.
 *
 * @example
 * ```ts
 * import { checkClipTextConfig, SD15_TEXT_CONFIG } from "./config.ts";
 * checkClipTextConfig(SD15_TEXT_CONFIG, "SD15_TEXT_CONFIG"); // ok
 * ```
 */
export function checkClipTextConfig(c: ClipTextConfig, source: string): void {
  const sizes: [keyof typeof MAX_SIZE, number][] = [
    ["vocab_size", c.vocabSize],
    ["hidden_size", c.hiddenSize],
    ["intermediate_size", c.intermediateSize],
    ["num_hidden_layers", c.numHiddenLayers],
    ["num_attention_heads", c.numAttentionHeads],
    ["max_position_embeddings", c.maxPositionEmbeddings],
  ];
  for (const [key, v] of sizes) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_SIZE[key]) {
      throw new RangeError(
        `${source}: '${key}' is ${JSON.stringify(v)}, expected an integer in [1, ${MAX_SIZE[key]}]`,
      );
    }
  }
  if (c.hiddenSize % c.numAttentionHeads) {
    throw new RangeError(
      `${source}: 'num_attention_heads' ${c.numAttentionHeads} does not divide ` +
        `'hidden_size' ${c.hiddenSize}`,
    );
  }
  if (!CLIP_ACTIVATIONS.includes(c.hiddenAct)) {
    throw new RangeError(
      `${source}: 'hidden_act' is ${JSON.stringify(c.hiddenAct)}, expected one of ` +
        CLIP_ACTIVATIONS.map((a) => `"${a}"`).join(", "),
    );
  }
  if (!(c.layerNormEps > 0 && c.layerNormEps < 1)) {
    throw new RangeError(
      `${source}: 'layer_norm_eps' is ${
        JSON.stringify(c.layerNormEps)
      }, expected a number in (0, 1)`,
    );
  }
}

/**
 * Reads a transformers `text_encoder/config.json` (CLIPTextModel) and checks it; a missing or
 * mistyped key, an unknown `hidden_act` or an absurd size is an error naming the file and key.
 *
 * @example
 * ```ts
 * import { readClipTextConfig } from "./config.ts";
 * const c = await readClipTextConfig("stable-diffusion-v1-5/text_encoder/config.json");
 * c.hiddenAct; // "quick_gelu"
 * ```
 */
export async function readClipTextConfig(path: string): Promise<ClipTextConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(`Cannot read CLIP text config ${path}: ${(e as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error(`Cannot read CLIP text config ${path}: expected a JSON object`);
  }
  const j = raw as Record<string, unknown>;
  const hint = "text_config" in j && !("hidden_size" in j)
    ? " (this is a full CLIPModel config; give the text_encoder/ folder of a Stable Diffusion model)"
    : "";
  const num = (key: string): number => {
    const v = j[key];
    if (typeof v !== "number") {
      throw new Error(
        `Cannot read CLIP text config ${path}: key '${key}' is ${
          v === undefined ? "missing" : JSON.stringify(v)
        }, expected a number${hint}`,
      );
    }
    return v;
  };
  const act = j.hidden_act;
  if (typeof act !== "string" || !CLIP_ACTIVATIONS.includes(act)) {
    throw new Error(
      `Cannot read CLIP text config ${path}: key 'hidden_act' is ${JSON.stringify(act)}, ` +
        `expected one of ${CLIP_ACTIVATIONS.map((a) => `"${a}"`).join(", ")}${hint}`,
    );
  }
  const c: ClipTextConfig = {
    vocabSize: num("vocab_size"),
    hiddenSize: num("hidden_size"),
    intermediateSize: num("intermediate_size"),
    numHiddenLayers: num("num_hidden_layers"),
    numAttentionHeads: num("num_attention_heads"),
    maxPositionEmbeddings: num("max_position_embeddings"),
    hiddenAct: act as ClipTextConfig["hiddenAct"],
    layerNormEps: num("layer_norm_eps"),
  };
  try {
    checkClipTextConfig(c, path);
  } catch (e) {
    throw new Error(`Cannot read CLIP text config ${(e as Error).message}`);
  }
  return c;
}
