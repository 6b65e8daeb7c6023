/**
 * AutoencoderKL (the Stable Diffusion VAE) as ONNX graphs, in the diffusers layout of
 * stabilityai/sd-vae-ft-mse / sd-vae-ft-ema. Architecture adapted from huggingface/diffusers
 * v0.25.0 (`models/autoencoders/vae.py` Encoder/Decoder, `unet_2d_blocks.py`
 * DownEncoderBlock2D/UpDecoderBlock2D/UNetMidBlock2D, `resnet.py` ResnetBlock2D,
 * `downsampling.py`/`upsampling.py`, `attention_processor.py` Attention):
 *
 * - encoder: conv_in, down blocks (`layersPerBlock` ResnetBlock2D each, then a stride-2 conv
 *   after zero-padding right/bottom by one, except in the last block), mid block (resnet,
 *   single-head self-attention with a residual, resnet), GroupNorm, SiLU, conv_out to
 *   2 x latent channels; then quant_conv (1x1) gives the posterior mean and log-variance;
 * - decoder: post_quant_conv (1x1), conv_in, mid block, up blocks (`layersPerBlock + 1`
 *   resnets, then nearest x2 and a conv, except in the last block), GroupNorm, SiLU, conv_out.
 * GroupNorm eps 1e-6 everywhere (diffusers passes `resnet_eps=1e-6`).
 *
 * Attention weights are read under the current names (`attentions.0.to_q/to_k/to_v/to_out.0`)
 * or the older ones (`query/key/value/proj_attn`) that diffusers converts when it loads
 * early checkpoints; each may be stored as a linear [C, C] or 1x1 conv [C, C, 1, 1] weight.
 *
 * @module
 */
import type { StateDict } from "../graph/weights.ts";
import type { Graph, Value } from "../graph/graph.ts";
import { silu, softmax } from "../graph/ops/activation.ts";
import { conv, matmul } from "../graph/ops/conv.ts";
import { add, exp, mul } from "../graph/ops/elementwise.ts";
import { groupNorm } from "../graph/ops/norm.ts";
import { upsampleNearest } from "../graph/ops/pool.ts";
import { pad, permute, reshape, split } from "../graph/ops/shape.ts";

/**
 * Architecture of an AutoencoderKL (diffusers `config.json` fields in camelCase).
 *
 * @example
 * ```ts
 * import type { AutoencoderKlConfig } from "./autoencoder_kl.ts";
 * const tiny: AutoencoderKlConfig = {
 *   inChannels: 3, outChannels: 3, blockOutChannels: [32, 64], layersPerBlock: 1,
 *   latentChannels: 4, normNumGroups: 8, midBlockAddAttention: true,
 * };
 * ```
 */
export interface AutoencoderKlConfig {
  /** Image channels the encoder takes (3 in SD_VAE_CONFIG). */
  inChannels: number;
  /** Image channels the decoder returns (3 in SD_VAE_CONFIG). */
  outChannels: number;
  /** Channels of each resolution level; the latent is 2^(levels - 1) times smaller. */
  blockOutChannels: readonly number[];
  /** ResnetBlock2Ds per encoder level (the decoder has one more). */
  layersPerBlock: number;
  /** Latent channels (4 in SD_VAE_CONFIG). */
  latentChannels: number;
  /** GroupNorm groups (every channel count must divide by it). */
  normNumGroups: number;
  /** Whether the mid blocks have their self-attention layer (diffusers default true). */
  midBlockAddAttention: boolean;
}

/**
 * stabilityai/sd-vae-ft-mse's config.json (also sd-vae-ft-ema and SD 1.x's VAE).
 *
 * @example
 * ```ts
 * import { SD_VAE_CONFIG } from "./autoencoder_kl.ts";
 * SD_VAE_CONFIG.blockOutChannels; // [128, 256, 512, 512]
 * ```
 */
export const SD_VAE_CONFIG: Readonly<AutoencoderKlConfig> = Object.freeze({
  inChannels: 3,
  outChannels: 3,
  blockOutChannels: Object.freeze([128, 256, 512, 512]),
  layersPerBlock: 2,
  latentChannels: 4,
  normNumGroups: 32,
  midBlockAddAttention: true,
});

