/**
 * The SD-VAE codec: a diffusers AutoencoderKL (stabilityai/sd-vae-ft-mse by default) as the
 * pipeline's `Codec` (stages/codec.ts). Encoding keeps the posterior mean (no sampling) times the latent
 * scale (SD_VAE_SCALE = 0.18215, SPEC.md section 1); decoding divides by it first.
 *
 * @module
 */
import { batchCodec, type ModelCodec } from "./batch_codec.ts";
import { fileHashPrefix } from "../core/hash.ts";
import { StateDict } from "../graph/weights.ts";
import {
  type AutoencoderKlConfig,
  autoencoderKlDecoder,
  autoencoderKlEncoder,
  SD_VAE_CONFIG,
  SD_VAE_SCALE,
} from "./autoencoder_kl.ts";
import { Graph } from "../graph/graph.ts";
import { mul } from "../graph/ops/elementwise.ts";
import type { SessionOptions } from "../graph/session.ts";

export type { ModelCodec };

/**
 * Options of {@link sdVaeCodec}.
 *
 * @example
 * ```ts
 * import type { SdVaeCodecOptions } from "./sd_vae_codec.ts";
 * const o: SdVaeCodecOptions = { weights: "weights/sd-vae-ft-mse", imageSize: 256, threads: 2 };
 * ```
 */
export interface SdVaeCodecOptions {
  /** A diffusers model folder (`diffusion_pytorch_model.safetensors` or `.bin`) or file. */
  weights: string;
  /** Side length S of the images (a multiple of the downsampling factor, 8 for SD). */
  imageSize: number;
  /**
   * Architecture. Default: the folder's `config.json` when there is one, else
   * {@link SD_VAE_CONFIG} (sd-vae-ft-mse).
   */
  config?: AutoencoderKlConfig;
  /** Latent scale (default {@link SD_VAE_SCALE} = 0.18215, SPEC.md section 1). */
  scale?: number;
  /** onnxruntime intra-op threads (default: one per core). */
  threads?: number;
  /** Further session options (graph optimisation level, providers). */
  session?: SessionOptions;
}

/**
 * Reads the architecture fields of a diffusers AutoencoderKL `config.json`; throws naming the
 * field when the model is not a plain AutoencoderKL (other block types, activations).
 *
 * @example
 * ```ts
 * import { autoencoderKlConfigFromJson } from "./sd_vae_codec.ts";
 * const cfg = autoencoderKlConfigFromJson(
 *   JSON.parse(await Deno.readTextFile("sd-vae-ft-mse/config.json")),
 * );
 * ```
 */
export function autoencoderKlConfigFromJson(json: Record<string, unknown>): AutoencoderKlConfig {
  const int = (k: string, dflt?: number) => {
    const v = json[k] ?? dflt;
    if (!Number.isInteger(v)) {
      throw new TypeError(`AutoencoderKL config: '${k}' must be an integer`);
    }
    return v as number;
  };
  const chans = json.block_out_channels ?? [64];
  if (!Array.isArray(chans) || !chans.every(Number.isInteger)) {
    throw new TypeError("AutoencoderKL config: 'block_out_channels' must be a list of integers");
  }
  const only = (k: string, want: string, n: number) => {
    const v = json[k] ?? Array(n).fill(want);
    if (!Array.isArray(v) || v.length !== n || v.some((t) => t !== want)) {
      throw new RangeError(
        `AutoencoderKL config: '${k}' must be ${n} x "${want}", got ${JSON.stringify(v)}`,
      );
    }
  };
  only("down_block_types", "DownEncoderBlock2D", chans.length);
  only("up_block_types", "UpDecoderBlock2D", chans.length);
  if ((json.act_fn ?? "silu") !== "silu") {
    throw new RangeError(`AutoencoderKL config: act_fn '${json.act_fn}' is not supported (silu)`);
  }
  return {
    inChannels: int("in_channels", 3),
    outChannels: int("out_channels", 3),
    blockOutChannels: chans,
    layersPerBlock: int("layers_per_block", 1),
    latentChannels: int("latent_channels", 4),
    normNumGroups: int("norm_num_groups", 32),
    midBlockAddAttention: json.mid_block_add_attention !== false,
  };
}

