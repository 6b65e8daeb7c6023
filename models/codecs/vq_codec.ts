/**
 * LDM's VQ first stage (`ldm.models.autoencoder.VQModelInterface`, e.g. the VQ-f4 of
 * cin256-v2) as the pipeline's {@link Codec}: encode = `encode_first_stage` (encoder and
 * quant_conv, the pre-quantisation latent, times `scale_factor`); decode =
 * `decode_first_stage` (divide by `scale_factor`, replace each latent vector by its nearest
 * codebook entry as taming's VectorQuantizer2, post_quant_conv, decoder). The encoder and
 * decoder are those of {@link autoencoderKlEncoderFeatures} / {@link autoencoderKlDecoder}
 * (the same modules as ldm's `Encoder`/`Decoder`, diffusers names): the LDM keys are renamed
 * on load and back in error messages. Adapted from CompVis/latent-diffusion@a506df5
 * `ldm/models/autoencoder.py`, `ldm/modules/diffusionmodules/model.py` and
 * CompVis/taming-transformers@3ba01b2 `taming/modules/vqvae/quantize.py` (semantics only).
 *
 * @module
 */
import { LIGHTNING_GLOBALS } from "../io/lightning.ts";
import { batchCodec, type ModelCodec } from "./batch_codec.ts";
import {
  type AutoencoderKlConfig,
  autoencoderKlDecoder,
  autoencoderKlEncoderFeatures,
} from "./autoencoder_kl.ts";
import { Graph, type Value } from "../graph/graph.ts";
import { conv, matmul } from "../graph/ops/conv.ts";
import { add, mul, sub } from "../graph/ops/elementwise.ts";
import { sum } from "../graph/ops/reduce.ts";
import { gather, permute, reshape } from "../graph/ops/shape.ts";
import { attr, node1 } from "../graph/ops/operands.ts";
import { StateDict } from "../graph/weights.ts";
import type { SessionOptions } from "../graph/session.ts";
import { CheckpointError, loadCheckpoint } from "../io/checkpoint.ts";
import { fileHashPrefix } from "../core/hash.ts";
import type { Tensor } from "../core/tensor.ts";

/**
 * A VQModel's `ddconfig` plus its quantiser (yaml `first_stage_config.params`).
 *
 * @example
 * ```ts
 * import { CIN256_V2_VQ, type VqConfig } from "./vq_codec.ts";
 * const tiny: VqConfig = { ...CIN256_V2_VQ, ch: 32, nEmbed: 64 };
 * ```
 */
export interface VqConfig {
  /** Image channels in (3). */
  inChannels: number;
  /** Image channels out (`out_ch`, 3). */
  outChannels: number;
  /** Base width (`ch`, 128). */
  ch: number;
  /** Width multipliers per level (`ch_mult`, [1, 2, 4]: f = 4). */
  chMult: number[];
  /** Residual blocks per encoder level (`num_res_blocks`, 2; the decoder has one more). */
  numResBlocks: number;
  /** Encoder output channels (`z_channels`, 3). */
  zChannels: number;
  /** Codebook vector size (`embed_dim`, 3). */
  embedDim: number;
  /** Codebook size (`n_embed`, 8192). */
  nEmbed: number;
}

/**
 * cin256-v2.yaml's first stage: VQ-f4, ch 128, ch_mult [1, 2, 4], 2 res blocks, no attention
 * but the mid blocks', z 3, embed 3, 8192 codes.
 *
 * @example
 * ```ts
 * import { CIN256_V2_VQ } from "./vq_codec.ts";
 * CIN256_V2_VQ.nEmbed; // 8192
 * ```
 */
export const CIN256_V2_VQ: Readonly<VqConfig> = Object.freeze({
  inChannels: 3,
  outChannels: 3,
  ch: 128,
  chMult: [1, 2, 4],
  numResBlocks: 2,
  zChannels: 3,
  embedDim: 3,
  nEmbed: 8192,
});

/** Prefix of the first stage in a LatentDiffusion state dict. */
export const FIRST_STAGE_PREFIX = "first_stage_model.";
/** Codebook key (taming's VectorQuantizer2 `embedding`). */
const CODEBOOK = "quantize.embedding.weight";
/** ldm `Normalize`: GroupNorm(32, C). */
const VQ_GROUPS = 32;