/**
 * Latent scaling of Stable Diffusion's VAE: latents are `posterior mean * 0.18215` so that
 * they have about unit variance. From CompVis/stable-diffusion's v1 configs
 * (`scale_factor: 0.18215`), used as-is by DiT (`sample.py`: `vae.decode(samples / 0.18215)`,
 * `train.py`: `.mul_(0.18215)`) and by MGD3; diffusers calls it `scaling_factor`. SPEC.md 1.
 *
 * @example
 * ```ts
 * import { SD_VAE_SCALE } from "./autoencoder_kl.ts";
 * const latent = 1.5 * SD_VAE_SCALE; // from a posterior mean of 1.5
 * ```
 */
export const SD_VAE_SCALE = 0.18215;

/** diffusers `Encoder`/`Decoder`: `resnet_eps=1e-6` for every GroupNorm. */
const EPS = 1e-6;
/**
 * diffusers' DiagonalGaussianDistribution clamps the log-variance to [-30, 20].
 *
 * @example
 * ```ts
 * import { LOGVAR_RANGE } from "./autoencoder_kl.ts";
 * const [lo, hi] = LOGVAR_RANGE; // -30, 20
 * ```
 */
export const LOGVAR_RANGE: readonly [number, number] = [-30, 20];

/**
 * The posterior of {@link autoencoderKlEncoder}: N(mean, std^2) per latent element.
 *
 * @example
 * ```ts
 * import type { Posterior } from "./autoencoder_kl.ts";
 * const pick = (p: Posterior) => p.mean; // [N, 4, h, w]
 * ```
 */
export interface Posterior {
  /** Mean of the posterior [N, latentChannels, h, w]. */
  mean: Value;
  /** Log-variance clamped to [-30, 20]. */
  logvar: Value;
  /** `exp(0.5 * logvar)`. */
  std: Value;
}

/**
 * Builds encoder + quant_conv on images `x [N, 3, S, S]` in [-1, 1]; returns the posterior
 * (mean, clamped log-variance, std), each `[N, latentChannels, S/f, S/f]`, f = 2^(levels-1).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph/graph.ts";
 * import { StateDict } from "../graph/weights.ts";
 * import { autoencoderKlEncoder, SD_VAE_CONFIG } from "./autoencoder_kl.ts";
 * const sd = await StateDict.load("sd-vae-ft-mse");
 * const g = new Graph();
 * const { mean } = autoencoderKlEncoder(g.input("images", [1, 3, 256, 256]), sd, SD_VAE_CONFIG);
 * g.output(mean, "mean"); // [1, 4, 32, 32]
 * ```
 */
export function autoencoderKlEncoder(x: Value, sd: StateDict, cfg: AutoencoderKlConfig): Posterior {
  const h = autoencoderKlEncoderFeatures(x, sd, cfg, 2 * cfg.latentChannels);
  const moments = conv2d(x.graph, sd, "quant_conv", h, 2 * cfg.latentChannels, 1); // [N, 2C, h, w]
  const [mean, raw] = split(moments, [cfg.latentChannels, cfg.latentChannels], 1);
  const logvar = clip(raw, ...LOGVAR_RANGE);
  return { mean, logvar, std: exp(mul(logvar, 0.5)) };
}

/**
 * The encoder up to its `conv_out` (before quant_conv) on images `x [N, 3, S, S]`, with
 * `outChannels` output channels (2 x latent for the KL posterior; `z_channels` for a VQ model,
 * whose `double_z` is false): `[N, outChannels, S/f, S/f]`.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph/graph.ts";
 * import { StateDict } from "../graph/weights.ts";
 * import { autoencoderKlEncoderFeatures, SD_VAE_CONFIG } from "./autoencoder_kl.ts";
 * const sd = await StateDict.load("sd-vae-ft-mse");
 * const g = new Graph();
 * const h = autoencoderKlEncoderFeatures(g.input("x", [1, 3, 256, 256]), sd, SD_VAE_CONFIG, 8);
 * ```
 */
