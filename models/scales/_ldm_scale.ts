/**
 * The paper scale with CompVis's class-conditional LDM (cin256-v2): one Lightning `.ckpt`
 * holds the U-Net, the VQ-f4 first stage and the ClassEmbedder, so `--ldm FILE` gives both
 * the codec ({@link vqCodec}) and the denoiser. Sampling settings: LDM's linear betas
 * (0.0015..0.0195, 1000 steps), fixed-small variance (v_posterior = 0), CFG on every latent
 * channel with the null class 1000, and CFG scale 3.0 (an assumption: the paper gives none;
 * 3.0 is the LDM repo's own ImageNet sampling, scripts/latent_imagenet_diffusion.ipynb).
 *
 * @module
 */
import { sha256File, sha256Hex } from "../core/hash.ts";
import { CIN256_V2, LatentDiffusion, type LdmConfig, ldmDenoiser } from "../nets/ldm/mod.ts";
import type { LdmDenoiser } from "../nets/ldm/denoiser.ts";
import { CIN256_V2_VQ, vqCodec, type VqConfig } from "../codecs/vq_codec.ts";
import type { ModelSource, ScaleDenoiser, ScaleFacts } from "./scale.ts";
import type { LoadedParts, ScalePart } from "./_parts.ts";

type LdmSource = Extract<ModelSource, { ldm: string }>;

/** CFG scale of the LDM repo's ImageNet sampling notebook (`scale = 3.0`); the paper gives none. */
export const LDM_CFG_SCALE = 3.0;
const IMAGENET_CLASSES = 1000;

/**
 * An LDM configuration: the LatentDiffusion (U-Net, schedule, classes) and its first stage.
 *
 * @example
 * ```ts
 * import { resolveLdmConfig } from "./_ldm_scale.ts";
 * const c = await resolveLdmConfig("cin256-v2");
 * c.firstStage.nEmbed; // 8192
 * ```
 */
export interface LdmScaleConfig extends LdmConfig {
  /** The VQ first stage. */
  firstStage: VqConfig;
}

/**
 * "cin256-v2" (the default), or a JSON file `{ name?, unet?: {...}, firstStage?: {...},
 * nClasses?, linearStart?, linearEnd?, timesteps?, scaleFactor? }` whose fields (camelCase
 * names of LdmUNetConfig / VqConfig / LdmConfig) override cin256-v2's.
 *
 * @example
 * ```ts
 * import { resolveLdmConfig } from "./_ldm_scale.ts";
 * const tiny = await resolveLdmConfig("tests/fixtures/ldm/ldm_tiny.json");
 * ```
 */
export async function resolveLdmConfig(spec?: string): Promise<LdmScaleConfig> {
  const base: LdmScaleConfig = { ...CIN256_V2, firstStage: CIN256_V2_VQ };
  if (spec === undefined || spec === "" || spec === CIN256_V2.name) return base;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await Deno.readTextFile(spec));
  } catch (e) {
    throw new Error(
      `--ldm-config must be "cin256-v2" or a JSON file of LDM settings; cannot read ${spec}: ` +
        (e as Error).message,
    );
  }
  const obj = (k: string) => (json[k] ?? {}) as Record<string, unknown>;
  return {
    ...base,
    ...json,
    name: String(json.name ?? spec),
    unet: { ...base.unet, ...obj("unet") },
    firstStage: { ...base.firstStage, ...obj("firstStage") },
  } as LdmScaleConfig;
}

/**
 * Loads the LDM paper scale (all of it, or only the codec or the denoiser).
 *
 * @example
 * ```ts
 * import { loadLdmScale } from "./_ldm_scale.ts";
 * const s = await loadLdmScale({ scale: "paper", ldm: "cin256-v2.ckpt" });
 * await s.release();
 * ```
 */
export async function loadLdmScale(src: LdmSource, only?: ScalePart): Promise<LoadedParts> {
  const config = await resolveLdmConfig(src.ldmConfig);
  const f = 2 ** (config.firstStage.chMult.length - 1);
  const imageSize = src.imageSize ?? config.unet.imageSize * f;
  if (imageSize !== config.unet.imageSize * f) {
    throw new RangeError(
      `${config.name}: image size ${imageSize} px does not fit the U-Net: its ` +
        `${config.unet.imageSize}x${config.unet.imageSize} latents x f${f} need ` +
        `${config.unet.imageSize * f} px`,
    );
  }
  const base = facts(src, config);
  const load = () =>
    LatentDiffusion.load(src.ldm, config).then((m) =>
      ldmDenoiser(m, { session: { intraOpThreads: src.threads } })
    );
  if (only === "denoiser") {
    const denoiser = await load();
    return { ...base, denoiser, release: () => denoiser.release() };
  }
  const codec = await vqCodec({
    weights: src.ldm,
    imageSize,
    config: config.firstStage,
    scale: config.scaleFactor,
    threads: src.threads,
  });
  if (only === "codec") return { ...base, codec, release: () => codec.release() };
  let loaded: Promise<LdmDenoiser> | null = null;
  const u = config.unet;
  const denoiser: ScaleDenoiser = {
    latentShape: [u.inChannels, u.imageSize, u.imageSize],
    numClasses: config.nClasses - 1,
    predictionType: "eps",
    learnSigma: false,
    forward: async (x, t, y) => (await (loaded ??= load())).forward(x, t, y),
    release: async () => {
      if (loaded) await loaded.then((d) => d.release(), () => {}); // a failed load holds nothing
    },
  };
  const hash = (await sha256Hex(`${await sha256File(src.ldm)}\n${codec.id}\n${config.name}`))
    .slice(0, 12);
  return {
    ...base,
    codec,
    denoiser,
    hash,
    modelId: `ldm:${config.name}:${hash}`,
    describe: `paper scale: LDM ${config.name} ${src.ldm} with its VQ-f${f} (${codec.id}) at ` +
      `${imageSize} px (latent ${codec.latentShape.join("x")})`,
    release: async () => {
      await denoiser.release();
      await codec.release();
    },
  };
}

function facts(src: LdmSource, c: LdmScaleConfig): Omit<ScaleFacts, "release"> {
  const numClasses = c.nClasses - 1; // the ClassEmbedder's last row is the null class
  return {
    scale: "paper",
    classes: null,
    classIds: numClasses === IMAGENET_CLASSES ? "imagenet" : "label",
    numClasses,
    predictionType: "eps",
    sampling: {
      cfgChannels: "all", // LDM's CFG combines every latent channel
      variance: "fixed_small", // LatentDiffusion v_posterior = 0: the clipped posterior variance
      trainSteps: c.timesteps,
      betas: { kind: "scaled_linear", start: c.linearStart, end: c.linearEnd },
      cfgScale: LDM_CFG_SCALE,
    },
    provenance: { file: src.ldm, arch: `ldm:${c.name}`, training: {} },
  };
}