/** Renaming rules ldm -> diffusers (`n`: levels); each is inverted for error messages. */
function rules(n: number): [RegExp, (m: RegExpMatchArray) => string][] {
  return [
    [
      /^encoder\.down\.(\d+)\.block\.(\d+)\./,
      (m) => `encoder.down_blocks.${m[1]}.resnets.${m[2]}.`,
    ],
    [
      /^encoder\.down\.(\d+)\.downsample\.conv\./,
      (m) => `encoder.down_blocks.${m[1]}.downsamplers.0.conv.`,
    ],
    [
      /^decoder\.up\.(\d+)\.block\.(\d+)\./,
      (m) => `decoder.up_blocks.${n - 1 - +m[1]}.resnets.${m[2]}.`,
    ],
    [
      /^decoder\.up\.(\d+)\.upsample\.conv\./,
      (m) => `decoder.up_blocks.${n - 1 - +m[1]}.upsamplers.0.conv.`,
    ],
    [/^(en|de)coder\.mid\.block_([12])\./, (m) => `${m[1]}coder.mid_block.resnets.${+m[2] - 1}.`],
    [
      /^(en|de)coder\.mid\.attn_1\.norm\./,
      (m) => `${m[1]}coder.mid_block.attentions.0.group_norm.`,
    ],
    [
      /^(en|de)coder\.mid\.attn_1\.(q|k|v|proj_out)\./,
      (m) =>
        `${m[1]}coder.mid_block.attentions.0.${
          ({ q: "query", k: "key", v: "value", proj_out: "proj_attn" } as Record<string, string>)[
            m[2]
          ]
        }.`,
    ],
    [/^(en|de)coder\.norm_out\./, (m) => `${m[1]}coder.conv_norm_out.`],
  ];
}

/**
 * The diffusers name of an ldm autoencoder key (relative to the first stage), or the key
 * itself when both agree (conv_in, conv_out, quant_conv, post_quant_conv).
 *
 * @example
 * ```ts
 * import { diffusersName } from "./vq_codec.ts";
 * diffusersName("decoder.up.0.block.2.nin_shortcut.weight", 3); // "decoder.up_blocks.2.resnets.2.conv_shortcut.weight"
 * ```
 */
export function diffusersName(key: string, levels: number): string {
  let out = key;
  for (const [re, to] of rules(levels)) {
    const m = out.match(re);
    if (m) {
      out = to(m) + out.slice(m[0].length);
      break;
    }
  }
  return out.replace(".nin_shortcut.", ".conv_shortcut.");
}

/** The architecture of the encoder/decoder in {@link autoencoderKlDecoder}'s terms. */
function klConfig(c: VqConfig): AutoencoderKlConfig {
  return {
    inChannels: c.inChannels,
    outChannels: c.outChannels,
    blockOutChannels: c.chMult.map((m) => m * c.ch),
    layersPerBlock: c.numResBlocks,
    latentChannels: c.embedDim,
    normNumGroups: VQ_GROUPS,
    midBlockAddAttention: true,
  };
}

/**
 * Nearest codebook entry of every latent vector of `z [N, C, h, w]` (taming VectorQuantizer2:
 * argmin over codes of |z|^2 + |e|^2 - 2 z.e, first index on ties). Returns
 * `{ zq [N, C, h, w], codes [N*h*w] int64 }`.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph/graph.ts";
 * import { quantize } from "./vq_codec.ts";
 * const g = new Graph();
 * const { zq } = quantize(g.input("z", [1, 3, 4, 4]), g.input("e", [64, 3]));
 * ```
 */
export function quantize(z: Value, codebook: Value): { zq: Value; codes: Value } {
  const [N, C, h, w] = z.shape;
  const R = N * h * w;
  const rows = reshape(permute(z, [0, 2, 3, 1]), [R, C]); // 'b c h w -> (b h w) c'
  const zz = sum(mul(rows, rows), [1], true); // [R, 1]
  const ee = reshape(sum(mul(codebook, codebook), [1]), [1, codebook.shape[0]]); // [1, K]
  const ze = matmul(rows, permute(codebook, [1, 0])); // [R, K]
  const d = sub(add(zz, ee), mul(ze, 2));
  const codes = node1(z.graph, "ArgMin", [d], [R], "int64", {
    axis: attr.int(1),
    keepdims: attr.int(0),
  });
  const zq = permute(reshape(gather(codebook, codes, 0), [N, h, w, C]), [0, 3, 1, 2]);
  return { zq, codes };
}