export function autoencoderKlEncoderFeatures(
  x: Value,
  sd: StateDict,
  cfg: AutoencoderKlConfig,
  outChannels: number,
): Value {
  checkConfig(cfg);
  const f = 2 ** (cfg.blockOutChannels.length - 1);
  if (x.rank !== 4 || x.shape[1] !== cfg.inChannels || x.shape[2] % f || x.shape[3] % f) {
    throw new RangeError(
      `autoencoderKlEncoder: input ${x} must be [N, ${cfg.inChannels}, H, W], H and W multiples of ${f}`,
    );
  }
  const g = x.graph;
  const ch = cfg.blockOutChannels;
  let h = conv2d(g, sd, "encoder.conv_in", x, ch[0], 3);
  ch.forEach((cout, i) => {
    const p = `encoder.down_blocks.${i}`;
    for (let j = 0; j < cfg.layersPerBlock; j++) {
      h = resnet(g, sd, `${p}.resnets.${j}`, h, cout, cfg);
    }
    if (i < ch.length - 1) {
      // Downsample2D(padding=0): F.pad(x, (0, 1, 0, 1)), then a 3x3 stride-2 conv.
      h = conv2d(
        g,
        sd,
        `${p}.downsamplers.0.conv`,
        pad(h, [0, 0, 0, 0, 0, 0, 1, 1]),
        cout,
        3,
        2,
        0,
      );
    }
  });
  h = midBlock(g, sd, "encoder.mid_block", h, cfg);
  h = silu(groupNorm(h, cfg.normNumGroups, ...affine(g, sd, "encoder.conv_norm_out", h), EPS));
  return conv2d(g, sd, "encoder.conv_out", h, outChannels, 3); // [N, outChannels, h, w]
}

/**
 * Builds post_quant_conv + decoder on latents `z [N, latentChannels, h, w]` (unscaled);
 * returns images `[N, 3, f h, f w]` in about [-1, 1] (not clamped).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph/graph.ts";
 * import { StateDict } from "../graph/weights.ts";
 * import { autoencoderKlDecoder, SD_VAE_CONFIG } from "./autoencoder_kl.ts";
 * const sd = await StateDict.load("sd-vae-ft-mse");
 * const g = new Graph();
 * g.output(autoencoderKlDecoder(g.input("z", [1, 4, 32, 32]), sd, SD_VAE_CONFIG), "images");
 * ```
 */
export function autoencoderKlDecoder(z: Value, sd: StateDict, cfg: AutoencoderKlConfig): Value {
  checkConfig(cfg);
  if (z.rank !== 4 || z.shape[1] !== cfg.latentChannels) {
    throw new RangeError(
      `autoencoderKlDecoder: input ${z} must be [N, ${cfg.latentChannels}, h, w]`,
    );
  }
  const g = z.graph;
  const ch = [...cfg.blockOutChannels].reverse();
  let h = conv2d(g, sd, "post_quant_conv", z, cfg.latentChannels, 1);
  h = conv2d(g, sd, "decoder.conv_in", h, ch[0], 3);
  h = midBlock(g, sd, "decoder.mid_block", h, cfg);
  ch.forEach((cout, i) => {
    const p = `decoder.up_blocks.${i}`;
    for (let j = 0; j <= cfg.layersPerBlock; j++) {
      h = resnet(g, sd, `${p}.resnets.${j}`, h, cout, cfg);
    }
    if (i < ch.length - 1) {
      h = conv2d(g, sd, `${p}.upsamplers.0.conv`, upsampleNearest(h, 2), cout, 3);
    }
  });
  h = silu(groupNorm(h, cfg.normNumGroups, ...affine(g, sd, "decoder.conv_norm_out", h), EPS));
  return conv2d(g, sd, "decoder.conv_out", h, cfg.outChannels, 3);
}

function checkConfig(cfg: AutoencoderKlConfig): void {
  const chans = [...cfg.blockOutChannels];
  if (chans.length < 1 || !chans.every((c) => Number.isInteger(c) && c > 0)) {
    throw new RangeError(`AutoencoderKL: blockOutChannels [${chans}] must be positive integers`);
  }
  const bad = chans.find((c) => c % cfg.normNumGroups !== 0);
  if (bad !== undefined) {
    throw new RangeError(
      `AutoencoderKL: ${bad} channels do not split into normNumGroups=${cfg.normNumGroups} groups`,
    );
  }
  if (!Number.isInteger(cfg.layersPerBlock) || cfg.layersPerBlock < 1) {
    throw new RangeError(`AutoencoderKL: layersPerBlock must be >= 1, got ${cfg.layersPerBlock}`);
  }
}

/** `torch.clamp(x, lo, hi)` (ONNX Clip; inference only, no gradient rule). */
function clip(x: Value, lo: number, hi: number): Value {
  const g = x.graph;
  const out = { shape: x.shape, dtype: x.dtype };
  return g.node("Clip", [x, g.scalar(lo, x.dtype), g.scalar(hi, x.dtype)], [out])[0];
}

