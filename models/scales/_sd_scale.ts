/**
 * The paper scale with text-to-image Stable Diffusion (Fig. 4 (a)-(c)): a diffusers folder
 * (`--sd DIR`) gives the codec (its `vae/`, latent scale from `vae/config.json`) and the
 * denoiser (its `unet/`, with the `tokenizer/` and `text_encoder/` turning each class's prompt
 * into the cross-attention context). Classes are ImageNet wnids whose prompt is the class name
 * ("we use the class names as a text prompt", section 5), or the keys of a `--prompts` JSON
 * file; `--prompt-template` wraps each name ("a photo of a {}"). Sampling follows the folder's
 * scheduler config with DDIM (Algorithm 1); CFG scale 7.5 is an assumption (diffusers'
 * StableDiffusionPipeline default; the paper gives none; D4M uses 8).
 *
 * @module
 */
import { join } from "node:path";
import { sha256File, sha256Hex } from "../core/hash.ts";
import { ClipTokenizer } from "../text/clip_tokenizer.ts";
import { classPrompts, IMAGENET_CLASS_NAMES, imagenetClassName } from "../text/prompts.ts";
import { ClipTextEncoder } from "../nets/clip/text_encoder.ts";
import { SdUNet } from "../nets/sd/unet.ts";
import { readJsonObject, readSdFolder, type SdFolder } from "../nets/sd/folder.ts";
import { promptEncoder, type SdDenoiser, sdDenoiser } from "../nets/sd/denoiser.ts";
import { sdVaeCodec } from "../codecs/sd_vae_codec.ts";
import type { ModelSource, ScaleDenoiser, ScaleFacts } from "./scale.ts";
import type { LoadedParts, ScalePart } from "./_parts.ts";

type SdSource = Extract<ModelSource, { sd: string }>;

/** diffusers StableDiffusionPipeline's default `guidance_scale`; the paper states none for SD. */
export const SD_CFG_SCALE = 7.5;

/**
 * The class list and prompts of a Stable Diffusion scale: every ImageNet-1K wnid with its class
 * name, or the `prompts` file's classes and texts; each wrapped by the template.
 *
 * @example
 * ```ts
 * import { sdClassPrompts } from "./_sd_scale.ts";
 * const { classes, prompts } = await sdClassPrompts(undefined, "a photo of a {}");
 * prompts[classes.indexOf("n01440764")]; // "a photo of a tench"
 * ```
 */
export async function sdClassPrompts(
  promptsFile: string | undefined,
  template = "{}",
): Promise<{ classes: string[]; prompts: string[] }> {
  if (promptsFile === undefined) {
    const classes = Object.keys(IMAGENET_CLASS_NAMES);
    return { classes, prompts: classPrompts(classes.map(imagenetClassName), template) };
  }
  const json = await readJsonObject(promptsFile);
  const classes = Object.keys(json);
  const bad = classes.find((k) => typeof json[k] !== "string" || !(json[k] as string).trim());
  if (!classes.length || bad !== undefined) {
    throw new TypeError(
      `${promptsFile}: --prompts must map each class folder name to a non-empty prompt ` +
        `text ({"n01440764": "tench", ...})` + (bad !== undefined ? `; '${bad}' is not` : ""),
    );
  }
  return { classes, prompts: classPrompts(classes.map((k) => json[k] as string), template) };
}

/**
 * Loads the Stable Diffusion paper scale (all of it, or only the codec or the denoiser).
 *
 * @example
 * ```ts
 * import { loadSdScale } from "./_sd_scale.ts";
 * const s = await loadSdScale({ scale: "paper", sd: "stable-diffusion-v1-5" });
 * await s.release();
 * ```
 */