/**
 * Options of {@link vqCodec}.
 *
 * @example
 * ```ts
 * import type { VqCodecOptions } from "./vq_codec.ts";
 * const o: VqCodecOptions = { weights: "cin256-v2.ckpt", imageSize: 256 };
 * ```
 */
export interface VqCodecOptions {
  /** A LatentDiffusion `.ckpt` (keys under `first_stage_model.`) or a VQModel state dict. */
  weights: string;
  /** Side length S of the images (a multiple of f = 2^(levels - 1)). */
  imageSize: number;
  /** Architecture (default {@link CIN256_V2_VQ}). */
  config?: VqConfig;
  /** LatentDiffusion `scale_factor` (cin256-v2: 1.0, the yaml sets none). */
  scale?: number;
  /** onnxruntime intra-op threads (default: one per core). */
  threads?: number;
  /** Further session options. */
  session?: SessionOptions;
}

/** The first-stage tensors of a state dict, renamed to diffusers names. */
function firstStage(tensors: Map<string, Tensor>, c: VqConfig): Map<string, Tensor> {
  const nested = [...tensors.keys()].some((k) => k.startsWith(FIRST_STAGE_PREFIX));
  const out = new Map<string, Tensor>();
  for (const [k, t] of tensors) {
    if (nested && !k.startsWith(FIRST_STAGE_PREFIX)) continue;
    const rel = nested ? k.slice(FIRST_STAGE_PREFIX.length) : k;
    out.set(rel === CODEBOOK ? CODEBOOK : diffusersName(rel, c.chMult.length), t);
  }
  return out;
}

/**
 * LDM's VQ first stage as a Codec: images [N, 3, S, S] in [-1, 1] -> pre-quantisation latents
 * `scale * quant_conv(encoder(x))` [N, embedDim, S/f, S/f]; decode quantises first. Every
 * weight is checked when the codec is made; errors name the checkpoint's own keys.
 *
 * @example
 * ```ts
 * import { vqCodec } from "./vq_codec.ts";
 * const codec = await vqCodec({ weights: "cin256-v2.ckpt", imageSize: 256 });
 * const z = await codec.encode(new Float32Array(3 * 256 * 256), 1); // [1, 3, 64, 64]
 * await codec.release();
 * ```
 */
export async function vqCodec(o: VqCodecOptions): Promise<ModelCodec> {
  const ckpt = await loadCheckpoint(o.weights, {
    prefer: ["state_dict"],
    allowGlobals: LIGHTNING_GLOBALS,
  });
  return await vqCodecFromState(ckpt.tensors, ckpt.path, o);
}

/**
 * {@link vqCodec} on a state dict already in memory (`path`: the file it came from, hashed for
 * the codec id and named in errors).
 *
 * @example
 * ```ts
 * import { loadCheckpoint } from "../io/checkpoint.ts";
 * import { vqCodecFromState } from "./vq_codec.ts";
 * const { tensors, path } = await loadCheckpoint("cin256-v2.ckpt", { prefer: ["state_dict"] });
 * const codec = await vqCodecFromState(tensors, path, { weights: path, imageSize: 256 });
 * ```
 */
