/**
 * Codec and denoiser choice shared by the pipeline commands:
 * - cpu scale: `--unet weights/cpu_unet.safetensors` (the toolkit's model; its file names the
 *   TAEF2 image size and latent normalisation, so the codec follows from it);
 * - paper scale: `--dit DiT-XL-2-256x256.pt --dit-config DiT-XL/2 --vae sd-vae-ft-mse/`;
 * - a raw codec for encoding training data: `--taef2 DIR --image-size 64` or `--vae DIR`.
 *
 * @module
 */
import type { Flag, FlagValues } from "./command.ts";
import { UsageError } from "./command.ts";
import { intFlag } from "./_flags.ts";
import { loadCpuModel } from "../models/nets/unet/cpu_model.ts";
import { taef2Codec } from "../models/codecs/taesd.ts";
import { sdVaeCodec } from "../models/codecs/sd_vae_codec.ts";
import { unetDenoiser } from "../models/nets/unet/denoiser.ts";
import { DiT, ditConfig, ditDenoiser } from "../models/nets/dit/mod.ts";
import type { ModelCodec } from "../models/codecs/batch_codec.ts";
import type { Denoiser } from "../models/diffusion/denoiser.ts";

/** The TAEF2 weights shipped with the toolkit (MIT, see weights/taef2/LICENSE). */
export const SHIPPED_TAEF2 = new URL("../weights/taef2", import.meta.url).pathname;

/** Flags that choose the codec. */
export const CODEC_FLAGS: Record<string, Flag> = {
  unet: {
    type: "string",
    description: "cpu-scale model file (sets TAEF2, image size and latent normalisation)",
  },
  vae: { type: "string", description: "SD-VAE (AutoencoderKL) diffusers folder, paper scale" },
  taef2: {
    type: "string",
    description: `TAEF2 weights folder for raw latents (default ${SHIPPED_TAEF2})`,
  },
  "image-size": { type: "string", description: "image side in pixels (256 for SD-VAE + DiT-XL/2)" },
  threads: { type: "string", description: "onnxruntime threads per op (default: one per core)" },
};

/** Flags that choose the denoiser (plus the codec flags). */
export const MODEL_FLAGS: Record<string, Flag> = {
  ...CODEC_FLAGS,
  dit: {
    type: "string",
    description: "DiT checkpoint (.pt or .safetensors; 'ema' entry used if present)",
  },
  "dit-config": { type: "string", default: "DiT-XL/2", description: "DiT architecture name" },
  "num-classes": {
    type: "string",
    default: "1000",
    description: "DiT classes (ImageNet-1K: 1000)",
  },
};

function threads(v: FlagValues): number | undefined {
  return v.threads === undefined ? undefined : intFlag("threads", v.threads as string, 1);
}

/**
 * The codec the flags choose.
 *
 * @example
 * ```ts
 * import { loadCodec } from "./_models.ts";
 * const codec = await loadCodec({ unet: "weights/cpu_unet.safetensors" });
 * ```
 */
export async function loadCodec(v: FlagValues): Promise<ModelCodec> {
  const chosen = ["unet", "vae", "taef2"].filter((k) => v[k] !== undefined);
  if (chosen.length > 1) {
    throw new UsageError(
      `Give one of --unet, --vae, --taef2 (got ${chosen.map((c) => `--${c}`).join(", ")})`,
    );
  }
  if (v.unet !== undefined) {
    const { info } = await loadCpuModel(v.unet as string);
    return await taef2Codec({
      imageSize: info.imageSize,
      weightsDir: SHIPPED_TAEF2,
      normalisation: info.normalisation,
      threads: threads(v),
    });
  }
  if (v["image-size"] === undefined) {
    throw new UsageError("--image-size is required with --vae or --taef2");
  }
  const imageSize = intFlag("image-size", v["image-size"] as string, 8);
  if (v.vae !== undefined) {
    return await sdVaeCodec({ weights: v.vae as string, imageSize, threads: threads(v) });
  }
  return await taef2Codec({
    imageSize,
    weightsDir: (v.taef2 as string | undefined) ?? SHIPPED_TAEF2,
    threads: threads(v),
  });
}

/**
 * The denoiser the flags choose: `--unet` (cpu scale) or `--dit` (paper scale).
 *
 * @example
 * ```ts
 * import { loadDenoiser } from "./_models.ts";
 * const { denoiser, id } = await loadDenoiser({ unet: "weights/cpu_unet.safetensors" });
 * ```
 */
export async function loadDenoiser(
  v: FlagValues,
): Promise<{ denoiser: Denoiser & { release(): Promise<void> }; id: string; cpuScale: boolean }> {
  if (v.unet !== undefined && v.dit !== undefined) {
    throw new UsageError("Give one of --unet or --dit");
  }
  if (v.unet !== undefined) {
    const { weights, info } = await loadCpuModel(v.unet as string);
    const denoiser = unetDenoiser({
      config: info.config,
      weights,
      predictionType: info.predictionType,
      session: { intraOpThreads: threads(v) },
    });
    return { denoiser, id: `unet:${v.unet}`, cpuScale: true };
  }
  if (v.dit === undefined) {
    throw new UsageError(
      "A model is required: --unet FILE (cpu scale) or --dit FILE (paper scale)",
    );
  }
  const overrides: Record<string, number> = {
    numClasses: intFlag("num-classes", v["num-classes"] as string, 1),
  };
  if (v["image-size"] !== undefined) {
    overrides.inputSize = intFlag("image-size", v["image-size"] as string, 8) / 8;
  }
  const config = ditConfig(v["dit-config"] as string, overrides);
  const model = await DiT.load(v.dit as string, config);
  return {
    denoiser: ditDenoiser(model, { session: { intraOpThreads: threads(v) } }),
    id: `dit:${v["dit-config"]}:${v.dit}`,
    cpuScale: false,
  };
}