export async function loadSdScale(src: SdSource, only?: ScalePart): Promise<LoadedParts> {
  const folder = await readSdFolder(src.sd);
  const unetConfig = await readJsonObject(join(folder.paths.unet, "config.json"));
  const sampleSize = unetConfig.sample_size;
  const levels = folder.vaeLevels; // read from vae/config.json by readSdFolder
  if (!Number.isInteger(sampleSize) || levels === null) {
    throw new RangeError(
      `${folder.paths.unet}/config.json sample_size and ${folder.paths.vae}/config.json ` +
        `block_out_channels are needed to know the image size; give --image-size`,
    );
  }
  const f = 2 ** (levels - 1);
  const imageSize = src.imageSize ?? (sampleSize as number) * f;
  if (!(Number.isInteger(imageSize) && imageSize >= f && imageSize % f === 0)) {
    throw new RangeError(
      `Stable Diffusion: --image-size must be a multiple of ${f}, got ${imageSize}`,
    );
  }
  const latent = imageSize / f;
  const { classes, prompts } = await sdClassPrompts(src.prompts, src.promptTemplate);
  const base = facts(src, folder, classes);
  const load = async (): Promise<SdDenoiser> => {
    const session = { intraOpThreads: src.threads };
    const [unet, tokenizer, text] = await Promise.all([
      SdUNet.load(folder.paths.unet),
      ClipTokenizer.load(folder.paths.tokenizer),
      ClipTextEncoder.load(folder.paths.text_encoder, { session }),
    ]);
    return sdDenoiser(unet, promptEncoder(tokenizer, text), {
      prompts,
      predictionType: folder.scheduler.predictionType,
      latentSize: latent,
      session,
      releaseWeights: true, // this scale owns the U-Net: the session keeps the only copy
    });
  };
  let loaded: Promise<SdDenoiser> | null = null;
  const C = Number(unetConfig.in_channels ?? 4);
  const denoiser: ScaleDenoiser = {
    latentShape: [C, latent, latent],
    numClasses: classes.length,
    predictionType: folder.scheduler.predictionType,
    learnSigma: false,
    forward: async (x, t, y) => (await (loaded ??= load())).forward(x, t, y),
    release: async () => {
      if (loaded) await loaded.then((d) => d.release(), () => {}); // a failed load holds nothing
    },
  };
  if (only === "denoiser") return { ...base, denoiser, release: () => denoiser.release() };
  const codec = await sdVaeCodec({
    weights: folder.paths.vae,
    imageSize,
    scale: folder.scalingFactor,
    threads: src.threads,
  });
  if (only === "codec") return { ...base, codec, release: () => codec.release() };
  const hash = (await sha256Hex(
    [await folderDigest(folder), codec.id, src.promptTemplate ?? "{}", prompts.join("\n")]
      .join("\n"),
  )).slice(0, 12);
  return {
    ...base,
    codec,
    denoiser,
    hash,
    modelId: `sd:${hash}`,
    describe: `paper scale: Stable Diffusion ${src.sd} (${folder.pipeline}, ` +
      `${folder.scheduler.predictionType}-prediction) at ${imageSize} px ` +
      `(latent ${codec.latentShape.join("x")}), ${classes.length} class prompts`,
    release: async () => {
      await denoiser.release();
      await codec.release();
    },
  };
}

/** SHA-256 over every file of the unet, text encoder, tokenizer and scheduler folders. */
async function folderDigest(folder: SdFolder): Promise<string> {
  const lines: string[] = [];
  for (const part of ["unet", "text_encoder", "tokenizer", "scheduler"] as const) {
    const dir = folder.paths[part];
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) if (e.isFile) names.push(e.name);
    for (const n of names.sort()) lines.push(`${part}/${n} ${await sha256File(join(dir, n))}`);
  }
  return await sha256Hex(lines.join("\n"));
}

function facts(src: SdSource, folder: SdFolder, classes: string[]): Omit<ScaleFacts, "release"> {
  const s = folder.scheduler;
  return {
    scale: "paper",
    classes,
    classIds: classes,
    numClasses: classes.length,
    predictionType: s.predictionType,
    sampling: {
      cfgChannels: "all", // diffusers' CFG combines every latent channel
      variance: "fixed_small", // DDPM only; SD samples with DDIM (Algorithm 1)
      trainSteps: s.trainSteps,
      betas: s.betas,
      timesteps: s.timesteps,
      method: "ddim",
      cfgScale: SD_CFG_SCALE,
      batchSize: 1, // a CFG batch of 2 keeps SD 1.5 at 512 px under 8 GB (README)
    },
    provenance: { file: src.sd, arch: `sd:${folder.pipeline}`, training: {} },
  };
}