export async function vqCodecFromState(
  tensors: Map<string, Tensor>,
  path: string,
  o: VqCodecOptions,
): Promise<ModelCodec> {
  const c = o.config ?? CIN256_V2_VQ;
  if (c.zChannels !== c.embedDim) {
    throw new RangeError(
      `vqCodec: zChannels ${c.zChannels} must equal embedDim ${c.embedDim} (as every LDM VQ model)`,
    );
  }
  const scale = o.scale ?? 1;
  if (!(Number.isFinite(scale) && scale > 0)) {
    throw new RangeError(`vqCodec: scale must be positive, got ${scale}`);
  }
  const ckpt = { tensors, path };
  const nested = [...ckpt.tensors.keys()].some((k) => k.startsWith(FIRST_STAGE_PREFIX));
  const sd = new StateDict(ckpt.path, firstStage(ckpt.tensors, c));
  const kl = klConfig(c);
  const S = o.imageSize, f = 2 ** (c.chMult.length - 1);
  if (!Number.isInteger(S) || S < f || S % f) {
    throw new RangeError(`vqCodec: imageSize must be a positive multiple of ${f}, got ${S}`);
  }
  const h = S / f, E = c.embedDim;
  const buildEncoder = (n: number) => {
    const g = new Graph();
    const feats = autoencoderKlEncoderFeatures(
      g.input("images", [n, 3, S, S]),
      sd,
      kl,
      c.zChannels,
    );
    const w = sd.param(g, "quant_conv.weight", [E, c.zChannels, 1, 1]);
    const z = conv(feats, w, sd.param(g, "quant_conv.bias", [E])); // [n, E, h, h]
    g.output(mul(z, scale), "latents");
    return g.toModel({ paramsAs: "initializers" });
  };
  const buildDecoder = (n: number) => {
    const g = new Graph();
    const z = mul(g.input("latents", [n, E, h, h]), 1 / scale);
    const { zq } = quantize(z, sd.param(g, CODEBOOK, [c.nEmbed, E]));
    g.output(autoencoderKlDecoder(zq, sd, kl), "images"); // [n, 3, S, S]
    return g.toModel({ paramsAs: "initializers" });
  };
  try {
    buildEncoder(1);
    buildDecoder(1);
    sd.assertAllUsed("the VQ first stage");
  } catch (e) {
    throw e instanceof CheckpointError ? ldmKeyError(e, c, nested) : e;
  }
  const hash = await fileHashPrefix(ckpt.path);
  return batchCodec({
    id: `ldm-vq(${hash},f${f},z${E},n${c.nEmbed},ch${c.ch}x${
      c.chMult.join("-")
    },size=${S},scale=${scale})`,
    imageSize: S,
    imageChannels: 3,
    latentShape: [E, h, h],
    encoder: buildEncoder,
    decoder: buildDecoder,
    threads: o.threads,
    session: o.session,
  });
}

/** Rewrites the diffusers key in a checkpoint error back to the file's own key. */
function ldmKeyError(e: CheckpointError, c: VqConfig, nested: boolean): CheckpointError {
  const names = new Map<string, string>();
  const n = c.chMult.length;
  // every ldm key of this architecture, mapped from its diffusers name
  const ldm: string[] = [
    "encoder.conv_in",
    "encoder.conv_out",
    "encoder.norm_out",
    "decoder.conv_in",
    "decoder.conv_out",
    "decoder.norm_out",
    "quant_conv",
    "post_quant_conv",
  ];
  for (const side of ["encoder", "decoder"]) {
    ldm.push(`${side}.mid.block_1`, `${side}.mid.block_2`);
    for (const p of ["norm", "q", "k", "v", "proj_out"]) ldm.push(`${side}.mid.attn_1.${p}`);
  }
  for (let i = 0; i < n; i++) {
    const blocks = [c.numResBlocks, c.numResBlocks + 1];
    ["encoder.down", "decoder.up"].forEach((side, s) => {
      for (let j = 0; j < blocks[s]; j++) {
        for (const p of ["norm1", "conv1", "norm2", "conv2", "nin_shortcut"]) {
          ldm.push(`${side}.${i}.block.${j}.${p}`);
        }
      }
    });
    ldm.push(`encoder.down.${i}.downsample.conv`, `decoder.up.${i}.upsample.conv`);
  }
  for (const k of ldm) {
    for (const leaf of ["weight", "bias"]) {
      names.set(diffusersName(`${k}.${leaf}`, n), `${k}.${leaf}`);
    }
  }
  const prefix = nested ? FIRST_STAGE_PREFIX : "";
  const msg = e.message.replace(
    /key '([^']+)'/,
    (_, k: string) => `key '${prefix}${names.get(k) ?? k}'`,
  ).replace(/^Cannot load checkpoint [^:]+: /, "");
  return new CheckpointError(e.message.match(/^Cannot load checkpoint ([^:]+):/)?.[1] ?? "", msg);
}