/**
 * The SD-VAE codec: images [N, 3, S, S] in [-1, 1] -> `posterior mean * scale`
 * [N, 4, S/8, S/8] and back. Every weight is checked when the codec is made (present, right
 * shape, no unexpected key); sessions are built on first use for each batch size. `id`
 * names the weights file (SHA-256 prefix), architecture, image size and scale.
 *
 * @example
 * ```ts
 * import { sdVaeCodec } from "./sd_vae_codec.ts";
 * const codec = await sdVaeCodec({ weights: "weights/sd-vae-ft-mse", imageSize: 256 });
 * const z = await codec.encode(new Float32Array(3 * 256 * 256), 1); // [1, 4, 32, 32]
 * const x = await codec.decode(z, 1); // [1, 3, 256, 256]
 * await codec.release();
 * ```
 */
export async function sdVaeCodec(o: SdVaeCodecOptions): Promise<ModelCodec> {
  const sd = await StateDict.load(o.weights);
  const cfg = o.config ?? await folderConfig(o.weights) ?? SD_VAE_CONFIG;
  const scale = o.scale ?? SD_VAE_SCALE;
  if (!(Number.isFinite(scale) && scale > 0)) {
    throw new RangeError(`sdVaeCodec: scale must be positive, got ${scale}`);
  }
  const S = o.imageSize;
  const f = 2 ** (cfg.blockOutChannels.length - 1);
  if (!Number.isInteger(S) || S < f || S % f) {
    throw new RangeError(`sdVaeCodec: imageSize must be a positive multiple of ${f}, got ${S}`);
  }
  const h = S / f;
  const C = cfg.latentChannels;
  const buildEncoder = (n: number) => {
    const g = new Graph();
    const { mean } = autoencoderKlEncoder(g.input("images", [n, cfg.inChannels, S, S]), sd, cfg);
    g.output(mul(mean, scale), "latents"); // [n, C, h, h]
    return g.toModel({ paramsAs: "initializers" });
  };
  const buildDecoder = (n: number) => {
    const g = new Graph();
    const z = mul(g.input("latents", [n, C, h, h]), 1 / scale);
    g.output(autoencoderKlDecoder(z, sd, cfg), "images"); // [n, 3, S, S]
    return g.toModel({ paramsAs: "initializers" });
  };
  buildEncoder(1); // checks every key now, not at the first batch
  buildDecoder(1);
  sd.assertAllUsed("AutoencoderKL");
  const hash = await fileHashPrefix(sd.path);
  const arch = cfg === SD_VAE_CONFIG
    ? "sd"
    : `${cfg.blockOutChannels.join("-")}x${cfg.layersPerBlock},z${C},g${cfg.normNumGroups}`;
  return batchCodec({
    id: `sd-vae(${hash},arch=${arch},size=${S},scale=${scale})`,
    imageSize: S,
    imageChannels: cfg.inChannels,
    latentShape: [C, h, h],
    encoder: buildEncoder,
    decoder: buildDecoder,
    threads: o.threads,
    session: o.session,
  });
}

/** The AutoencoderKL config.json beside the weights, or null when there is none. */
async function folderConfig(weights: string): Promise<AutoencoderKlConfig | null> {
  const isDir = await Deno.stat(weights).then((s) => s.isDirectory, () => false);
  if (!isDir) return null;
  const path = `${weights.replace(/\/+$/, "")}/config.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return null;
  }
  try {
    return autoencoderKlConfigFromJson(JSON.parse(text));
  } catch (e) {
    throw new Error(`Cannot read ${path}: ${(e as Error).message}`);
  }
}