/** `nn.Conv2d(cin, cout, k, stride, padding)` with bias, weights `<name>.weight/.bias`. */
function conv2d(
  g: Graph,
  sd: StateDict,
  name: string,
  x: Value,
  cout: number,
  k: number,
  stride = 1,
  padding = (k - 1) >> 1,
): Value {
  const w = sd.param(g, `${name}.weight`, [cout, x.shape[1], k, k]);
  return conv(x, w, sd.param(g, `${name}.bias`, [cout]), { stride, padding });
}

/** GroupNorm weight and bias of `name` for the channels of `x`. */
function affine(g: Graph, sd: StateDict, name: string, x: Value): [Value, Value] {
  const c = x.shape[1];
  return [sd.param(g, `${name}.weight`, [c]), sd.param(g, `${name}.bias`, [c])];
}

/** ResnetBlock2D without time embedding: x + conv2(silu(norm2(conv1(silu(norm1(x)))))). */
function resnet(
  g: Graph,
  sd: StateDict,
  p: string,
  x: Value,
  cout: number,
  cfg: AutoencoderKlConfig,
): Value {
  const G = cfg.normNumGroups;
  let h = silu(groupNorm(x, G, ...affine(g, sd, `${p}.norm1`, x), EPS));
  h = conv2d(g, sd, `${p}.conv1`, h, cout, 3);
  h = silu(groupNorm(h, G, ...affine(g, sd, `${p}.norm2`, h), EPS));
  h = conv2d(g, sd, `${p}.conv2`, h, cout, 3); // dropout 0
  const skip = x.shape[1] === cout ? x : conv2d(g, sd, `${p}.conv_shortcut`, x, cout, 1);
  return add(skip, h); // output_scale_factor 1
}

/** UNetMidBlock2D: resnet, attention (optional), resnet. */
function midBlock(g: Graph, sd: StateDict, p: string, x: Value, cfg: AutoencoderKlConfig): Value {
  const c = x.shape[1];
  let h = resnet(g, sd, `${p}.resnets.0`, x, c, cfg);
  if (cfg.midBlockAddAttention) h = attention(g, sd, `${p}.attentions.0`, h, cfg.normNumGroups);
  return resnet(g, sd, `${p}.resnets.1`, h, c, cfg);
}

/** Current and older (pre-0.14 diffusers) names of the attention projections. */
const ATTENTION_NAMES: readonly [string, string][] = [
  ["to_q", "query"],
  ["to_k", "key"],
  ["to_v", "value"],
  ["to_out.0", "proj_attn"],
];

/**
 * Attention(heads=1, dim_head=C, residual, group_norm) on `x [N, C, H, W]`:
 * x + to_out(softmax(q k^T / sqrt(C)) v) over the H*W positions. The projections run as
 * 1x1 convs on NCHW (the same products as diffusers' linear layers on [N, HW, C]).
 */
function attention(g: Graph, sd: StateDict, p: string, x: Value, groups: number): Value {
  const [n, c, hh, ww] = x.shape;
  const hw = hh * ww;
  const h = groupNorm(x, groups, ...affine(g, sd, `${p}.group_norm`, x), EPS);
  const proj = (i: number, input: Value) => {
    const [now, old] = ATTENTION_NAMES[i];
    const name = sd.has(`${p}.${now}.weight`) || !sd.has(`${p}.${old}.weight`) ? now : old;
    const w = sd.get(`${p}.${name}.weight`, [c, c], [[c, c, 1, 1]]);
    const b = sd.get(`${p}.${name}.bias`, [c]);
    const wv = g.param(`${p}.${now}.weight`, [c, c, 1, 1], w, false);
    const bv = g.param(`${p}.${now}.bias`, [c], b, false);
    return conv(input, wv, bv); // [N, C, H, W]
  };
  const q = reshape(proj(0, h), [n, c, hw]);
  const k = reshape(proj(1, h), [n, c, hw]);
  const v = reshape(proj(2, h), [n, c, hw]);
  const scores = mul(matmul(permute(q, [0, 2, 1]), k), 1 / Math.sqrt(c)); // [N, HW, HW]
  const attn = softmax(scores, -1);
  const out = reshape(matmul(v, permute(attn, [0, 2, 1])), [n, c, hh, ww]); // [N, C, H, W]
  return add(proj(3, out), x);
}
