/**
 * Codec and denoiser choice shared by the pipeline commands, turned into a models/scales
 * source (the scale, not the command, knows which codec, class ids and sampling settings go
 * with a model):
 * - cpu scale: `--unet weights/cpu_unet.safetensors` (the toolkit's model; its file names the
 *   TAEF2 image size and latent normalisation, so the codec follows from it);
 * - paper scale: `--dit DiT-XL-2-256x256.pt --dit-config DiT-XL/2 --vae sd-vae-ft-mse/`;
 * - paper scale with CompVis's LDM: `--ldm cin256-v2.ckpt [--ldm-config cin256-v2|FILE.json]`
 * - paper scale with Stable Diffusion: `--sd stable-diffusion-v1-5/ [--prompt-template "a photo of a {}"]
 *   [--prompts FILE.json]` (the folder's vae/ is the codec);
 *   (the checkpoint holds the VQ-f4 codec too);
 * - a raw codec for encoding training data: `--taef2 DIR --image-size 64` or `--vae DIR`.
 *
 * @module
 */
import type { Flag, FlagValues } from "./command.ts";
import { UsageError } from "./command.ts";
import { intFlag } from "./_flags.ts";
import {
  loadCodec,
  loadScale,
  type ScaleWithCodec,
  type ScaleWithDenoiser,
  SHIPPED_TAEF2,
} from "../models/scales/mod.ts";
import type { ModelCodec } from "../models/codecs/batch_codec.ts";

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
  ldm: {
    type: "string",
    description:
      "CompVis class-conditional LDM checkpoint (cin256-v2.ckpt; its VQ-f4 first stage is the codec). " +
      "Assumptions the paper does not state: CFG scale 3.0 (LDM repo's ImageNet sampling), 50 DDPM steps as DiT",
  },
  "ldm-config": {
    type: "string",
    description:
      'LDM settings: "cin256-v2" (default) or a JSON file (unet, firstStage, nClasses, ...)',
  },
  sd: {
    type: "string",
    description:
      "Stable Diffusion 1.x/2.x diffusers folder (text-to-image, Fig. 4 (a)-(c)): its vae/ is the codec, " +
      "its unet/ with the class-name prompts the denoiser (DDIM, Algorithm 1). Assumption the paper does not " +
      "state: CFG scale 7.5 (diffusers' default)",
  },
  prompts: {
    type: "string",
    description:
      "with --sd: JSON file {class folder name: prompt text} (default: ImageNet class names of the wnids)",
  },
  "prompt-template": {
    type: "string",
    description: 'with --sd: text around each class name, e.g. "a photo of a {}" (default "{}")',
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

/** The LDM paper-scale source of `--ldm`, `--ldm-config`, `--image-size`, `--threads`. */
function ldmSource(v: FlagValues) {
  return {
    scale: "paper" as const,
    ldm: v.ldm as string,
    ldmConfig: v["ldm-config"] as string | undefined,
    imageSize: v["image-size"] === undefined
      ? undefined
      : intFlag("image-size", v["image-size"] as string, 8),
    threads: threads(v),
  };
}

/** The Stable Diffusion source of `--sd`, `--prompts`, `--prompt-template`, `--image-size`. */
function sdSource(v: FlagValues) {
  return {
    scale: "paper" as const,
    sd: v.sd as string,
    prompts: v.prompts as string | undefined,
    promptTemplate: v["prompt-template"] as string | undefined,
    imageSize: v["image-size"] === undefined
      ? undefined
      : intFlag("image-size", v["image-size"] as string, 8),
    threads: threads(v),
  };
}

/** Refuses the text-to-image flags without --sd. */
function checkSdFlags(v: FlagValues): void {
  for (const k of ["prompts", "prompt-template"]) {
    if (v[k] !== undefined && v.sd === undefined) {
      throw new UsageError(`--${k} goes with --sd (a Stable Diffusion folder)`);
    }
  }
}

function threads(v: FlagValues): number | undefined {
  return v.threads === undefined ? undefined : intFlag("threads", v.threads as string, 1);
}

/**
 * The codec the flags choose: the cpu scale's (`--unet`, with the scale behind it for its
 * class ids) or a raw one (`--vae`, `--taef2`).
 *
 * @example
 * ```ts
 * import { loadFlagCodec } from "./_models.ts";
 * const { codec, scale, release } = await loadFlagCodec({ unet: "weights/cpu_unet.safetensors" });
 * await release();
 * ```
 */
export async function loadFlagCodec(
  v: FlagValues,
): Promise<{ codec: ModelCodec; scale: ScaleWithCodec | null; release(): Promise<void> }> {
  const chosen = ["unet", "ldm", "sd", "vae", "taef2"].filter((k) => v[k] !== undefined);
  if (chosen.length > 1) {
    throw new UsageError(
      `Give one of --unet, --ldm, --sd, --vae, --taef2 (got ${
        chosen.map((c) => `--${c}`).join(", ")
      })`,
    );
  }
  checkSdFlags(v);
  if (v.sd !== undefined) {
    const scale = await loadScale(sdSource(v), { only: "codec" });
    return { codec: scale.codec, scale, release: () => scale.release() };
  }
  if (v.ldm !== undefined) {
    const scale = await loadScale(ldmSource(v), { only: "codec" });
    return { codec: scale.codec, scale, release: () => scale.release() };
  }
  if (v.unet !== undefined) {
    const scale = await loadScale(
      { scale: "cpu", model: v.unet as string, threads: threads(v) },
      { only: "codec" },
    );
    return { codec: scale.codec, scale, release: () => scale.release() };
  }
  if (v["image-size"] === undefined) {
    throw new UsageError("--image-size is required with --vae or --taef2");
  }
  const imageSize = intFlag("image-size", v["image-size"] as string, 8);
  const codec = v.vae !== undefined
    ? await loadCodec({ codec: "sd-vae", weights: v.vae as string, imageSize, threads: threads(v) })
    : await loadCodec({
      codec: "taef2",
      imageSize,
      weightsDir: v.taef2 as string | undefined,
      threads: threads(v),
    });
  return { codec, scale: null, release: () => codec.release() };
}

/**
 * The scale the flags choose, loaded for its denoiser: `--unet` (cpu scale) or `--dit`
 * (paper scale); `id` names it in sample provenance as the command line always has
 * (`unet:<file>`, `dit:<config>:<file>`).
 *
 * @example
 * ```ts
 * import { loadFlagDenoiser } from "./_models.ts";
 * const { scale, id } = await loadFlagDenoiser({ unet: "weights/cpu_unet.safetensors" });
 * scale.sampling.cfgChannels; // "all"
 * await scale.release();
 * ```
 */
export async function loadFlagDenoiser(
  v: FlagValues,
): Promise<{ scale: ScaleWithDenoiser; id: string }> {
  const chosen = ["unet", "dit", "ldm", "sd"].filter((k) => v[k] !== undefined);
  if (chosen.length > 1) {
    throw new UsageError(
      `Give one of --unet, --dit, --ldm, --sd (got ${chosen.map((c) => `--${c}`).join(", ")})`,
    );
  }
  checkSdFlags(v);
  if (v.sd !== undefined) {
    const scale = await loadScale(sdSource(v), { only: "denoiser" });
    return { scale, id: `sd:${v.sd}:${v["prompt-template"] ?? "{}"}:${v.prompts ?? "imagenet"}` };
  }
  if (v.ldm !== undefined) {
    const scale = await loadScale(ldmSource(v), { only: "denoiser" });
    return { scale, id: `ldm:${v["ldm-config"] ?? "cin256-v2"}:${v.ldm}` };
  }
  if (v.unet !== undefined) {
    const scale = await loadScale(
      { scale: "cpu", model: v.unet as string, threads: threads(v) },
      { only: "denoiser" },
    );
    return { scale, id: `unet:${v.unet}` };
  }
  if (v.dit === undefined) {
    throw new UsageError(
      "A model is required: --unet FILE (cpu scale), --dit FILE, --ldm FILE or --sd DIR (paper scale)",
    );
  }
  const numClasses = intFlag("num-classes", v["num-classes"] as string, 1);
  const imageSize = v["image-size"] === undefined
    ? undefined
    : intFlag("image-size", v["image-size"] as string, 8);
  const scale = await loadScale({
    scale: "paper",
    dit: v.dit as string,
    ditConfig: v["dit-config"] as string,
    numClasses,
    imageSize,
    threads: threads(v),
  }, { only: "denoiser" });
  return { scale, id: `dit:${v["dit-config"]}:${v.dit}` };
}
